import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { PGlite, QueryOptions, Results, Transaction } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import * as schema from "./schema.ts";

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export type Database = {
  db: Db;
  kind: "postgres" | "pglite";
  /** Cheap round trip, for /healthz. */
  ping(): Promise<void>;
  /**
   * A lease named `name`, held until `release()` or until this process loses its database
   * connection (it died, or the database went away): then `lost` resolves and another process may
   * take it. Undefined when another process holds it now.
   */
  tryLease(name: string): Promise<Lease | undefined>;
  /** LISTEN on `channel`: `onPayload` hears each NOTIFY, from any process on this database. */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
};

export type Lease = { lost: Promise<void>; release(): Promise<void> };

/** How often a held lease checks its connection; a lost one is noticed within this plus LEASE_CHECK_TIMEOUT_MS. */
const LEASE_CHECK_MS = 1000;
const LEASE_CHECK_TIMEOUT_MS = 2000;

const migrationsFolder = fileURLToPath(new URL("../../migrations", import.meta.url));
// Any constant works; it only has to be the same for every bot process sharing the database.
const MIGRATION_LOCK_KEY = 7_305_228_431;
const PGLITE_SHARED_BUFFERS = "16MB";

/**
 * Opens Postgres at `url`, or the embedded PGlite under `dataDir` when no url is given,
 * and applies the drizzle-kit migrations before returning.
 */
export async function openDatabase(options: { url?: string; dataDir: string }): Promise<Database> {
  if (options.url) return openPostgres(options.url);
  const dir = join(options.dataDir, "pglite");
  mkdirSync(dir, { recursive: true });
  return openPglite(dir);
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * PGlite runs Postgres in this thread: a query holds the event loop while it runs, and queries
 * chained in promise callbacks (one platform's card bookkeeping) never let timers or I/O in between
 * them. Each query and transaction here waits a turn of the event loop first, so that what is due
 * now (another platform's post, a click) goes at its turn instead of after the whole chain.
 */
function turnTaking(Base: typeof PGlite) {
  return class TurnTakingPGlite extends Base {
    override async query<T>(query: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>> {
      await nextTurn();
      return super.query<T>(query, params, options);
    }

    override async transaction<T>(callback: (tx: Transaction) => Promise<T>): Promise<T> {
      await nextTurn();
      return super.transaction<T>(callback);
    }
  };
}

/** An embedded database at `dir` ("memory://" for a throwaway one). */
export async function openPglite(dir: string): Promise<Database> {
  // Loaded only for the embedded database: through tsx, PGlite's module alone adds ~40 MB to a bot on Postgres.
  const [{ PGlite }, { drizzle: drizzlePglite }, { migrate: migratePglite }] = await Promise.all([
    import("@electric-sql/pglite"),
    import("drizzle-orm/pglite"),
    import("drizzle-orm/pglite/migrator"),
  ]);
  // Postgres's default 128 MB of shared buffers would be most of the bot's memory; the bot's data is
  // small and read by key, and PGlite's files are read through the OS's cache besides.
  const client = new (turnTaking(PGlite))(dir, { postgresqlconf: [`shared_buffers = ${PGLITE_SHARED_BUFFERS}`] });
  const db = drizzlePglite(client, { schema });
  await migratePglite(db, { migrationsFolder });
  return {
    db: db as unknown as Db,
    kind: "pglite",
    ping: async () => void (await client.query("select 1")),
    listen: (channel, onPayload) => client.listen(channel, onPayload),
    // PGlite's files admit one process, which therefore holds every lease.
    tryLease: async () => ({ lost: new Promise<void>(() => {}), release: async () => {} }),
    close: () => client.close(),
  };
}

async function openPostgres(url: string): Promise<Database> {
  await migrateWithLock(url);
  const client = postgres(url, { max: 10, onnotice: () => {}, connect_timeout: 10 });
  const db = drizzlePostgres(client, { schema });
  const leases = advisoryLeases(url);
  return {
    db: db as unknown as Db,
    kind: "postgres",
    ping: async () => void (await db.execute(sql`select 1`)),
    // postgres.js keeps one connection for its listeners and listens again after reconnecting.
    async listen(channel, onPayload) {
      const { unlisten } = await client.listen(channel, onPayload);
      return unlisten;
    },
    tryLease: leases.tryLease,
    async close() {
      await leases.close();
      await client.end({ timeout: 5 });
    },
  };
}

/**
 * A session advisory lock on a connection of its own: Postgres frees it the moment that connection
 * ends, so a process killed with SIGKILL gives the lease up as its socket closes. A process that
 * asks in vain keeps its connection for the next try.
 */
function advisoryLeases(url: string) {
  type Connection = { client: postgres.Sql; end(): Promise<void> };
  const waiting = new Map<string, Connection>();
  const open = new Set<Connection>();
  /** The connection `name` asked on before, or a new one. */
  function connectionFor(name: string): Connection {
    const found = waiting.get(name);
    if (found) return found;
    const client = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5, idle_timeout: 0, max_lifetime: null });
    const connection: Connection = {
      client,
      end: () => {
        open.delete(connection);
        return client.end({ timeout: 1 }).catch(() => undefined);
      },
    };
    open.add(connection);
    waiting.set(name, connection);
    return connection;
  }
  async function tryLease(name: string): Promise<Lease | undefined> {
    const { client, end } = connectionFor(name);
    let locked = false;
    try {
      const [row] = await withTimeout(client<{ locked: boolean }[]>`select pg_try_advisory_lock(hashtextextended(${name}, 0)) as locked`);
      locked = row?.locked === true;
    } catch (error) {
      waiting.delete(name);
      await end();
      throw error;
    }
    if (!locked) return undefined;
    waiting.delete(name);
    let over = false;
    let markLost!: () => void;
    const lost = new Promise<void>((resolve) => (markLost = resolve));
    // The lock is checked, not just the connection: postgres.js would reconnect a dropped one silently.
    const timer = setInterval(() => {
      withTimeout(client<{ held: boolean }[]>`select exists(select 1 from pg_locks where locktype = 'advisory' and pid = pg_backend_pid() and granted) as held`).then(
        (rows) => void (rows[0]?.held === true || giveUp()),
        () => giveUp(),
      );
    }, LEASE_CHECK_MS);
    timer.unref();
    const giveUp = () => {
      if (over) return;
      over = true;
      clearInterval(timer);
      markLost();
      void end();
    };
    return {
      lost,
      async release() {
        if (over) return;
        over = true;
        clearInterval(timer);
        await end();
      },
    };
  }
  return {
    tryLease,
    /** Ends every lease's connection, held or waiting (the database closes). */
    close: async () => void (await Promise.all([...open].map((connection) => connection.end()))),
  };
}

function withTimeout<T>(promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error("the lease's database check timed out")), LEASE_CHECK_TIMEOUT_MS)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Two bot processes starting together must not both run the same migration: one connection holds a lock. */
async function migrateWithLock(url: string): Promise<void> {
  const client = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    await client`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    await migratePostgres(drizzlePostgres(client, { schema }), { migrationsFolder });
    await client`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
  } finally {
    await client.end({ timeout: 5 });
  }
}
