import type { Card, StatusLine, ThreadParent } from "./card.ts";
import { argsDiff, textDiff } from "./args-diff.ts";
import { originalCall } from "./edit-form.ts";
import type { TextView } from "./form.ts";
import { fit, type PlatformLimits } from "./limits.ts";
import { questionsOf, quickOptions } from "./question-form.ts";
import { requirementPhrases } from "./policy/describe.ts";
import { QUESTION, type Choice, type Decider, type PermissionRecord } from "./types.ts";

const toolTitles: Record<string, string> = {
  bash: "wants to run a command",
  edit: "wants to change a file",
  external_directory: "wants to reach outside the project",
  webfetch: "wants to fetch a URL",
};

/**
 * The card for a permission request or question in its current state, within a platform's limits.
 * All the words of a card live here.
 */
export function buildCard(record: PermissionRecord, limits: PlatformLimits, now: Date = new Date()): Card {
  if (record.permission === QUESTION) return questionCard(record, limits, now);
  if (record.source === "budget") return budgetCard(record, limits, now);
  const tool = record.toolName ?? record.permission;
  const body = cardBody(record, limits.cardBody);
  const fields = [
    { label: "Tool", value: tool === record.permission ? tool : `${tool} (permission: ${record.permission})` },
    { label: "Directory", value: workingDirectory(record) },
  ];
  const path = stringField(record.metadata, "filepath") ?? stringField(record.toolArgs, "filePath");
  if (path) fields.push({ label: "File", value: path });
  if (record.always.length > 0) fields.push({ label: "Always allows", value: record.always.join(", ") });
  if (record.source === "plugin") fields.push({ label: "Edit", value: "exact edit available: OpenCode runs exactly what you approve" });
  const rules = policyField(record);
  if (rules) fields.push({ label: "Policy", value: rules });
  const pending = record.state === "pending";
  const actions: Choice[] = record.policy?.allowAlways === false ? ["once", "reject", "edit"] : ["once", "always", "reject", "edit"];
  return {
    requestId: record.id,
    summary: `OpenCode ${toolTitles[record.permission] ?? `asks to use ${tool}`}${commandSummary(record)}`,
    title: `OpenCode ${toolTitles[record.permission] ?? `asks to use ${tool}`}`,
    fields,
    body,
    reference: `Request ${record.id} ${sessionMarker(record.sessionId)}`,
    actions: pending ? actions : [],
    status: pending ? pendingLines(record, limits) : statusLines(record, limits, now),
  };
}

/** What the policy asks of a request, in a line: its rule, approvals needed, who may not approve, when it expires. */
function policyField(record: PermissionRecord): string | undefined {
  const policy = record.policy;
  if (!policy) return undefined;
  const { expiresMs: _e, ...rest } = policy;
  const parts = [policy.rule ? `rule “${policy.rule}”` : "defaults", ...requirementPhrases(rest, { requester: policy.requester?.name })];
  if (record.expiresAt) {
    const then = policy.onExpiry === "escalate" && !record.escalatedAt ? "escalated" : "rejected";
    parts.push(`${then} if undecided by ${record.expiresAt.toISOString().slice(11, 16)} UTC`);
  }
  return parts.join(" · ");
}

/** A pending request's news: the approvals given so far where several are needed. */
function pendingLines(record: PermissionRecord, limits: PlatformLimits): StatusLine[] {
  const needed = record.policy?.approvals ?? 1;
  if (needed <= 1 || record.votes.length === 0) return [];
  const by = record.votes.map((vote) => vote.by);
  const edit = record.votes.find((vote) => vote.choice === "edit");
  const lines: StatusLine[] = [{ text: `${record.votes.length} of ${needed} approvals: {by}`, by, tone: "ok" }];
  if (edit?.editedArgs) {
    lines.push({
      text: `${edit.by.name} edited the call; the approvals count for the edited call:`,
      code: cut("diff", argsDiff(originalCall(record).args, edit.editedArgs), limits.cardBody)!.text,
      tone: "ok",
    });
  }
  return lines;
}

/** A prompt from chat held because its project is over budget: the budget is the reason, Approve once sends it. */
function budgetCard(record: PermissionRecord, limits: PlatformLimits, now: Date): Card {
  const pending = record.state === "pending";
  const reason = stringField(record.metadata, "reason") ?? "the project is over its budget";
  const by = stringField(record.metadata, "by");
  return {
    requestId: record.id,
    summary: `A prompt waits for an OK: ${reason}`,
    title: "Over budget: this prompt waits for an approver",
    fields: [
      { label: "Budget", value: reason },
      { label: "Directory", value: record.directory },
      ...(by ? [{ label: "From", value: by }] : []),
    ],
    body: cut("text", stringField(record.metadata, "prompt") ?? "", limits.cardBody),
    reference: `Request ${record.id} ${sessionMarker(record.sessionId)}`,
    actions: pending ? ["once", "reject"] : [],
    status: pending ? [] : statusLines(record, limits, now),
  };
}

/** The first message of a session's thread on every platform. */
export function threadParent(session: { directory: string; sessionId: string; title: string }): ThreadParent {
  return {
    sessionId: session.sessionId,
    summary: `OpenCode session “${session.title}” in ${session.directory}`,
    heading: "OpenCode session",
    name: session.title,
    fields: sessionFields(session),
    note: "Its permission requests appear in this thread.",
  };
}

/** The first message of a session's thread when someone started it from chat: who, what, where. */
export function startedThreadParent(session: {
  sessionId: string;
  title: string;
  prompt: string;
  projectName: string;
  directory: string;
  agent?: string;
  model?: string;
  by: Decider;
}): ThreadParent {
  const prompt = session.prompt.length > 300 ? `${session.prompt.slice(0, 299)}…` : session.prompt;
  const where = [session.projectName, session.agent, session.model].filter(Boolean).join(" · ");
  return {
    sessionId: session.sessionId,
    lead: { text: `{by} started: ${prompt} · ${where}`, by: session.by, tone: "ok" },
    summary: `${session.by.name} started: ${prompt}`,
    heading: "OpenCode session",
    name: session.title,
    fields: sessionFields(session),
    note: "Progress, approvals and the answer appear in this thread; reply here to prompt the session again.",
  };
}

/** The fields that place a session: its directory and its id (the audit trail names both). */
const sessionFields = (session: { directory: string; sessionId: string }) => [
  { label: "Project", value: session.directory },
  { label: "Session", value: session.sessionId },
];

/** A session's title from its first prompt: the first line, cut to 60 characters. */
export function titleFromPrompt(prompt: string): string {
  const line = prompt.trim().split("\n")[0]!.trim();
  return line.length > 60 ? `${line.slice(0, 59)}…` : line;
}

function questionCard(record: PermissionRecord, limits: PlatformLimits, now: Date): Card {
  const questions = questionsOf(record);
  const text = questions
    .map((q) => [`${q.header ? `${q.header}: ` : ""}${q.question}${q.multiple ? " (one or more)" : ""}`, ...q.options.map((o) => `• ${o.label}${o.description ? ` — ${o.description}` : ""}`)].join("\n"))
    .join("\n\n");
  const pending = record.state === "pending";
  return {
    requestId: record.id,
    summary: `OpenCode asks: ${questions[0]?.question ?? "a question"}`,
    title: "OpenCode asks a question",
    fields: [{ label: "Directory", value: record.directory }],
    body: cut("text", text, limits.cardBody),
    options: pending ? quickOptions(record, limits.quickOptions)?.map((label) => fit(label, limits.buttonLabel)) : undefined,
    reference: `Question ${record.id} ${sessionMarker(record.sessionId)}`,
    actions: pending ? ["answer", "dismiss"] : [],
    status: pending ? [] : statusLines(record, limits, now),
  };
}

function statusLines(record: PermissionRecord, limits: PlatformLimits, now: Date): StatusLine[] {
  // Decided by several approvals: each approver is named.
  const approving = ["approved_once", "approved_always", "edited"].includes(record.state);
  const by = approving && record.votes.length > 1 ? record.votes.map((vote) => vote.by) : (record.decider ?? undefined);
  const waited = formatWait((record.decidedAt ?? now).getTime() - record.askedAt.getTime());
  const lines: StatusLine[] = [];
  switch (record.state) {
    case "approved_once":
      lines.push(
        record.linkedRequestId && record.decider?.platform === "bot"
          ? { text: `Approved automatically: it is the edited call approved on request ${record.linkedRequestId}`, tone: "ok" }
          : { text: `Approved once by {by} after ${waited}`, by, tone: "ok" },
      );
      break;
    case "approved_always":
      lines.push({
        text: `Always approved by {by} after ${waited}: OpenCode now allows ${record.always.join(", ") || "these calls"} without asking, until it restarts`,
        by,
        tone: "ok",
      });
      break;
    case "rejected":
      if (record.permission === QUESTION) {
        lines.push({ text: `Dismissed by {by} after ${waited}: the agent got no answer and stopped`, by, tone: "rejected" });
        break;
      }
      lines.push({ text: `Rejected by {by} after ${waited}${record.reason ? `: “${record.reason}”` : ""}`, by, tone: "rejected" });
      break;
    case "edited":
      if (record.source === "plugin") {
        lines.push({ text: `Edited and approved by {by} after ${waited}`, by, tone: "ok" });
        break;
      }
      lines.push({
        text: `Edited by {by} after ${waited}: the agent was asked to make the edited call instead, which will be approved once automatically (the opencode-chatops plugin makes edits exact)`,
        by,
        tone: "ok",
      });
      break;
    case "answered": {
      const answers = (record.editedArgs?.answers as string[][] | undefined) ?? [];
      const said = answers.map((answer) => `“${answer.join(", ")}”`).join("; ");
      lines.push({ text: `Answered by {by} after ${waited}: ${said}`, by, tone: "ok" });
      break;
    }
    case "answered_elsewhere":
      lines.push({ text: record.reason ?? "Answered in OpenCode", tone: "closed" });
      break;
    case "expired":
      lines.push({ text: `Expired: ${record.reason ?? "OpenCode no longer has this request"}`, tone: "closed" });
      break;
    case "cancelled":
      lines.push({ text: `Cancelled: ${record.reason ?? "the session stopped before anyone decided"}`, tone: "closed" });
      break;
    case "pending":
      break;
  }
  if (record.state === "edited" && record.editedArgs) {
    const diff = cut("diff", argsDiff(originalCall(record).args, record.editedArgs), limits.cardBody)!;
    lines.push({ text: "What changed:", code: diff.text, tone: "ok" });
  }
  if (record.replyError) {
    lines.push({ text: `OpenCode did not take this reply: ${record.replyError}. Nothing was run on this decision.`, tone: "warning" });
  }
  return lines;
}

function cardBody(record: PermissionRecord, limit: number): Card["body"] {
  const command = stringField(record.metadata, "command") ?? stringField(record.toolArgs, "command");
  if (command) return cut("command", command, limit);
  if (record.source === "plugin" && record.toolArgs) {
    const { filePath, content, oldString, newString } = record.toolArgs;
    if (typeof content === "string") return cut("text", content, limit);
    if (typeof oldString === "string" && typeof newString === "string") {
      return cut("diff", textDiff(String(filePath ?? "file"), oldString, newString), limit);
    }
  }
  const diff = stringField(record.metadata, "diff");
  if (diff) return cut("diff", diff, limit);
  const args = record.toolArgs ?? record.metadata;
  if (Object.keys(args).length === 0) return undefined;
  return cut("json", JSON.stringify(args, null, 2), limit);
}

function cut(kind: NonNullable<Card["body"]>["kind"], full: string, limit: number): Card["body"] {
  if (full.length <= limit) return { kind, full, truncated: false, text: full };
  return { kind, full, truncated: true, text: `${full.slice(0, limit)}\n…`, more: `Show all (${full.length} characters)` };
}

/** The whole body of a card, for the "Show all" button. */
export function fullBodyView(card: Card): TextView {
  return { title: "Full request", close: "Close", text: card.body?.full ?? "" };
}

function commandSummary(record: PermissionRecord): string {
  const command = stringField(record.metadata, "command");
  if (command) return `: ${command.length > 80 ? `${command.slice(0, 80)}…` : command}`;
  const path = stringField(record.metadata, "filepath");
  return path ? `: ${path}` : "";
}

function workingDirectory(record: PermissionRecord): string {
  return stringField(record.toolArgs, "workdir") ?? record.directory;
}

function stringField(source: Record<string, unknown> | null, key: string): string | undefined {
  const value = source?.[key];
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

/** "14 s", "3 min 5 s", "2 h 4 min". */
export function formatWait(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** The part of a card's reference line that names its session: every card of the session carries it. */
export function sessionMarker(sessionId: string): string {
  return `· session ${sessionId}`;
}

/** The request a card's reference line names (see buildCard), if `reference` is one. */
export function requestOfReference(reference: string): string | undefined {
  return /^(?:Request|Question) (\S+) · session \S+$/.exec(reference.trim())?.[1];
}
