import type { PermissionRecord } from "./types.ts";

/** Tools whose calls the plugin holds until a teammate decides; every other call passes at once. */
export const GATED_TOOLS = new Set(["bash", "write", "edit"]);

/** A tool call as the opencode-chatops plugin reports it from `tool.execute.before`. */
export type GateCall = { directory: string; sessionId: string; callId: string; tool: string; args: Record<string, unknown> };

/** What the plugin is told: run these (possibly edited) arguments, throw this message, or ask again. */
export type GateAnswer =
  | { status: "allow"; args: Record<string, unknown> }
  | { status: "reject"; message: string }
  | { status: "pending"; requestId: string };

/** One record per tool call: the same call asked twice (a re-poll, a bot restart) finds the same card. */
export function gateRequestId(sessionId: string, callId: string): string {
  return `gate_${sessionId}_${callId}`;
}

/** The OpenCode permission a tool asks for (write and edit both ask `edit`). */
export function gatePermission(tool: string): string {
  return tool === "write" || tool === "edit" ? "edit" : tool;
}

/** The fields a card shows, in the shape OpenCode's own permission metadata has. */
export function gateMetadata(tool: string, args: Record<string, unknown>): Record<string, unknown> {
  if (tool === "bash") return { command: args.command };
  if (typeof args.filePath === "string") return { filepath: args.filePath };
  return {};
}

/** The answer for a gate record in its current state. */
export function gateAnswer(record: PermissionRecord): GateAnswer {
  const by = record.decider?.name ?? "the approver";
  switch (record.state) {
    case "pending":
      return { status: "pending", requestId: record.id };
    case "approved_once":
    case "approved_always":
      return { status: "allow", args: record.toolArgs ?? {} };
    case "edited":
      return { status: "allow", args: record.editedArgs ?? record.toolArgs ?? {} };
    case "rejected":
      // A rule's denial is its reason, as the team wrote it for the agent.
      if (record.decider?.platform === "policy" && record.reason) return { status: "reject", message: record.reason };
      return {
        status: "reject",
        message: record.reason
          ? `${by} rejected this call with the following feedback: ${record.reason}`
          : `${by} rejected this call. Nothing was run.`,
      };
    case "expired":
      if (record.decider?.platform === "policy" && record.reason) return { status: "reject", message: record.reason };
      return { status: "reject", message: `opencode-chatops closed this request (${record.reason ?? record.state}). Nothing was run.` };
    default:
      return { status: "reject", message: `opencode-chatops closed this request (${record.reason ?? record.state}). Nothing was run.` };
  }
}
