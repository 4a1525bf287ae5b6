import { InvalidInput } from "./errors.ts";
import type { PermissionRecord, Preapproval } from "./types.ts";

/** One input of the Edit dialog; adapters render it as a text box. */
export type EditField = { id: string; label: string; value: string; multiline: boolean; optional?: boolean };

/** The tool call a record stands for: tool name and input, from OpenCode's tool part or else its metadata. */
export function originalCall(record: PermissionRecord): { tool: string; args: Record<string, unknown> } {
  const tool = record.toolName ?? record.permission;
  if (record.toolArgs) return { tool, args: record.toolArgs };
  if (record.permission === "bash" && typeof record.metadata.command === "string") {
    return { tool, args: { command: record.metadata.command } };
  }
  return { tool, args: record.metadata };
}

/** The Edit dialog's inputs for a request, pre-filled with what the model asked for. */
export function editFields(record: PermissionRecord): EditField[] {
  const { tool, args } = originalCall(record);
  const text = (key: string) => (typeof args[key] === "string" ? (args[key] as string) : "");
  switch (tool) {
    case "bash":
      return [
        { id: "command", label: "Command", value: text("command"), multiline: true },
        { id: "description", label: "Description", value: text("description"), multiline: false, optional: true },
      ];
    case "write":
      return [
        { id: "filePath", label: "File path", value: text("filePath"), multiline: false },
        { id: "content", label: "Content", value: text("content"), multiline: true, optional: true },
      ];
    case "edit":
      return [
        { id: "filePath", label: "File path", value: text("filePath"), multiline: false },
        { id: "oldString", label: "Old string", value: text("oldString"), multiline: true },
        { id: "newString", label: "New string", value: text("newString"), multiline: true, optional: true },
      ];
    default:
      return [{ id: "json", label: "Arguments (JSON)", value: JSON.stringify(args, null, 2), multiline: true }];
  }
}

/**
 * The edited arguments from the dialog's values. Keys the dialog does not show (bash `timeout`,
 * `workdir`; edit `replaceAll`) keep their original values. Throws InvalidInput naming the field.
 */
export function applyEdit(record: PermissionRecord, values: Record<string, string | undefined>): Record<string, unknown> {
  const { args } = originalCall(record);
  const fields = editFields(record);
  if (fields.length === 1 && fields[0]!.id === "json") {
    const raw = values.json ?? "";
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (error) {
      throw new InvalidInput(`Not valid JSON: ${(error as Error).message}`, "json");
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new InvalidInput("The arguments must be a JSON object", "json");
    }
    return parsed as Record<string, unknown>;
  }
  const edited: Record<string, unknown> = { ...args };
  for (const field of fields) {
    const value = values[field.id] ?? "";
    if (!field.optional && value.trim() === "") throw new InvalidInput(`${field.label} cannot be empty`, field.id);
    if (field.optional && value === "" && args[field.id] === undefined) continue;
    edited[field.id] = value;
  }
  return edited;
}

/** What the agent is told when an edit is decided without the plugin: make exactly this call instead. */
export function fallbackMessage(tool: string, edited: Record<string, unknown>): string {
  if (tool === "bash" && typeof edited.command === "string") {
    return `The approver edited this command. Run exactly this command instead, unchanged:\n\`\`\`\n${edited.command}\n\`\`\``;
  }
  return `The approver edited this call. Call the ${tool} tool again with exactly these arguments instead, unchanged:\n\`\`\`json\n${JSON.stringify(edited, null, 2)}\n\`\`\``;
}

/** The one-shot approval an edit leaves behind: the same session, the same tool, exactly the edited call. */
export function preapprovalFor(record: PermissionRecord, edited: Record<string, unknown>): Preapproval {
  return {
    directory: record.directory,
    sessionId: record.sessionId,
    permission: record.permission,
    call: { tool: originalCall(record).tool, args: edited },
    sourceRequestId: record.id,
  };
}

/** Whether a new request is exactly the call a pre-approval allows (a description may differ; nothing else). */
export function matchesPreapproval(preapproval: Preapproval, record: PermissionRecord): boolean {
  const { tool, args } = originalCall(record);
  if (preapproval.call.tool !== tool) return false;
  const allowed = preapproval.call.args as Record<string, unknown>;
  if (tool === "bash") return typeof allowed.command === "string" && allowed.command === args.command;
  return canonical(withoutDescription(allowed)) === canonical(withoutDescription(args));
}

function withoutDescription(args: Record<string, unknown>): Record<string, unknown> {
  const { description: _ignored, ...rest } = args;
  return rest;
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}
