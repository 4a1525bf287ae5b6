/**
 * Sequential samples, each a fresh session with one bash request: OpenCode asks → the card reaches
 * Slack (through the thread parent, or as the thread's first message), a signed "Approve once"
 * click READING_MS after the card → OpenCode says replied. Between samples, one direct `chat.postMessage` of the same card as
 * the Slack-call baseline.
 */
import { performance } from "node:perf_hooks";
import type { FakeMessage, FakeSlack, Json } from "../test/support/fake-slack.ts";
import type { SimUser } from "../test/support/slack-client-sim.ts";
import { alice, CHANNEL } from "../test/support/stack.ts";
import { waitForTokens } from "./channel-budget.ts";
import type { EventClock } from "./event-clock.ts";
import { postDirectly, postOf, waitForCardCall, type DirectPost } from "./slack-calls.ts";

/** From the card reaching chat to the click: far less than anyone takes to read a card. */
export const READING_MS = 300;

/** The direct posts go to a channel of their own, so they never look like the bot's messages. */
export const BASELINE_CHANNEL = "C0BENCHBASELINE";

export type LatencySample = {
  requestId: string;
  askToCardMs: number;
  askToParentMs: number;
  parentToCardMs: number;
  clickToReplyMs: number;
  direct: DirectPost;
};

/** What the samples drive: a bot's stack (test/support/stack.ts), or the bare forwarder's (forwarder-latency.ts). */
export type LatencyTarget = {
  readonly slack: FakeSlack;
  prompt(text: string, title: string): Promise<string>;
  /** The card message for a request. */
  card(requestId: string): Promise<FakeMessage>;
  click(who: SimUser, card: FakeMessage, label: "Approve once"): Promise<{ status: number }>;
  cardSays(requestId: string, pattern: RegExp): Promise<unknown>;
  /** False for a target without the bot's per-channel Slack limiter: its samples need not wait for it to refill. */
  readonly limited?: boolean;
};

export async function sampleLatencies(stack: LatencyTarget, clock: EventClock, n: number, log: (line: string) => void): Promise<LatencySample[]> {
  const samples: LatencySample[] = [];
  for (let i = 1; i <= n; i++) {
    // A fresh session costs two posts (thread parent, card): wait until the limiter would not queue them.
    if (stack.limited !== false) await waitForTokens(stack.slack, CHANNEL, 2);
    const sessionId = await stack.prompt(`RUN: echo bench-${i} > /dev/null`, `bench sample ${i}`);
    const [asked] = await clock.asked([sessionId], 1);
    const requestId = asked!.request.id;
    const posted = await waitForCardCall(stack.slack, requestId);
    const card = await stack.card(requestId);
    // A card that opens its session's thread is its own parent.
    const parent = card.thread_ts ? postOf(stack.slack, card.channel, card.thread_ts) : posted;
    if (!parent) throw new Error(`card ${requestId} is not in a thread the bot opened`);

    // A person reads the card before clicking it. Clicked within a millisecond or two of the post,
    // the click's reads queued behind the card's own bookkeeping (recording where the card is) on
    // PGlite, which runs one query at a time: ~10 ms no person could wait for, as none clicks that soon.
    await new Promise((resolve) => setTimeout(resolve, READING_MS));
    const clicked = performance.now();
    const response = await stack.click(alice, card, "Approve once");
    if (response.status !== 200) throw new Error(`the click on ${requestId} got HTTP ${response.status}`);
    const replied = await clock.replied(requestId);

    // Let the turn finish (card update, command, model) so the baseline runs on a quiet process.
    await stack.cardSays(requestId, /Approved once by <@U0ALICE>/);
    await clock.idle(sessionId);
    const direct = await postDirectly(stack.slack, BASELINE_CHANNEL, { text: posted.body.text as string, blocks: posted.body.blocks as Json[] });

    const sample: LatencySample = {
      requestId,
      // On the high-resolution clock: Date.now()'s whole milliseconds are most of a 2 ms span.
      askToCardMs: posted.hr - asked!.hr,
      askToParentMs: parent.hr - asked!.hr,
      parentToCardMs: posted.hr - parent.hr,
      clickToReplyMs: replied.hr - clicked,
      direct,
    };
    samples.push(sample);
    log(`  sample ${String(i).padStart(2)}: ask→card ${sample.askToCardMs.toFixed(1)} ms, click→reply ${sample.clickToReplyMs.toFixed(1)} ms, direct post ${direct.roundTripMs.toFixed(1)} ms`);
  }
  return samples;
}

/** Problems, if any: each request must have had exactly one reply (checked once everything has stopped). */
export function checkOneReplyEach(clock: EventClock, requestIds: string[]): string[] {
  return requestIds.flatMap((requestId) => {
    const replies = clock.replies(requestId).length;
    return replies === 1 ? [] : [`${requestId}: ${replies} permission.replied events, expected exactly 1`];
  });
}
