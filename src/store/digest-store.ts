import { digestSlots } from "./schema.ts";
import type { Database } from "./database.ts";
import type { DigestSlots } from "../core/digest.ts";

/** The Drizzle implementation of the digest slots' claims. */
export function createDigestSlots(database: Database): DigestSlots {
  const { db } = database;
  return {
    async claim(slot, posted) {
      const inserted = await db.insert(digestSlots).values({ slot, posted }).onConflictDoNothing().returning({ slot: digestSlots.slot });
      return inserted.length > 0;
    },
    async anyClaimed() {
      return (await db.select({ slot: digestSlots.slot }).from(digestSlots).limit(1)).length > 0;
    },
  };
}
