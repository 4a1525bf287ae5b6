/**
 * Migrated databases to copy, so no test pays for the migrations: a PGlite data directory and a
 * Postgres template database, each built once per content of migrations/ (and PGlite version) by the
 * real `openDatabase`, and found again by the next run. A test's bot still migrates at start; it
 * finds every migration applied.
 */
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rename, rm } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { promisify } from "node:util";
import postgres from "postgres";
import { openDatabase, openPglite } from "../../src/store/database.ts";
import { waitFor } from "./wait-for.ts";

const REPO_ROOT = resolve(import.meta.dirname, "../..");
const MIGRATIONS = join(REPO_ROOT, "migrations");
const CACHE = join(REPO_ROOT, "node_modules/.cache/opencode-chatops-tests");
const PGLITE_VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, "node_modules/@electric-sql/pglite/package.json"), "utf8")) as { version: string })
  .version;
const run = promisify(execFile);

let key: Promise<string> | undefined;

/** A hash of every file under migrations/ and of the PGlite version: a new migration means a new template. */
export function templateKey(): Promise<string> {
  key ??= (async () => {
    const hash = createHash("sha256").update(`pglite ${PGLITE_VERSION}\n`);
    const files = (await readdir(MIGRATIONS, { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name))
      .sort();
    for (const file of files) hash.update(`${relative(MIGRATIONS, file)}\n`).update(await readFile(file));
    return hash.digest("hex").slice(0, 16);
  })();
  return key;
}

/** The migrated, closed PGlite data directory for the current migrations, built if missing. */
export async function pgliteTemplate(): Promise<string> {
  const dir = join(CACHE, `pglite-${await templateKey()}`);
  if (existsSync(dir)) return dir;
  await mkdir(CACHE, { recursive: true });
  // Built beside its final place and renamed there: whoever finds `dir` finds it complete.
  const building = await mkdtemp(join(CACHE, "building-"));
  try {
    await mkdir(join(building, "pglite"));
    const database = await openPglite(join(building, "pglite"));
    await database.close();
    await rename(join(building, "pglite"), dir).catch((error: NodeJS.ErrnoException) => {
      if (!existsSync(dir)) throw error; // else a parallel run was first
    });
  } finally {
    await rm(building, { recursive: true, force: true });
  }
  return dir;
}

/** Copies the migrated PGlite template to `dir` (which must not exist yet). */
export async function copyPgliteTemplate(dir: string): Promise<void> {
  const template = await pgliteTemplate();
  // `cp -R` copies the ~1000 files in tens of ms; fs.cp takes ten times that.
  await run("cp", ["-R", template, dir]);
}

/**
 * The name of the migrated template database on TEST_DATABASE_URL's server, built if missing. It is
 * kept for the next run; a changed migrations folder gets a template of its own.
 */
export function postgresTemplate(adminUrl: string): Promise<string> {
  let built = postgresTemplates.get(adminUrl);
  if (!built) postgresTemplates.set(adminUrl, (built = buildPostgresTemplate(adminUrl)));
  return built;
}

const postgresTemplates = new Map<string, Promise<string>>();

async function buildPostgresTemplate(adminUrl: string): Promise<string> {
  const name = `chatops_template_${await templateKey()}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    if ((await admin`select 1 from pg_database where datname = ${name}`).length > 0) return name;
    const building = `${name}_b${randomBytes(4).toString("hex")}`;
    await admin.unsafe(`create database ${building}`);
    const database = await openDatabase({ url: databaseUrl(adminUrl, building), dataDir: "" });
    await database.close();
    // The migration's connections may take a moment to leave; a rename needs the database unused.
    await waitFor(
      () =>
        admin.unsafe(`alter database ${building} rename to ${name}`).then(
          () => true,
          async (error: { code?: string }) => {
            if (error.code !== "42P04") throw error; // 42P04: a parallel run was first
            await admin.unsafe(`drop database ${building} with (force)`);
            return true;
          },
        ),
      { what: `template database ${building} to be renamed to ${name}`, timeout: 10_000, interval: 100 },
    );
    return name;
  } finally {
    await admin.end();
  }
}

/** `adminUrl` with its database replaced by `name`. */
export function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
