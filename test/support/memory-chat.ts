import type { Card, CardMessage, ThreadParent } from "../../src/core/card.ts";
import type { PlatformLimits } from "../../src/core/limits.ts";
import type { AnswerPlan, ProgressView } from "../../src/core/progress.ts";
import type { ChatAdapter, DecisionPort } from "../../src/core/ports.ts";
import type { ChatPlatform, ChatRef } from "../../src/core/types.ts";

/** A chat platform kept in memory: what the core posted and updated, for tests of the core through its port. */
export function createMemoryChat(
  platform: ChatPlatform,
  limits: PlatformLimits,
  options: {
    groups?: Record<string, string[]>;
    /** How long the `n`th search of a thread for a card takes (ChatAdapter.findCard; none by default). */
    findCardMs?: (n: number) => number;
    /** How long a card post waits before it takes its cards (so that more may join it); none by default. */
    postCardMs?: number;
    /** How long the `n`th card edit takes after it started; none by default. */
    updateCardMs?: (n: number) => number;
  } = {},
) {
  const threads: Array<{ ref: ChatRef; parent: ThreadParent }> = [];
  const cards = new Map<ChatRef, { thread: ChatRef; versions: CardMessage[] }>();
  const progress = new Map<ChatRef, { thread: ChatRef; versions: ProgressView[] }>();
  const answers: Array<{ thread: ChatRef; plan: AnswerPlan; kind: "answer" | "error" }> = [];
  let decisions: DecisionPort | undefined;
  let next = 0;
  let searches = 0;
  let updates = 0;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const adapter: ChatAdapter = {
    platform,
    limits,
    async start(port) {
      decisions = port;
    },
    async stop() {},
    status: () => "ready",
    async openThread(parent) {
      const ref = `${platform}-thread-${++next}`;
      threads.push({ ref, parent });
      return ref;
    },
    async postCard(thread, take) {
      if (options.postCardMs) await sleep(options.postCardMs);
      const ref = `${platform}-card-${++next}`;
      cards.set(ref, { thread, versions: [{ cards: take() }] });
      return ref;
    },
    async updateCard(ref, message) {
      const wait = options.updateCardMs?.(++updates) ?? 0;
      if (wait) await sleep(wait);
      const posted = cards.get(ref);
      if (!posted) throw new Error(`${platform}: no card ${ref}`);
      posted.versions.push(message);
    },
    async postProgress(thread, view) {
      const ref = `${platform}-progress-${++next}`;
      progress.set(ref, { thread, versions: [view] });
      return ref;
    },
    async updateProgress(ref, view) {
      const posted = progress.get(ref);
      if (!posted) throw new Error(`${platform}: no status message ${ref}`);
      posted.versions.push(view);
    },
    threadLink: async (thread) => `memory://${thread}`,
    async postDigest() {},
    async postAnswer(thread, plan, kind) {
      answers.push({ thread, plan, kind });
    },
    ...(options.findCardMs
      ? {
          findCard: async (thread: ChatRef, reference: string) => {
            await new Promise((resolve) => setTimeout(resolve, options.findCardMs!(++searches)));
            const found = [...cards.entries()].find(([, posted]) => posted.thread === thread && posted.versions[0]?.cards.some((card) => card.reference === reference));
            return found?.[0];
          },
        }
      : {}),
    ...(options.groups
      ? { isMember: async (group: string, userId: string) => options.groups![group]?.includes(userId) ?? false }
      : {}),
  };
  return {
    adapter,
    progress,
    answers,
    threads,
    /** The card posted for `requestId`, with every version of it. */
    cardFor: (requestId: string): [ChatRef, { thread: ChatRef; versions: Card[] }] | undefined => {
      const of = (message: CardMessage) => message.cards.find((card) => card.requestId === requestId);
      const found = [...cards.entries()].find(([, posted]) => posted.versions[0] && of(posted.versions[0]));
      return found && [found[0], { thread: found[1].thread, versions: found[1].versions.flatMap((v) => of(v) ?? []) }];
    },
    /** Card edits begun so far (each counted as it starts, before `updateCardMs`). */
    get updatesStarted() {
      return updates;
    },
    get decisions() {
      if (!decisions) throw new Error(`${platform} was not started`);
      return decisions;
    },
  };
}
