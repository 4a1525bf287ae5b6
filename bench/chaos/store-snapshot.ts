/**
 * The bot's store as it was left, read here after every bot process has stopped (PGlite allows one
 * process on its files; on Postgres, straight to the database, not through the proxy).
 */
import { verifyChain, type ChainedRow, type ChainCheck } from "../../src/core/audit-chain.ts";
import { createApprovalStore } from "../../src/store/approval-store.ts";
import { openDatabase } from "../../src/store/database.ts";
import { permissionRequests } from "../../src/store/schema.ts";

export type StoreSnapshot = {
  /** Request id → its state in the store. */
  states: Map<string, string>;
  /** Request id → its audit rows, in order. */
  audit: Map<string, ChainedRow[]>;
  chain: ChainCheck;
};

export async function readStore(where: { url?: string; dataDir: string }): Promise<StoreSnapshot> {
  const database = await openDatabase(where);
  try {
    const rows = await database.db.select({ id: permissionRequests.id, state: permissionRequests.state }).from(permissionRequests);
    const chained = await createApprovalStore(database).auditChain();
    const audit = new Map<string, ChainedRow[]>();
    for (const row of chained) audit.set(row.requestId, [...(audit.get(row.requestId) ?? []), row]);
    return { states: new Map(rows.map((row) => [row.id, row.state])), audit, chain: verifyChain(chained) };
  } finally {
    await database.close();
  }
}
