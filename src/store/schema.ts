import { sql } from "drizzle-orm";
import type { RequestPolicy } from "../core/types.ts";
import { bigint, bigserial, boolean, doublePrecision, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

/** One row per OpenCode permission request; `state` moves from `pending` exactly once. */
export const permissionRequests = pgTable(
  "permission_requests",
  {
    id: text("id").primaryKey(),
    /** `opencode`: a permission.asked or question.asked; `plugin`: a tool call held by the plugin's gate. */
    source: text("source").notNull().default("opencode"),
    directory: text("directory").notNull(),
    sessionId: text("session_id").notNull(),
    permission: text("permission").notNull(),
    patterns: jsonb("patterns").$type<string[]>().notNull(),
    always: jsonb("always").$type<string[]>().notNull(),
    metadata: jsonb("metadata").$type<Record<string, unknown>>().notNull(),
    callId: text("call_id"),
    messageId: text("message_id"),
    /** The tool behind the permission (`write` and `edit` both ask `edit`) and its input, when OpenCode had it. */
    toolName: text("tool_name"),
    toolArgs: jsonb("tool_args").$type<Record<string, unknown>>(),
    state: text("state").notNull().default("pending"),
    askedAt: timestamp("asked_at", { withTimezone: true }).notNull(),
    decidedAt: timestamp("decided_at", { withTimezone: true }),
    deciderPlatform: text("decider_platform"),
    deciderUserId: text("decider_user_id"),
    deciderName: text("decider_name"),
    reason: text("reason"),
    editedArgs: jsonb("edited_args").$type<Record<string, unknown>>(),
    linkedRequestId: text("linked_request_id"),
    replyError: text("reply_error"),
    /** What the team's policy required of it when it was asked (null: no policy file was in force). */
    policy: jsonb("policy").$type<RequestPolicy>(),
    /** When it fails closed (or escalates) unless decided; the durable timer every bot process watches. */
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    escalatedAt: timestamp("escalated_at", { withTimezone: true }),
  },
  (t) => [
    index("permission_requests_state_idx").on(t.state),
    index("permission_requests_session_idx").on(t.sessionId),
    index("permission_requests_expiry_idx").on(t.expiresAt),
  ],
);

/**
 * Approvals given towards a request that needs more than one (N-of-M): one row per approver, so a
 * second click by the same person counts once. The request is decided when enough rows exist.
 */
export const approvalVotes = pgTable(
  "approval_votes",
  {
    requestId: text("request_id").notNull(),
    platform: text("platform").notNull(),
    userId: text("user_id").notNull(),
    userName: text("user_name").notNull(),
    /** `once`, `always` or `edit` (with the edited arguments). */
    choice: text("choice").notNull(),
    editedArgs: jsonb("edited_args").$type<Record<string, unknown>>(),
    votedAt: timestamp("voted_at", { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.requestId, t.platform, t.userId] })],
);

/** Append-only: a trigger (migration 0001) refuses UPDATE, DELETE and TRUNCATE; each row chains to the one before by hash. */
export const auditLog = pgTable(
  "audit_log",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    requestId: text("request_id").notNull(),
    sessionId: text("session_id").notNull(),
    directory: text("directory").notNull(),
    tool: text("tool").notNull(),
    toolName: text("tool_name"),
    patterns: jsonb("patterns").$type<string[]>().notNull(),
    originalArgs: jsonb("original_args").$type<Record<string, unknown>>().notNull(),
    editedArgs: jsonb("edited_args").$type<Record<string, unknown>>(),
    decision: text("decision").notNull(),
    reason: text("reason"),
    deciderPlatform: text("decider_platform").notNull(),
    deciderUserId: text("decider_user_id").notNull(),
    deciderName: text("decider_name").notNull(),
    askedAt: timestamp("asked_at", { withTimezone: true }).notNull(),
    decidedAt: timestamp("decided_at", { withTimezone: true }).notNull(),
    linkedRequestId: text("linked_request_id"),
    recordedAt: timestamp("recorded_at", { withTimezone: true }).notNull().default(sql`now()`),
    /** The hash of the row before (null for the first) and this row's (see core/audit-chain.ts); null on rows from before the chain. */
    prevHash: text("prev_hash"),
    hash: text("hash"),
  },
  (t) => [index("audit_log_request_idx").on(t.requestId), index("audit_log_decided_idx").on(t.decidedAt)],
);

/**
 * Where a request's card is on each chat platform: `ref` is the adapter's opaque encoding of the
 * message (the core stores and compares it, never reads it).
 */
export const cards = pgTable(
  "cards",
  {
    requestId: text("request_id").notNull(),
    platform: text("platform").notNull(),
    ref: text("ref").notNull(),
    postedAt: timestamp("posted_at", { withTimezone: true }).notNull().default(sql`now()`),
    /**
     * The request's state as the card last showed it (null: not known, a card from before this was
     * kept). A card still showing `pending` for a decided request lost its edit (the bot stopped, the
     * platform failed) and is drawn again on the next resync.
     */
    shownState: text("shown_state"),
  },
  (t) => [
    primaryKey({ columns: [t.requestId, t.platform] }),
    index("cards_message_idx").on(t.platform, t.ref),
    index("cards_showing_pending_idx").on(t.requestId).where(sql`shown_state = 'pending'`),
  ],
);

/** The thread that holds one OpenCode session's cards on each chat platform; `ref` is opaque like a card's. */
export const threads = pgTable(
  "threads",
  {
    sessionId: text("session_id").notNull(),
    platform: text("platform").notNull(),
    directory: text("directory").notNull(),
    title: text("title").notNull(),
    ref: text("ref").notNull(),
    /** The parent's own reference as a card message, when it carries the session's first cards. */
    parentCardRef: text("parent_card_ref"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().default(sql`now()`),
  },
  (t) => [primaryKey({ columns: [t.sessionId, t.platform] })],
);

/** One-shot approvals for an exact call, written by an edit decided without the plugin. */
export const preapprovals = pgTable(
  "preapprovals",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    directory: text("directory").notNull(),
    sessionId: text("session_id").notNull(),
    permission: text("permission").notNull(),
    call: jsonb("call").$type<Record<string, unknown>>().notNull(),
    sourceRequestId: text("source_request_id").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().default(sql`now()`),
    consumedByRequestId: text("consumed_by_request_id"),
    consumedAt: timestamp("consumed_at", { withTimezone: true }),
  },
  (t) => [
    index("preapprovals_session_idx").on(t.sessionId),
    uniqueIndex("preapprovals_source_idx").on(t.sourceRequestId),
  ],
);

/**
 * "Always" rules given from chat or in OpenCode, per directory and permission: the bot lets calls
 * they cover through its gate, and answers OpenCode's asks they cover after OpenCode forgot them
 * (a restart). Revoked rows stay, for the record.
 */
export const alwaysRules = pgTable(
  "always_rules",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    directory: text("directory").notNull(),
    permission: text("permission").notNull(),
    pattern: text("pattern").notNull(),
    requestId: text("request_id").notNull(),
    byPlatform: text("by_platform").notNull(),
    byUserId: text("by_user_id").notNull(),
    byName: text("by_name").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    revokedBy: text("revoked_by"),
  },
  (t) => [index("always_rules_scope_idx").on(t.directory, t.permission)],
);

/** The directories the bot may start work in, by name; `server_url` null means OPENCODE_URL. */
export const projects = pgTable("projects", {
  name: text("name").primaryKey(),
  directory: text("directory").notNull(),
  serverUrl: text("server_url"),
  addedByPlatform: text("added_by_platform").notNull(),
  addedByUserId: text("added_by_user_id").notNull(),
  addedAt: timestamp("added_at", { withTimezone: true }).notNull().default(sql`now()`),
});

/** A chat channel's default project; `channel_ref` is the adapter's opaque reference to the channel. */
export const channelDefaults = pgTable(
  "channel_defaults",
  {
    platform: text("platform").notNull(),
    channelRef: text("channel_ref").notNull(),
    projectName: text("project_name").notNull(),
    setAt: timestamp("set_at", { withTimezone: true }).notNull().default(sql`now()`),
  },
  (t) => [primaryKey({ columns: [t.platform, t.channelRef] })],
);

/**
 * A session started from chat: who started it, where, in which project; its cards go to `thread_ref`
 * (also kept in `threads`). `status_ref` is the message showing the current turn's progress.
 */
export const ownedSessions = pgTable(
  "owned_sessions",
  {
    sessionId: text("session_id").primaryKey(),
    serverUrl: text("server_url").notNull(),
    directory: text("directory").notNull(),
    projectName: text("project_name").notNull(),
    platform: text("platform").notNull(),
    channelRef: text("channel_ref").notNull(),
    threadRef: text("thread_ref").notNull(),
    userId: text("user_id").notNull(),
    userName: text("user_name").notNull(),
    prompt: text("prompt").notNull(),
    agent: text("agent"),
    model: text("model"),
    statusRef: text("status_ref"),
    /** `active`, or `gone` once OpenCode no longer has the session. */
    state: text("state").notNull().default("active"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().default(sql`now()`),
  },
  (t) => [uniqueIndex("owned_sessions_thread_idx").on(t.platform, t.threadRef)],
);

/**
 * Chat messages the bot has acted on (a prompt, a start by mention), by the adapter's reference to
 * the message: Slack delivers one mention twice (app_mention and message) and retries events, so the
 * first insert wins and the others are dropped, across restarts and processes.
 */
export const inboundMessages = pgTable(
  "inbound_messages",
  {
    platform: text("platform").notNull(),
    messageRef: text("message_ref").notNull(),
    receivedAt: timestamp("received_at", { withTimezone: true }).notNull().default(sql`now()`),
    /** `claimed` while the bot acts on it; `sent` once OpenCode took it; `failed` once its author was told it was not; `told` after a restart in between. */
    state: text("state").notNull().default("sent"),
    threadRef: text("thread_ref"),
    userName: text("user_name"),
  },
  (t) => [primaryKey({ columns: [t.platform, t.messageRef] }), index("inbound_messages_state_idx").on(t.state)],
);

/**
 * One row per completed assistant message (OpenCode's message id): its final cost and tokens, and
 * who and what it is attributed to. Written once per id, so replays, `sync` duplicates, reconnects
 * and backfills never count a message twice. `user_*` are null for a session started outside chat.
 */
export const costLedger = pgTable(
  "cost_ledger",
  {
    messageId: text("message_id").primaryKey(),
    serverUrl: text("server_url").notNull(),
    directory: text("directory").notNull(),
    projectName: text("project_name"),
    sessionId: text("session_id").notNull(),
    providerId: text("provider_id").notNull(),
    modelId: text("model_id").notNull(),
    agent: text("agent"),
    userPlatform: text("user_platform"),
    userId: text("user_id"),
    userName: text("user_name"),
    cost: doublePrecision("cost").notNull(),
    tokensInput: bigint("tokens_input", { mode: "number" }).notNull(),
    tokensOutput: bigint("tokens_output", { mode: "number" }).notNull(),
    tokensReasoning: bigint("tokens_reasoning", { mode: "number" }).notNull(),
    tokensCacheRead: bigint("tokens_cache_read", { mode: "number" }).notNull(),
    tokensCacheWrite: bigint("tokens_cache_write", { mode: "number" }).notNull(),
    completedAt: timestamp("completed_at", { withTimezone: true }).notNull(),
    recordedAt: timestamp("recorded_at", { withTimezone: true }).notNull().default(sql`now()`),
  },
  (t) => [index("cost_ledger_completed_idx").on(t.completedAt), index("cost_ledger_session_idx").on(t.sessionId)],
);

/**
 * Digest slots (the cron's times), each claimed once across every bot process on the database: the
 * claim's insert decides who posts. `posted` is false for the slot a first start claims without
 * posting (the bot was not running before it).
 */
export const digestSlots = pgTable("digest_slots", {
  slot: timestamp("slot", { withTimezone: true }).primaryKey(),
  posted: boolean("posted").notNull(),
  claimedAt: timestamp("claimed_at", { withTimezone: true }).notNull().default(sql`now()`),
});

/** Budget warnings posted: one per project, budget (daily or monthly), period and threshold (80 or 100 %). */
export const budgetAlerts = pgTable(
  "budget_alerts",
  {
    projectName: text("project_name").notNull(),
    kind: text("kind").notNull(),
    periodStart: text("period_start").notNull(),
    percent: integer("percent").notNull(),
    postedAt: timestamp("posted_at", { withTimezone: true }).notNull().default(sql`now()`),
  },
  (t) => [primaryKey({ columns: [t.projectName, t.kind, t.periodStart, t.percent] })],
);

export type PermissionRow = typeof permissionRequests.$inferSelect;
export type AuditRow = typeof auditLog.$inferSelect;
export type NewAuditRow = typeof auditLog.$inferInsert;
/** The console's own settings, shared by every bot process on the database: its session secret and, when generated, its password's hash. */
export const consoleSettings = pgTable("console_settings", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
  setAt: timestamp("set_at", { withTimezone: true }).notNull().default(sql`now()`),
});

export type AlwaysRuleRow = typeof alwaysRules.$inferSelect;
export type VoteRow = typeof approvalVotes.$inferSelect;
export type CardRow = typeof cards.$inferSelect;
export type ThreadRow = typeof threads.$inferSelect;
export type PreapprovalRow = typeof preapprovals.$inferSelect;
export type ProjectRow = typeof projects.$inferSelect;
export type OwnedSessionRow = typeof ownedSessions.$inferSelect;
export type LedgerRow = typeof costLedger.$inferSelect;
