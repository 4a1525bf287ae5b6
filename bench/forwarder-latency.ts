/**
 * The bare forwarder (forwarder.ts) on the bench's OpenCode server, with a fake Slack of its own and
 * the same simulated Slack user as a bot's stack: a target for the same sequential samples
 * (latency.ts), and the comparison of a bot's samples with its.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { resolve } from "node:path";
import type { OpencodeFixture } from "../test/support/opencode-fixture.ts";
import { startFakeSlack, type FakeMessage } from "../test/support/fake-slack.ts";
import { freePort } from "../test/support/ports.ts";
import { createSlackUserSim } from "../test/support/slack-client-sim.ts";
import { alice, bob, cardText, CHANNEL, SIGNING_SECRET } from "../test/support/stack.ts";
import { waitFor } from "../test/support/wait-for.ts";
import type { LatencySample, LatencyTarget } from "./latency.ts";
import { summarize } from "./stats.ts";

/**
 * Starts the fake Slack and the forwarder, as its own process as the bot's is (bot-vs-forwarder.ts):
 * in the bench's process its work would delay the event clock's and the fake Slack's stamps.
 * `stop()` stops both and leaves the OpenCode server with nothing pending.
 */
export async function startForwarderTarget(fixture: OpencodeFixture): Promise<LatencyTarget & { stop(): Promise<void> }> {
  const slack = await startFakeSlack({ users: [{ id: alice.id, name: "alice" }, { id: bob.id, name: "bob" }] });
  const port = await freePort();
  const forwarder = await spawnForwarder({
    OPENCODE_URL: fixture.opencode.url,
    SLACK_API_URL: slack.apiUrl,
    SLACK_BOT_TOKEN: slack.botToken,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_CHANNEL: CHANNEL,
    PORT: String(port),
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

/** `node --import tsx bench/forwarder.ts` with `env`; resolves once it says it follows OpenCode. */
async function spawnForwarder(env: Record<string, string>): Promise<{ eventsUrl: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ["--import", "tsx", "bench/forwarder.ts"], {
    cwd: resolve(import.meta.dirname, ".."),
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let output = "";
  child.stderr!.on("data", (chunk: Buffer) => void (output += chunk.toString()));
  const exited = once(child, "exit");
  await waitFor(() => output.includes("forwarder: following") || child.exitCode !== null, { what: "the forwarder to follow OpenCode", timeout: 30_000 });
  if (child.exitCode !== null) throw new Error(`the forwarder exited with ${child.exitCode}: ${output}`);
  return {
    eventsUrl: `http://127.0.0.1:${env.PORT}/slack/events`,
    async stop() {
      child.kill("SIGTERM");
      await exited;
    },
  };
}
