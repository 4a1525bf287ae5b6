import type { GlobalEvent } from "@opencode-ai/sdk/v2";
import type { ProgressEvent } from "../core/progress.ts";
import { turnError } from "./opencode-api.ts";

type Payload = GlobalEvent["payload"];

/** Tools whose `filePath` argument is a file they change. */
const EDITING_TOOLS = new Set(["write", "edit", "multiedit", "patch"]);

/**
 * What one OpenCode event says of a session's progress, in the core's terms: none for most events.
 * Text deltas say nothing here: the status message does not show the text, so they cost no call.
 */
export function progressEvents(directory: string, payload: Payload): ProgressEvent[] {
  switch (payload.type) {
    case "session.status": {
      const { sessionID, status } = payload.properties;
      if (status.type === "idle") return [{ type: "idle", sessionId: sessionID }];
      if (status.type === "retry") return [{ type: "retry", sessionId: sessionID, attempt: status.attempt, message: status.message }];
      return [{ type: "busy", sessionId: sessionID }];
    }
    case "session.idle":
      return [{ type: "idle", sessionId: payload.properties.sessionID }];
    case "message.updated": {
      const { info } = payload.properties;
      if (info.role !== "assistant") return [];
      const t = info.tokens;
      const tokens = t.total ?? t.input + t.output + t.reasoning + t.cache.read + t.cache.write;
      const usage: ProgressEvent = { type: "usage", sessionId: info.sessionID, messageId: info.id, tokens, cost: info.cost };
      return info.error ? [usage, { type: "error", sessionId: info.sessionID, error: turnError(info.error) }] : [usage];
    }
    case "message.part.updated": {
      const { part } = payload.properties;
      if (part.type !== "tool") return [];
      const { state } = part;
      const input = state.input as { filePath?: unknown; description?: unknown };
      const title = "title" in state && typeof state.title === "string" ? state.title : typeof input.description === "string" ? input.description : undefined;
      const file = EDITING_TOOLS.has(part.tool) && typeof input.filePath === "string" ? relative(directory, input.filePath) : undefined;
      return [{ type: "tool", sessionId: part.sessionID, name: part.tool, ...(title ? { title } : {}), ...(file && state.status === "completed" ? { file } : {}) }];
    }
    case "session.diff": {
      const files = payload.properties.diff.flatMap((entry) => (entry.file ? [entry.file] : []));
      return files.length > 0 ? [{ type: "files", sessionId: payload.properties.sessionID, files }] : [];
    }
    case "session.error": {
      const { sessionID, error } = payload.properties;
      return sessionID && error ? [{ type: "error", sessionId: sessionID, error: turnError(error) }] : [];
    }
    case "permission.asked":
      return [{ type: "waiting", sessionId: payload.properties.sessionID, on: "approval" }];
    case "question.asked":
      return [{ type: "waiting", sessionId: payload.properties.sessionID, on: "question" }];
    case "permission.replied":
    case "question.replied":
    case "question.rejected":
      return [{ type: "resumed", sessionId: payload.properties.sessionID }];
    default:
      return [];
  }
}

function relative(directory: string, path: string): string {
  const prefix = directory.endsWith("/") ? directory : `${directory}/`;
  return path.startsWith(prefix) ? path.slice(prefix.length) : path;
}
