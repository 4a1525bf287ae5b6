/**
 * vitest wiring for the tests that also run on a real Postgres server: when TEST_DATABASE_URL is
 * unset, their Postgres variants are listed as skipped tests that say so, instead of vanishing.
 */
import { describe, it } from "vitest";
import { testDatabaseKinds } from "./databases.ts";

const UNSET = "TEST_DATABASE_URL is unset";

/** `describe.each` over the database kinds; `title` takes the kind for `%s`. */
export function describeEachDatabase(title: string, body: (kind: "pglite" | "postgres") => void): void {
  describe.each(testDatabaseKinds())(title, body);
  if (!process.env.TEST_DATABASE_URL) skipped(title.replace("%s", "postgres"), `postgres variant: ${UNSET}`);
}

/** A describe that needs the Postgres server itself (say why in a comment where it is used). */
export function describeWithPostgres(title: string, body: () => void): void {
  if (process.env.TEST_DATABASE_URL) describe(title, body);
  else skipped(title, `needs a Postgres server: ${UNSET}`);
}

function skipped(title: string, why: string): void {
  describe.skip(title, () => {
    it(why, () => undefined);
  });
}
