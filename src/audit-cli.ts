/**
 * `npm run audit -- verify`: checks the audit log's hash chain and names the first broken row.
 * `npm run audit -- export [--since 7d|YYYY-MM-DD] [--format jsonl|csv]`: prints the audit rows
 * decided since then (default: all). Reads DATABASE_URL, else the embedded database under DATA_DIR
 * (stop the bot first: the embedded database takes one process at a time).
 */
import { parseArgs } from "node:util";
import { verifyChain } from "./core/audit-chain.ts";
import type { AuditEntry } from "./core/types.ts";
import { consoleOutput, databaseOptions, runCli, sinceOf, type CliOutput } from "./cli-args.ts";
import { csvLine } from "./csv.ts";
import { createApprovalStore } from "./store/approval-store.ts";
import { openDatabase } from "./store/database.ts";

const USAGE = "usage: npm run audit -- verify | export [--since 7d|YYYY-MM-DD] [--format jsonl|csv]";

export const AUDIT_CSV_COLUMNS = [
  "id", "request_id", "session_id", "directory", "tool", "tool_name", "decision", "decider_platform", "decider_user_id", "decider_name",
  "reason", "asked_at", "decided_at", "original_args", "edited_args", "linked_request_id",
] as const;

export function auditCsv(entries: AuditEntry[]): string {
  const rows = entries.map((e) =>
    csvLine([
      e.id, e.requestId, e.sessionId, e.directory, e.tool, e.toolName, e.decision, e.decider.platform, e.decider.userId, e.decider.name,
      e.reason, e.askedAt.toISOString(), e.decidedAt.toISOString(), JSON.stringify(e.originalArgs), e.editedArgs ? JSON.stringify(e.editedArgs) : "", e.linkedRequestId,
    ]),
  );
  return [AUDIT_CSV_COLUMNS.join(","), ...rows].join("\n") + "\n";
}

export async function main(argv: string[], io: CliOutput = consoleOutput, where = databaseOptions()): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { since: { type: "string" }, format: { type: "string", default: "jsonl" } } });
  const [command, ...extra] = positionals;
  const since = values.since === undefined ? new Date(0) : sinceOf(values.since);
  if ((command !== "verify" && command !== "export") || extra.length > 0 || !since || (values.format !== "jsonl" && values.format !== "csv")) {
    io.err(USAGE);
    return 2;
  }
  const database = await openDatabase(where);
  try {
    const store = createApprovalStore(database);
    if (command === "export") {
      const entries = await store.decisionsBetween({ from: since, to: new Date(Date.now() + 1000) });
      io.write(values.format === "csv" ? auditCsv(entries) : entries.map((entry) => `${JSON.stringify(entry)}\n`).join(""));
      return 0;
    }
    const check = verifyChain(await store.auditChain());
    const legacy = check.unchained > 0 ? ` (the first ${check.unchained}, written before the chain existed, carry no hash)` : "";
    if (check.broken) {
      io.out(`audit chain BROKEN at row ${check.broken.id}: ${check.broken.problem}. ${check.rows} rows${legacy}.`);
      return 1;
    }
    io.out(`audit chain intact: ${check.rows} rows${legacy}.`);
    return 0;
  } finally {
    await database.close();
  }
}

runCli("audit", import.meta.url, main);
