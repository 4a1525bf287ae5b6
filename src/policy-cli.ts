/**
 * `npm run policy -- check <file> [--since 7d|YYYY-MM-DD]`: the dry run of a policy file. Checks the
 * file as the bot would (its errors name the line), replays the audited requests since then (default
 * 7 days) against it and prints each that it would have decided otherwise. Reads DATABASE_URL, else
 * the embedded database under DATA_DIR (stop the bot first: it takes one process at a time).
 */
import { parseArgs } from "node:util";
import { consoleOutput, databaseOptions, runCli, sinceOf, type CliOutput } from "./cli-args.ts";
import { loadPolicyFile } from "./core/policy/policy-holder.ts";
import { PolicyError } from "./core/policy/policy-file.ts";
import { replay } from "./core/policy/replay.ts";
import type { Decider } from "./core/types.ts";
import { createApprovalStore } from "./store/approval-store.ts";
import { openDatabase } from "./store/database.ts";

const USAGE = "usage: npm run policy -- check <policy file> [--since 7d|YYYY-MM-DD]";

export async function main(argv: string[], io: CliOutput = consoleOutput, where = databaseOptions()): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { since: { type: "string", default: "7d" } } });
  const [command, file, ...extra] = positionals;
  const since = sinceOf(values.since);
  if (command !== "check" || !file || extra.length > 0 || !since) {
    io.err(USAGE);
    return 2;
  }
  let policy;
  try {
    policy = await loadPolicyFile(file);
  } catch (error) {
    if (!(error instanceof PolicyError)) throw error;
    io.err(error.message);
    return 2;
  }
  const database = await openDatabase(where);
  try {
    const store = createApprovalStore(database);
    const entries = await store.decisionsBetween({ from: since, to: new Date() });
    const starters = new Map<string, Decider | undefined>();
    for (const sessionId of new Set(entries.map((entry) => entry.sessionId))) starters.set(sessionId, await store.sessionOwner(sessionId));
    const { requests, changes } = replay(policy, entries, (sessionId) => starters.get(sessionId));
    for (const change of changes) io.out(`${change.requestId} · ${change.what}\n  was: ${change.was}\n  would be: ${change.wouldBe}`);
    io.out(`${requests} request${requests === 1 ? "" : "s"} decided since ${since.toISOString().slice(0, 16).replace("T", " ")} UTC; ${changes.length} would be decided differently under ${file}.`);
    return 0;
  } finally {
    await database.close();
  }
}

runCli("policy", import.meta.url, main);
