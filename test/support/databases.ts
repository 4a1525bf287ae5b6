import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { databaseUrl, postgresTemplate } from "./database-template.ts";

export type TestDatabase = { name: string; url?: string; drop(): Promise<void> };

/**
 * The databases every store test runs against: embedded PGlite always, and a fresh database on the
 * real Postgres server when TEST_DATABASE_URL is set (see .ci/run).
 */
export function testDatabaseKinds(): Array<"pglite" | "postgres"> {
  return process.env.TEST_DATABASE_URL ? ["pglite", "postgres"] : ["pglite"];
}

/**
 * A new database on the TEST_DATABASE_URL server, copied from the migrated template (`empty`: with
 * nothing in it, for a test of the migrations themselves); `drop()` removes it.
 */
export async function createPostgresDatabase(options: { empty?: boolean } = {}): Promise<TestDatabase> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) throw new Error("TEST_DATABASE_URL is not set");
  const template = options.empty ? undefined : await postgresTemplate(adminUrl);
  const name = `chatops_test_${randomBytes(6).toString("hex")}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(template ? `create database ${name} template ${template}` : `create database ${name}`);
  await admin.end();
  return {
    name,
    url: databaseUrl(adminUrl, name),
    async drop() {
      const again = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await again.unsafe(`drop database if exists ${name} with (force)`);
      await again.end();
    },
  };
}
