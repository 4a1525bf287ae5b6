import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inArray, sql } from "drizzle-orm";
import { afterEach, expect, it } from "vitest";
import { AlreadyDecided } from "../src/core/errors.ts";
import type { ApprovalStore } from "../src/core/store-port.ts";
import type { NewPermission } from "../src/core/types.ts";
import { createRedactor } from "../src/core/redaction.ts";
import { createApprovalStore } from "../src/store/approval-store.ts";
import { createOwnedSessionStore } from "../src/store/session-store.ts";
import { openDatabase, openPglite, type Database } from "../src/store/database.ts";
import { permissionRequests } from "../src/store/schema.ts";
import { copyPgliteTemplate } from "./support/database-template.ts";
import { describeEachDatabase } from "./support/database-variants.ts";
import { createPostgresDatabase } from "./support/databases.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** A store on a copy of the migrated template, or (`empty`) on a database the migrations have yet to build. */
async function open(kind: "pglite" | "postgres", { empty = false } = {}): Promise<{ database: Database; store: ApprovalStore; url?: string }> {
  let database: Database;
  let url: string | undefined;
  if (kind === "pglite" && empty) {
    database = await openPglite("memory://");
  } else if (kind === "pglite") {
    const root = await mkdtemp(join(tmpdir(), "chatops-store-"));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    await copyPgliteTemplate(join(root, "pglite"));
    database = await openDatabase({ dataDir: root });
  } else {
    const pg = await createPostgresDatabase({ empty });
    url = pg.url;
    database = await openDatabase({ url: pg.url, dataDir: "" });
    cleanups.push(() => pg.drop());
  }
  cleanups.push(() => database.close());
  return { database, store: createApprovalStore(database), url };
}

/** A second store on the same data, as another bot process has: its own connection on Postgres (PGlite allows one). */
async function another({ database, url }: { database: Database; url?: string }): Promise<ApprovalStore> {
  if (!url) return createApprovalStore(database);
  const second = await openDatabase({ url, dataDir: "" });
  cleanups.push(() => second.close());
  return createApprovalStore(second);
}

const request = (id: string, extra: Partial<NewPermission> = {}): NewPermission => ({
  id,
  directory: "/tmp/project",
  sessionId: "ses_1",
  permission: "bash",
  patterns: ["echo hi"],
  always: ["echo *"],
  metadata: { command: "echo hi" },
  callId: "call_1",
  messageId: "msg_1",
  toolName: "bash",
  toolArgs: { command: "echo hi", description: "Say hi" },
  askedAt: new Date("2026-01-01T00:00:00Z"),
  ...extra,
});

/** The database's own message: drizzle wraps it as the cause of "Failed query". */
const failure = (query: Promise<unknown>) =>
  query.then(
    () => "succeeded",
    (error: Error) => String((error.cause as Error | undefined)?.message ?? error.message),
  );

const alice = { platform: "slack" as const, userId: "U1", name: "alice" };

describeEachDatabase("approval store on %s", (kind) => {
  it("applies the migrations and adds a request once", async () => {
    const { store } = await open(kind, { empty: true });
    const first = await store.addRequest(request("per_1"));
    const second = await store.addRequest(request("per_1", { metadata: { command: "changed" } }));
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.record.metadata).toEqual({ command: "echo hi" });
    expect((await store.pendingRequests()).map((r) => r.id)).toEqual(["per_1"]);
    expect((await store.pendingRequests({ directory: "/tmp/project", sessionId: "ses_1" })).map((r) => r.id)).toEqual(["per_1"]);
    expect(await store.pendingRequests({ sessionId: "ses_other" })).toEqual([]);
    expect(await store.pendingRequests({ directory: "/elsewhere" })).toEqual([]);
    expect(await store.knownDirectories()).toEqual(["/tmp/project"]);
  });

  it("stores a new request's missing parts as NULL and its given ones as they were", async () => {
    const { database, store } = await open(kind);
    const policy = { rule: "deploys", approvals: 2, selfApproval: false, allowAlways: false, expiresMs: 60_000, onExpiry: "reject" as const };
    const expiresAt = new Date("2026-01-01T00:01:00.123Z");
    await store.addRequest(request("per_bare", { toolName: null, toolArgs: null, callId: null }));
    await store.addRequest(request("per_full", { source: "plugin", policy, expiresAt }));
    const r = permissionRequests;
    const rows = await database.db
      .select({ id: r.id, source: r.source, bare: sql<boolean>`(${r.toolArgs} is null and ${r.policy} is null and ${r.expiresAt} is null and ${r.callId} is null)` })
      .from(r)
      .where(inArray(r.id, ["per_bare", "per_full"]))
      .orderBy(r.id);
    expect(rows.map((r) => [r.id, r.source, r.bare])).toEqual([
      ["per_bare", "opencode", true],
      ["per_full", "plugin", false],
    ]);
    const full = await store.getRequest("per_full");
    expect(full).toMatchObject({ source: "plugin", policy, expiresAt, toolArgs: { command: "echo hi", description: "Say hi" }, askedAt: new Date("2026-01-01T00:00:00Z") });
    expect(await store.getRequest("per_bare")).toMatchObject({ toolArgs: null, policy: null, expiresAt: null, callId: null });
  });

  it("decides a pending request exactly once under 20 concurrent decisions", async () => {
    const { store } = await open(kind);
    await store.addRequest(request("per_2"));
    const attempts = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        store.decide({ requestId: "per_2", state: "approved_once", decider: { ...alice, userId: `U${i}` }, at: new Date() }),
      ),
    );
    const won = attempts.filter((a) => a.status === "fulfilled");
    const lost = attempts.filter((a): a is PromiseRejectedResult => a.status === "rejected");
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(19);
    for (const loss of lost) expect(loss.reason).toBeInstanceOf(AlreadyDecided);
    const audit = await store.audit("per_2");
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ decision: "approved_once", tool: "bash", originalArgs: { command: "echo hi", description: "Say hi" } });
    expect(await store.pendingRequests()).toEqual([]);
  });

  it("keeps the audit trail append-only", async () => {
    const { store, database } = await open(kind);
    await store.addRequest(request("per_3"));
    await store.decide({ requestId: "per_3", state: "rejected", decider: alice, reason: "no", at: new Date() });
    expect(await failure(database.db.execute(sql`update audit_log set decision = 'approved_once'`))).toMatch(/append-only/);
    expect(await failure(database.db.execute(sql`delete from audit_log`))).toMatch(/append-only/);
    expect((await store.audit("per_3"))[0]?.decision).toBe("rejected");
  });

  it("reads a session's owner once: who started it from chat, or that nobody did", async () => {
    const { database, store } = await open(kind);
    const sessions = createOwnedSessionStore(database);
    const started = { serverUrl: "http://127.0.0.1:4096", directory: "/tmp/project", projectName: "web", platform: "slack" as const, channel: "C1", thread: "C1:1.0", prompt: "hi", title: "hi" };
    await sessions.saveOwned({ ...started, sessionId: "ses_owned", user: { id: "U1", name: "alice" } });
    expect(await store.sessionOwner("ses_owned")).toEqual({ platform: "slack", userId: "U1", name: "alice" });
    expect(await store.sessionOwner("ses_tui")).toBeUndefined();
    const scope = { directory: "/tmp/project", permission: "bash" };
    expect((await createApprovalStore(database).askContext({ ...scope, sessionId: "ses_owned" })).owner).toEqual({ platform: "slack", userId: "U1", name: "alice" });
    // Stored before a session's first prompt and never changed: what the first read found stands.
    await database.db.execute(sql`delete from owned_sessions`);
    await sessions.saveOwned({ ...started, sessionId: "ses_tui", user: { id: "U2", name: "bob" } });
    expect(await store.sessionOwner("ses_owned")).toEqual({ platform: "slack", userId: "U1", name: "alice" });
    expect(await store.sessionOwner("ses_tui")).toBeUndefined();
    expect((await store.askContext({ ...scope, sessionId: "ses_tui" })).owner).toBeUndefined();
    expect(await createApprovalStore(database).sessionOwner("ses_tui")).toEqual({ platform: "slack", userId: "U2", name: "bob" });
    expect((await createApprovalStore(database).askContext({ ...scope, sessionId: "ses_tui" })).owner).toEqual({ platform: "slack", userId: "U2", name: "bob" });
  });

  it("stores an edit with its pre-approval, consumed at most once", async () => {
    const { store } = await open(kind);
    await store.addRequest(request("per_4"));
    const edited = { command: "echo narrower" };
    await store.decide({
      requestId: "per_4",
      state: "edited",
      decider: alice,
      editedArgs: edited,
      at: new Date(),
      preapproval: { directory: "/tmp/project", sessionId: "ses_1", permission: "bash", call: edited, sourceRequestId: "per_4" },
    });
    const scope = { directory: "/tmp/project", sessionId: "ses_1", permission: "bash" };
    const context = await store.askContext({ ...scope, gateId: "per_4" });
    expect(context.gate).toEqual({ id: "per_4", state: "edited" });
    expect((await store.askContext({ ...scope, gateId: "per_none" })).gate).toBeUndefined();
    const [stored, ...more] = context.preapprovals;
    expect(more).toEqual([]);
    expect(stored).toMatchObject({ ...scope, call: edited, sourceRequestId: "per_4" });
    expect(await store.consumePreapproval("per_5", [])).toBeUndefined();
    expect(await store.consumePreapproval("per_5", [stored!])).toBe("per_4");
    // Consumed once: neither listed again nor consumed by a request that read it before.
    expect((await store.askContext(scope)).preapprovals).toEqual([]);
    expect(await store.consumePreapproval("per_6", [stored!])).toBeUndefined();
    expect((await store.audit("per_4"))[0]).toMatchObject({ editedArgs: edited, originalArgs: { command: "echo hi", description: "Say hi" } });
  });

  it("records a failed reply as a further audit row", async () => {
    const { store } = await open(kind);
    await store.addRequest(request("per_7"));
    await store.decide({ requestId: "per_7", state: "approved_once", decider: alice, at: new Date() });
    const record = await store.recordReplyFailure("per_7", "PermissionNotFoundError", new Date());
    expect(record.replyError).toBe("PermissionNotFoundError");
    expect((await store.audit("per_7")).map((a) => a.decision)).toEqual(["approved_once", "reply_failed"]);
  });

  it("two approvals from two processes decide once; the same person twice counts once", async () => {
    const opened = await open(kind);
    const { store } = opened;
    const other = await another(opened);
    await store.addRequest(request("per_v", { policy: { approvals: 2, selfApproval: true, allowAlways: true, onExpiry: "reject" } }));
    const bob = { platform: "slack" as const, userId: "U2", name: "bob" };
    const complete = (votes: Array<{ by: { name: string } }>) =>
      votes.length >= 2 ? { requestId: "per_v", state: "approved_once" as const, decider: alice, reason: votes.map((v) => v.by.name).join(", "), at: new Date() } : undefined;
    const first = await store.vote("per_v", { by: alice, choice: "once", editedArgs: null, at: new Date() }, complete);
    expect(first).toMatchObject({ counted: true, decided: false });
    expect((await other.vote("per_v", { by: alice, choice: "once", editedArgs: null, at: new Date() }, complete)).counted).toBe(false);
    const results = await Promise.allSettled([
      store.vote("per_v", { by: bob, choice: "once", editedArgs: null, at: new Date() }, complete),
      other.vote("per_v", { by: bob, choice: "once", editedArgs: null, at: new Date() }, complete),
    ]);
    const decided = results.filter((r) => r.status === "fulfilled" && r.value.decided);
    expect(decided).toHaveLength(1);
    expect((await store.getRequest("per_v"))!.state).toBe("approved_once");
    expect((await store.audit("per_v")).map((a) => [a.decision, a.decider.name])).toEqual([
      ["approval:once", "alice"],
      ["approval:once", "bob"],
      ["approved_once", "alice"],
    ]);
  });

  it("an expiry escalates once and expires once with two processes watching", async () => {
    const opened = await open(kind);
    const { store } = opened;
    const other = await another(opened);
    const asked = new Date(Date.now() - 10_000);
    await store.addRequest(request("per_e", { askedAt: asked, expiresAt: new Date(asked.getTime() + 1000), policy: { approvals: 1, selfApproval: true, allowAlways: true, onExpiry: "escalate", expiresMs: 1000, escalateTo: ["S1"] } }));
    expect((await store.nextExpiry())?.getTime()).toBe(asked.getTime() + 1000);
    expect((await store.dueRequests(new Date())).map((r) => r.id)).toEqual(["per_e"]);
    const now = new Date();
    const escalations = await Promise.all([store.escalate("per_e", now, new Date(now.getTime() - 1)), other.escalate("per_e", now, new Date(now.getTime() - 1))]);
    expect(escalations.filter(Boolean)).toHaveLength(1);
    const expiries = await Promise.allSettled([store, other].map((s) => s.decide({ requestId: "per_e", state: "expired", decider: alice, at: new Date() })));
    expect(expiries.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect((await store.audit("per_e")).map((a) => a.decision)).toEqual(["escalated", "expired"]);
    expect(await store.nextExpiry()).toBeUndefined();
  });

  it("with REDACT_AUDIT the audit keeps secrets masked, while the request keeps the call to run", async () => {
    const { database } = await open(kind);
    const redactor = createRedactor();
    const store = createApprovalStore(database, { redact: (value) => redactor.maskDeep(value) });
    const command = "curl -H 'Authorization: Bearer s3cr3t-t0ken' https://api.example";
    await store.addRequest(request("per_r", { metadata: { command }, toolArgs: { command } }));
    await store.decide({ requestId: "per_r", state: "rejected", decider: alice, reason: "not with password=hunter22", at: new Date() });
    const [row] = await store.audit("per_r");
    expect(row).toMatchObject({ originalArgs: { command: "curl -H 'Authorization: Bearer [secret 1]' https://api.example" }, reason: "not with password=[secret 1]" });
    expect((await store.getRequest("per_r"))!.toolArgs).toEqual({ command });
  });
});
