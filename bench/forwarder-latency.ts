/**
 * The bare forwarder (forwarder.ts) on the bench's OpenCode server, with a fake Slack of its own and
 * the same simulated Slack user as a bot's stack: a target for the same sequential samples
 * (latency.ts), and the comparison of a bot's samples with its.
 */
import type { OpencodeFixture } from "../test/support/opencode-fixture.ts";
import { startFakeSlack, type FakeMessage } from "../test/support/fake-slack.ts";
import { freePort } from "../test/support/ports.ts";
import { createSlackUserSim } from "../test/support/slack-client-sim.ts";
import { alice, bob, cardText, CHANNEL, SIGNING_SECRET } from "../test/support/stack.ts";
import { waitFor } from "../test/support/wait-for.ts";
import { startForwarder } from "./forwarder.ts";
import type { LatencySample, LatencyTarget } from "./latency.ts";
import { summarize } from "./stats.ts";

/** Starts the fake Slack and the forwarder; `stop()` stops both and leaves the OpenCode server with nothing pending. */
export async function startForwarderTarget(fixture: OpencodeFixture): Promise<LatencyTarget & { stop(): Promise<void> }> {
  const slack = await startFakeSlack({ users: [{ id: alice.id, name: "alice" }, { id: bob.id, name: "bob" }] });
  const forwarder = await startForwarder({
    opencodeUrl: fixture.opencode.url,
    slack: { apiUrl: slack.apiUrl, botToken: slack.botToken, signingSecret: SIGNING_SECRET, channel: CHANNEL },
    port: await freePort(),
  }).catch(async (error: unknown) => {
    await slack.close();
    throw error;
  });
  const user = createSlackUserSim({ fake: slack, botEventsUrl: forwarder.eventsUrl, signingSecret: SIGNING_SECRET });
  const card = (requestId: string, timeout = 10_000) =>
    waitFor(() => slack.messages.find((m) => JSON.stringify(m.history[0]?.blocks ?? []).includes(` ${requestId} · session`)), { what: `the forwarder's card for ${requestId}`, timeout });
  return {
    slack,
    limited: false,
    prompt: fixture.prompt,
    card,
    click: (who, message: FakeMessage) => user.clickButton({ user: who, channel: message.channel, messageTs: message.ts, actionId: "approval:once" }),
    async cardSays(requestId, pattern) {
      const found = await card(requestId);
      return waitFor(() => pattern.test(cardText(slack.message(found.channel, found.ts)!)), { what: `the forwarder's card ${requestId} to say ${pattern}`, timeout: 15_000 });
    },
    async stop() {
      await forwarder.stop();
      await slack.close();
      await fixture.clearPending();
    },
  };
}

export type Comparison = {
  label: string;
  bot: { p50: number; p99: number };
  forwarder: { p50: number; p99: number };
  /** bot p50 / forwarder p50; target ≤ 2. */
  ratioP50: number;
  /** bot p99 − forwarder p99 in ms; target ≤ 50. */
  p99OverMs: number;
};

/** The bot's ask→card and click→reply against the forwarder's, on the targets of issue #18. */
export function compareWithForwarder(database: string, bot: LatencySample[], forwarder: LatencySample[]): Comparison[] {
  const pick = {
    "ask→card": (s: LatencySample) => s.askToCardMs,
    "click→reply": (s: LatencySample) => s.clickToReplyMs,
  };
  return Object.entries(pick).map(([what, of]) => {
    const b = summarize(bot.map(of));
    const f = summarize(forwarder.map(of));
    return {
      label: `${what} (${database})`,
      bot: { p50: b.p50, p99: b.p99 },
      forwarder: { p50: f.p50, p99: f.p99 },
      ratioP50: b.p50 / Math.max(f.p50, 0.001),
      p99OverMs: b.p99 - f.p99,
    };
  });
}
