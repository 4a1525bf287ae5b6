/**
 * Start to ready: from spawning the bot as `npm start` does (on a copy of the migrated PGlite
 * template, Slack in HTTP mode on the fake, OpenCode the bench's real server) to /healthz saying
 * opencode "ready". Each run also notes when the fake Slack heard the adapter's auth.test and when
 * /healthz first answered at all, and then where the time goes: node and tsx alone, one run of
 * startup-probe.ts (imports, PGlite, migrations, scrypt, startBot apart), one run under --cpu-prof
 * summed by package, and one first start on an empty data directory (every migration applied).
 */
import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import type { FakeSlack } from "../test/support/fake-slack.ts";
import { CHANNEL, CONSOLE_PASSWORD, SIGNING_SECRET } from "../test/support/stack.ts";
import { pgliteDataDir, spawnBotProcess, type BotProcess } from "./bot-process.ts";
import { summarizeProfile, type ProfileSummary } from "./cpu-profile.ts";
import { summarize, type Summary } from "./stats.ts";

const ROOT = resolve(import.meta.dirname, "..");

export type StartupRun = {
  /** Spawn → /healthz says opencode "ready". */
  readyMs: number;
  /** Spawn → the fake Slack receives auth.test (the Slack adapter starting: imports, database and console are done). */
  authTestMs?: number;
  /** Spawn → /healthz answers at all (the HTTP server listens). */
  listeningMs?: number;
};

export type StartupResult = {
  runs: StartupRun[];
  ready: Summary;
  /** Spawn → exit of `node -e 0` and of `node --import tsx -e 0`: the floor under any start. */
  nodeAloneMs: number;
  nodeWithTsxMs: number;
  firstStartMs: number;
  probe?: Record<string, unknown>;
  profile?: ProfileSummary;
};

/** One start: spawn, poll /healthz every 10 ms, note the milestones, stop. */
async function startOnce(opencodeUrl: string, slack: FakeSlack, options: { dataDir?: string; nodeFlags?: string[] } = {}): Promise<StartupRun & { bot: BotProcess }> {
  const callsBefore = slack.calls.length;
  const bot = await spawnBotProcess({ opencodeUrl, slack, ...options });
  let listeningMs: number | undefined;
  const deadline = bot.spawnedAt + 60_000;
  for (;;) {
    const state = await bot.health().then((h) => h.opencode ?? "answered", () => undefined);
    if (state !== undefined) listeningMs ??= performance.now() - bot.spawnedAt;
    if (state === "ready") break;
    if (performance.now() > deadline) throw new Error(`the bot was not ready within 60 s:\n${bot.output()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const readyMs = performance.now() - bot.spawnedAt;
  const authTest = slack.calls.slice(callsBefore).find((c) => c.method === "auth.test");
  return { bot, readyMs, listeningMs, authTestMs: authTest ? authTest.at - bot.spawnedWall : undefined };
}

async function spawnToExit(args: string[]): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: "ignore" });
  await new Promise((r) => child.once("exit", r));
  return performance.now() - started;
}

/** The probe's JSON line (startup-probe.ts), run with the bot's env on a fresh data copy. */
async function runProbe(opencodeUrl: string, slack: FakeSlack): Promise<Record<string, unknown>> {
  const dataDir = await pgliteDataDir();
  const env = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "",
    OPENCODE_URL: opencodeUrl,
    SLACK_BOT_TOKEN: slack.botToken,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.apiUrl,
    SLACK_CHANNEL: CHANNEL,
    DATA_DIR: dataDir,
    PORT: "0",
    LOG_LEVEL: "warn",
    CONSOLE_PASSWORD,
  };
  const child = spawn(process.execPath, ["--import", "tsx", "bench/startup-probe.ts"], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise((r) => child.once("exit", r));
  await rm(dataDir, { recursive: true, force: true });
  const line = out.split("\n").find((l) => l.startsWith("{"));
  if (code !== 0 || !line) throw new Error(`startup-probe.ts failed (exit ${String(code)}):\n${out}`);
  return JSON.parse(line) as Record<string, unknown>;
}

export async function measureStartup(opencodeUrl: string, slack: FakeSlack, runs: number, log: (line: string) => void): Promise<StartupResult> {
  const nodeAloneMs = summarize(await Promise.all([0, 1, 2].map(async () => spawnToExit(["-e", "0"])))).p50;
  const nodeWithTsxMs = summarize([await spawnToExit(["--import", "tsx", "-e", "0"]), await spawnToExit(["--import", "tsx", "-e", "0"]), await spawnToExit(["--import", "tsx", "-e", "0"])]).p50;

  const done: StartupRun[] = [];
  for (let i = 1; i <= runs; i++) {
    const { bot, ...run } = await startOnce(opencodeUrl, slack);
    await bot.stop();
    await rm(bot.dataDir, { recursive: true, force: true });
    done.push(run);
    log(`  start ${i}: ready ${run.readyMs.toFixed(0)} ms (auth.test at ${run.authTestMs ?? "?"} ms, /healthz answering at ${run.listeningMs?.toFixed(0) ?? "?"} ms)`);
  }

  const empty = await mkdtemp(join(tmpdir(), "chatops-bench-empty-"));
  const first = await startOnce(opencodeUrl, slack, { dataDir: empty });
  await first.bot.stop();
  await rm(empty, { recursive: true, force: true });
  log(`  first start on an empty data directory (every migration applied): ready ${first.readyMs.toFixed(0)} ms`);

  const probe = await runProbe(opencodeUrl, slack).catch((error: Error) => (log(`  startup probe failed: ${error.message}`), undefined));

  const profileDir = await mkdtemp(join(tmpdir(), "chatops-bench-prof-"));
  const profiled = await startOnce(opencodeUrl, slack, { nodeFlags: ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] });
  await profiled.bot.stop();
  await rm(profiled.bot.dataDir, { recursive: true, force: true });
  const file = (await readdir(profileDir)).find((name) => name.endsWith(".cpuprofile"));
  // The profile starts as node boots, a little after the spawn: summed up to "ready" it is slightly generous.
  const profile = file ? summarizeProfile(join(profileDir, file), profiled.readyMs) : undefined;
  await rm(profileDir, { recursive: true, force: true });
  log(`  under --cpu-prof: ready ${profiled.readyMs.toFixed(0)} ms`);

  return { runs: done, ready: summarize(done.map((r) => r.readyMs)), nodeAloneMs, nodeWithTsxMs, firstStartMs: first.readyMs, probe, profile };
}

/** Lines for the printed report: where a start's time goes. */
export function formatStartup(result: StartupResult): string {
  const r = result.ready;
  const lines = [
    `start→ready (PGlite, ${r.n} runs): p50 ${r.p50.toFixed(0)} ms, max ${r.max.toFixed(0)} ms; first start on an empty data dir ${result.firstStartMs.toFixed(0)} ms`,
    `  milestones (p50): auth.test heard at ${median(result.runs.map((x) => x.authTestMs))} ms, /healthz answering at ${median(result.runs.map((x) => x.listeningMs))} ms, opencode ready at ${r.p50.toFixed(0)} ms`,
    `  floor: node -e 0 ${result.nodeAloneMs.toFixed(0)} ms; node --import tsx -e 0 ${result.nodeWithTsxMs.toFixed(0)} ms`,
  ];
  const p = result.probe;
  if (p) {
    const slowest = (p.slowestPackages as Array<{ name: string; ms: number }>).map((x) => `${x.name} ${x.ms}`).join(", ");
    lines.push(
      `  probe (one process, steps apart): to the probe's first line ${p.toProbeMs} ms; third-party imports ${p.packagesMs} ms (slowest: ${slowest}); ` +
        `the bot's own modules ${p.botModulesMs} ms; PGlite open ${p.pgliteOpenMs} ms + first query ${p.pgliteFirstQueryMs} ms; migrations check ${p.migrationsCheckMs} ms; ` +
        `PGlite close ${p.pgliteCloseMs} ms; console scrypt ${p.scryptMs} ms; startBot() ${p.startBotMs} ms (its own database open included), then ${p.startBotToReadyMs} ms to opencode ready`,
    );
  }
  if (result.profile) {
    const top = result.profile.byPlace.slice(0, 10).map((x) => `${x.place} ${x.ms}`).join(", ");
    lines.push(`  --cpu-prof, self time by place in the first ${result.profile.windowMs.toFixed(0)} ms (ms): ${top}`);
  }
  return lines.join("\n");
}

function median(values: Array<number | undefined>): string {
  const known = values.filter((v): v is number => v !== undefined);
  return known.length ? summarize(known).p50.toFixed(0) : "?";
}
