/**
 * The whole product under test: the real OpenCode server with the scripted fake model (an
 * OpencodeFixture, which the tests of a file may share), the fake Slack, a database copied from the
 * migrated template, and the bot, either in-process through its real `startBot` or as a
 * `src/main.ts` process.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { registerDiscordCommands } from "../../adapters/discord/register.ts";
import { createApprovalStore } from "../../src/store/approval-store.ts";
import { createLedgerStore } from "../../src/store/ledger-store.ts";
import { openDatabase, type Database } from "../../src/store/database.ts";
import { inProcessBot, spawnBot, type BotRunner } from "./bot-runner.ts";
import { copyPgliteTemplate } from "./database-template.ts";
import { createPostgresDatabase } from "./databases.ts";
import { createDiscordUserSim } from "./discord-user-sim.ts";
import { startFakeDiscord, type FakeDiscordOptions } from "./fake-discord.ts";
import { startFakeSlack, type FakeMessage, type FakeSlack, type FakeSlackOptions } from "./fake-slack.ts";
import { PLUGIN_TOKEN, startOpencodeFixture, type OpencodeFixture, type OpencodeFixtureOptions } from "./opencode-fixture.ts";
import { freePort } from "./ports.ts";
import { createSlackUserSim, type SimUser, type SlackUserSim } from "./slack-client-sim.ts";
import { waitFor } from "./wait-for.ts";

export { PLUGIN_PATH, PLUGIN_TOKEN } from "./opencode-fixture.ts";
export { spawnBot, type BotRunner } from "./bot-runner.ts";
export { freePort } from "./ports.ts";

export const SIGNING_SECRET = "test-signing-secret-0123456789abcdef";
export const CHANNEL = "C0APPROVALS";
export const alice = { id: "U0ALICE", username: "alice", name: "alice" };
export const bob = { id: "U0BOB", username: "bob", name: "bob" };
export const mallory = { id: "U0MALLORY", username: "mallory", name: "mallory" };

export type Platform = "slack" | "discord";

/** The Discord twins of alice, bob and mallory (Discord ids are snowflakes); `leads` is a role alice holds. */
export const discordPeople = {
  alice: { id: "200000000000000001", username: "alice" },
  bob: { id: "200000000000000004", username: "bob" },
  mallory: { id: "200000000000000002", username: "mallory" },
  leads: { id: "300000000000000001", name: "leads" },
  /** A second text channel, where work is started from chat. */
  workChannel: "100000000000000777",
};
/** The fake Discord a stack gets unless told otherwise: `discordPeople`, alice holding `leads`. */
export const discordFakeDefaults: FakeDiscordOptions = {
  users: [discordPeople.alice, discordPeople.bob, discordPeople.mallory],
  roles: [discordPeople.leads],
  members: [{ user: discordPeople.alice.id, roles: [discordPeople.leads.id] }, { user: discordPeople.bob.id }, { user: discordPeople.mallory.id }],
  channels: [{ id: discordPeople.workChannel, name: "work" }],
};

export type StackOptions = OpencodeFixtureOptions & {
  /** The chat platforms the bot is configured for: by default Slack, and Discord too with `discord`. */
  platforms?: Platform[];
  approvers?: string;
  slack?: FakeSlackOptions;
  /** Run the bot as a `node src/main.ts` process instead of in-process. */
  process?: boolean;
  /** Heartbeat silence after which the bot drops the OpenCode connection. */
  silenceMs?: number;
  /** Slack Socket Mode (SLACK_APP_TOKEN) instead of signed HTTP requests. */
  socketMode?: boolean;
  /** "postgres": a fresh database on TEST_DATABASE_URL's server instead of the embedded default. */
  database?: "pglite" | "postgres";
  /** The fake Discord's people, roles and members (default: `discordPeople`); alone, it adds Discord to the platforms. */
  discord?: FakeDiscordOptions;
  /** DISCORD_APPROVERS, with `discord`. */
  discordApprovers?: string;
  /** More variables for the bot (CHATOPS_ADMINS …). */
  env?: Record<string, string>;
  /** Runs with the bot's variables, its database made, before the bot starts (to hold a lease first, say). */
  beforeBot?: (env: Record<string, string>) => Promise<unknown>;
};

/**
 * Starts a stack on `shared` (whose plugin and password options then apply), or on an OpenCode
 * server of its own, started beside the fake Slack and the database copy. Resolves once the bot is
 * connected to OpenCode. `stop()` stops a server of its own, and leaves a shared one with nothing
 * pending.
 */
export async function startStack(options: StackOptions = {}, shared?: OpencodeFixture) {
  const platforms: Platform[] = options.platforms ?? (options.discord ? ["slack", "discord"] : ["slack"]);
  const [fixture, fakeSlack, dataDir, postgresDb, discord] = await Promise.all([
    shared ?? startOpencodeFixture(options),
    platforms.includes("slack") ? startFakeSlack({
      users: [
        { id: alice.id, name: "alice" },
        { id: bob.id, name: "bob" },
        { id: mallory.id, name: "mallory" },
      ],
      ...options.slack,
    }) : undefined,
    mkdtemp(join(tmpdir(), "chatops-data-")).then(async (dir) => {
      if (options.database !== "postgres") await copyPgliteTemplate(join(dir, "pglite"));
      return dir;
    }),
    options.database === "postgres" ? createPostgresDatabase() : undefined,
    platforms.includes("discord") ? startFakeDiscord(options.discord ?? discordFakeDefaults) : undefined,
  ]);
  // As `npm run discord:register` does once per application: the sim refuses commands Discord does not know.
  if (discord) await registerDiscordCommands({ token: discord.token, applicationId: discord.applicationId, apiUrl: discord.apiUrl });
  const slack = (): FakeSlack => {
    if (!fakeSlack) throw new Error("this stack runs without Slack (platforms: " + platforms.join(", ") + ")");
    return fakeSlack;
  };
  const { llm, opencode, events } = fixture;
  const { plugin } = fixture.options;
  const opencodePassword = fixture.password;
  const env: Record<string, string> = {
    OPENCODE_URL: opencode.url,
    ...(fakeSlack
      ? {
          SLACK_BOT_TOKEN: fakeSlack.botToken,
          ...(options.socketMode ? { SLACK_APP_TOKEN: fakeSlack.appToken } : { SLACK_SIGNING_SECRET: SIGNING_SECRET }),
          SLACK_API_URL: fakeSlack.apiUrl,
          SLACK_CHANNEL: CHANNEL,
        }
      : {}),
    DATA_DIR: dataDir,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "warn",
    CONSOLE_PASSWORD: CONSOLE_PASSWORD,
    ...(options.approvers ? { SLACK_APPROVERS: options.approvers } : {}),
    ...(postgresDb?.url ? { DATABASE_URL: postgresDb.url } : {}),
    ...(plugin ? { CHATOPS_TOKEN: PLUGIN_TOKEN, PORT: String(fixture.botPort) } : {}),
    ...(opencodePassword ? { OPENCODE_SERVER_PASSWORD: opencodePassword } : {}),
    ...(discord
      ? { DISCORD_TOKEN: discord.token, DISCORD_APPLICATION_ID: discord.applicationId, DISCORD_CHANNEL: discord.channelId, DISCORD_API_URL: discord.apiUrl }
      : {}),
    ...(discord && options.discordApprovers ? { DISCORD_APPROVERS: options.discordApprovers } : {}),
    ...options.env,
  };

  const launch = async (asProcess = options.process): Promise<BotRunner> =>
    asProcess ? spawnBot({ PORT: String(await freePort()), ...env }) : inProcessBot(env, options.silenceMs);
  const sim = () =>
    options.socketMode
      ? createSlackUserSim({ fake: slack(), transport: "socket" })
      : createSlackUserSim({ fake: slack(), botEventsUrl: `http://127.0.0.1:${bot.port}/slack/events`, signingSecret: SIGNING_SECRET });
  const release = async () => {
    await fakeSlack?.close();
    await discord?.close().catch(() => undefined); // a test may have closed it

    await postgresDb?.drop();
    await rm(dataDir, { recursive: true, force: true });
    if (!shared) return fixture.stop();
    await shared.clearPending();
    await shared.emptyProject();
  };
  const firstLaunch = async () => {
    await options.beforeBot?.(env);
    return launch();
  };
  let bot: BotRunner = await firstLaunch().catch(async (error: unknown) => {
    await release();
    throw error;
  });
  let slackUser: SlackUserSim | undefined;
  const replicas: BotRunner[] = [];

  /** Runs `read` on the bot's data opened here (the bot runs as a process, or is stopped). */
  const onData = async <T>(read: (database: Database) => Promise<T>): Promise<T> => {
    const database = await openDatabase({ url: postgresDb?.url, dataDir });
    try {
      return await read(database);
    } finally {
      await database.close();
    }
  };

  const stack = {
    llm,
    opencode,
    platforms,
    /** The fake Slack; throws in a stack without Slack. */
    get slack() {
      return slack();
    },
    /** The fake Discord, with Discord among the platforms; `discordUser` acts in it. */
    discord,
    discordUser: discord ? createDiscordUserSim(discord) : undefined,
    events,
    env,
    get bot() {
      return bot;
    },
    /** Acts in the fake Slack. */
    get user() {
      slackUser ??= sim();
      return slackUser;
    },
    prompt: fixture.prompt,
    asked: fixture.asked,
    replies: fixture.replies,

    /** The card message for a request: the message whose first version names the request. */
    async card(requestId: string, timeout = 10_000): Promise<FakeMessage> {
      return waitFor(() => slack().messages.find((m) => JSON.stringify(m.history[0]?.blocks ?? []).includes(` ${requestId} · session`)), {
        what: `a card for ${requestId}`,
        timeout,
      });
    },

    /** Waits until the card's current text matches. */
    async cardSays(requestId: string, pattern: RegExp, timeout = 15_000): Promise<FakeMessage> {
      const card = await stack.card(requestId);
      const slack = stack.slack;
      return waitFor(() => (pattern.test(cardText(slack.message(card.channel, card.ts)!, requestId)) ? slack.message(card.channel, card.ts)! : undefined), {
        what: `card ${requestId} to say ${pattern}`,
        timeout,
      }).catch((error: Error) => {
        // Say what the card did say, and what the bot asked of Slack for it, to tell a slow bot from a wrong one.
        const versions = slack.message(card.channel, card.ts)!.history.map((v, i) => `  v${i} at ${v.at}: ${v.text}`);
        const calls = slack.calls
          .filter((c) => c.body.ts === card.ts || c.at > Date.now() - timeout - 5000)
          .map((c) => `  ${c.at} ${c.method} ${c.status} ${String(c.body.ts ?? "")} ${JSON.stringify(c.response).slice(0, 80)}`);
        throw new Error(`${error.message}\ncard versions:\n${versions.join("\n")}\nSlack calls:\n${calls.slice(-30).join("\n")}`);
      });
    },

    /** Clicks a card's button; in a message holding several cards, name the request. */
    click(who: SimUser, card: FakeMessage, label: "Approve once" | "Always" | "Reject" | "Edit", requestId?: string) {
      const actionId = { "Approve once": "approval:once", Always: "approval:always", Reject: "approval:reject", Edit: "approval:edit" }[label];
      return stack.user.clickButton({ user: who, channel: card.channel, messageTs: card.ts, actionId, forValue: requestId });
    },

    /** The newest modal opened for `who`. */
    async modal(who: typeof alice, callbackId: string) {
      return waitFor(() => [...slack().views].reverse().find((v) => v.user === who.id && v.view.callback_id === callbackId && v.open), {
        what: `a ${callbackId} modal for ${who.id}`,
      });
    },

    /** Runs `read` on the bot's data opened here: while the bot is stopped, or runs as a process on Postgres. */
    onData,

    /** The audit trail of a request: through the running in-process bot's store, else opened on its data. */
    audit: (requestId: string) => (bot.store ? bot.store.audit(requestId) : onData((database) => createApprovalStore(database).audit(requestId))),

    /** The cost ledger's entries (all time by default), the same way. */
    ledger: (range = { from: new Date(0), to: new Date(Date.now() + 86_400_000) }) =>
      bot.ledgerStore ? bot.ledgerStore.entries(range) : onData((database) => createLedgerStore(database).entries(range)),

    /** Stops the bot and starts it again on the same data; `between` runs while it is down. */
    async restartBot(between?: () => Promise<unknown>) {
      await bot.stop();
      await between?.();
      bot = await launch();
      slackUser = undefined;
    },

    /**
     * A second bot process on the same data (Postgres) and another port, started once the first
     * holds the stream's lease: it follows nothing until it takes the lease over.
     */
    async startReplica(): Promise<BotRunner & { kill(): Promise<void> }> {
      const replica = await spawnBot({ ...env, PORT: String(await freePort()) }, { standby: true });
      replicas.push(replica);
      return replica;
    },

    /** Acts in the fake Slack, with clicks and commands delivered to the bot on `port`. */
    userAt(port: number): SlackUserSim {
      return createSlackUserSim({ fake: slack(), botEventsUrl: `http://127.0.0.1:${port}/slack/events`, signingSecret: SIGNING_SECRET });
    },

    async killBot() {
      if (!bot.kill) throw new Error("killBot needs { process: true }");
      await bot.kill();
    },

    /**
     * Starts the bot again on the same data and port, in this process: the killed one was the
     * `src/main.ts` process, and a second process would cost seconds of CPU to show nothing more.
     */
    async startBotAgain(again: { standby?: boolean } = {}) {
      bot = again.standby ? await inProcessBot(env, options.silenceMs, { standby: true }) : await launch(false);
      slackUser = undefined;
    },

    async stop() {
      await Promise.all([bot, ...replicas].map((runner) => runner.stop().catch(() => undefined)));
      await release();
    },
  };
  return stack;
}

export type Stack = Awaited<ReturnType<typeof startStack>>;

/** The console's password in every stack (a first start without one prints a generated one). */
export const CONSOLE_PASSWORD = "console-test-password";

/** Everything a person sees on a card: its text and every text in its blocks. */
/**
 * The blocks of one request's card in a message that holds more (a thread's parent, or several
 * cards, a divider between each); undefined when the message is that card alone.
 */
export function cardBlocks(message: { blocks: unknown[] }, requestId: string): unknown[] | undefined {
  const parts: unknown[][] = [[]];
  for (const block of message.blocks) {
    if ((block as { type?: string }).type === "divider") parts.push([]);
    else parts.at(-1)!.push(block);
  }
  return parts.length > 1 ? parts.find((part) => JSON.stringify(part).includes(` ${requestId} · session`)) : undefined;
}

export function cardText(message: { text: string; blocks: unknown[] }, requestId?: string): string {
  const own = requestId ? cardBlocks(message, requestId) : undefined;
  const texts: string[] = own ? [] : [message.text];
  JSON.stringify(own ?? message.blocks, (key, value: unknown) => {
    if (key === "text" && typeof value === "string") texts.push(value);
    return value;
  });
  return texts.join("\n");
}

