/**
 * Reconnect after an OpenCode restart: a fresh bot process (its backoff at rest, LOG_LEVEL=debug so
 * that each reconnect attempt is logged) holds a pending request with its card; the bench's
 * OpenCode server is killed and started again on the same port (OpencodeHandle.restart, as
 * test/restart-opencode.test.ts does). Timed from the moment the restarted server first answers
 * GET /global/health: until the bot's /healthz says opencode "ready" again, and until its resync
 * has re-read GET /permission and closed the request the restart dropped (the card's edit saying
 * so reaches the fake Slack). Pollers every 10 ms; the bot's own log gives each attempt's fate.
 */
import { performance } from "node:perf_hooks";
import { rm } from "node:fs/promises";
import { startFakeSlack, type FakeSlack } from "../test/support/fake-slack.ts";
import type { OpencodeFixture } from "../test/support/opencode-fixture.ts";
import { waitFor } from "../test/support/wait-for.ts";
import { spawnBotProcess } from "./bot-process.ts";
import { summarize, type Summary } from "./stats.ts";

export type ReconnectRun = {
  /** Kill → the restarted OpenCode answers /global/health (OpenCode's own restart, for context). */
  opencodeDownMs: number;
  /** Kill → restart() resolved: health, then the project directory loaded (GET /permission answered). */
  projectLoadedMs: number;
  /** Server answering → the bot's /healthz says opencode "ready". */
  answeringToReadyMs: number;
  /** Server answering → the card of the request the restart dropped says so (the resync read GET /permission and closed it). */
  answeringToResyncedMs: number;
  /** The bot's reconnect attempts from its log, ms from the kill: why each ended and how long it then waited. */
  attempts: Array<{ atMs: number; attempt: number; retryInMs: number; error: string }>;
  /** ms from the kill: when the bot logged "connected" and "resynced". */
  connectedAtMs?: number;
  resyncedLogAtMs?: number;
};

export type ReconnectResult = { runs: ReconnectRun[]; toReady: Summary; toResynced: Summary };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cardOf = (slack: FakeSlack, requestId: string) => slack.messages.find((m) => JSON.stringify(m.history[0]?.blocks ?? []).includes(` ${requestId} · session`));

type LogLine = { time?: number; msg?: string; attempt?: number; retryInMs?: number; err?: { message?: string } };

async function once(fixture: OpencodeFixture): Promise<ReconnectRun> {
  const slack = await startFakeSlack();
  const bot = await spawnBotProcess({ opencodeUrl: fixture.opencode.url, slack, env: { LOG_LEVEL: "debug" } });
  try {
    await bot.ready();
    const sessionId = await fixture.prompt("RUN: echo reconnect > /dev/null", "bench reconnect");
    const [asked] = await fixture.asked(sessionId);
    const requestId = asked!.id;
    await waitFor(() => cardOf(slack, requestId), { what: `the card for ${requestId}`, timeout: 15_000 });

    let stop = false;
    const states: string[] = [];
    let readyAgainAt: number | undefined;
    const watchBot = (async () => {
      while (!stop) {
        const state = await bot.health().then((h) => h.opencode ?? "?", () => "no answer");
        if (states.at(-1) !== state) states.push(state);
        if (state === "ready" && states.length > 1) readyAgainAt ??= performance.now();
        await sleep(10);
      }
    })();
    let answeringAt: number | undefined;
    const killedAt = performance.now();
    const killedWall = Date.now();
    const watchServer = (async () => {
      // restart() kills before it spawns: an answer after 50 ms is the new server's.
      await sleep(50);
      while (!stop && answeringAt === undefined) {
        const healthy = await fetch(`${fixture.opencode.url}/global/health`, { signal: AbortSignal.timeout(200) }).then(
          (res) => res.ok,
          () => false,
        );
        if (healthy) answeringAt = performance.now();
        else await sleep(10);
      }
    })();
    await fixture.opencode.restart();
    const projectLoadedAt = performance.now();
    const expired = await waitFor(
      () => cardOf(slack, requestId)?.history.find((version) => /OpenCode restarted/.test(`${version.text} ${JSON.stringify(version.blocks)}`)),
      { what: `the bot's resync to close ${requestId} after the restart`, timeout: 60_000, interval: 10 },
    );
    await waitFor(() => readyAgainAt, { what: "the bot's /healthz to say opencode ready again", timeout: 30_000 });
    stop = true;
    await Promise.all([watchBot, watchServer]);
    if (answeringAt === undefined) throw new Error("the restarted OpenCode never answered /global/health");
    // The card's edit is stamped in Date.now() time: bring it onto the performance clock through the kill.
    const resyncedAt = killedAt + (expired.at - killedWall);
    // Its log reaches the pipe in batches: read it once the process has ended.
    await bot.stop();
    const lines = bot
      .output()
      .split("\n")
      .flatMap((line): LogLine[] => {
        if (!line.startsWith("{")) return [];
        try {
          return [JSON.parse(line) as LogLine];
        } catch {
          return [];
        }
      })
      .filter((line) => (line.time ?? 0) >= killedWall);
    const sinceKill = (line: LogLine | undefined) => (line?.time === undefined ? undefined : line.time - killedWall);
    return {
      opencodeDownMs: answeringAt - killedAt,
      projectLoadedMs: projectLoadedAt - killedAt,
      answeringToReadyMs: readyAgainAt! - answeringAt,
      answeringToResyncedMs: resyncedAt - answeringAt,
      attempts: lines
        .filter((line) => line.msg === "OpenCode event stream lost; reconnecting")
        .map((line) => ({ atMs: sinceKill(line)!, attempt: line.attempt ?? 0, retryInMs: line.retryInMs ?? 0, error: (line.err?.message ?? "?").slice(0, 80) })),
      connectedAtMs: sinceKill(lines.find((line) => line.msg === "connected to OpenCode's event stream")),
      resyncedLogAtMs: sinceKill(lines.find((line) => line.msg === "resynced pending permission requests")),
    };
  } finally {
    await bot.stop();
    await rm(bot.dataDir, { recursive: true, force: true });
    await slack.close();
    await fixture.clearPending();
  }
}

/** `runs` restarts, each with a fresh bot; leaves the fixture's server running (restarted). */
export async function measureReconnect(fixture: OpencodeFixture, runs: number, log: (line: string) => void): Promise<ReconnectResult> {
  const done: ReconnectRun[] = [];
  for (let i = 1; i <= runs; i++) {
    const run = await once(fixture);
    done.push(run);
    const attempts = run.attempts.map((a) => `#${a.attempt} at ${a.atMs} ms (${a.error}) → wait ${a.retryInMs} ms`).join("; ");
    log(
      `  restart ${i}: OpenCode answered ${run.opencodeDownMs.toFixed(0)} ms after the kill (project loaded at ${run.projectLoadedMs.toFixed(0)} ms); ` +
        `the bot ready ${run.answeringToReadyMs.toFixed(0)} ms and its card closed ${run.answeringToResyncedMs.toFixed(0)} ms after that`,
    );
    log(`    bot log, ms after the kill: ${attempts}; connected at ${run.connectedAtMs ?? "?"} ms, resynced at ${run.resyncedLogAtMs ?? "?"} ms`);
  }
  return { runs: done, toReady: summarize(done.map((r) => r.answeringToReadyMs)), toResynced: summarize(done.map((r) => r.answeringToResyncedMs)) };
}
