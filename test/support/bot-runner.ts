/**
 * The bot under test, in-process through its real `startBot` or as a `src/main.ts` process; either
 * way started means listening and connected to OpenCode's event stream.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { npmStartArgs } from "./npm-start.ts";
import { resolve } from "node:path";
import { startBot, type Bot } from "../../src/bot.ts";
import { loadConfig } from "../../src/config.ts";
import type { LedgerStore } from "../../src/core/ledger.ts";
import type { ApprovalStore } from "../../src/core/store-port.ts";
import { waitFor } from "./wait-for.ts";

const REPO_ROOT = resolve(import.meta.dirname, "../..");

export type BotRunner = { port: number; store?: ApprovalStore; ledgerStore?: LedgerStore; stop(): Promise<void>; kill?(): Promise<void>; signal?(name: NodeJS.Signals): void };

/** The bot in this process, resolved once it is connected to OpenCode. */
export async function inProcessBot(env: Record<string, string>, silenceMs?: number, options: { standby?: boolean } = {}): Promise<BotRunner> {
  const bot: Bot = await startBot(loadConfig({ PORT: "0", ...env }), { silenceMs });
  await untilConnected(bot.port, options.standby).catch(async (error: unknown) => {
    await bot.stop();
    throw error;
  });
  // Its stores close with it: once stopped, readers open the data themselves.
  let stopped = false;
  return {
    port: bot.port,
    get store() {
      return stopped ? undefined : bot.store;
    },
    get ledgerStore() {
      return stopped ? undefined : bot.ledgerStore;
    },
    stop: async () => {
      stopped = true;
      await bot.stop();
    },
  };
}

/** The bot as users run it (npm start: `node … --import tsx src/main.ts`), ready once /healthz says it is connected to OpenCode. */
export async function spawnBot(env: Record<string, string>, options: { standby?: boolean } = {}): Promise<BotRunner & { kill(): Promise<void>; output(): string }> {
  const port = Number(env.PORT);
  const child: ChildProcess = spawn(process.execPath, npmStartArgs(), {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  // TEST_BOT_OUTPUT=1 shows the bot process's log, for debugging a test.
  const echo = process.env.TEST_BOT_OUTPUT === "1";
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    if (echo) process.stderr.write(chunk);
  };
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const died = exited.then(() => {
    throw new Error(`bot exited with ${child.exitCode} before it was ready`);
  });
  died.catch(() => undefined); // once ready, an exit is the test's business
  await Promise.race([untilConnected(port, options.standby), died]).catch((error: Error) => {
    child.kill("SIGKILL");
    throw new Error(`${error.message}\n${output}`);
  });
  return {
    port,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
    async kill() {
      if (child.exitCode === null) child.kill("SIGKILL");
      await exited;
    },
    signal: (name) => void child.kill(name),
  };
}

/**
 * Waits until the bot's /healthz says its OpenCode event stream is ready: an event sent before that
 * reaches no bot, and a bot with an empty database has no directory to resync it from. A `standby`
 * replica is ready once it knows another process holds the stream's lease.
 */
async function untilConnected(port: number, standby = false): Promise<void> {
  await waitFor(
    async () => {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) });
      const health = (await res.json()) as { opencode?: string };
      return health.opencode === "ready" || (standby && health.opencode === "standby");
    },
    // 60 s: with another suite running beside this one, a bot process has taken over 30 s to start.
    { what: `the bot on port ${port} to answer /healthz connected to OpenCode`, timeout: 60_000 },
  );
}
