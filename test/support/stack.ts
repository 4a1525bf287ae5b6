/**
 * The whole product under test: the real OpenCode server (with the scripted fake model), the fake
 * Slack, and the bot, either in-process through its real `startBot` or as a `src/main.ts` process.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createOpencodeClient, type GlobalEvent } from "@opencode-ai/sdk/v2";
import { startBot, type Bot } from "../../src/bot.ts";
import { loadConfig } from "../../src/config.ts";
import type { ApprovalStore } from "../../src/core/store-port.ts";
import { createApprovalStore } from "../../src/store/approval-store.ts";
import { openDatabase } from "../../src/store/database.ts";
import { copyPgliteTemplate } from "./database-template.ts";
import { createPostgresDatabase } from "./databases.ts";
import { startFakeLlm, type FakeLlm } from "./fake-llm.ts";
import { startFakeSlack, type FakeMessage, type FakeSlack, type FakeSlackOptions } from "./fake-slack.ts";
import { startOpencode, type OpencodeHandle } from "./opencode-server.ts";
import { createSlackUserSim, type SlackUserSim } from "./slack-client-sim.ts";
import { waitFor } from "./wait-for.ts";

export const SIGNING_SECRET = "test-signing-secret-0123456789abcdef";
export const PLUGIN_TOKEN = "test-chatops-token-0123456789";
export const CHANNEL = "C0APPROVALS";
export const alice = { id: "U0ALICE", username: "alice", name: "alice" };
export const bob = { id: "U0BOB", username: "bob", name: "bob" };
export const mallory = { id: "U0MALLORY", username: "mallory", name: "mallory" };
const REPO_ROOT = resolve(import.meta.dirname, "../..");
export const PLUGIN_PATH = join(REPO_ROOT, "adapters/opencode-plugin/index.js");

export type StackOptions = {
  approvers?: string;
  slack?: FakeSlackOptions;
  /** Run the bot as a `node src/main.ts` process instead of in-process. */
  process?: boolean;
  /** Heartbeat silence after which the bot drops the OpenCode connection. */
  silenceMs?: number;
  /** Start OpenCode with OPENCODE_SERVER_PASSWORD, and give the bot the same. */
  opencodePassword?: string;
  /** Load the opencode-chatops plugin from this checkout into OpenCode, pointed at the bot. */
  plugin?: boolean;
  /** Slack Socket Mode (SLACK_APP_TOKEN) instead of signed HTTP requests. */
  socketMode?: boolean;
  /** "postgres": a fresh database on TEST_DATABASE_URL's server instead of the embedded default. */
  database?: "pglite" | "postgres";
};

export type BotRunner = { port: number; store?: ApprovalStore; stop(): Promise<void>; kill?(): Promise<void> };

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

export async function startStack(options: StackOptions = {}) {
  const llm: FakeLlm = await startFakeLlm();
  // With the plugin, OpenCode must know the bot's address before the bot knows OpenCode's.
  const botPort = options.plugin ? await freePort() : undefined;
  const opencode: OpencodeHandle = await startOpencode({
    llmUrl: llm.url,
    permission: { bash: "ask", edit: "ask", webfetch: "ask" },
    password: options.opencodePassword,
    ...(options.plugin
      ? {
          plugins: [PLUGIN_PATH],
          env: { CHATOPS_URL: `http://127.0.0.1:${botPort}`, CHATOPS_TOKEN: PLUGIN_TOKEN, CHATOPS_RECONNECT_SECONDS: "60" },
        }
      : {}),
  });
  const slack: FakeSlack = await startFakeSlack({
    users: [
      { id: alice.id, name: "alice" },
      { id: bob.id, name: "bob" },
      { id: mallory.id, name: "mallory" },
    ],
    ...options.slack,
  });
  const dataDir = await mkdtemp(join(tmpdir(), "chatops-data-"));
  const postgresDb = options.database === "postgres" ? await createPostgresDatabase() : undefined;
  if (!postgresDb) await copyPgliteTemplate(join(dataDir, "pglite"));
  const env: Record<string, string> = {
    OPENCODE_URL: opencode.url,
    SLACK_BOT_TOKEN: slack.botToken,
    ...(options.socketMode ? { SLACK_APP_TOKEN: slack.appToken } : { SLACK_SIGNING_SECRET: SIGNING_SECRET }),
    SLACK_API_URL: slack.apiUrl,
    SLACK_CHANNEL: CHANNEL,
    DATA_DIR: dataDir,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "warn",
    ...(options.approvers ? { SLACK_APPROVERS: options.approvers } : {}),
    ...(postgresDb?.url ? { DATABASE_URL: postgresDb.url } : {}),
    ...(options.plugin ? { CHATOPS_TOKEN: PLUGIN_TOKEN, PORT: String(botPort) } : {}),
    ...(options.opencodePassword ? { OPENCODE_SERVER_PASSWORD: options.opencodePassword } : {}),
  };

  let bot: BotRunner;
  const launch = async (): Promise<BotRunner> =>
    options.process ? spawnBot({ PORT: String(await freePort()), ...env }) : inProcessBot(env, options.silenceMs);
  bot = await launch();
  const sim = () =>
    options.socketMode
      ? createSlackUserSim({ fake: slack, transport: "socket" })
      : createSlackUserSim({ fake: slack, botEventsUrl: `http://127.0.0.1:${bot.port}/slack/events`, signingSecret: SIGNING_SECRET });
  let user: SlackUserSim = sim();

  const events: GlobalEvent[] = [];
  const watching = new AbortController();
  void watchEvents(opencode, events, watching.signal, options.opencodePassword);

  const stack = {
    llm,
    opencode,
    slack,
    events,
    env,
    get bot() {
      return bot;
    },
    get user() {
      return user;
    },

    /** Starts a session with a prompt for the fake model (`RUN: <cmd>`, `WRITE <path>: <content>` …). */
    async prompt(text: string, title = "test session"): Promise<string> {
      const created = await opencode.client.session.create({ title });
      const sessionId = created.data!.id;
      await opencode.client.session.promptAsync({
        sessionID: sessionId,
        parts: [{ type: "text", text }],
        model: { providerID: "fake", modelID: "fake-model" },
      });
      return sessionId;
    },

    /** The `permission.asked` events of a session, waiting until there are `count`. */
    async asked(sessionId: string, count = 1, timeout = 20_000) {
      return waitFor(
        () => {
          const found = events.flatMap((e) =>
            e.payload.type === "permission.asked" && e.payload.properties.sessionID === sessionId ? [e.payload.properties] : [],
          );
          return found.length >= count ? found : undefined;
        },
        { what: `${count} permission.asked for ${sessionId}`, timeout },
      ).catch(async (error: Error) => {
        // Tell "OpenCode did not ask" from "the test's event watcher did not hear it".
        const pending = await opencode.client.permission.list().then((r) => JSON.stringify(r.data), (e: Error) => e.message);
        const last = events.slice(-5).map((e) => e.payload.type);
        throw new Error(`${error.message}\nOpenCode's pending permissions: ${pending}\nlast events heard: ${last.join(", ")}`);
      });
    },

    replies(requestId: string) {
      return events.filter((e) => {
        const { payload } = e;
        return payload.type === "permission.replied" && payload.properties.requestID === requestId;
      });
    },

    /** The card message for a request: the message whose first version names the request. */
    async card(requestId: string, timeout = 10_000): Promise<FakeMessage> {
      return waitFor(() => slack.messages.find((m) => JSON.stringify(m.history[0]?.blocks ?? []).includes(` ${requestId} · session`)), {
        what: `a card for ${requestId}`,
        timeout,
      });
    },

    /** Waits until the card's current text matches. */
    async cardSays(requestId: string, pattern: RegExp, timeout = 15_000): Promise<FakeMessage> {
      const card = await stack.card(requestId);
      return waitFor(() => (pattern.test(cardText(slack.message(card.channel, card.ts)!)) ? slack.message(card.channel, card.ts)! : undefined), {
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

    click(who: typeof alice, card: FakeMessage, label: "Approve once" | "Always" | "Reject" | "Edit") {
      const actionId = { "Approve once": "approval:once", Always: "approval:always", Reject: "approval:reject", Edit: "approval:edit" }[label];
      return user.clickButton({ user: who, channel: card.channel, messageTs: card.ts, actionId });
    },

    /** The newest modal opened for `who`. */
    async modal(who: typeof alice, callbackId: string) {
      return waitFor(() => [...slack.views].reverse().find((v) => v.user === who.id && v.view.callback_id === callbackId && v.open), {
        what: `a ${callbackId} modal for ${who.id}`,
      });
    },

    /** The audit trail of a request: through the running in-process bot's store, else opened on its data. */
    async audit(requestId: string) {
      if (bot.store) return bot.store.audit(requestId);
      const database = await openDatabase({ url: postgresDb?.url, dataDir });
      try {
        return await createApprovalStore(database).audit(requestId);
      } finally {
        await database.close();
      }
    },

    async restartBot() {
      await bot.stop();
      bot = await launch();
      user = sim();
    },

    async killBot() {
      if (!bot.kill) throw new Error("killBot needs { process: true }");
      await bot.kill();
    },

    async startBotAgain() {
      bot = await launch();
      user = sim();
    },

    async stop() {
      watching.abort();
      await bot.stop().catch(() => undefined);
      await opencode.stop();
      await slack.close();
      await llm.close();
      await postgresDb?.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return stack;
}

export type Stack = Awaited<ReturnType<typeof startStack>>;

/** Everything a person sees on a card: its text and every text in its blocks. */
export function cardText(message: { text: string; blocks: unknown[] }): string {
  const texts: string[] = [message.text];
  JSON.stringify(message.blocks, (key, value: unknown) => {
    if (key === "text" && typeof value === "string") texts.push(value);
    return value;
  });
  return texts.join("\n");
}

/**
 * Collects every OpenCode event for assertions. A starting OpenCode accepts connections it does not
 * answer, so a connection without `server.connected` within 3 s is dropped and tried again.
 */
async function watchEvents(opencode: OpencodeHandle, into: GlobalEvent[], signal: AbortSignal, password?: string): Promise<void> {
  let connection = new AbortController();
  // The SDK loses the abort signal on its way to fetch; hand it over here (see src/opencode/event-stream.ts).
  const client = createOpencodeClient({
    baseUrl: opencode.url,
    headers: password ? { Authorization: `Basic ${Buffer.from(`opencode:${password}`).toString("base64")}` } : {},
    fetch: (input: RequestInfo | URL, init?: RequestInit) => fetch(input, { ...init, signal: connection.signal }),
  });
  while (!signal.aborted) {
    connection = new AbortController();
    const abort = () => connection.abort();
    signal.addEventListener("abort", abort);
    const noAnswer = setTimeout(abort, 3000);
    try {
      const { stream } = await client.global.event({ signal: connection.signal, sseMaxRetryAttempts: 1 });
      for await (const event of stream) {
        clearTimeout(noAnswer);
        into.push(event);
      }
    } catch {
      // OpenCode restarting: try again below.
    } finally {
      clearTimeout(noAnswer);
      signal.removeEventListener("abort", abort);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function inProcessBot(env: Record<string, string>, silenceMs?: number): Promise<BotRunner> {
  const bot: Bot = await startBot(loadConfig({ PORT: "0", ...env }), { silenceMs });
  return { port: bot.port, store: bot.store, stop: () => bot.stop() };
}

/** The bot as users run it: `node --import tsx src/main.ts`, ready once /healthz answers. */
export async function spawnBot(env: Record<string, string>): Promise<BotRunner & { kill(): Promise<void>; output(): string }> {
  const port = Number(env.PORT);
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
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
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`bot exited with ${child.exitCode}: ${output}`);
      const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) });
      return res.ok;
    },
    { what: `the bot process on port ${port} to answer /healthz`, timeout: 30_000 },
  ).catch((error: Error) => {
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
  };
}
