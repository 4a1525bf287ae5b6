/**
 * A bot process following a fake OpenCode (fake-opencode.ts) that many sessions started from chat
 * (seed-sessions.ts: their threads in a fake Slack, their rows in a copy of the migrated PGlite
 * template) can stream into: started, ready and done relinking every seeded session before `use`
 * runs, and stopped and removed, with the fakes, after it.
 */
import { rm } from "node:fs/promises";
import { startFakeSlack, type FakeSlack } from "../test/support/fake-slack.ts";
import { waitFor } from "../test/support/wait-for.ts";
import { pgliteDataDir, spawnBotProcess, type BotProcess } from "./bot-process.ts";
import { startFakeOpencode, type FakeOpencode } from "./fake-opencode.ts";
import { seedOwnedSessions } from "./seed-sessions.ts";
import { createPostgresDatabase } from "../test/support/databases.ts";

export const DIRECTORY = "/tmp/opencode-chatops-bench/project";
/** The bot's read of a request's tool call: its first call to OpenCode on a `permission.asked`. */
export const TOOL_CALL = "GET /session/:session/message/:message";

export type SeededBot = { fake: FakeOpencode; slack: FakeSlack; bot: BotProcess; sessionIds: string[] };

export type SeededBotOptions = {
  sessions: number;
  /** Tell the bot of the fake Slack (HTTP mode); without it the bot runs with its web console alone. Default true. */
  withSlack?: boolean;
  /** Pin the bot to these CPUs (taskset), e.g. "0". */
  cpus?: string;
  /** SIGTERM → SIGKILL at the end. */
  stopGraceMs: number;
  /** "postgres": a fresh database on TEST_DATABASE_URL's server instead of PGlite. Default "pglite". */
  database?: "pglite" | "postgres";
};

export async function withSeededBot<T>(options: SeededBotOptions, use: (seeded: SeededBot) => Promise<T>): Promise<T> {
  const fake = await startFakeOpencode(DIRECTORY);
  const slack = await startFakeSlack();
  const dataDir = await pgliteDataDir();
  const postgres = options.database === "postgres" ? await createPostgresDatabase() : undefined;
  try {
    const databaseUrl = postgres?.url;
    const sessionIds = await seedOwnedSessions({ dataDir, databaseUrl, slack, serverUrl: fake.url, directory: DIRECTORY, count: options.sessions });
    const env = databaseUrl ? { DATABASE_URL: databaseUrl } : undefined;
    const bot = await spawnBotProcess({ opencodeUrl: fake.url, slack: options.withSlack === false ? undefined : slack, dataDir, cpus: options.cpus, ...(env ? { env } : {}) });
    try {
      await bot.ready();
      await waitFor(() => fake.hits("GET /session/:session").count >= options.sessions, { what: "the bot to relink the seeded sessions", timeout: 30_000 });
      return await use({ fake, slack, bot, sessionIds });
    } finally {
      await bot.stop(options.stopGraceMs);
    }
  } finally {
    await fake.close();
    await slack.close();
    await rm(dataDir, { recursive: true, force: true });
    await postgres?.drop();
  }
}
