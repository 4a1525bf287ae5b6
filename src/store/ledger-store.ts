import { and, asc, desc, eq, gte, lt, sum } from "drizzle-orm";
import type { LedgerEntry, LedgerStore } from "../core/ledger.ts";
import type { ChatPlatform } from "../core/types.ts";
import type { Database } from "./database.ts";
import { costLedger, type LedgerRow } from "./schema.ts";

/** The Drizzle implementation of the cost ledger. */
export function createLedgerStore(database: Database): LedgerStore {
  const { db } = database;
  return {
    async record(entry) {
      const inserted = await db
        .insert(costLedger)
        .values({
          messageId: entry.messageId,
          serverUrl: entry.serverUrl,
          directory: entry.directory,
          projectName: entry.projectName ?? null,
          sessionId: entry.sessionId,
          providerId: entry.providerId,
          modelId: entry.modelId,
          agent: entry.agent ?? null,
          userPlatform: entry.user?.platform ?? null,
          userId: entry.user?.id ?? null,
          userName: entry.user?.name ?? null,
          cost: entry.cost,
          tokensInput: entry.tokens.input,
          tokensOutput: entry.tokens.output,
          tokensReasoning: entry.tokens.reasoning,
          tokensCacheRead: entry.tokens.cacheRead,
          tokensCacheWrite: entry.tokens.cacheWrite,
          completedAt: entry.completedAt,
        })
        .onConflictDoNothing()
        .returning({ messageId: costLedger.messageId });
      return inserted.length > 0;
    },

    async entries({ from, to }, projectName) {
      const rows = await db
        .select()
        .from(costLedger)
        .where(and(gte(costLedger.completedAt, from), lt(costLedger.completedAt, to), projectName === undefined ? undefined : eq(costLedger.projectName, projectName)))
        .orderBy(asc(costLedger.completedAt));
      return rows.map(toEntry);
    },

    async costOf({ from, to }, projectName) {
      const rows = await db
        .select({ total: sum(costLedger.cost) })
        .from(costLedger)
        .where(and(gte(costLedger.completedAt, from), lt(costLedger.completedAt, to), eq(costLedger.projectName, projectName)));
      return Number(rows[0]?.total ?? 0);
    },

    async lastCompletedAt(serverUrl) {
      const rows = await db.select({ at: costLedger.completedAt }).from(costLedger).where(eq(costLedger.serverUrl, serverUrl)).orderBy(desc(costLedger.completedAt)).limit(1);
      return rows[0]?.at;
    },
  };
}

function toEntry(row: LedgerRow): LedgerEntry {
  return {
    messageId: row.messageId,
    sessionId: row.sessionId,
    directory: row.directory,
    serverUrl: row.serverUrl,
    providerId: row.providerId,
    modelId: row.modelId,
    ...(row.agent ? { agent: row.agent } : {}),
    ...(row.projectName ? { projectName: row.projectName } : {}),
    ...(row.userId && row.userPlatform ? { user: { platform: row.userPlatform as ChatPlatform, id: row.userId, name: row.userName ?? row.userId } } : {}),
    cost: row.cost,
    tokens: { input: row.tokensInput, output: row.tokensOutput, reasoning: row.tokensReasoning, cacheRead: row.tokensCacheRead, cacheWrite: row.tokensCacheWrite },
    completedAt: row.completedAt,
  };
}
