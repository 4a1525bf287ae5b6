import { eq } from "drizzle-orm";
import type { Database } from "./database.ts";
import { consoleSettings } from "./schema.ts";

/** The console's settings by key; the first process to set one wins, and every other reads it. */
export function createConsoleSettings(database: Database) {
  const { db } = database;
  return {
    /** The value of `key`, made with `make` and stored when there is none yet; `created` says whether this call stored it. */
    async getOrCreate(key: string, make: () => Promise<string>): Promise<{ value: string; created: boolean }> {
      const [found] = await db.select().from(consoleSettings).where(eq(consoleSettings.key, key));
      if (found) return { value: found.value, created: false };
      const value = await make();
      const inserted = await db.insert(consoleSettings).values({ key, value }).onConflictDoNothing().returning();
      if (inserted[0]) return { value, created: true };
      const [winner] = await db.select().from(consoleSettings).where(eq(consoleSettings.key, key));
      return { value: winner!.value, created: false };
    },
  };
}
