/**
 * `npm run audit -- verify`: checks the audit log's hash chain and names the first broken row.
 * `npm run audit -- export [--since 7d|YYYY-MM-DD] [--format jsonl|csv]`: prints the audit rows
 * decided since then (default: all). Reads DATABASE_URL, else the embedded database under DATA_DIR
 * (stop the bot first: the embedded database takes one process at a time).
 */
import { parseArgs } from "node:util";
import { verifyChain } from "./core/audit-chain.ts";
import { auditCsv, auditJsonl } from "./core/audit-view.ts";
import { consoleOutput, databaseOptions, runCli, sinceOf, type CliOutput } from "./cli-args.ts";
import { createApprovalStore } from "./store/approval-store.ts";
import { openDatabase } from "./store/database.ts";

const USAGE = "usage: npm run audit -- verify | export [--since 7d|YYYY-MM-DD] [--format jsonl|csv]";

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
      io.write(values.format === "csv" ? auditCsv(entries) : auditJsonl(entries));
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
