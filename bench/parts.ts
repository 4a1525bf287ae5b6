/**
 * The bench's parts, in the order a whole run takes them: each runs one measurement module at the
 * run's size, prints its figures, and returns them for the JSON with its rows of the targets table
 * (targets.ts). The OpenCode server and the event clock are started for the first part that needs them.
 */
import { startFakeSlack } from "../test/support/fake-slack.ts";
import type { OpencodeFixture } from "../test/support/opencode-fixture.ts";
import { measureApprovalLoop } from "./approval-loop.ts";
import { measureAgainstForwarder } from "./bot-vs-forwarder.ts";
import type { EventClock } from "./event-clock.ts";
import { measureEventRate } from "./event-rate.ts";
import { measureMemory, type MemoryRun } from "./memory.ts";
import { measureReconnect } from "./reconnect.ts";
import { formatStartup, measureStartup } from "./startup.ts";
import { atLeast, atMost, round, type TargetRow } from "./targets.ts";

export const PART_NAMES = ["latency", "forwarder", "startup", "reconnect", "events", "memory"] as const;
export type PartName = (typeof PART_NAMES)[number];

export type BenchContext = {
  /** BENCH_QUICK=1: the reduced sizes, to see that the parts work. */
  quick: boolean;
  log(line?: string): void;
  fixture(): Promise<OpencodeFixture>;
  clock(): Promise<EventClock>;
  /** Ends the clock's subscription (it has no reconnect: done before OpenCode is restarted). */
  stopClock(): Promise<void>;
};

export type PartResult = { json: unknown; targets: TargetRow[]; requestIds?: string[]; problems?: string[] };

const FULL = { samples: 20, burstSessions: 10, startupRuns: 5, reconnectRuns: 3, eventSessions: 200, deltasPerSession: 500, memorySessions: 200, perSession: 5, slackWaitMs: 10_000, settleMs: 40_000 };
const QUICK: typeof FULL = { samples: 3, burstSessions: 2, startupRuns: 1, reconnectRuns: 1, eventSessions: 20, deltasPerSession: 200, memorySessions: 20, perSession: 5, slackWaitMs: 2000, settleMs: 10_000 };
const MB = 1024 * 1024;

export const parts: Record<PartName, (ctx: BenchContext) => Promise<PartResult>> = {
  async latency(ctx) {
    const size = ctx.quick ? QUICK : FULL;
    const { json, requestIds } = await measureApprovalLoop(await ctx.fixture(), await ctx.clock(), size, ctx.log);
    return { json, requestIds, targets: [] };
  },

  async forwarder(ctx) {
    const size = ctx.quick ? QUICK : FULL;
    ctx.log(`the bot against the bare forwarder, ${size.samples} sequential samples each (nearest rank: p99 of 20 is the largest):`);
    return measureAgainstForwarder(await ctx.fixture(), await ctx.clock(), size.samples, ctx.log);
  },

  async startup(ctx) {
    const { startupRuns } = ctx.quick ? QUICK : FULL;
    const fixture = await ctx.fixture();
    const slack = await startFakeSlack();
    try {
      const result = await measureStartup(fixture.opencode.url, slack, startupRuns, ctx.log);
      ctx.log(formatStartup(result));
      const { p50, max, n } = result.ready;
      return { json: result, targets: [atMost("start→ready (PGlite), p50", p50, 2000, "ms", `${round(p50)} ms (max ${round(max)} of ${n})`)] };
    } finally {
      await slack.close();
    }
  },

  async reconnect(ctx) {
    const { reconnectRuns } = ctx.quick ? QUICK : FULL;
    const fixture = await ctx.fixture();
    await ctx.stopClock();
    const result = await measureReconnect(fixture, reconnectRuns, ctx.log);
    const figure = (s: typeof result.toReady) => `${round(s.p50)} ms (max ${round(s.max)} of ${s.n})`;
    return {
      json: result,
      targets: [
        atMost("OpenCode answering again → bot ready, p50", result.toReady.p50, 1000, "ms", figure(result.toReady)),
        atMost("OpenCode answering again → resynced, p50", result.toResynced.p50, 1000, "ms", figure(result.toResynced)),
      ],
    };
  },

  async events(ctx) {
    const size = ctx.quick ? QUICK : FULL;
    const result = await measureEventRate({ sessions: size.eventSessions, deltasPerSession: size.deltasPerSession, cpus: "0" });
    ctx.log(
      `event rate: ${result.events} events (${(result.bytes / MB).toFixed(1)} MB) from ${result.sessions} sessions in ${round(result.elapsedMs)} ms = ${round(result.eventsPerSecond)}/s; ` +
        `the bot used ${round(result.botCpuMs)} ms of CPU = ${round(result.eventsPerCpuSecond)} events per CPU-second; its /metrics counted ${result.botCounted?.events ?? "?"} events`,
    );
    const figure = `${round(result.eventsPerSecond)}/s (${round(result.eventsPerCpuSecond)} per CPU-second; ${result.events} events)`;
    return { json: result, targets: [atLeast("stream events through the bot at one core", result.eventsPerSecond, 20_000, "events/s", figure)] };
  },

  async memory(ctx) {
    const size = ctx.quick ? QUICK : FULL;
    const result = await measureMemory({ sessions: size.memorySessions, perSession: size.perSession, slackWaitMs: size.slackWaitMs, settleMs: size.settleMs });
    for (const run of [result.consoleOnly, result.withSlack, ...(result.consoleOnlyPostgres ? [result.consoleOnlyPostgres] : [])]) {
      ctx.log(
        `memory, ${run.platforms}: RSS ${(run.rssBytes / MB).toFixed(0)} MB (idle ${(run.idleRssBytes / MB).toFixed(0)} MB, peak ${(run.peakRssBytes / MB).toFixed(0)} MB; ` +
          `V8 heap ${(run.heapUsedBytes / MB).toFixed(0)} of ${(run.heapTotalBytes / MB).toFixed(0)} MB in use, external ${(run.externalBytes / MB).toFixed(0)} MB); ` +
          `${run.taken} tool calls read, ${run.pendingListed} listed pending${run.intakeMs !== undefined ? `, all read ${round(run.intakeMs)} ms after the first ask` : ""}` +
          `${run.cardsPosted !== undefined ? `, ${run.cardsPosted} cards posted` : ""}` +
          `${run.settled ? `; ${run.settled.afterMs / 1000} s later, still pending: RSS ${(run.settled.rssBytes / MB).toFixed(0)} MB, V8 heap ${(run.settled.heapUsedBytes / MB).toFixed(0)} of ${(run.settled.heapTotalBytes / MB).toFixed(0)} MB` : ""}`,
      );
    }
    const { requests, sessions } = result;
    const runs: Array<[string, MemoryRun]> = [["PGlite", result.consoleOnly], ...(result.consoleOnlyPostgres ? ([["Postgres", result.consoleOnlyPostgres]] as Array<[string, MemoryRun]>) : [])];
    const problems = runs.flatMap(([db, run]) => (run.pendingListed === requests ? [] : [`memory (${db}): the console listed ${run.pendingListed} of ${requests} requests as pending`]));
    // Held against the target: the RSS once the bot has sat idle with the requests pending, as they
    // wait for people; beside it the RSS right after the burst and the peak.
    const held = (run: MemoryRun) => run.settled?.rssBytes ?? run.rssBytes;
    const figure = (run: MemoryRun) =>
      `${(held(run) / MB).toFixed(0)} MB${run.settled ? ` ${run.settled.afterMs / 1000} s on` : ""} (right after ${(run.rssBytes / MB).toFixed(0)}, peak ${(run.peakRssBytes / MB).toFixed(0)}, idle ${(run.idleRssBytes / MB).toFixed(0)} MB)`;
    // PGlite's Postgres is compiled with 128 MB of initial WebAssembly memory (it refuses less), all of it in this process.
    const targets = runs.map(([db, run]) => atMost(`bot RSS (${db}), ${requests} pending in ${sessions} live sessions`, held(run) / MB, 200, "MB", figure(run)));
    return { json: result, problems, targets };
  },
};
