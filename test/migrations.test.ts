import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { afterEach, describe, expect, it } from "vitest";
import { decodeRef } from "../adapters/slack/refs.ts";

const folder = join(import.meta.dirname, "../migrations");
const files = readdirSync(folder).filter((name) => name.endsWith(".sql")).sort();

/** Runs the migration files whose number is in [from, to) straight from their SQL, as drizzle's migrator does. */
async function apply(db: PGlite, from: number, to: number): Promise<void> {
  for (const file of files.filter((name) => Number(name.slice(0, 4)) >= from && Number(name.slice(0, 4)) < to)) {
    for (const statement of readFileSync(join(folder, file), "utf8").split("--> statement-breakpoint")) {
      if (statement.trim()) await db.exec(statement);
    }
  }
}

let db: PGlite | undefined;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

describe("migration to cards and threads per platform", () => {
  it("carries today's Slack cards and threads over as references the Slack adapter reads", async () => {
    db = new PGlite();
    await apply(db, 0, 3);
    await db.exec(`
      insert into permission_requests (id, directory, session_id, permission, patterns, always, metadata, asked_at, card_channel, card_ts)
        values ('per_carded', '/p', 'ses_1', 'bash', '[]', '[]', '{}', now(), 'C0APPROVALS', '1700000000.000100'),
               ('per_cardless', '/p', 'ses_1', 'bash', '[]', '[]', '{}', now(), null, null);
      insert into session_threads (session_id, directory, title, channel, thread_ts)
        values ('ses_1', '/p', 'deploy docs', 'C0APPROVALS', '1700000000.000001');
    `);
    await apply(db, 3, 10_000);

    const cards = await db.query<{ request_id: string; platform: string; ref: string }>("select request_id, platform, ref from cards");
    expect(cards.rows).toEqual([{ request_id: "per_carded", platform: "slack", ref: "C0APPROVALS:1700000000.000100" }]);
    expect(decodeRef(cards.rows[0]!.ref)).toEqual({ channel: "C0APPROVALS", ts: "1700000000.000100" });
    const threads = await db.query<{ session_id: string; platform: string; title: string; ref: string }>(
      "select session_id, platform, title, ref from threads",
    );
    expect(threads.rows).toEqual([{ session_id: "ses_1", platform: "slack", title: "deploy docs", ref: "C0APPROVALS:1700000000.000001" }]);
    expect(decodeRef(threads.rows[0]!.ref)).toEqual({ channel: "C0APPROVALS", ts: "1700000000.000001" });
    const columns = await db.query<{ column_name: string }>(
      "select column_name from information_schema.columns where table_name = 'permission_requests' and column_name like 'card%'",
    );
    expect(columns.rows).toEqual([]);
  });
});
