import { and, asc, eq, isNull } from "drizzle-orm";
import type { AlwaysRule, AlwaysRuleStore } from "../core/always-rules.ts";
import type { ChatPlatform } from "../core/types.ts";
import type { Database } from "./database.ts";
import { alwaysRules, type AlwaysRuleRow } from "./schema.ts";

/** Always rules in the database (see core/always-rules.ts). */
export function createAlwaysRuleStore(database: Database): AlwaysRuleStore {
  const { db } = database;
  const active = (directory: string, permission: string) =>
    db
      .select()
      .from(alwaysRules)
      .where(and(eq(alwaysRules.directory, directory), eq(alwaysRules.permission, permission), isNull(alwaysRules.revokedAt)))
      .orderBy(asc(alwaysRules.id));
  return {
    async add(rules) {
      for (const rule of rules) {
        const existing = await active(rule.directory, rule.permission);
        if (existing.some((row) => row.pattern === rule.pattern)) continue;
        await db.insert(alwaysRules).values({
          directory: rule.directory,
          permission: rule.permission,
          pattern: rule.pattern,
          requestId: rule.requestId,
          byPlatform: rule.by.platform,
          byUserId: rule.by.userId,
          byName: rule.by.name,
          createdAt: rule.createdAt,
        });
      }
    },
    active: async (directory, permission) => (await active(directory, permission)).map(toRule),
    async list() {
      const rows = await db.select().from(alwaysRules).where(isNull(alwaysRules.revokedAt)).orderBy(asc(alwaysRules.directory), asc(alwaysRules.id));
      return rows.map(toRule);
    },
    async revoke(id, by, at) {
      const [row] = await db
        .update(alwaysRules)
        .set({ revokedAt: at, revokedBy: by })
        .where(and(eq(alwaysRules.id, id), isNull(alwaysRules.revokedAt)))
        .returning();
      return row ? toRule(row) : undefined;
    },
  };
}

function toRule(row: AlwaysRuleRow): AlwaysRule {
  return {
    id: row.id,
    directory: row.directory,
    permission: row.permission,
    pattern: row.pattern,
    requestId: row.requestId,
    by: { platform: row.byPlatform as ChatPlatform, userId: row.byUserId, name: row.byName },
    createdAt: row.createdAt,
    revokedAt: row.revokedAt,
    revokedBy: row.revokedBy,
  };
}
