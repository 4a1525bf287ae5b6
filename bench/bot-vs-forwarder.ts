/**
 * The bot against the bare forwarder (forwarder.ts), in the same run on the same OpenCode server and
 * with the same sequential samples (latency.ts), each as its own process: the bot on PGlite, then the forwarder,
 * then the bot on Postgres when TEST_DATABASE_URL is set (test/support/databases.ts), so that the
 * forwarder's samples sit between the bot's in time. Each target is first given one sample that is
 * not counted: the first run of its code paths, in a process the other targets have warmed.
 */
import { testDatabaseKinds } from "../test/support/databases.ts";
import type { OpencodeFixture } from "../test/support/opencode-fixture.ts";
import { startStack } from "../test/support/stack.ts";
import type { EventClock } from "./event-clock.ts";
import { compareWithForwarder, startForwarderTarget, type Comparison } from "./forwarder-latency.ts";
import { BASELINE_CHANNEL, sampleLatencies, type LatencySample, type LatencyTarget } from "./latency.ts";
import { postDirectly } from "./slack-calls.ts";
import { summarize } from "./stats.ts";
import { notMeasured, round, type TargetRow } from "./targets.ts";

type Database = "pglite" | "postgres";
const names: Record<Database, string> = { pglite: "PGlite", postgres: "Postgres" };

async function sample(target: LatencyTarget, clock: EventClock, n: number, what: string, log: (line: string) => void) {
  await postDirectly(target.slack, BASELINE_CHANNEL, { text: "warm-up", blocks: [] });
  const [warmUp] = await sampleLatencies(target, clock, 1, () => undefined);
  const samples = await sampleLatencies(target, clock, n, () => undefined);
  const of = (pick: (s: LatencySample) => number) => summarize(samples.map(pick));
  const [card, reply] = [of((s) => s.askToCardMs), of((s) => s.clickToReplyMs)];
  log(`  ${what}: ask→card p50 ${round(card.p50)} / p99 ${round(card.p99)} ms, click→reply p50 ${round(reply.p50)} / p99 ${round(reply.p99)} ms (${n} samples after 1 not counted)`);
  return { warmUp: warmUp!, samples };
}

async function sampleBot(fixture: OpencodeFixture, clock: EventClock, database: Database, n: number, log: (line: string) => void) {
  // As its own process, as users run it and as the forwarder runs: in the bench's, its work would delay the clocks.
  const stack = await startStack({ database, process: true }, fixture);
  try {
    return await sample(stack, clock, n, `bot on ${names[database]}`, log);
  } finally {
    await stack.stop();
  }
}

export async function measureAgainstForwarder(fixture: OpencodeFixture, clock: EventClock, n: number, log: (line: string) => void) {
  const [first, ...rest] = testDatabaseKinds();
  const bot: Partial<Record<Database, Awaited<ReturnType<typeof sample>>>> = {};
  bot[first!] = await sampleBot(fixture, clock, first!, n, log);
  const target = await startForwarderTarget(fixture);
  const forwarder = await sample(target, clock, n, "bare forwarder", log).finally(() => target.stop());
  for (const database of rest) bot[database] = await sampleBot(fixture, clock, database, n, log);

  const comparisons = Object.entries(bot).flatMap(([database, run]) => compareWithForwarder(names[database as Database], run.samples, forwarder.samples));
  const all = [forwarder, ...Object.values(bot)].flatMap((run) => [run.warmUp, ...run.samples]);
  return { requestIds: all.map((s) => s.requestId), json: { samplesEach: n, comparisons, forwarder, bot }, targets: forwarderTargets(comparisons) };
}

/** Two rows a comparison (p50 ratio, p99 excess), and for Postgres unmeasured, rows that say so. */
function forwarderTargets(comparisons: Comparison[]): TargetRow[] {
  const rows = comparisons.flatMap((c): TargetRow[] => [
    {
      measure: `${c.label} p50`,
      figure: `bot ${round(c.bot.p50)} ms, forwarder ${round(c.forwarder.p50)} ms: ${c.ratioP50.toFixed(2)}×`,
      target: "≤ 2× the forwarder",
      met: c.ratioP50 <= 2,
      value: c.ratioP50,
      limit: 2,
      unit: "× forwarder p50",
    },
    {
      measure: `${c.label} p99`,
      figure: `bot ${round(c.bot.p99)} ms, forwarder ${round(c.forwarder.p99)} ms: ${c.p99OverMs >= 0 ? "+" : ""}${round(c.p99OverMs)} ms`,
      target: "≤ the forwarder + 50 ms",
      met: c.p99OverMs <= 50,
      value: c.p99OverMs,
      limit: 50,
      unit: "ms over forwarder p99",
    },
  ]);
  if (process.env.TEST_DATABASE_URL) return rows;
  const why = "TEST_DATABASE_URL unset";
  return [...rows, notMeasured("ask→card (Postgres) p50, p99", "≤ 2×, ≤ +50 ms", why), notMeasured("click→reply (Postgres) p50, p99", "≤ 2×, ≤ +50 ms", why)];
}
