import { and, asc, desc, eq, getTableColumns, gte, inArray, isNotNull, isNull, lt, lte, min, ne, sql } from "drizzle-orm";
import { auditHash } from "../core/audit-chain.ts";
import type { DecideInput, ApprovalStore } from "../core/store-port.ts";
import { AlreadyDecided, NotFound } from "../core/errors.ts";
import type { AuditEntry, ChatPlatform, Decider, PermissionRecord, RequestState, SessionThread, Vote } from "../core/types.ts";
import type { Database, Db } from "./database.ts";
import { asJson, cardsOfRow, jsonOf, prepareQueries } from "./prepared-queries.ts";
import {
  approvalVotes,
  auditLog,
  cards,
  costLedger,
  ownedSessions,
  permissionRequests,
  preapprovals,
  threads,
  type AuditRow,
  type NewAuditRow,
  type PermissionRow,
  type ThreadRow,
  type VoteRow,
} from "./schema.ts";

/** Sessions whose owner (or lack of one) a store keeps in memory, the oldest forgotten first. */
const OWNERS_KEPT = 10_000;

/**
 * The Drizzle implementation of the engine's store; the same code runs on PGlite and Postgres.
 * With `redact` (REDACT_AUDIT=1) the audit rows keep arguments and reasons masked; the request's own
 * row keeps the call as asked, which the reply (and the plugin's long poll) must run exactly.
 */
export function createApprovalStore(database: Database, options: { redact?: <T>(value: T) => T } = {}): ApprovalStore {
  const { db } = database;
  const redact = options.redact;
  const appendAudit = (tx: Db, row: NewAuditRow) => appendAuditRow(tx, redact ? { ...row, originalArgs: redact(row.originalArgs), editedArgs: redact(row.editedArgs ?? null), reason: redact(row.reason ?? null) } : row);
  const decide = (db: Db, input: DecideInput) => db.transaction((tx) => decideIn(tx as unknown as Db, input));
  const decideIn = (tx: Db, input: DecideInput) => decideRow(tx, input, appendAudit);
  // Who started a session from chat never changes, and is stored before the session's first prompt,
  // so before anything in it can ask: a session's first read is its answer for good, "none" too.
  const owners = new Map<string, Decider | undefined>();
  const keepOwner = (sessionId: string, owner: Decider | undefined) => {
    if (owners.size >= OWNERS_KEPT) owners.delete(owners.keys().next().value!);
    owners.set(sessionId, owner);
  };
  const prepared = prepareQueries(db);
  /** findRequest, on the prepared queries: one round trip, two for a request that needs several approvals. */
  async function getRequest(id: string): Promise<PermissionRecord | undefined> {
    const [found] = await prepared.request.execute({ id });
    if (!found) return undefined;
    const votes = takesVotes(found.row) ? await prepared.votesOf.execute({ id }) : [];
    return toRecord(found.row, cardsOf(found.cards), votes.map(toVote));
  }
  return {
    async addRequest(request) {
      const inserted = await prepared.addRequest.execute({
        ...request,
        source: request.source ?? "opencode",
        toolArgs: asJson(request.toolArgs),
        policy: asJson(request.policy),
        expiresAt: request.expiresAt?.toISOString() ?? null,
      });
      if (inserted[0]) return { record: toRecord(inserted[0], []), created: true };
      const existing = await getRequest(request.id);
      if (!existing) throw new NotFound(`permission request ${request.id}`);
      return { record: existing, created: false };
    },

    getRequest,

    async pendingRequests(filter = {}) {
      const rows = await db
        .select()
        .from(permissionRequests)
        .where(
          and(
            eq(permissionRequests.state, "pending"),
            filter.directory === undefined ? undefined : eq(permissionRequests.directory, filter.directory),
            filter.sessionId === undefined ? undefined : eq(permissionRequests.sessionId, filter.sessionId),
          ),
        )
        .orderBy(asc(permissionRequests.askedAt));
      return withCards(db, rows);
    },

    async knownDirectories() {
      const fromRequests = await db.selectDistinct({ directory: permissionRequests.directory }).from(permissionRequests);
      const fromThreads = await db.selectDistinct({ directory: threads.directory }).from(threads);
      const fromCosts = await db.selectDistinct({ directory: costLedger.directory }).from(costLedger);
      return [...new Set([...fromRequests, ...fromThreads, ...fromCosts].map((row) => row.directory))];
    },

    async requestsOnCard(platform, ref) {
      const on = await db.select({ requestId: cards.requestId }).from(cards).where(and(eq(cards.platform, platform), eq(cards.ref, ref)));
      if (on.length === 0) return [];
      const rows = await db.select().from(permissionRequests).where(inArray(permissionRequests.id, on.map((c) => c.requestId))).orderBy(asc(permissionRequests.askedAt), asc(permissionRequests.id));
      return withCards(db, rows);
    },

    async setCard(requestId, card) {
      await db
        .insert(cards)
        .values({ requestId, platform: card.platform, ref: card.ref, shownState: "pending" })
        .onConflictDoUpdate({ target: [cards.requestId, cards.platform], set: { ref: card.ref, postedAt: new Date(), shownState: "pending" } });
    },

    async markShown(platform, shown) {
      // One update per state shown (a message's cards mostly show one or two), not one per card.
      for (const state of new Set(shown.map((s) => s.state))) {
        const ids = shown.filter((s) => s.state === state).map((s) => s.requestId);
        await db.update(cards).set({ shownState: state }).where(and(eq(cards.platform, platform), inArray(cards.requestId, ids)));
      }
    },

    async staleCards(directory) {
      const rows = await db
        .selectDistinct({ platform: cards.platform, ref: cards.ref })
        .from(cards)
        .innerJoin(permissionRequests, eq(permissionRequests.id, cards.requestId))
        .where(and(sql`${cards.shownState} = 'pending'`, ne(permissionRequests.state, "pending"), directory ? eq(permissionRequests.directory, directory) : undefined));
      return rows.map((row) => ({ platform: row.platform as ChatPlatform, ref: row.ref }));
    },

    decide: (input) => decide(db, input),

    async recordReplyFailure(requestId, error, at) {
      return db.transaction(async (tx) => {
        const [row] = await tx
          .update(permissionRequests)
          .set({ replyError: error })
          .where(eq(permissionRequests.id, requestId))
          .returning();
        if (!row) throw new NotFound(`permission request ${requestId}`);
        await appendAudit(tx as unknown as Db, {
          ...auditBase(row),
          decision: "reply_failed",
          reason: error,
          deciderPlatform: "bot",
          deciderUserId: "opencode-chatops",
          deciderName: "opencode-chatops",
          decidedAt: at,
        });
        return (await withCards(tx as unknown as Db, [row]))[0]!;
      });
    },

    async askContext({ gateId, ...scope }) {
      const [row] = await prepared.askContext.execute({ ...scope, gateId: gateId ?? null });
      const read = row?.owner ? { platform: row.owner.platform as ChatPlatform, userId: row.owner.userId, name: row.owner.name } : undefined;
      // As sessionOwner: the first read stands.
      if (!owners.has(scope.sessionId)) keepOwner(scope.sessionId, read);
      const owner = owners.get(scope.sessionId);
      return { owner, gate: row?.gate ? { id: row.gate.id, state: row.gate.state as RequestState } : undefined, preapprovals: row?.preapprovals ?? [] };
    },

    async consumePreapproval(requestId, candidates) {
      for (const candidate of candidates) {
        const [consumed] = await db
          .update(preapprovals)
          .set({ consumedByRequestId: requestId, consumedAt: new Date() })
          .where(and(eq(preapprovals.id, candidate.id), isNull(preapprovals.consumedByRequestId)))
          .returning();
        if (consumed) return consumed.sourceRequestId;
      }
      return undefined;
    },

    async recentlyDecided(sessionId, since) {
      const rows = await db
        .select()
        .from(permissionRequests)
        .where(
          and(
            eq(permissionRequests.sessionId, sessionId),
            ne(permissionRequests.state, "pending"),
            gte(permissionRequests.decidedAt, since),
          ),
        )
        .orderBy(desc(permissionRequests.decidedAt));
      return withCards(db, rows);
    },

    async audit(requestId) {
      const rows = await db.select().from(auditLog).where(eq(auditLog.requestId, requestId)).orderBy(asc(auditLog.id));
      return rows.map(toAuditEntry);
    },

    auditChain: () => db.select().from(auditLog).orderBy(asc(auditLog.id)),

    async decisionsBetween({ from, to }, directory) {
      const rows = await db
        .select()
        .from(auditLog)
        .where(and(gte(auditLog.decidedAt, from), lt(auditLog.decidedAt, to), directory === undefined ? undefined : eq(auditLog.directory, directory)))
        .orderBy(asc(auditLog.decidedAt));
      return rows.map(toAuditEntry);
    },

    async getThread(sessionId, platform) {
      const [row] = await prepared.thread.execute({ sessionId, platform });
      return row ? toThread(row) : undefined;
    },

    async sessionOwner(sessionId) {
      if (owners.has(sessionId)) return owners.get(sessionId);
      const [row] = await prepared.owner.execute({ sessionId });
      const owner = row ? { platform: row.platform as ChatPlatform, userId: row.userId, name: row.userName } : undefined;
      keepOwner(sessionId, owner);
      return owner;
    },

    vote: (requestId, vote, complete) =>
      db.transaction(async (tx) => {
        const t = tx as unknown as Db;
        const [held] = await t.select().from(permissionRequests).where(eq(permissionRequests.id, requestId)).for("update");
        if (!held) throw new NotFound(`permission request ${requestId}`);
        if (held.state !== "pending") throw new AlreadyDecided(requestId, held.state);
        const key = { requestId, platform: vote.by.platform, userId: vote.by.userId };
        const mine = (await t.select().from(approvalVotes).where(eq(approvalVotes.requestId, requestId))).find(
          (row) => row.platform === key.platform && row.userId === key.userId,
        );
        // The same person again counts once; only an edit (another call) changes what they approved.
        const counted = !mine || (vote.choice === "edit" && JSON.stringify(mine.editedArgs) !== JSON.stringify(vote.editedArgs));
        if (counted) {
          if (vote.choice === "edit") await t.delete(approvalVotes).where(eq(approvalVotes.requestId, requestId));
          await t.insert(approvalVotes).values({ ...key, userName: vote.by.name, choice: vote.choice, editedArgs: vote.editedArgs, votedAt: vote.at });
        }
        const votes = (await t.select().from(approvalVotes).where(eq(approvalVotes.requestId, requestId)).orderBy(asc(approvalVotes.votedAt))).map(toVote);
        const decision = counted ? complete(votes) : undefined;
        if (counted) {
          await appendAudit(t, {
            ...auditBase(held),
            editedArgs: vote.editedArgs,
            decision: vote.choice === "edit" ? "approval:edit" : `approval:${vote.choice}`,
            reason: `${votes.length} of ${held.policy?.approvals ?? votes.length} approvals`,
            deciderPlatform: vote.by.platform,
            deciderUserId: vote.by.userId,
            deciderName: vote.by.name,
            decidedAt: vote.at,
          });
        }
        if (decision) return { record: await decideIn(t, decision), counted, decided: true };
        return { record: (await withCards(t, [held]))[0]!, counted, decided: false };
      }),

    async saveThread(thread) {
      const { parentCard, ...rest } = thread;
      await db.insert(threads).values({ ...rest, parentCardRef: parentCard ?? null }).onConflictDoNothing();
      return (await findThread(db, thread.sessionId, thread.platform))!;
    },

    async nextExpiry() {
      const [row] = await db
        .select({ at: min(permissionRequests.expiresAt) })
        .from(permissionRequests)
        .where(and(eq(permissionRequests.state, "pending"), isNotNull(permissionRequests.expiresAt)));
      return row?.at ? new Date(row.at) : undefined;
    },

    async dueRequests(at) {
      const rows = await db
        .select()
        .from(permissionRequests)
        .where(and(eq(permissionRequests.state, "pending"), lte(permissionRequests.expiresAt, at)))
        .orderBy(asc(permissionRequests.expiresAt));
      return withCards(db, rows);
    },

    escalate: (requestId, at, expiresAt) =>
      db.transaction(async (tx) => {
        const t = tx as unknown as Db;
        const [row] = await t
          .update(permissionRequests)
          .set({ escalatedAt: at, expiresAt })
          .where(and(eq(permissionRequests.id, requestId), eq(permissionRequests.state, "pending"), isNull(permissionRequests.escalatedAt), lte(permissionRequests.expiresAt, at)))
          .returning();
        if (!row) return undefined;
        const rule = row.policy?.rule ?? "defaults";
        await appendAudit(t, {
          ...auditBase(row),
          decision: "escalated",
          reason: `not decided in time; escalated to ${(row.policy?.escalateTo ?? []).join(", ")}`,
          deciderPlatform: "policy",
          deciderUserId: rule,
          deciderName: rule,
          decidedAt: at,
        });
        return (await withCards(t, [row]))[0];
      }),

    ping: () => database.ping(),
  };
}

async function findRequest(db: Db, id: string): Promise<PermissionRecord | undefined> {
  const rows = await db.select().from(permissionRequests).where(eq(permissionRequests.id, id));
  return (await withCards(db, rows))[0];
}

async function findThread(db: Db, sessionId: string, platform: ChatPlatform): Promise<SessionThread | undefined> {
  const [row] = await db
    .select()
    .from(threads)
    .where(and(eq(threads.sessionId, sessionId), eq(threads.platform, platform)));
  return row ? toThread(row) : undefined;
}

/** Records for `rows`, each with its cards (and, where several approvals are needed, its votes), read in one or two more queries. */
async function withCards(db: Db, rows: PermissionRow[]): Promise<PermissionRecord[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((row) => row.id);
  const posted = await db.select().from(cards).where(inArray(cards.requestId, ids)).orderBy(asc(cards.postedAt));
  const voting = rows.filter(takesVotes).map((row) => row.id);
  const votes = voting.length === 0 ? [] : await db.select().from(approvalVotes).where(inArray(approvalVotes.requestId, voting)).orderBy(asc(approvalVotes.votedAt));
  return rows.map((row) =>
    toRecord(
      row,
      cardsOf(posted.filter((card) => card.requestId === row.id)),
      votes.filter((vote) => vote.requestId === row.id).map(toVote),
    ),
  );
}

/** Whether a request collects votes: it needs more than one approval (N-of-M). */
const takesVotes = (row: PermissionRow) => (row.policy?.approvals ?? 1) > 1;

/** A request's cards as the record holds them, from their rows or from the cards subquery (cardsOfRow). */
const cardsOf = (posted: Array<{ platform: string; ref: string }>): PermissionRecord["cards"] =>
  posted.map((card) => ({ platform: card.platform as ChatPlatform, ref: card.ref }));

function toVote(row: VoteRow): Vote {
  return {
    by: { platform: row.platform as ChatPlatform, userId: row.userId, name: row.userName },
    choice: row.choice as Vote["choice"],
    editedArgs: row.editedArgs,
    at: row.votedAt,
  };
}

/** The Postgres notification channel on which each decided request's id is sent at commit. */
export const SETTLED_CHANNEL = "chatops_settled";

/** The conditional update of a pending request and its audit row, inside the caller's transaction. */
async function decideRow(tx: Db, input: DecideInput, appendAudit: (tx: Db, row: NewAuditRow) => Promise<void>): Promise<PermissionRecord> {
  const [updated] = await tx
    .update(permissionRequests)
    .set({
      state: input.state,
      decidedAt: input.at,
      deciderPlatform: input.decider.platform,
      deciderUserId: input.decider.userId,
      deciderName: input.decider.name,
      reason: input.reason ?? null,
      editedArgs: input.editedArgs ?? null,
      linkedRequestId: input.linkedRequestId ?? null,
    })
    .where(and(eq(permissionRequests.id, input.requestId), eq(permissionRequests.state, "pending")))
    // With the decided row, in the same statement: its cards, and the notification of its decision,
    // which Postgres delivers on commit only, to every process listening (a plugin's long poll may
    // wait in another); a request that was not pending updates no row and notifies nobody.
    .returning({
      ...getTableColumns(permissionRequests),
      posted: jsonOf<Array<{ platform: string; ref: string }>>(cardsOfRow),
      notified: sql<string>`pg_notify(${SETTLED_CHANNEL}, ${permissionRequests.id})`,
    });
  if (!updated) {
    const existing = await findRequest(tx, input.requestId);
    if (!existing) throw new NotFound(`permission request ${input.requestId}`);
    throw new AlreadyDecided(input.requestId, existing.state);
  }
  const { posted, notified: _notified, ...row } = updated;
  await appendAudit(tx, {
    ...auditBase(row),
    editedArgs: input.editedArgs ?? null,
    decision: input.decision ?? input.state,
    reason: input.reason ?? null,
    deciderPlatform: input.decider.platform,
    deciderUserId: input.decider.userId,
    deciderName: input.decider.name,
    decidedAt: input.at,
    linkedRequestId: input.linkedRequestId ?? null,
  });
  if (input.preapproval) await tx.insert(preapprovals).values(input.preapproval);
  const votes = takesVotes(row) ? await tx.select().from(approvalVotes).where(eq(approvalVotes.requestId, row.id)).orderBy(asc(approvalVotes.votedAt)) : [];
  return toRecord(row, cardsOf(posted), votes.map(toVote));
}

/** Serializes appends across connections and processes: each row must see the one before it. */
const AUDIT_CHAIN_LOCK = 7_130_163;

/** Appends one row to the audit log (append-only), chained to the row before it by hash. */
async function appendAuditRow(tx: Db, row: NewAuditRow): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK})`);
  const [last] = await tx.select({ hash: auditLog.hash }).from(auditLog).orderBy(desc(auditLog.id)).limit(1);
  const prevHash = last?.hash ?? null;
  const content = {
    ...row,
    toolName: row.toolName ?? null,
    editedArgs: row.editedArgs ?? null,
    reason: row.reason ?? null,
    linkedRequestId: row.linkedRequestId ?? null,
  };
  await tx.insert(auditLog).values({ ...content, prevHash, hash: auditHash(prevHash, content) });
}

function auditBase(row: PermissionRow) {
  return {
    requestId: row.id,
    sessionId: row.sessionId,
    directory: row.directory,
    tool: row.permission,
    toolName: row.toolName,
    patterns: row.patterns,
    originalArgs: row.toolArgs ?? row.metadata,
    askedAt: row.askedAt,
  };
}

function toRecord(row: PermissionRow, posted: PermissionRecord["cards"], votes: Vote[] = []): PermissionRecord {
  return {
    id: row.id,
    source: row.source === "plugin" || row.source === "budget" ? row.source : "opencode",
    directory: row.directory,
    sessionId: row.sessionId,
    permission: row.permission,
    patterns: row.patterns,
    always: row.always,
    metadata: row.metadata,
    callId: row.callId,
    messageId: row.messageId,
    toolName: row.toolName,
    toolArgs: row.toolArgs,
    state: row.state as RequestState,
    askedAt: row.askedAt,
    decidedAt: row.decidedAt,
    decider:
      row.deciderPlatform && row.deciderUserId
        ? {
            platform: row.deciderPlatform as NonNullable<PermissionRecord["decider"]>["platform"],
            userId: row.deciderUserId,
            name: row.deciderName ?? row.deciderUserId,
          }
        : null,
    reason: row.reason,
    editedArgs: row.editedArgs,
    linkedRequestId: row.linkedRequestId,
    replyError: row.replyError,
    policy: row.policy,
    expiresAt: row.expiresAt,
    escalatedAt: row.escalatedAt,
    votes,
    cards: posted,
  };
}

function toAuditEntry(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    requestId: row.requestId,
    sessionId: row.sessionId,
    directory: row.directory,
    tool: row.tool,
    toolName: row.toolName,
    patterns: row.patterns,
    originalArgs: row.originalArgs,
    editedArgs: row.editedArgs,
    decision: row.decision,
    reason: row.reason,
    decider: {
      platform: row.deciderPlatform as AuditEntry["decider"]["platform"],
      userId: row.deciderUserId,
      name: row.deciderName,
    },
    askedAt: row.askedAt,
    decidedAt: row.decidedAt,
    linkedRequestId: row.linkedRequestId,
  };
}

function toThread(row: ThreadRow): SessionThread {
  const thread: SessionThread = { sessionId: row.sessionId, platform: row.platform as ChatPlatform, directory: row.directory, title: row.title, ref: row.ref };
  return row.parentCardRef ? { ...thread, parentCard: row.parentCardRef } : thread;
}
