/**
 * The real OpenCode server with the scripted fake model, and a watcher that records every event it
 * sends: the expensive half of a stack, which the tests of a file may share (see stack-per-test.ts).
 */
import { createOpencodeClient, type GlobalEvent, type PermissionRequest } from "@opencode-ai/sdk/v2";
import { startFakeLlm, type FakeLlm } from "./fake-llm.ts";
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import {
  keptProjectHandle,
  openProject,
  startOpencode,
  TEST_PERMISSION,
  warmUp,
  type KeptProject,
  type OpencodeHandle,
  type RunningOpencode,
} from "./opencode-server.ts";
import { steadyPort } from "./ports.ts";
import { timeLeft, waitFor } from "./wait-for.ts";

export const PLUGIN_TOKEN = "test-chatops-token-0123456789";
export const PLUGIN_PATH = new URL("../../adapters/opencode-plugin/index.js", import.meta.url).pathname;

export type OpencodeFixtureOptions = {
  /** Start OpenCode with OPENCODE_SERVER_PASSWORD (bots on this fixture are given the same). */
  opencodePassword?: string;
  /** Load the opencode-chatops plugin from this checkout, pointed at `botPort`, where bots on this fixture listen. */
  plugin?: boolean;
  /**
   * sharedOpencode (stack-per-test.ts): a server of its own, not the worker's shared one, to kill
   * or restart it. The plugin always gets one: it reads the bot's address from OpenCode's env.
   */
  ownServer?: boolean;
  /**
   * Work on this running server instead of starting one (plugin and password options do not
   * apply): in its kept `project`, with the fake model on that project's port, or else in a fresh
   * project directory.
   */
  server?: RunningOpencode & { project?: KeptProject };
};

export type OpencodeFixture = Awaited<ReturnType<typeof startOpencodeFixture>>;

/** Starts the fake model and OpenCode; resolves once the event watcher is connected. */
export async function startOpencodeFixture(options: OpencodeFixtureOptions = {}) {
  if (options.server && options.plugin) throw new Error("the plugin needs an OpenCode server of its own: it reads the bot's address from OpenCode's env");
  const kept = options.server?.project;
  const llm: FakeLlm = await startFakeLlm(undefined, kept?.llmPort);
  // With the plugin, OpenCode must know the bot's address before any bot knows OpenCode's.
  const botPort = options.plugin ? await steadyPort() : undefined;
  const password = options.server ? options.server.password : options.opencodePassword;
  const plugin = {
    plugins: [PLUGIN_PATH],
    env: {
      CHATOPS_URL: `http://127.0.0.1:${botPort}`,
      CHATOPS_TOKEN: PLUGIN_TOKEN,
      CHATOPS_RECONNECT_SECONDS: "60",
      // A bot that was never reached is given up on after 1 s instead of 5 s: the tests of a bot that is down wait for it.
      CHATOPS_FIRST_CONTACT_SECONDS: "1",
    },
  };
  const permission = TEST_PERMISSION;
  const started: Promise<OpencodeHandle> =
    options.server && kept
      ? Promise.resolve(keptProjectHandle(options.server, kept))
      : options.server
        ? openProject(options.server, { llmUrl: llm.url, permission })
        : startOpencode({ llmUrl: llm.url, permission, password, ...(options.plugin ? plugin : {}) });
  const opencode = await started.catch(async (error: unknown) => {
    await llm.close();
    throw error;
  });
  const events: GlobalEvent[] = [];
  const watching = new AbortController();
  void watchEvents(opencode, events, watching.signal, password);
  const client = opencode.client;
  const timed = (ms: number) => ({ signal: AbortSignal.timeout(timeLeft(ms)) });
  // Not cut by the test's limit: cleaning up after a test that ran out of time must still work.
  const cleanup = () => ({ signal: AbortSignal.timeout(10_000) });

  const fixture = {
    llm,
    opencode,
    /** Every event of this project (and the server's own) OpenCode sent since the fixture started, across all its stacks. */
    events,
    botPort,
    options,
    /** OPENCODE_SERVER_PASSWORD of the server, if it has one. */
    password,

    /** Starts a session with a prompt for the fake model (`RUN: <cmd>`, `WRITE <path>: <content>` …). */
    async prompt(text: string, title = "test session"): Promise<string> {
      await warmedUp;
      const created = await client.session.create({ title }, { ...timed(10_000), throwOnError: true });
      const sessionId = created.data.id;
      await client.session.promptAsync(
        { sessionID: sessionId, parts: [{ type: "text", text }], model: { providerID: "fake", modelID: "fake-model" } },
        { ...timed(10_000), throwOnError: true },
      );
      return sessionId;
    },

    /** The `permission.asked` events of a session, waiting until there are `count`. */
    async asked(sessionId: string, count = 1, timeout = 15_000) {
      // The watcher can miss an event while it reconnects (after a restart of OpenCode), so what
      // OpenCode still lists as pending counts too, asked of it at most twice a second.
      const listed = new Map<string, PermissionRequest>();
      let listedAt = 0;
      return waitFor(
        async () => {
          const heard = events.flatMap((e) =>
            e.payload.type === "permission.asked" && e.payload.properties.sessionID === sessionId ? [e.payload.properties] : [],
          );
          if (heard.length >= count) return heard;
          if (Date.now() - listedAt >= 500) {
            listedAt = Date.now();
            const pending = await client.permission.list({}, { signal: AbortSignal.timeout(2_000) });
            for (const p of pending.data ?? []) if (p.sessionID === sessionId) listed.set(p.id, p);
          }
          const found = [...heard, ...[...listed.values()].filter((p) => !heard.some((h) => h.id === p.id))];
          return found.length >= count ? found : undefined;
        },
        { what: `${count} permission.asked for ${sessionId}`, timeout },
      ).catch(async (error: Error) => {
        // Tell "OpenCode did not ask" from "the test's event watcher did not hear it".
        const pending = await client.permission.list({}, { signal: AbortSignal.timeout(2_000) }).then(
          (r) => JSON.stringify(r.data),
          (e: Error) => e.message,
        );
        const last = events.slice(-5).map((e) => e.payload.type);
        throw new Error(`${error.message}\nOpenCode's pending permissions: ${pending}\nlast events heard: ${last.join(", ")}`);
      });
    },

    /** The `permission.replied` events for a request. */
    replies(requestId: string) {
      return events.filter((e) => e.payload.type === "permission.replied" && e.payload.properties.requestID === requestId);
    },

    /**
     * Rejects every pending permission and question and stops every busy session, so that the next
     * bot on this server (which resyncs every directory it hears of) inherits nothing.
     */
    async clearPending(): Promise<void> {
      if (!opencode.running()) return; // killed: it holds nothing, and a restart would drop it all anyway
      const [permissions, questions, statuses] = await Promise.all([
        client.permission.list({}, { ...cleanup(), throwOnError: true }),
        client.question.list({}, { ...cleanup(), throwOnError: true }),
        client.session.status({}, { ...cleanup(), throwOnError: true }),
      ]);
      await Promise.all([
        ...permissions.data.map((p) => client.permission.reply({ requestID: p.id, reply: "reject" }, cleanup())),
        ...questions.data.map((q) => client.question.reject({ requestID: q.id }, cleanup())),
      ]);
      const busy = Object.entries(statuses.data).filter(([, status]) => status.type !== "idle");
      await Promise.all(busy.map(([sessionID]) => client.session.abort({ sessionID }, cleanup())));
    },

    /** Removes what the tests wrote into the project (all but its dot-files and opencode.json), for the next test to start from nothing. */
    async emptyProject(): Promise<void> {
      const entries = await readdir(opencode.projectDir);
      const written = entries.filter((name) => !name.startsWith(".") && name !== "opencode.json");
      await Promise.all(written.map((name) => rm(join(opencode.projectDir, name), { recursive: true, force: true })));
    },

    /** Stops what the fixture started; a kept project is left with nothing pending and empty, for the next file. */
    async stop(): Promise<void> {
      if (kept) {
        await fixture.clearPending();
        await fixture.emptyProject();
      }
      watching.abort();
      await opencode.stop();
      await llm.close();
    },
  };
  await waitFor(() => events.some((e) => e.payload.type === "server.connected"), { what: "the test's OpenCode event watcher to connect" });
  // A kept project was warmed up by whoever keeps it; a new one's warm-up overlaps the bot's start.
  const warmedUp = (kept ? Promise.resolve() : warmUp(client)).catch((error: Error) => {
    throw new Error(`the warm-up prompt to OpenCode failed: ${error.message}`, { cause: error });
  });
  warmedUp.catch(() => undefined); // the first prompt() reports it
  return fixture;
}

/**
 * Collects every OpenCode event of the fixture's project, and those of no project (server.connected,
 * heartbeats), for assertions: a shared server also carries the events of the projects of files run
 * before on it. A starting OpenCode accepts connections it does not answer, so a connection without
 * `server.connected` within 3 s is dropped and tried again.
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
        if (event.directory === undefined || event.directory === opencode.projectDir) into.push(event);
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
