/**
 * `npm run chaos [-- kills postgres-down slack-429] [--requests N] [--kills K] [--processes 2] …`:
 * the bot under SIGKILLs, a Postgres outage and a Slack 429 storm, each while real OpenCode asks
 * `--requests` permissions that a clicker answers as they come. Prints the counts per scenario and
 * exits non-zero when a check failed. Postgres scenarios need TEST_DATABASE_URL.
 */
import { parseArgs } from "node:util";
import { drive, type ScenarioResult, type Settings } from "./drive.ts";
import { killChaos } from "./kills.ts";
import { postgresDownChaos } from "./postgres-down.ts";
import { slack429Chaos } from "./slack-429.ts";
import { formatFindings, formatTable } from "./table.ts";

const SCENARIOS = ["kills", "postgres-down", "slack-429"] as const;
type Scenario = (typeof SCENARIOS)[number];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    requests: { type: "string", default: "1000" },
    kills: { type: "string", default: "20" },
    processes: { type: "string", default: "1" },
    database: { type: "string" },
    "per-session": { type: "string", default: "5" },
    window: { type: "string", default: "15" },
    "reject-share": { type: "string", default: "0.1" },
    "down-seconds": { type: "string", default: "30" },
    "storm-seconds": { type: "string", default: "30" },
    "retry-after": { type: "string", default: "5" },
    "settle-seconds": { type: "string", default: "150" },
    seed: { type: "string" },
  },
});

const number = (name: keyof typeof values) => {
  const value = Number(values[name]);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a number, not ${String(values[name])}`);
  return value;
};
const unknown = positionals.filter((p) => !(SCENARIOS as readonly string[]).includes(p));
if (unknown.length) throw new Error(`unknown scenario(s) ${unknown.join(", ")}; choose from ${SCENARIOS.join(", ")}`);
const chosen: Scenario[] = positionals.length ? (positionals as Scenario[]) : [...SCENARIOS];
const processes = number("processes");
const killsDatabase = (values.database ?? (processes > 1 ? "postgres" : "pglite")) as "pglite" | "postgres";
if (processes > 1 && killsDatabase !== "postgres") throw new Error("--processes 2 needs --database postgres (PGlite allows one process)");
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : number("seed");
const requests = number("requests");
const settings: Settings = {
  requests,
  perSession: number("per-session"),
  window: number("window"),
  rejectShare: number("reject-share"),
  seed,
  settleMs: number("settle-seconds") * 1000,
};

const log = (line = "") => console.log(line);

async function run(scenario: Scenario, index: number): Promise<ScenarioResult> {
  const scenarioSettings = { ...settings, seed: seed + index };
  switch (scenario) {
    case "kills":
      return drive(`kills${processes > 1 ? ` ×${processes}` : ""}`, { database: killsDatabase, processes }, scenarioSettings, { postsMustHold: false, log }, killChaos({ kills: number("kills"), requests }));
    case "postgres-down":
      return drive("postgres-down", { database: "postgres", processes: 1, proxy: true }, scenarioSettings, { postsMustHold: false, log }, postgresDownChaos({ downSeconds: number("down-seconds"), requests }));
    case "slack-429":
      return drive("slack-429", { database: "pglite", processes: 1 }, scenarioSettings, { postsMustHold: true, log }, slack429Chaos({ stormSeconds: number("storm-seconds"), retryAfter: number("retry-after"), requests }));
  }
}

async function main(): Promise<number> {
  log(`opencode-chatops chaos · ${chosen.join(", ")} · ${requests} requests each, ${settings.perSession} per session · seed ${seed}`);
  const results: ScenarioResult[] = [];
  for (const [index, scenario] of chosen.entries()) {
    log(`\n${scenario}:`);
    results.push(await run(scenario, index));
  }
  log(`\n${formatTable(results)}`);
  const findings = formatFindings(results);
  if (findings) log(`\n${findings}`);
  return results.every((r) => r.problems.length === 0) ? 0 : 1;
}

process.once("SIGINT", () => process.exit(130));
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error("chaos failed:", error);
    process.exit(1);
  },
);
