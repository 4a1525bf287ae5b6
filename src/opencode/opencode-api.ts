import { createOpencodeClient, type OpencodeClient, type PermissionRequest, type QuestionRequest } from "@opencode-ai/sdk/v2";
import { NotFound, OpencodeUnavailable } from "../core/errors.ts";
import type { OpencodeApi } from "../core/ports.ts";

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

/** Unwraps an SDK result: NotFound for 404, OpencodeUnavailable for anything else that failed. */
async function unwrap<T>(what: string, call: Promise<Result<T>>): Promise<T> {
  let result: Result<T>;
  try {
    result = await call;
  } catch (error) {
    throw new OpencodeUnavailable(`OpenCode did not answer ${what}: ${(error as Error).message}`, { cause: error });
  }
  if (!result.response) throw new OpencodeUnavailable(`OpenCode did not answer ${what}: ${describe(result.error)}`, { cause: result.error });
  if (result.response.status === 404) throw new NotFound(what);
  if (result.error !== undefined || result.data === undefined) {
    throw new OpencodeUnavailable(`OpenCode refused ${what} (HTTP ${result.response.status}): ${describe(result.error)}`);
  }
  return result.data;
}

/** The engine's view of OpenCode, plus the reads the connector needs to resync. */
export type OpencodeGateway = OpencodeApi & {
  listPermissions(directory: string): Promise<PermissionRequest[]>;
  listQuestions(directory: string): Promise<QuestionRequest[]>;
  busySessions(directory: string): Promise<Set<string>>;
};

export function createOpencodeGateway(server: OpencodeServer, client = createTimedClient(server)): OpencodeGateway {
  return {
    async replyPermission({ directory, requestId, reply, message }) {
      await unwrap(`permission ${requestId}`, client.permission.reply({ requestID: requestId, directory, reply, message }));
    },

    async replyQuestion({ directory, requestId, answers }) {
      await unwrap(`question ${requestId}`, client.question.reply({ requestID: requestId, directory, answers }));
    },

    async rejectQuestion({ directory, requestId }) {
      await unwrap(`question ${requestId}`, client.question.reject({ requestID: requestId, directory }));
    },

    async sessionTitle(directory, sessionId) {
      try {
        const session = await unwrap(`session ${sessionId}`, client.session.get({ sessionID: sessionId, directory }));
        return session.title;
      } catch (error) {
        if (error instanceof NotFound) return undefined;
        throw error;
      }
    },

    async toolCall(directory, ref) {
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

    async busySessions(directory) {
      const statuses = await unwrap("GET /session/status", client.session.status({ directory }));
      return new Set(Object.entries(statuses).filter(([, status]) => status.type !== "idle").map(([id]) => id));
    },
  };
}
