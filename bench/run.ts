/**
 * `npm run bench`: the figures of issue #18 against the real `opencode serve`, each printed beside
 * its baseline or target, then a table of the targets, all written to bench/results/latest.json.
 * It asserts no timings: it exits non-zero only when something did not work.
 *
 * Parts (parts.ts): latency (the approval loop's table), forwarder (the bot against the bare
 * forwarder, on PGlite and, with TEST_DATABASE_URL, on Postgres), startup, reconnect, events (stream
 * events per second), memory. Some alone: `npm run bench -- startup reconnect`, or
 * BENCH_ONLY=startup,reconnect; such a run writes bench/results/latest-startup+reconnect.json
 * instead. BENCH_QUICK=1 runs every part at a reduced size, to see that it works.
 */
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join, resolve } from "node:path";
import { startOpencodeFixture, type OpencodeFixture } from "../test/support/opencode-fixture.ts";
import { startEventClock, type EventClock } from "./event-clock.ts";
import { checkOneReplyEach } from "./latency.ts";
import { PART_NAMES, parts, type BenchContext, type PartName } from "./parts.ts";
import { writeJson } from "./report.ts";
import { formatTargets, notMeasured, type TargetRow } from "./targets.ts";

const ROOT = resolve(import.meta.dirname, "..");
const opencodeAiVersion = (JSON.parse(readFileSync(join(ROOT, "node_modules/opencode-ai/package.json"), "utf8")) as { version: string }).version;

const log = (line = "") => console.log(line);
const elapsed = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

function selectedParts(): PartName[] {
  const asked = [...process.argv.slice(2), ...(process.env.BENCH_ONLY ?? "").split(",")].map((name) => name.trim()).filter(Boolean);
  const unknown = asked.filter((name) => !(PART_NAMES as readonly string[]).includes(name));
  if (unknown.length) throw new Error(`no bench part ${unknown.join(", ")}; the parts are ${PART_NAMES.join(", ")}`);
  return PART_NAMES.filter((name) => asked.length === 0 || asked.includes(name));
}

async function main(): Promise<number> {
  const began = Date.now();
  const selected = selectedParts();
  const quick = process.env.BENCH_QUICK === "1";
  const results = join(ROOT, "bench/results", selected.length === PART_NAMES.length ? "latest.json" : `latest-${selected.join("+")}.json`);
  log(`opencode-chatops bench · opencode-ai ${opencodeAiVersion} · node ${process.version} · ${cpus().length} CPUs (load average ${loadavg()[0]!.toFixed(1)}) · ${selected.join(", ")}${quick ? " · quick sizes" : ""}`);

  let fixture: Promise<OpencodeFixture> | undefined;
  let clock: Promise<EventClock> | undefined;
  let stoppedClock: EventClock | undefined;
  let serverVersion: string | undefined;
  const ctx: BenchContext = {
    quick,
    log,
    fixture: () =>
      (fixture ??= startOpencodeFixture().then(async (started) => {
        serverVersion = (await started.opencode.client.global.health()).data?.version;
        log(`OpenCode server ${serverVersion ?? "?"} at ${started.opencode.url} up ${elapsed(began)} after the start`);
        return started;
      })),
    clock: () => (clock ??= ctx.fixture().then((started) => startEventClock(started.opencode.url))),
    async stopClock() {
      const started = await clock?.catch(() => undefined);
      clock = undefined;
      await started?.stop();
      stoppedClock = started ?? stoppedClock;
    },
  };

  const targets: TargetRow[] = [];
  const figures: Record<string, unknown> = {};
  const problems: string[] = [];
  const requestIds: string[] = [];
  // The machine may be shared: each part's figures come with the load it ran under.
  const partRuns: Record<string, { seconds: number; loadAverage1m: number }> = {};
  try {
    for (const name of selected) {
      const since = Date.now();
      log(`\n── ${name} ──`);
      try {
        const result = await parts[name](ctx);
        figures[name] = result.json;
        targets.push(...result.targets);
        requestIds.push(...(result.requestIds ?? []));
        problems.push(...(result.problems ?? []));
      } catch (error) {
        console.error(`bench part ${name} failed:`, error);
        problems.push(`${name}: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
        targets.push(notMeasured(name, "", "the part failed"));
      }
      partRuns[name] = { seconds: (Date.now() - since) / 1000, loadAverage1m: loadavg()[0]! };
      log(`(${name}: ${elapsed(since)}, load average ${loadavg()[0]!.toFixed(1)} at its end)`);
    }
  } finally {
    await ctx.stopClock();
    await fixture?.then((started) => started.stop(), () => undefined);
  }
  // Each request the bench answered had exactly one reply, checked once everything has stopped.
  if (stoppedClock) problems.push(...checkOneReplyEach(stoppedClock, requestIds));

  if (targets.length) log(`\ntargets (issue #18; a figure is a median where it says p50; "met" is not a pass or fail of the bench):\n${formatTargets(targets)}`);
  await writeJson(results, {
    date: new Date().toISOString(),
    opencodeAiVersion,
    opencodeServerVersion: serverVersion,
    node: process.version,
    cpus: cpus().length,
    parts: selected,
    quick,
    units: "ms unless a field says otherwise",
    partRuns,
    targets,
    ...figures,
    totalRuntimeS: (Date.now() - began) / 1000,
    problems,
  });
  log(`\nwrote ${results}; total ${elapsed(began)}`);
  if (problems.length === 0) return 0;
  log(`\nFAILED:\n  ${problems.join("\n  ")}`);
  return 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error("bench failed:", error);
    process.exit(1);
  },
);
