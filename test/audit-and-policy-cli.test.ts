import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { eq, sql } from "drizzle-orm";
import { afterEach, expect, it } from "vitest";
import type { NewPermission } from "../src/core/types.ts";
import { main as auditMain } from "../src/audit-cli.ts";
import { main as policyMain } from "../src/policy-cli.ts";
import { createApprovalStore } from "../src/store/approval-store.ts";
import { openDatabase } from "../src/store/database.ts";
import { auditLog } from "../src/store/schema.ts";
import { copyPgliteTemplate } from "./support/database-template.ts";
import { describeEachDatabase } from "./support/database-variants.ts";
import { createPostgresDatabase } from "./support/databases.ts";
import { policyFile } from "./support/policy-file.ts";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..");
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** The bot's data, as `npm run …` finds it through DATA_DIR or DATABASE_URL; the bot itself is not running. */
async function botData(kind: "pglite" | "postgres") {
  const dataDir = await mkdtemp(join(tmpdir(), "chatops-cli-"));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  let url: string | undefined;
  if (kind === "pglite") await copyPgliteTemplate(join(dataDir, "pglite"));
  else {
    const pg = await createPostgresDatabase();
    url = pg.url;
    cleanups.push(() => pg.drop());
  }
  const env = { ...process.env, DATA_DIR: dataDir, DATABASE_URL: url ?? "" };
  /** `npm run <script> -- args` as a user types it: its output and exit code. */
  const npm = async (script: string, ...args: string[]) =>
    run("npm", ["run", "--silent", script, "--", ...args], { cwd: root, env }).then(
      ({ stdout }) => ({ code: 0, out: stdout }),
      (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, out: error.stdout + error.stderr }),
    );
  /** The same tool's `main` run here, on the same data: what it prints and its exit code, without a process's start each time. */
  const cli = async (script: "policy" | "audit", ...args: string[]) => {
    let out = "";
    const io = { out: (line: string) => void (out += `${line}\n`), write: (text: string) => void (out += text), err: (line: string) => void (out += `${line}\n`) };
    const code = await (script === "policy" ? policyMain : auditMain)(args, io, { url, dataDir });
    return { code, out };
  };
  const withData = async <T>(work: (database: Awaited<ReturnType<typeof openDatabase>>) => Promise<T>) => {
    const database = await openDatabase({ url, dataDir });
    try {
      return await work(database);
    } finally {
      await database.close();
    }
  };
  return { npm, cli, withData };
}

const alice = { platform: "slack" as const, userId: "U0ALICE", name: "alice" };
const asked = (id: string, command: string, at: Date): NewPermission => ({
  id,
  directory: "/srv/web",
  sessionId: "ses_cli",
  permission: "bash",
  patterns: [command],
  always: [],
  metadata: { command },
  callId: null,
  messageId: null,
  toolName: "bash",
  toolArgs: { command },
  askedAt: at,
});

/** Three requests alice decided an hour ago, each after 20 s. */
async function seed(database: Awaited<ReturnType<typeof openDatabase>>) {
  const store = createApprovalStore(database);
  const at = new Date(Date.now() - 3_600_000);
  for (const [id, command, state] of [["per_ls", "ls -la", "approved_once"], ["per_rm", "rm -rf build", "approved_once"], ["per_make", "make", "rejected"]] as const) {
    await store.addRequest(asked(id, command, at));
    await store.decide({ requestId: id, state, decider: alice, at: new Date(at.getTime() + 20_000) });
  }
}

describeEachDatabase("npm run policy and npm run audit on %s", (kind) => {
  it("policy check replays the audited requests against a new file and prints what it would have decided otherwise", async () => {
    const { npm, cli, withData } = await botData(kind);
    await withData(seed);
    const file = policyFile(`
rules:
  - name: read-only
    tool: bash
    command: ["ls *"]
    auto: allow
  - name: destructive
    tool: bash
    command: ["rm -rf *"]
    approvals: 2
`);
    const checked = await npm("policy", "check", file, "--since", "1d");
    expect(checked.code).toBe(0);
    expect(checked.out).toContain("per_ls · bash `ls -la` in /srv/web\n  was: approved once by alice after 20 s\n  would be: allowed automatically (rule “read-only”)");
    expect(checked.out).toContain("per_rm · bash `rm -rf build` in /srv/web\n  was: approved once by alice after 20 s\n  would be: 2 approvals needed (it had 1: alice) (rule “destructive”)");
    expect(checked.out).not.toContain("per_make");
    expect(checked.out).toMatch(/3 requests decided since .* UTC; 2 would be decided differently under /);

    const broken = await cli("policy", "check", policyFile("rules:\n  - name: x\n    approvals: two\n"));
    expect(broken.code).toBe(2);
    expect(broken.out).toMatch(/chatops\.policy\.yaml:3:16: `approvals` /);
  });

  it("audit verify finds the chain intact, then names the row someone edited; export prints the rows as JSONL and CSV", async () => {
    const { npm, cli, withData } = await botData(kind);
    await withData(seed);
    // Once as the command a user types, then through its main.
    expect(await npm("audit", "verify")).toEqual({ code: 0, out: "audit chain intact: 3 rows.\n" });

    const jsonl = (await cli("audit", "export", "--since", "1d")).out.trim().split("\n").map((line) => JSON.parse(line) as { requestId: string; decision: string });
    expect(jsonl.map((row) => [row.requestId, row.decision])).toEqual([["per_ls", "approved_once"], ["per_rm", "approved_once"], ["per_make", "rejected"]]);
    const csv = (await cli("audit", "export", "--format", "csv")).out.trim().split("\n");
    expect(csv[0]).toBe("id,request_id,session_id,directory,tool,tool_name,decision,decider_platform,decider_user_id,decider_name,reason,asked_at,decided_at,original_args,edited_args,linked_request_id");
    expect(csv).toHaveLength(4);

    // Someone with the database's owner rights turns the append-only trigger off and rewrites a decision.
    const edited = await withData(async (database) => {
      await database.db.execute(sql`alter table audit_log disable trigger audit_log_no_update_delete`);
      await database.db.execute(sql`update audit_log set decision = 'approved_once' where request_id = 'per_make'`);
      await database.db.execute(sql`alter table audit_log enable trigger audit_log_no_update_delete`);
      const [row] = await database.db.select({ id: auditLog.id }).from(auditLog).where(eq(auditLog.requestId, "per_make"));
      return row!.id;
    });
    expect(await cli("audit", "verify")).toEqual({ code: 1, out: `audit chain BROKEN at row ${edited}: its content does not match its hash (the row was edited). 3 rows.\n` });
  });
});
