import { and, asc, eq, isNull, sql } from "drizzle-orm";
import type { Db } from "./database.ts";
import { approvalVotes, cards, ownedSessions, permissionRequests, preapprovals, threads } from "./schema.ts";

const p = (name: string) => sql.placeholder(name);
// A column's own encoder would store JSON `null` for a JSON null, and fails on a missing timestamp:
// these take the driver's text (`asJson`, an ISO time) or NULL as they are.
const nullableJson = (name: string) => sql`${p(name)}::jsonb`;
export const asJson = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));

/**
 * The queries on the way from OpenCode's ask to its card, and from a click to its reply, built once.
 * Drizzle builds a query's SQL anew on every call: ~0.6 ms of CPU for a read of one request by its
 * key, where the round trip to a local Postgres takes ~0.25 ms. Prepared, they cost the round trip.
 * They run outside any transaction (on `db` itself).
 */
export function prepareQueries(db: Db) {
  return {
    request: db.select().from(permissionRequests).where(eq(permissionRequests.id, p("id"))).prepare("chatops_request"),
    cardsOf: db.select().from(cards).where(eq(cards.requestId, p("id"))).orderBy(asc(cards.postedAt)).prepare("chatops_request_cards"),
    votesOf: db.select().from(approvalVotes).where(eq(approvalVotes.requestId, p("id"))).orderBy(asc(approvalVotes.votedAt)).prepare("chatops_request_votes"),
    thread: db
      .select()
      .from(threads)
      .where(and(eq(threads.sessionId, p("sessionId")), eq(threads.platform, p("platform"))))
      .prepare("chatops_thread"),
    owner: db.select().from(ownedSessions).where(eq(ownedSessions.sessionId, p("sessionId"))).prepare("chatops_session_owner"),
    preapprovals: db
      .select()
      .from(preapprovals)
      .where(
        and(
          eq(preapprovals.directory, p("directory")),
          eq(preapprovals.sessionId, p("sessionId")),
          eq(preapprovals.permission, p("permission")),
          isNull(preapprovals.consumedByRequestId),
        ),
      )
      .orderBy(asc(preapprovals.createdAt))
      .prepare("chatops_preapprovals"),
    /** Every column is given (`source` and the optional ones by the caller), so one statement serves every new request. */
    addRequest: db
      .insert(permissionRequests)
      .values({
        id: p("id"),
        source: p("source"),
        directory: p("directory"),
        sessionId: p("sessionId"),
        permission: p("permission"),
        patterns: p("patterns"),
        always: p("always"),
        metadata: p("metadata"),
        callId: p("callId"),
        messageId: p("messageId"),
        toolName: p("toolName"),
        toolArgs: nullableJson("toolArgs"),
        state: "pending",
        askedAt: p("askedAt"),
        policy: nullableJson("policy"),
        expiresAt: sql`${p("expiresAt")}::timestamptz`,
      })
      .onConflictDoNothing()
      .returning()
      .prepare("chatops_add_request"),
  };
}

export type PreparedQueries = ReturnType<typeof prepareQueries>;
