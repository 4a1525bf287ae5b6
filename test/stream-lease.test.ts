import postgres from "postgres";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../src/store/database.ts";
import { createPostgresDatabase, type TestDatabase } from "./support/databases.ts";
import { waitFor } from "./support/wait-for.ts";

// The lease matters where several processes share a database: Postgres (PGlite admits one process).
describe.skipIf(!process.env.TEST_DATABASE_URL)("the stream lease on Postgres", () => {
  let test: TestDatabase | undefined;
  const opened: Database[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((database) => database.close().catch(() => undefined)));
    await test?.drop();
  });
  const open = async () => {
    const database = await openDatabase({ url: test!.url, dataDir: "unused" });
    opened.push(database);
    return database;
  };

  it("is held by one process at a time, and passes on when the holder lets go or loses its connection", async () => {
    test = await createPostgresDatabase();
    const [one, two] = [await open(), await open()];
    const held = await one.tryLease("opencode-stream:http://a");
    expect(held).toBeDefined();
    expect(await two.tryLease("opencode-stream:http://a")).toBeUndefined();
    // Another server's lease is another lock.
    const other = await two.tryLease("opencode-stream:http://b");
    expect(other).toBeDefined();

    await held!.release();
    const taken = await two.tryLease("opencode-stream:http://a");
    expect(taken).toBeDefined();

    // The holder's connection is cut (as when Postgres restarts): it hears that it lost the lease, and the lock is free.
    const admin = postgres(process.env.TEST_DATABASE_URL!, { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`select pg_terminate_backend(l.pid) from pg_locks l join pg_stat_activity a on a.pid = l.pid where l.locktype = 'advisory' and a.datname = '${test.name}'`);
    } finally {
      await admin.end();
    }
    let lost = false;
    void taken!.lost.then(() => (lost = true));
    await waitFor(() => lost, { what: "the holder to hear its lease was lost", timeout: 10_000 });
    expect(await one.tryLease("opencode-stream:http://a")).toBeDefined();
  });
});
