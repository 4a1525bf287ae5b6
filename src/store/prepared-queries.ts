import { and, asc, eq, getTableColumns, sql, type SQL } from "drizzle-orm";
import type { Db } from "./database.ts";
import { approvalVotes, cards, ownedSessions, permissionRequests, preapprovals, threads } from "./schema.ts";

const p = (name: string) => sql.placeholder(name);
// A column's own encoder would store JSON `null` for a JSON null, and fails on a missing timestamp:
// these take the driver's text (`asJson`, an ISO time) or NULL as they are.
const nullableJson = (name: string) => sql`${p(name)}::jsonb`;
/** A JSON value read by a raw `sql` field: postgres.js hands drizzle the text, PGlite the value. */
export const jsonOf = <T>(query: SQL) => query.mapWith((value: unknown): T => (typeof value === "string" ? JSON.parse(value) : value) as T);

/**
 * The cards of the permission_requests row at hand, as JSON (platform and reference, oldest first).
 * The table is named: drizzle writes a column alone as `"id"`, which inside the subquery would be
 * the cards' own column if they ever had one.
 */
export const cardsOfRow = sql`(select coalesce(json_agg(json_build_object('platform', c.platform, 'ref', c.ref) order by c.posted_at), '[]'::json) from ${cards} c where c.request_id = ${permissionRequests}.id)`;

export const asJson = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));

/**
 * The queries on the way from OpenCode's ask to its card, and from a click to its reply, built once.
 * Drizzle builds a query's SQL anew on every call: ~0.6 ms of CPU for a read of one request by its
 * key, where the round trip to a local Postgres takes ~0.25 ms. Prepared, they cost the round trip.
 * They run outside any transaction (on `db` itself).
 */
export function prepareQueries(db: Db) {
  return {
    /** A request with its cards (platform and reference, oldest first), in one statement. */
    request: db
      .select({
        row: getTableColumns(permissionRequests),
        cards: jsonOf<Array<{ platform: string; ref: string }>>(cardsOfRow),
      })
      .from(permissionRequests)
      .where(eq(permissionRequests.id, p("id")))
      .prepare("chatops_request"),
    votesOf: db.select().from(approvalVotes).where(eq(approvalVotes.requestId, p("id"))).orderBy(asc(approvalVotes.votedAt)).prepare("chatops_request_votes"),
    thread: db
      .select()
      .from(threads)
      .where(and(eq(threads.sessionId, p("sessionId")), eq(threads.platform, p("platform"))))
      .prepare("chatops_thread"),
    owner: db.select().from(ownedSessions).where(eq(ownedSessions.sessionId, p("sessionId"))).prepare("chatops_session_owner"),
    /**
     * What a new permission request's intake reads before recording it (store.askContext), in one
     * statement: its session's owner, the state of the plugin gate's request for the same call, and
     * the session's pre-approvals of the permission that are still unused, oldest first.
     */
    askContext: db
      .select({
        owner: jsonOf<{ platform: string; userId: string; name: string } | null>(
          sql`(select json_build_object('platform', o.platform, 'userId', o.user_id, 'name', o.user_name) from ${ownedSessions} o where o.session_id = ${p("sessionId")})`,
        ),
        gate: jsonOf<{ id: string; state: string } | null>(
          sql`(select json_build_object('id', r.id, 'state', r.state) from ${permissionRequests} r where r.id = ${p("gateId")})`,
        ),
        preapprovals: jsonOf<Array<{ id: number; directory: string; sessionId: string; permission: string; call: Record<string, unknown>; sourceRequestId: string }>>(
          sql`(select coalesce(json_agg(json_build_object('id', a.id, 'directory', a.directory, 'sessionId', a.session_id, 'permission', a.permission, 'call', a.call, 'sourceRequestId', a.source_request_id) order by a.created_at, a.id), '[]'::json)
            from ${preapprovals} a
            where a.directory = ${p("directory")} and a.session_id = ${p("sessionId")} and a.permission = ${p("permission")} and a.consumed_by_request_id is null)`,
        ),
      })
      .from(sql`(values (1)) as one (x)`)
      .prepare("chatops_ask_context"),
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
