import type { ChainedRow } from "./audit-chain.ts";
import type {
  AuditEntry,
  ChatPlatform,
  ChatRef,
  Decider,
  NewPermission,
  PermissionRecord,
  PostedCard,
  Preapproval,
  StoredPreapproval,
  RequestState,
  SessionThread,
  Vote,
} from "./types.ts";

export type DecideInput = {
  requestId: string;
  state: Exclude<RequestState, "pending">;
  decider: Decider;
  /** The audit row's `decision`; defaults to `state`. */
  decision?: string;
  reason?: string;
  editedArgs?: Record<string, unknown>;
  linkedRequestId?: string;
  at: Date;
  /** Written in the same transaction (the edit fallback's one-shot approval). */
  preapproval?: Preapproval;
};

/** Persistence the approval engine needs. Implemented in src/store over Drizzle. Every record comes with its cards. */
export interface ApprovalStore {
  /** Inserts a new pending request; returns the stored row and whether this call created it. */
  addRequest(request: NewPermission): Promise<{ record: PermissionRecord; created: boolean }>;
  getRequest(id: string): Promise<PermissionRecord | undefined>;
  /** Requests still `pending`, oldest first; only those of `filter`'s directory and session, where given. */
  pendingRequests(filter?: { directory?: string; sessionId?: string }): Promise<PermissionRecord[]>;
  /** Directories seen in requests, threads or costs: where to look for pending requests (and costs) after a reconnect. */
  knownDirectories(): Promise<string[]>;
  /** The requests whose card is in the message `ref` on `platform`, in the order they were asked. */
  requestsOnCard(platform: ChatPlatform, ref: ChatRef): Promise<PermissionRecord[]>;
  /** Records where the request's card is on `card.platform`, replacing an earlier one there; it shows the request pending. */
  setCard(requestId: string, card: PostedCard): Promise<void>;
  /** Records the states the cards of `shown` on `platform` now show (after an edit went through). */
  markShown(platform: ChatPlatform, shown: { requestId: string; state: RequestState }[]): Promise<void>;
  /** Card messages that still show a request pending that is no longer (their edit was lost), of `directory` where given. */
  staleCards(directory?: string): Promise<PostedCard[]>;
  /**
   * Moves a pending request to `state` and appends its audit row in one transaction.
   * Throws AlreadyDecided when the request is no longer pending, NotFound when unknown.
   */
  decide(input: DecideInput): Promise<PermissionRecord>;
  /** Notes that OpenCode refused or never got the reply for an already decided request (appends an audit row). */
  recordReplyFailure(requestId: string, error: string, at: Date): Promise<PermissionRecord>;
  /**
   * What a new permission request's intake reads before recording it, in one round trip: who started
   * its session from chat (as sessionOwner), the state of the request `gateId` (the plugin gate's for
   * the same call), and the pre-approvals of the session's permission not consumed yet, oldest first.
   */
  askContext(ask: { directory: string; sessionId: string; permission: string; gateId?: string }): Promise<AskContext>;
  /** Consumes the first of `candidates` that is still unconsumed for `requestId`; returns its source request id. */
  consumePreapproval(requestId: string, candidates: StoredPreapproval[]): Promise<string | undefined>;
  /** Requests of `sessionId` decided at or after `since`, newest first. */
  recentlyDecided(sessionId: string, since: Date): Promise<PermissionRecord[]>;
  audit(requestId: string): Promise<AuditEntry[]>;
  /** Every audit row in order, with its hashes, for `npm run audit -- verify`. */
  auditChain(): Promise<ChainedRow[]>;
  /** Audit rows of decisions made in [from, to), oldest first (of one directory where given). */
  decisionsBetween(range: { from: Date; to: Date }, directory?: string): Promise<AuditEntry[]>;
  getThread(sessionId: string, platform: ChatPlatform): Promise<SessionThread | undefined>;
  /** Who started a session from chat, and on which platform (its cards go only there); undefined for one started elsewhere. */
  sessionOwner(sessionId: string): Promise<Decider | undefined>;
  /**
   * Adds `vote` to a pending request needing several approvals, in one transaction that holds the
   * request: a second vote by the same person changes nothing (`counted` false), an edit replaces
   * the votes before it (they approved another call). `complete` is asked with every vote now
   * given; when it returns a decision, that decision is made in the same transaction. Each counted
   * vote appends an audit row. Throws AlreadyDecided when the request is no longer pending.
   */
  vote(requestId: string, vote: Vote, complete: (votes: Vote[]) => DecideInput | undefined): Promise<{ record: PermissionRecord; counted: boolean; decided: boolean }>;
  /** Stores a session's thread on a platform unless one is stored already; returns the stored one. */
  saveThread(thread: SessionThread): Promise<SessionThread>;
  /** The earliest `expires_at` of a pending request, if any. */
  nextExpiry(): Promise<Date | undefined>;
  /** Pending requests whose `expires_at` is at or before `at`, earliest first. */
  dueRequests(at: Date): Promise<PermissionRecord[]>;
  /**
   * Marks a due, pending, not yet escalated request escalated at `at`, expiring again at `expiresAt`,
   * with an audit row; undefined when it is not (decided, escalated already: another process won).
   */
  escalate(requestId: string, at: Date, expiresAt: Date): Promise<PermissionRecord | undefined>;
  ping(): Promise<void>;
}

/** What askContext reads. */
export type AskContext = {
  owner: Decider | undefined;
  gate: { id: string; state: RequestState } | undefined;
  preapprovals: StoredPreapproval[];
};
