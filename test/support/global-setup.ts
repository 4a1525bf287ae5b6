import { pgliteTemplate, postgresTemplate } from "./database-template.ts";

/** vitest globalSetup: builds the migrated templates once, before any worker races to. */
export default async function setup(): Promise<void> {
  await pgliteTemplate();
  if (process.env.TEST_DATABASE_URL) await postgresTemplate(process.env.TEST_DATABASE_URL);
  else console.warn("TEST_DATABASE_URL is unset: the Postgres variants and the database-down test are skipped (.ci/run sets it).");
}
