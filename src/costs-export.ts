/**
 * `npm run costs -- --from 2026-11-01 --to 2026-11-30 [--project p] [--format csv|json]`: prints the
 * ledger rows (one per assistant message) of those days (both included, in DIGEST_TZ) with their
 * attribution. Reads DATABASE_URL, else the embedded database under DATA_DIR (stop the bot first:
 * the embedded database takes one process at a time).
 */
import { parseArgs } from "node:util";
import type { LedgerEntry } from "./core/ledger.ts";
import { parsePeriod } from "./core/periods.ts";
import { csvLine } from "./core/csv.ts";
import { openDatabase } from "./store/database.ts";
import { createLedgerStore } from "./store/ledger-store.ts";

export const CSV_COLUMNS = [
  "message_id", "completed_at", "server_url", "directory", "project", "session_id", "provider", "model", "agent",
  "user_platform", "user_id", "user_name", "cost_usd", "tokens_input", "tokens_output", "tokens_reasoning", "tokens_cache_read", "tokens_cache_write",
] as const;

/** The rows as CSV. */
export function ledgerCsv(entries: LedgerEntry[]): string {
  const rows = entries.map((e) =>
    csvLine([
      e.messageId, e.completedAt.toISOString(), e.serverUrl, e.directory, e.projectName, e.sessionId, e.providerId, e.modelId, e.agent,
      e.user?.platform, e.user?.id, e.user?.name, e.cost, e.tokens.input, e.tokens.output, e.tokens.reasoning, e.tokens.cacheRead, e.tokens.cacheWrite,
    ]),
  );
  return [CSV_COLUMNS.join(","), ...rows].join("\n") + "\n";
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { from: { type: "string" }, to: { type: "string" }, project: { type: "string" }, format: { type: "string", default: "csv" } } });
  if (!values.from || !values.to || (values.format !== "csv" && values.format !== "json")) {
    console.error("usage: npm run costs -- --from YYYY-MM-DD --to YYYY-MM-DD [--project name] [--format csv|json]");
    return 2;
  }
  let period;
  try {
    period = parsePeriod(`${values.from}..${values.to}`, process.env.DIGEST_TZ?.trim() || "UTC", new Date());
  } catch (error) {
    console.error(`costs: ${(error as Error).message}`);
    return 2;
  }
  const database = await openDatabase({ url: process.env.DATABASE_URL?.trim() || undefined, dataDir: process.env.DATA_DIR?.trim() || "./data" });
  try {
    const entries = await createLedgerStore(database).entries(period, values.project);
    process.stdout.write(values.format === "json" ? `${JSON.stringify(entries, null, 2)}\n` : ledgerCsv(entries));
    return 0;
  } finally {
    await database.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`costs: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}
