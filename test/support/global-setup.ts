import type { TestProject } from "vitest/node";
import { pgliteTemplate, postgresTemplate } from "./database-template.ts";
import { startOpencodePool } from "./opencode-pool.ts";

/**
 * vitest globalSetup: builds the migrated templates once, before any worker races to, and starts
 * one shared OpenCode server per worker (test/support/opencode-pool.ts).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [pool] = await Promise.all([
    startOpencodePool(project.config.maxWorkers),
    (async () => {
      await pgliteTemplate();
      if (process.env.TEST_DATABASE_URL) await postgresTemplate(process.env.TEST_DATABASE_URL);
      else console.warn("TEST_DATABASE_URL is unset: the Postgres variants and the database-down test are skipped (.ci/run sets it).");
    })(),
  ]);
  project.provide("opencodePool", pool.servers);
  return () => pool.stop();
}
