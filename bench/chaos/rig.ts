/**
 * What every chaos scenario runs on: the real `opencode serve` with the scripted model, the fake
 * Slack, the bench's own event clock, the bot's data (PGlite under a DATA_DIR, or a Postgres database,
 * optionally through a cuttable proxy), and one or more bot processes, each on a port of its own that
 * it keeps across kills and restarts.
 */
import { appendFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnBot } from "../../test/support/bot-runner.ts";
import { copyPgliteTemplate } from "../../test/support/database-template.ts";
import { createPostgresDatabase, type TestDatabase } from "../../test/support/databases.ts";
import { startFakeSlack, type FakeSlack } from "../../test/support/fake-slack.ts";
import { startOpencodeFixture, type OpencodeFixture } from "../../test/support/opencode-fixture.ts";
import { steadyPort } from "../../test/support/ports.ts";
import { createSlackUserSim, type SlackUserSim } from "../../test/support/slack-client-sim.ts";
import { CHANNEL, CONSOLE_PASSWORD, SIGNING_SECRET } from "../../test/support/stack.ts";
import { startEventClock, type EventClock } from "../event-clock.ts";
import { startPgProxy, type PgProxy } from "./pg-proxy.ts";

export type RigOptions = { database: "pglite" | "postgres"; processes: number; proxy?: boolean };

/** One bot process's place: its port stays, the process behind it comes and goes. */
export type BotSlot = {
  index: number;
  port: number;
  sim: SlackUserSim;
  /** Whether a started process is behind the port now (not killed, not starting). */
  up: boolean;
  /** Bumped by every kill: a click sent in an earlier epoch may have died with its process. */
  epoch: number;
  kills: number;
  restarts: number;
};

export type Rig = Awaited<ReturnType<typeof startRig>>;

export async function startRig(options: RigOptions) {
  if (options.database === "postgres" && !process.env.TEST_DATABASE_URL) {
    throw new Error("this scenario needs Postgres: set TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test)");
  }
  const [fixture, slack, dataDir, database]: [OpencodeFixture, FakeSlack, string, TestDatabase | undefined] = await Promise.all([
    startOpencodeFixture(),
    // Message ts from the clock, as Slack's are: the bot looks for a parent posted just before a crash in the last hour's history.
    startFakeSlack({ tsBase: Math.floor(Date.now() / 1000) }),
    mkdtemp(join(tmpdir(), "chatops-chaos-")).then(async (dir) => {
      if (options.database === "pglite") await copyPgliteTemplate(join(dir, "pglite"));
      return dir;
    }),
    options.database === "postgres" ? createPostgresDatabase() : undefined,
  ]);
  const proxy: PgProxy | undefined = options.proxy && database?.url ? await startPgProxy(database.url) : undefined;
  const clock: EventClock = await startEventClock(fixture.opencode.url);
  const env: Record<string, string> = {
    OPENCODE_URL: fixture.opencode.url,
    SLACK_BOT_TOKEN: slack.botToken,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.apiUrl,
    SLACK_CHANNEL: CHANNEL,
    DATA_DIR: dataDir,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "warn",
    CONSOLE_PASSWORD,
    ...(database?.url ? { DATABASE_URL: proxy?.url ?? database.url } : {}),
  };
  const logFile = join(dataDir, "bots.log");
  const runners = new Map<number, Awaited<ReturnType<typeof spawnBot>>>();
  const slots: BotSlot[] = [];
  for (let index = 0; index < options.processes; index++) {
    const port = await steadyPort();
    const sim = createSlackUserSim({ fake: slack, botEventsUrl: `http://127.0.0.1:${port}/slack/events`, signingSecret: SIGNING_SECRET });
    slots.push({ index, port, sim, up: false, epoch: 0, kills: 0, restarts: 0 });
  }

  async function launch(slot: BotSlot): Promise<void> {
    // With several processes one follows OpenCode's stream and the others wait as its standby (a lease in Postgres).
    runners.set(slot.index, await spawnBot({ ...env, PORT: String(slot.port) }, { standby: slots.length > 1 }));
    slot.up = true;
  }
  const keepLog = async (slot: BotSlot, why: string) => {
    const output = runners.get(slot.index)?.output() ?? "";
    await appendFile(logFile, `\n── bot ${slot.index} epoch ${slot.epoch} (${why}) ──\n${output}`);
  };
  // However this process ends, no bot process outlives it.
  const killAll = () => slots.forEach((slot) => runners.get(slot.index)?.signal?.("SIGKILL"));
  process.on("exit", killAll);
  // The first alone: it migrates a fresh database and takes the stream's lease; then the others.
  await launch(slots[0]!);
  await Promise.all(slots.slice(1).map(launch));

  return {
    fixture,
    slack,
    clock,
    proxy,
    slots,
    dataDir,
    logFile,
    /** Postgres as the bot reaches it without the proxy (undefined on PGlite). */
    databaseUrl: database?.url,
    /** A slot whose process is up, chosen with `pick` (0 ≤ pick < 1); undefined while none is. */
    liveSlot(pick: number): BotSlot | undefined {
      const live = slots.filter((slot) => slot.up);
      return live[Math.floor(pick * live.length)];
    },
    /** SIGKILL the slot's process now; resolves once it has exited. */
    async kill(slot: BotSlot): Promise<void> {
      slot.up = false;
      slot.epoch++;
      slot.kills++;
      await runners.get(slot.index)?.kill();
      await keepLog(slot, "killed");
    },
    /** Starts the slot's process again on the same port and data; resolves once it is connected to OpenCode. */
    async restart(slot: BotSlot): Promise<void> {
      await launch(slot);
      slot.restarts++;
    },
    /** Stops every bot process with SIGTERM (letting queued work finish), keeping their logs. */
    async stopBots(): Promise<void> {
      await Promise.all(
        slots.map(async (slot) => {
          if (!slot.up) return;
          slot.up = false;
          await runners.get(slot.index)?.stop();
          await keepLog(slot, "stopped");
        }),
      );
    },
    /** Everything down and removed but the bots' log and data, kept when `keepLogs` with what Slack was shown and asked (slack.json). */
    async stop(keepLogs: boolean): Promise<void> {
      process.off("exit", killAll);
      await Promise.all(slots.map((slot) => runners.get(slot.index)?.kill()));
      await clock.stop();
      await proxy?.stop();
      if (keepLogs) await writeFile(join(dataDir, "slack.json"), JSON.stringify({ messages: slack.messages, calls: slack.calls }, null, 1));
      await slack.close();
      await fixture.stop();
      await database?.drop();
      if (!keepLogs) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
