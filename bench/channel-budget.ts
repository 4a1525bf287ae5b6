/**
 * A model of the bot's per-channel Slack limiter (adapters/slack/rate-limited-api.ts: 5 posts at
 * once, then one more per second), rebuilt from the calls the fake Slack received. The latency
 * samples wait on it so that they measure the bot, not its deliberate queueing; the burst measures that.
 */
import type { FakeSlack } from "../test/support/fake-slack.ts";
import { waitFor } from "../test/support/wait-for.ts";

const CAPACITY = 5;
/** Bottleneck adds a token on a 250 ms heartbeat once 1000 ms have passed: 1.0–1.25 s apart, ~1.0 s in practice. */
const REFILL_MS = 1050;

/** Messages posted in `channel`: the calls that go through the bot's per-channel limiter (edits have their own). */
export function channelCalls(slack: FakeSlack, channel: string) {
  return slack.calls.filter((c) => c.method === "chat.postMessage" && c.body.channel === channel);
}

/** Tokens the limiter for `channel` holds now, by the model (a continuous refill, so up to one token high). */
export function estimatedTokens(slack: FakeSlack, channel: string, now = Date.now()): number {
  let tokens = CAPACITY;
  let last: number | undefined;
  for (const call of channelCalls(slack, channel)) {
    if (last !== undefined) tokens = Math.min(CAPACITY, tokens + (call.at - last) / REFILL_MS);
    tokens = Math.max(0, tokens - 1);
    last = call.at;
  }
  return last === undefined ? tokens : Math.min(CAPACITY, tokens + (now - last) / REFILL_MS);
}

/** Waits until the model says the limiter holds `needed` tokens plus one for its heartbeat's phase. */
export async function waitForTokens(slack: FakeSlack, channel: string, needed: number): Promise<void> {
  const target = Math.min(CAPACITY, needed + 1);
  await waitFor(() => estimatedTokens(slack, channel) >= target, { what: `${target} tokens in the bot's limiter for ${channel}`, timeout: 15_000 });
}
