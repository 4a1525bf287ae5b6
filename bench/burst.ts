/**
 * A burst: sessions started at once, each asking two permissions in one turn (`RUN2`), timed until
 * every card is posted. Then the burst's requests, all pending, are answered straight through the
 * SDK one after another on a quiet system: the baseline for click→reply, with no bot on the way in.
 */
import { performance } from "node:perf_hooks";
import { CHANNEL, type Stack } from "../test/support/stack.ts";
import { channelCalls, waitForTokens } from "./channel-budget.ts";
import type { EventClock } from "./event-clock.ts";
import { waitForCardCall } from "./slack-calls.ts";

export type BurstResult = {
  sessions: number;
  requests: number;
  /** Thread parents plus cards: every post that went through the bot's per-channel limiter. */
  channelPosts: number;
  /** First `permission.asked` at the subscriber → last card received by the fake Slack. */
  firstAskToLastCardMs: number;
  cardsPerSecond: number;
  askToCardMs: number[];
  asked: Array<{ requestId: string; sessionId: string }>;
};

export async function runBurst(stack: Stack, clock: EventClock, sessions: number): Promise<BurstResult> {
  await waitForTokens(stack.slack, CHANNEL, 5);
  const postsBefore = channelCalls(stack.slack, CHANNEL).length;
  const sessionIds = await Promise.all(
    Array.from({ length: sessions }, (_, s) => stack.prompt(`RUN2: echo burst-${s}-a > /dev/null ;; echo burst-${s}-b > /dev/null`, `bench burst ${s}`)),
  );
  const asked = await clock.asked(sessionIds, sessions * 2);
  const posted = await Promise.all(asked.map((a) => waitForCardCall(stack.slack, a.request.id, 90_000)));
  const firstAsk = Math.min(...asked.map((a) => a.at));
  const lastCard = Math.max(...posted.map((p) => p.at));
  const firstAskToLastCardMs = lastCard - firstAsk;
  return {
    sessions,
    requests: asked.length,
    channelPosts: channelCalls(stack.slack, CHANNEL).length - postsBefore,
    firstAskToLastCardMs,
    cardsPerSecond: asked.length / (firstAskToLastCardMs / 1000),
    askToCardMs: asked.map((a, i) => posted[i]!.at - a.at),
    asked: asked.map((a) => ({ requestId: a.request.id, sessionId: a.request.sessionID })),
  };
}

/**
 * Replies "once" to each request through the SDK in turn: call → `permission.replied` at the
 * subscriber. Before the next call the bot has updated the card (behind its channel limit) and a
 * finished session has gone idle, so each call meets a process as quiet as a sampled click does.
 */
export async function replyDirectly(stack: Stack, clock: EventClock, asked: BurstResult["asked"]): Promise<number[]> {
  const samples: number[] = [];
  const sessions = [...new Set(asked.map((a) => a.sessionId))];
  for (const sessionId of sessions) {
    for (const { requestId } of asked.filter((a) => a.sessionId === sessionId)) {
      const started = performance.now();
      const result = await stack.opencode.client.permission.reply({ requestID: requestId, reply: "once" });
      if (result.error !== undefined) throw new Error(`the SDK reply to ${requestId} failed: ${JSON.stringify(result.error)}`);
      const replied = await clock.replied(requestId);
      samples.push(replied.hr - started);
      await stack.cardSays(requestId, /Approved once in OpenCode/);
    }
    await clock.idle(sessionId);
  }
  return samples;
}
