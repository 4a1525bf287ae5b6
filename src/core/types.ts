/** Plain data shared by the core, the store and the adapters. No platform or driver types here. */

export const requestStates = [
  "pending",
  "approved_once",
  "approved_always",
  "rejected",
  "edited",
  "answered",
  "expired",
  "answered_elsewhere",
  "cancelled",
] as const;
export type RequestState = (typeof requestStates)[number];

/** What an approver can choose on a card: the first four on a permission, the last two on a question. */
export type Choice = "once" | "always" | "reject" | "edit" | "answer" | "dismiss";

/** `permission` of a record that stands for an OpenCode question rather than a permission request. */
export const QUESTION = "question";

/** `permission` of a record that holds a prompt from chat until an approver says it may go over budget. */
export const BUDGET = "budget";

/** The chat platforms a card can be on; each has one adapter. */
export type ChatPlatform = "slack" | "discord" | "web";

/**
 * A chat object (a message, a thread) as its adapter encodes it. The core stores and compares these
 * strings and hands them back to the adapter that made them; it never reads their parts.
 */
export type ChatRef = string;

/** One request's card on one platform. */
export type PostedCard = { platform: ChatPlatform; ref: ChatRef };

export type Decider = {
  /** `policy`: a rule of the policy file decided (its name is the user). */
  platform: ChatPlatform | "opencode" | "bot" | "policy";
  userId: string;
  name: string;
};

/** Who is recorded when the bot decides by itself (a pre-approval, a gate already passed). */
export const botDecider: Decider = { platform: "bot", userId: "opencode-chatops", name: "opencode-chatops" };
/** Who is recorded when OpenCode itself answered or dropped a request. */
export const opencodeDecider: Decider = { platform: "opencode", userId: "opencode", name: "OpenCode" };

export type PermissionRecord = {
  id: string;
  /** `opencode`: asked by OpenCode (permission or question); `plugin`: held by the plugin's gate before the tool runs. */
  /** `budget`: a prompt from chat the bot holds because its project is over budget (not OpenCode's). */
  source: "opencode" | "plugin" | "budget";
  directory: string;
  sessionId: string;
  permission: string;
  patterns: string[];
  always: string[];
  metadata: Record<string, unknown>;
  callId: string | null;
  messageId: string | null;
  /** The tool that asked (`write` and `edit` both ask permission `edit`), when OpenCode told us. */
  toolName: string | null;
  /** The tool's input as the model wrote it, when OpenCode had it; otherwise null and `metadata` stands in. */
  toolArgs: Record<string, unknown> | null;
  state: RequestState;
  askedAt: Date;
  decidedAt: Date | null;
  decider: Decider | null;
  reason: string | null;
  editedArgs: Record<string, unknown> | null;
  linkedRequestId: string | null;
  replyError: string | null;
  /** What the policy required of it when it was asked; null when no policy file was in force. */
  policy: RequestPolicy | null;
  /** When it expires unless decided (the policy's `expires`, from when OpenCode asked). */
  expiresAt: Date | null;
  /** When its expiry was escalated (`on_expiry: escalate`), once. */
  escalatedAt: Date | null;
  /** Approvals given so far where more than one is needed. */
  votes: Vote[];
  /** Its cards, one per platform it was posted on. */
  cards: PostedCard[];
};

/**
 * What the team's policy asks of one request, fixed when it was asked (a reload applies to
 * requests asked after it). `approvers` unset: the platform lists (SLACK_APPROVERS …) stand.
 */
export type RequestPolicy = {
  /** The rule that matched; unset: the defaults. */
  rule?: string;
  approvers?: string[];
  approvals: number;
  selfApproval: boolean;
  allowAlways: boolean;
  expiresMs?: number;
  onExpiry: "reject" | "escalate";
  escalateTo?: string[];
  /** Who started the session from chat: with `selfApproval` false, they may only reject. */
  requester?: Decider;
};

/** One approver's approval towards a request that needs several. */
export type Vote = { by: Decider; choice: "once" | "always" | "edit"; editedArgs: Record<string, unknown> | null; at: Date };

export type NewPermission = Partial<Pick<PermissionRecord, "source">> & Pick<
  PermissionRecord,
  "id" | "directory" | "sessionId" | "permission" | "patterns" | "always" | "metadata" | "callId" | "messageId" | "toolName" | "toolArgs"
> & Partial<Pick<PermissionRecord, "policy" | "expiresAt">> & { askedAt: Date };

/** The thread of one session on one platform. */
export type SessionThread = {
  sessionId: string;
  platform: ChatPlatform;
  directory: string;
  title: string;
  ref: ChatRef;
  /** The parent message as a card message, when it carries the session's first cards (ChatAdapter.openCardThread). */
  parentCard?: ChatRef;
};

/** A one-shot approval for one exact call, left behind by an edit decided without the plugin. */
export type Preapproval = {
  directory: string;
  sessionId: string;
  permission: string;
  /** The exact call: bash `{command}`; edit/write `{filepath, content}`. */
  call: Record<string, unknown>;
  sourceRequestId: string;
};

/** A pre-approval as stored, not consumed yet. */
export type StoredPreapproval = Preapproval & { id: number };

export type AuditEntry = {
  id: number;
  requestId: string;
  sessionId: string;
  directory: string;
  tool: string;
  toolName: string | null;
  patterns: string[];
  originalArgs: Record<string, unknown>;
  editedArgs: Record<string, unknown> | null;
  decision: string;
  reason: string | null;
  decider: Decider;
  askedAt: Date;
  decidedAt: Date;
  linkedRequestId: string | null;
};
