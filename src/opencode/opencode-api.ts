import { createOpencodeClient, type OpencodeClient, type PermissionRequest, type QuestionRequest } from "@opencode-ai/sdk/v2";
import { NotFound, OpencodeUnavailable } from "../core/errors.ts";
import type { OpencodeApi, SessionApi, TurnError } from "../core/ports.ts";
import type { CostSource } from "../core/ledger.ts";
import type { DirectoryInfo } from "../core/projects.ts";
import { completed } from "./ledger-events.ts";

export type OpencodeServer = { url: string; username: string; password?: string };

/** Every call but the event stream gives up after this long (a starting OpenCode can hang a request for minutes). */
export const CALL_TIMEOUT_MS = 10_000;

/** Headers for OpenCode's HTTP Basic auth, when a password is configured. */
export function authHeaders(server: OpencodeServer): Record<string, string> {
  if (!server.password) return {};
  return { Authorization: `Basic ${Buffer.from(`${server.username}:${server.password}`).toString("base64")}` };
}

/** An SDK client whose every request carries a timeout; not for the event stream. */
export function createTimedClient(server: OpencodeServer, timeoutMs = CALL_TIMEOUT_MS): OpencodeClient {
  return createOpencodeClient({
    baseUrl: server.url,
    headers: authHeaders(server),
    fetch: (input: RequestInfo | URL, init?: RequestInit) => fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) }),
  });
}

type Result<T> = { data?: T; error?: unknown; response?: Response };

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : "";
    return `${error.message}${cause}`;
  }
  return JSON.stringify(error) ?? String(error);
}

/** Makes the call: OpencodeUnavailable when it got no answer, NotFound for 404, OpencodeUnavailable for any other failure. */
async function answered<T>(what: string, call: Promise<Result<T>>): Promise<Result<T> & { response: Response }> {
  let result: Result<T>;
  try {
    result = await call;
  } catch (error) {
    throw new OpencodeUnavailable(`OpenCode did not answer ${what}: ${(error as Error).message}`, { cause: error });
  }
  if (!result.response) throw new OpencodeUnavailable(`OpenCode did not answer ${what}: ${describe(result.error)}`, { cause: result.error });
  if (result.response.status === 404) throw new NotFound(what);
  if (!result.response.ok || result.error !== undefined) {
    throw new OpencodeUnavailable(`OpenCode refused ${what} (HTTP ${result.response.status}): ${describe(result.error)}`);
  }
  return result as Result<T> & { response: Response };
}

/** Unwraps an SDK result that carries data. */
async function unwrap<T>(what: string, call: Promise<Result<T>>): Promise<T> {
  const result = await answered(what, call);
  if (result.data === undefined) throw new OpencodeUnavailable(`OpenCode refused ${what} (HTTP ${result.response.status}): no data`);
  return result.data;
}

/** For a call whose success has no body (204). */
async function done(what: string, call: Promise<Result<unknown>>): Promise<void> {
  await answered(what, call);
}

/** What a failed assistant message's error says, in the core's terms. */
export function turnError(error: { name: string; data?: { [key: string]: unknown } }): TurnError {
  if (error.name === "MessageAbortedError") return { kind: "stopped", message: "stopped" };
  const message = typeof error.data?.message === "string" ? error.data.message : error.name;
  return { kind: "failed", message };
}

/** The engine's view of OpenCode, plus the reads the connector needs to resync. */
export type OpencodeGateway = OpencodeApi & SessionApi & CostSource & {
  listPermissions(directory: string): Promise<PermissionRequest[]>;
  listQuestions(directory: string): Promise<QuestionRequest[]>;
  busySessions(directory: string): Promise<Set<string>>;
  inspectDirectory(directory: string): Promise<DirectoryInfo>;
  /** The server's version (GET /global/health). */
  version(): Promise<string>;
  /** A session's title as an event told it (session.created, session.updated): sessionTitle then asks no more. */
  noteSession(session: { id: string; title: string }): void;
  /**
   * A running tool call as message.part.updated told it: the permission it asks next reads its
   * input from here rather than from OpenCode (toolCall), as the part OpenCode stores says the same.
   */
  noteToolPart(part: { callID: string; tool: string; state: { status: string; input: Record<string, unknown> } }): void;
};

/** Running tool calls kept for their permission asks (one per session at a time, usually). */
const TOOL_CALLS_KEPT = 2_000;

/** Session titles kept, the newest first out of mind: a thread parent is posted once per session. */
const TITLES_KEPT = 2_000;

/** Sets `key` as the newest entry of `map`, dropping the oldest beyond `max` (a Map keeps insertion order). */
function keepNewest<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value!);
}

export function createOpencodeGateway(server: OpencodeServer, client = createTimedClient(server)): OpencodeGateway {
  /** The session as OpenCode has it, or undefined when it does not know it (404). */
  async function session(directory: string, sessionId: string) {
    try {
      return await unwrap(`session ${sessionId}`, client.session.get({ sessionID: sessionId, directory }));
    } catch (error) {
      if (error instanceof NotFound) return undefined;
      throw error;
    }
  }

  // One read per session at most (the platforms open their threads at once), then what events say.
  const titles = new Map<string, Promise<string | undefined>>();
  const keepTitle = (sessionId: string, title: Promise<string | undefined>) => {
    keepNewest(titles, sessionId, title, TITLES_KEPT);
    title.catch(() => titles.get(sessionId) === title && titles.delete(sessionId));
    return title;
  };

  const running = new Map<string, { tool: string; args: Record<string, unknown> }>();

  return {
    noteSession: (info) => void keepTitle(info.id, Promise.resolve(info.title)),

    noteToolPart(part) {
      if (part.state.status !== "running") return void running.delete(part.callID);
      keepNewest(running, part.callID, { tool: part.tool, args: part.state.input }, TOOL_CALLS_KEPT);
    },

    async replyPermission({ directory, requestId, reply, message }) {
      await unwrap(`permission ${requestId}`, client.permission.reply({ requestID: requestId, directory, reply, message }));
    },

    async replyQuestion({ directory, requestId, answers }) {
      await unwrap(`question ${requestId}`, client.question.reply({ requestID: requestId, directory, answers }));
    },

    async rejectQuestion({ directory, requestId }) {
      await unwrap(`question ${requestId}`, client.question.reject({ requestID: requestId, directory }));
    },

    sessionTitle: (directory, sessionId) =>
      titles.get(sessionId) ??
      keepTitle(
        sessionId,
        session(directory, sessionId).then((found) => {
          if (!found) titles.delete(sessionId); // not known yet: asked again next time
          return found?.title;
        }),
      ),

    async toolCall(directory, ref) {
      const seen = running.get(ref.callId);
      if (seen) return seen;
      const message = await unwrap(
        `message ${ref.messageId}`,
        client.session.message({ sessionID: ref.sessionId, messageID: ref.messageId, directory }),
      );
      for (const part of message.parts) {
        if (part.type === "tool" && part.callID === ref.callId) return { tool: part.tool, args: part.state.input };
      }
      return undefined;
    },

    async listPermissions(directory) {
      return unwrap("GET /permission", client.permission.list({ directory }));
    },

    async listQuestions(directory) {
      return unwrap("GET /question", client.question.list({ directory }));
    },

    async inspectDirectory(directory) {
      // Listing a directory works only for one that exists. OpenCode 1.18 answers 500 for a missing
      // path and for a file alike; its path lookup then tells them apart (it fails for a file only).
      const listed = await client.file.list({ directory, path: "." }).catch((error: unknown) => ({ error, response: undefined }));
      if (!listed.response) throw new OpencodeUnavailable(`OpenCode did not answer GET /file: ${describe(listed.error)}`, { cause: listed.error });
      if (listed.response.ok) {
        const vcs = await unwrap("GET /vcs", client.vcs.get({ directory }));
        return { kind: "directory", branch: vcs.branch ?? null };
      }
      const path = await client.path.get({ directory }).catch((error: unknown) => ({ error, response: undefined }));
      if (!path.response) throw new OpencodeUnavailable(`OpenCode did not answer GET /path: ${describe(path.error)}`, { cause: path.error });
      return path.response.ok ? { kind: "missing" } : { kind: "file" };
    },

    async agents(directory) {
      const agents = await unwrap("GET /agent", client.app.agents({ directory }));
      return agents.filter((agent) => agent.mode !== "subagent" && !agent.hidden).map((agent) => agent.name);
    },

    async models(directory) {
      const { providers } = await unwrap("GET /config/providers", client.config.providers({ directory }));
      return providers.flatMap((provider) => Object.keys(provider.models).map((model) => `${provider.id}/${model}`));
    },

    async createSession(directory, title) {
      return (await unwrap("POST /session", client.session.create({ directory, title }))).id;
    },

    async sendPrompt({ directory, sessionId, text, agent, model, files = [] }) {
      const [providerID, ...rest] = model ? model.split("/") : [];
      await done(
        `POST /session/${sessionId}/prompt_async`,
        client.session.promptAsync({
          sessionID: sessionId,
          directory,
          ...(agent ? { agent } : {}),
          ...(providerID && rest.length > 0 ? { model: { providerID, modelID: rest.join("/") } } : {}),
          parts: [{ type: "text", text }, ...files.map((file) => ({ type: "file" as const, mime: file.mime, filename: file.filename, url: file.url }))],
        }),
      );
    },

    async abort(directory, sessionId) {
      await unwrap(`POST /session/${sessionId}/abort`, client.session.abort({ sessionID: sessionId, directory }));
    },

    async sessionsUpdatedSince(directory, since) {
      const sessions = await unwrap("GET /session", client.session.list({ directory }));
      return sessions.filter((session) => session.time.updated >= since.getTime()).map((session) => session.id);
    },

    async completedMessages(directory, sessionId) {
      const messages = await unwrap(`GET /session/${sessionId}/message`, client.session.messages({ sessionID: sessionId, directory }));
      return messages.flatMap(({ info }) => {
        const message = info.role === "assistant" ? completed(directory, info) : undefined;
        return message ? [message] : [];
      });
    },

    sessionExists: async (directory, sessionId) => (await session(directory, sessionId)) !== undefined,

    async sessionCost(directory, sessionId) {
      const messages = await unwrap(`GET /session/${sessionId}/message`, client.session.messages({ sessionID: sessionId, directory }));
      return messages.reduce((sum, message) => sum + (message.info.role === "assistant" ? message.info.cost : 0), 0);
    },

    async version() {
      return (await unwrap("GET /global/health", client.global.health())).version;
    },

    async lastAnswer(directory, sessionId) {
      const messages = await unwrap(`GET /session/${sessionId}/message`, client.session.messages({ sessionID: sessionId, directory, limit: 10 }));
      const last = messages.filter((message) => message.info.role === "assistant").at(-1);
      if (!last || last.info.role !== "assistant") return undefined;
      const text = last.parts.flatMap((part) => (part.type === "text" && !part.synthetic ? [part.text] : [])).join("\n\n");
      return { text, ...(last.info.error ? { error: turnError(last.info.error) } : {}) };
    },

    async busySessions(directory) {
      const statuses = await unwrap("GET /session/status", client.session.status({ directory }));
      return new Set(Object.entries(statuses).filter(([, status]) => status.type !== "idle").map(([id]) => id));
    },
  };
}
