import type { AssistantMessage, GlobalEvent } from "@opencode-ai/sdk/v2";
import type { CompletedMessage } from "../core/ledger.ts";

/** The completed assistant message a `message.updated` carries, once OpenCode set `time.completed`; else none. */
export function completedMessageOf(directory: string, payload: GlobalEvent["payload"]): CompletedMessage | undefined {
  if (payload.type !== "message.updated") return undefined;
  const { info } = payload.properties;
  return info.role === "assistant" ? completed(directory, info) : undefined;
}

/** A completed assistant message in the ledger's terms; undefined while it is still being written. */
export function completed(directory: string, info: AssistantMessage): CompletedMessage | undefined {
  if (info.time.completed === undefined) return undefined;
  const t = info.tokens;
  return {
    messageId: info.id,
    sessionId: info.sessionID,
    directory,
    providerId: info.providerID,
    modelId: info.modelID,
    ...(info.agent ? { agent: info.agent } : {}),
    cost: info.cost,
    tokens: { input: t.input, output: t.output, reasoning: t.reasoning, cacheRead: t.cache.read, cacheWrite: t.cache.write },
    completedAt: new Date(info.time.completed),
  };
}
