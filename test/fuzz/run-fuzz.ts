/**
 * The fuzz driver: generates `inputs` cases (fast-check, from `seed`) across Slack, Discord and the
 * gate, fires them at one running bot a few dozen at a time, and checks the properties: each case
 * answered as judge.ts says, nothing thrown out of the bot's handlers (an unhandled rejection kills
 * `npm start`), nothing decided (no audit row, every target still pending), /healthz still 200, and
 * the heap after the run within `heapBoundBytes` of the heap after the warm-up.
 */
import fc from "fast-check";
import { spendChart } from "../../src/core/chart.ts";
import type { ApprovalStore } from "../../src/core/store-port.ts";
import { discordCases } from "./discord-cases.ts";
import { gateCases } from "./gate-cases.ts";
import { describeBody } from "./garbage.ts";
import { forgetTranscripts, measureHeap, untilChatIsQuiet, type HeapSample } from "./heap.ts";
import { judge } from "./judge.ts";
import { sendCase, type FuzzCase, type Wire } from "./send-case.ts";
import { slackCases } from "./slack-cases.ts";

export type FuzzOptions = {
  inputs: number;
  seed: number;
  /** Cases in flight at once; Bolt holds a case no listener acknowledges for 3 s, so this is mostly waiting. */
  concurrency?: number;
  /** Cases run before the first heap measurement. */
  warmup?: number;
  /** How much the heap may grow from after the warm-up to the end. */
  heapBoundBytes: number;
  /** The doors fuzzed (all three by default), to tell which one a finding comes through. */
  targets?: Array<"slack" | "discord" | "gate">;
};

export type FuzzFailure = { index: number; target: string; kind: string; outcome: string; why: string; input: string };

export type FuzzReport = {
  seed: number;
  inputs: number;
  /** `target kind` → outcome → count. */
  outcomes: Record<string, Record<string, number>>;
  failures: FuzzFailure[];
  /** Errors that escaped to the process (uncaught exceptions, unhandled rejections). */
  escaped: string[];
  health: { status: number; body: string };
  auditRows: number;
  /** Targets no longer pending, with their state. */
  targetsDecided: string[];
  /** Target cards edited during the run (on either platform), with what they said after. */
  cardsChanged: string[];
  pending: number;
  heap: { warm: HeapSample; end: HeapSample; boundBytes: number };
  /** Lines Bolt and others wrote to the console, tallied by their first words. */
  consoleLines: Record<string, number>;
  ms: number;
};

const BATCH = 100;

/** Whether every property held. */
export const passed = (r: FuzzReport, maxPending: number) =>
  r.failures.length === 0 && r.escaped.length === 0 && r.health.status === 200 && r.auditRows === 0 && r.targetsDecided.length === 0 && r.cardsChanged.length === 0 && r.pending <= maxPending && r.heap.end.heapUsed - r.heap.warm.heapUsed <= r.heap.boundBytes;

export async function runFuzz(wire: Wire, store: ApprovalStore, options: FuzzOptions): Promise<FuzzReport> {
  const began = Date.now();
  const { inputs, seed, concurrency = 32 } = options;
  const warmup = Math.min(options.warmup ?? 500, Math.floor(inputs / 5));
  const t = wire.targets;
  const doors = [
    { target: "slack", weight: 40, arbitrary: slackCases(t) },
    { target: "discord", weight: 35, arbitrary: discordCases(t) },
    { target: "gate", weight: 25, arbitrary: gateCases(t) },
  ].filter((door) => !options.targets || options.targets.includes(door.target as "slack"));
  const arbitrary = fc.oneof(...doors.map(({ weight, arbitrary }) => ({ weight, arbitrary }))) as fc.Arbitrary<FuzzCase>;
  const outcomes: FuzzReport["outcomes"] = {};
  const failures: FuzzFailure[] = [];
  const escaped: string[] = [];
  const onEscape = (error: unknown) => void escaped.push(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.on("uncaughtException", onEscape);
  process.on("unhandledRejection", onEscape);
  const consoleLines: Record<string, number> = {};
  const restoreConsole = tallyConsole(consoleLines);

  // Cases are drawn a batch at a time (batch b from seed + b): megabyte bodies are made only when sent.
  async function fire(from: number, to: number): Promise<void> {
    let next = from;
    let batch: FuzzCase[] = [];
    let batchStart = -1;
    const take = (): [number, FuzzCase] | undefined => {
      if (next >= to) return undefined;
      const index = next++;
      const b = Math.floor(index / BATCH);
      if (b !== batchStart) {
        batch = fc.sample(arbitrary, { seed: seed + b, numRuns: BATCH });
        batchStart = b;
      }
      return [index, batch[index % BATCH]!];
    };
    const worker = async () => {
      for (let item = take(); item; item = take()) {
        const [index, c] = item;
        const outcome = await sendCase(c, wire);
        const key = `${c.target} ${c.kind}`;
        (outcomes[key] ??= {})[outcome] = (outcomes[key][outcome] ?? 0) + 1;
        const why = judge(c, outcome);
        if (why) failures.push({ index, target: c.target, kind: c.kind, outcome, why, input: describe(c) });
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }

  const settle = async () => {
    await untilChatIsQuiet(wire.slack, wire.discord);
    forgetTranscripts(wire.slack, wire.discord);
    return measureHeap();
  };
  let warm: HeapSample;
  let end: HeapSample;
  try {
    await fire(0, warmup);
    // What the bot loads on first use (Vega and resvg, for /opencode costs' chart: megabytes of
    // source and code) is loaded before the first measurement, as the warm-up may not have drawn one.
    await spendChart([{ day: "2026-01-01", project: "warm-up", cost: 1 }], ["2026-01-01"], "warm-up");
    warm = await settle();
    await fire(warmup, inputs);
    end = await settle();
  } finally {
    restoreConsole();
    process.off("uncaughtException", onEscape);
    process.off("unhandledRejection", onEscape);
  }

  const health = await fetch(`${wire.botUrl}/healthz`, { signal: AbortSignal.timeout(10_000) }).then(async (res) => ({ status: res.status, body: await res.text() }));
  const targets = await Promise.all(t.requestIds.map(async (id) => ({ id, state: (await store.getRequest(id))?.state })));
  return {
    seed,
    inputs,
    outcomes,
    failures,
    escaped,
    health,
    // Decisions by people: the bot's own closing of a pool call (a resync cancels one OpenCode does not run) is not one.
    auditRows: (await store.auditChain()).filter((row) => row.deciderPlatform === "slack" || row.deciderPlatform === "discord").length,
    targetsDecided: targets.filter((x) => x.state !== "pending").map((x) => `${x.id}: ${String(x.state)}`),
    cardsChanged: changedCards(wire),
    pending: (await store.pendingRequests()).length,
    heap: { warm, end, boundBytes: options.heapBoundBytes },
    consoleLines,
    ms: Date.now() - began,
  };
}

/** Nothing decided means no card edited either: a card says who decided, or that it closed. */
function changedCards(wire: Wire): string[] {
  const { slack, discord, targets } = wire;
  const onSlack = targets.slack.cards.flatMap((c) => {
    const history = slack.message(targets.slack.channel, c.ts)?.history ?? [];
    return history.length > 1 ? [`Slack card of ${c.requestId}, ${history.length} versions, now: ${history.at(-1)!.text.slice(0, 200)}`] : [];
  });
  const onDiscord = targets.discord.cards.flatMap((c) => {
    const history = discord.message(c.messageId)?.history ?? [];
    return history.length > 1 ? [`Discord card of ${c.requestId}, ${history.length} versions, now: ${JSON.stringify(history.at(-1)!.embeds).slice(0, 200)}`] : [];
  });
  return [...onSlack, ...onDiscord];
}

function describe(c: FuzzCase): string {
  if (c.target === "discord") return `${c.type} ${JSON.stringify(c.customId.slice(0, 120))} by ${c.userId}: ${JSON.stringify(c.payload).slice(0, 300)}`;
  if (c.target === "gate") return `auth ${JSON.stringify(c.authorization)} ${c.contentType ?? "(no type)"} ${describeBody(c.body)}`;
  if (c.via === "sim") return `card ${c.card} ${c.actionId} ${JSON.stringify(c.forge)}`;
  return `${c.contentType ?? "(no type)"} signing ${c.signing.as} ${describeBody(c.body)}`;
}

/** Counts console.warn/error lines by their first words instead of printing thousands of Bolt warnings; returns the restore. */
function tallyConsole(into: Record<string, number>): () => void {
  const { warn, error } = console;
  const tally = (...args: unknown[]) => {
    const line = args.map(String).join(" ").replace(/\d+/g, "N").slice(0, 90);
    into[line] = (into[line] ?? 0) + 1;
  };
  console.warn = tally;
  console.error = tally;
  return () => {
    console.warn = warn;
    console.error = error;
  };
}
