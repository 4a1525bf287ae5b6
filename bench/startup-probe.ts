/**
 * Where a bot process's start goes, step by step, in a process of its own (startup.ts runs it with
 * the bot's env, as `node --import tsx bench/startup-probe.ts`): the third-party packages the bot
 * imports, each alone; the rest of the bot's module graph; the PGlite open and the migrations check
 * (openPglite's steps, timed apart); the console password's scrypt; then the real startBot on the
 * same data until /healthz says OpenCode is ready. Prints one JSON line on stdout. Nothing in src/
 * is changed: the steps are timed from outside the functions that take them.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";

// performance.now() counts from the process's start: node's boot, tsx's registration and this file's load.
const toProbe = performance.now();
const ROOT = resolve(import.meta.dirname, "..");

/** Bare imports (not `import type`) in the bot's code: src/ and the chat adapters. */
function botPackages(): string[] {
  const found = new Set<string>();
  const dirs = ["src", "adapters/slack", "adapters/discord", "adapters/web"];
  for (const dir of dirs) {
    for (const entry of readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith(".ts")) continue;
      const text = readFileSync(join(entry.parentPath, entry.name), "utf8");
      for (const match of text.matchAll(/^import (?!type )[^;]*?from "([^".][^"]*)"/gms)) if (!match[1]!.startsWith("node:")) found.add(match[1]!);
    }
  }
  return [...found].sort();
}

async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await run();
  return { ms: performance.now() - started, value };
}

const packageMs: Record<string, number> = {};
for (const name of botPackages()) packageMs[name] = (await timed(() => import(name))).ms;
const botModules = await timed(() => import("../src/bot.ts"));
const { loadConfig } = await import("../src/config.ts");
const config = loadConfig();
if (!config.database.dataDir || config.database.url) throw new Error("the probe times PGlite: give it DATA_DIR and no DATABASE_URL");

const { PGlite } = await import("@electric-sql/pglite");
const { drizzle } = await import("drizzle-orm/pglite");
const { migrate } = await import("drizzle-orm/pglite/migrator");
const schema = await import("../src/store/schema.ts");
const dir = join(config.database.dataDir, "pglite");
const pgliteOpen = await timed(async () => {
  const client = new PGlite(dir);
  await client.waitReady;
  return client;
});
const firstQuery = await timed(() => pgliteOpen.value.query("select 1"));
const migrations = await timed(() => migrate(drizzle(pgliteOpen.value, { schema }), { migrationsFolder: join(ROOT, "migrations") }));
const pgliteClose = await timed(() => pgliteOpen.value.close());
const { hashPassword } = await import("../adapters/web/auth.ts");
const scrypt = await timed(() => hashPassword("probe"));

const startedBot = await timed(() => botModules.value.startBot(config));
const bot = startedBot.value;
const readyAfter = await timed(async () => {
  for (;;) {
    const health = (await (await fetch(`http://127.0.0.1:${bot.port}/healthz`)).json()) as { opencode?: string };
    if (health.opencode === "ready") return;
    await new Promise((r) => setTimeout(r, 5));
  }
});
await bot.stop();

const round = (ms: number) => Math.round(ms * 10) / 10;
console.log(
  JSON.stringify({
    toProbeMs: round(toProbe),
    packagesMs: round(Object.values(packageMs).reduce((a, b) => a + b, 0)),
    slowestPackages: Object.entries(packageMs)
      .sort(([, a], [, b]) => b - a)
      .slice(0, 8)
      .map(([name, ms]) => ({ name, ms: round(ms) })),
    botModulesMs: round(botModules.ms),
    pgliteOpenMs: round(pgliteOpen.ms),
    pgliteFirstQueryMs: round(firstQuery.ms),
    migrationsCheckMs: round(migrations.ms),
    pgliteCloseMs: round(pgliteClose.ms),
    scryptMs: round(scrypt.ms),
    startBotMs: round(startedBot.ms),
    startBotToReadyMs: round(readyAfter.ms),
  }),
);
process.exit(0);
