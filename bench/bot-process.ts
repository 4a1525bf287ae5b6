/**
 * The bot as its own process (as `npm start` runs it: `node … --import tsx src/main.ts`), for the figures
 * that are about the process: time to ready, CPU time, RSS. Unlike test/support/bot-runner.ts it
 * can pin the process to a core, add node flags, and polls /healthz every 10 ms, so that "ready"
 * is timed to about that.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { copyPgliteTemplate } from "../test/support/database-template.ts";
import type { FakeSlack } from "../test/support/fake-slack.ts";
import { npmStartArgs } from "../test/support/npm-start.ts";
import { freePort } from "../test/support/ports.ts";
import { CHANNEL, CONSOLE_PASSWORD, SIGNING_SECRET } from "../test/support/stack.ts";

const ROOT = resolve(import.meta.dirname, "..");
const CLOCK_TICKS_PER_S = 100;

export type BotProcess = {
  pid: number;
  port: number;
  dataDir: string;
  /** performance.now() when the process was spawned, and Date.now() then (to compare with the fakes' call times). */
  spawnedAt: number;
  spawnedWall: number;
  /** Resolves with performance.now() when /healthz first says opencode "ready". */
  ready(timeoutMs?: number): Promise<number>;
  health(): Promise<{ opencode?: string; [key: string]: unknown }>;
  /** User + system CPU time the process has used, in ms (/proc/<pid>/stat). */
  cpuMs(): number;
  /** VmRSS and VmHWM (peak) in bytes (/proc/<pid>/status). */
  memory(): { rss: number; peak: number };
  output(): string;
  /** SIGTERM, SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
};

export type BotProcessOptions = {
  opencodeUrl: string;
  /** Slack in HTTP mode on this fake; without it the bot runs with its web console alone. */
  slack?: FakeSlack;
  /** A PGlite data directory to use (already holding data); default a fresh copy of the migrated template. */
  dataDir?: string;
  /** Pin to these CPUs with taskset, e.g. "0". */
  cpus?: string;
  nodeFlags?: string[];
  env?: Record<string, string>;
};

/** A fresh DATA_DIR holding a copy of the migrated PGlite template, as a stack's bot gets. */
export async function pgliteDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "chatops-bench-"));
  await copyPgliteTemplate(join(dir, "pglite"));
  return dir;
}

/** Spawns the bot on PGlite, with Slack (HTTP mode) on the fake if given; `ready()` waits for it. */
export async function spawnBotProcess(options: BotProcessOptions): Promise<BotProcess> {
  const dataDir = options.dataDir ?? (await pgliteDataDir());
  const port = await freePort();
  // The bench's own settings (DATABASE_URL, REDIS_URL, POLICY_FILE …) must not reach the bot.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => ["PATH", "HOME", "TMPDIR", "LANG", "NODE_EXTRA_CA_CERTS"].includes(key)));
  const env = {
    ...inherited,
    OPENCODE_URL: options.opencodeUrl,
    ...(options.slack
      ? { SLACK_BOT_TOKEN: options.slack.botToken, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: options.slack.apiUrl, SLACK_CHANNEL: CHANNEL }
      : {}),
    DATA_DIR: dataDir,
    PORT: String(port),
    LOG_LEVEL: "warn",
    CONSOLE_PASSWORD,
    ...options.env,
  };
  const node = [...(options.nodeFlags ?? []), ...npmStartArgs()];
  const [command, args] = options.cpus ? ["taskset", ["-c", options.cpus, process.execPath, ...node]] : [process.execPath, node];
  const spawnedAt = performance.now();
  const spawnedWall = Date.now();
  const child: ChildProcess = spawn(command, args as string[], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // taskset execs node in the same process, so the pid is the bot's.
  const pid = child.pid!;
  const health = async () => {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) });
    return (await res.json()) as { opencode?: string };
  };
  return {
    pid,
    port,
    dataDir,
    spawnedAt,
    spawnedWall,
    health,
    async ready(timeoutMs = 60_000) {
      const deadline = performance.now() + timeoutMs;
      while (performance.now() < deadline) {
        if (child.exitCode !== null) throw new Error(`the bot exited with ${child.exitCode} before it was ready:\n${output}`);
        const state = await health().then((h) => h.opencode, () => undefined);
        if (state === "ready") return performance.now();
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`the bot was not ready within ${timeoutMs} ms:\n${output}`);
    },
    cpuMs() {
      // Fields after the command's closing parenthesis: state is the 3rd field, utime the 14th, stime the 15th.
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
    },
    memory() {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) * 1024;
      return { rss: kb("VmRSS"), peak: kb("VmHWM") };
    },
    output: () => output,
    async stop(graceMs = 5000) {
      if (child.exitCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
