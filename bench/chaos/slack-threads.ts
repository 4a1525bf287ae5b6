/**
 * What the fake Slack shows: each request's cards, whether one still offers its buttons, and, per
 * session, whether its cards sit in one thread (the parent may carry the first ones itself), in the
 * order OpenCode asked. A message may hold several cards, a divider between them.
 */
import type { FakeMessage, FakeSlack } from "../../test/support/fake-slack.ts";
import { cardBlocks } from "../../test/support/stack.ts";

const REFERENCE = /Request (\S+) · session/g;

/** The requests a bot message carries cards of, in the order they appear in any of its versions. */
export function cardRequestIds(m: FakeMessage): string[] {
  const ids = new Set<string>();
  for (const version of m.history) for (const match of JSON.stringify(version.blocks).matchAll(REFERENCE)) ids.add(match[1]!);
  return [...ids];
}

/** The blocks of `requestId`'s card as the message shows it now (the whole message when it is that one card alone). */
export function cardPart(m: FakeMessage, requestId: string): unknown[] | undefined {
  const own = cardBlocks(m, requestId);
  if (own) return own;
  return JSON.stringify(m.blocks).includes(`Request ${requestId} · session`) ? m.blocks : undefined;
}

/** Whether the message shows `requestId`'s card with its buttons. */
export function showsButtons(m: FakeMessage, requestId: string): boolean {
  if (m.deleted) return false;
  const part = cardPart(m, requestId) as Array<{ type?: string; elements?: unknown }> | undefined;
  return !!part?.some((b) => b.type === "actions" && JSON.stringify(b.elements).includes('"approval:once"'));
}

/**
 * The block of the first `actionId` button for `requestId` in the message as shown: a message that
 * shows one card twice (a bot bug the verdict reports) is still clicked as a person would, on the first.
 */
export function buttonBlockId(m: FakeMessage, actionId: string, requestId: string): string | undefined {
  const blocks = m.blocks as Array<{ block_id?: string; elements?: Array<{ action_id?: string; value?: string }> }>;
  return blocks.find((b) => b.elements?.some((e) => e.action_id === actionId && e.value === requestId))?.block_id;
}

/** The versions of bot messages that show one request's card more than once. */
export function repeatedCards(slack: FakeSlack): string[] {
  const found: string[] = [];
  for (const m of slack.messages) {
    if (m.user !== slack.bot.userId) continue;
    for (const [n, version] of m.history.entries()) {
      const ids = [...JSON.stringify(version.blocks).matchAll(REFERENCE)].map((match) => match[1]!);
      const repeated = [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))];
      if (repeated.length > 0) found.push(`message ${m.ts} version ${n} shows ${ids.length} cards, ${repeated.map((id) => `${id} ${ids.filter((x) => x === id).length} times`).join(", ")}`);
    }
  }
  return found;
}

export type SlackView = {
  cards: Map<string, FakeMessage[]>;
  offersButtons(requestId: string): boolean;
  /** Message versions that show a request's card twice or more. */
  repeated: string[];
  /** Problems with the threads of these sessions; `asked` is each session's request ids in ask order. */
  threadProblems(asked: Map<string, string[]>): string[];
};

const byTs = (a: FakeMessage, b: FakeMessage) => Number(a.ts) - Number(b.ts);

export function readSlack(slack: FakeSlack): SlackView {
  const cards = new Map<string, FakeMessage[]>();
  for (const message of slack.messages) {
    if (message.user !== slack.bot.userId) continue;
    for (const requestId of cardRequestIds(message)) cards.set(requestId, [...(cards.get(requestId) ?? []), message]);
  }
  return {
    cards,
    repeated: repeatedCards(slack),
    offersButtons: (requestId) => (cards.get(requestId) ?? []).some((m) => showsButtons(m, requestId)),
    threadProblems(asked) {
      const problems: string[] = [];
      for (const [sessionId, requestIds] of asked) {
        // Each request's first card, placed by its message and its position there.
        const posted = requestIds
          .flatMap((id) => (cards.get(id) ?? []).slice(0, 1).map((message) => ({ id, message, position: cardRequestIds(message).indexOf(id) })))
          .sort((a, b) => byTs(a.message, b.message) || a.position - b.position);
        const roots = new Set(posted.map(({ message }) => message.thread_ts ?? message.ts));
        if (roots.size > 1) {
          const where = posted.map(({ id, message }) => `${id} in ${message.ts}${message.thread_ts ? ` (thread ${message.thread_ts})` : " (parent)"}`);
          problems.push(`session ${sessionId}: its cards are in ${roots.size} threads: ${where.join(", ")}`);
        }
        for (const { id, message } of posted) {
          if (!message.thread_ts) continue; // the thread's parent carries this card
          const parent = slack.message(message.channel, message.thread_ts);
          if (!parent || parent.thread_ts || byTs(parent, message) >= 0) problems.push(`card of ${id}: not in a thread opened before it`);
        }
        const order = posted.map(({ id }) => id);
        const expected = requestIds.filter((id) => order.includes(id));
        if (order.join() !== expected.join()) problems.push(`session ${sessionId}: cards in the order ${order.join(", ")}; asked ${expected.join(", ")}`);
      }
      return problems;
    },
  };
}
