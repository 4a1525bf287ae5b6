/**
 * `npm run fuzz`: the fuzzer at full size (10,000 inputs across Slack, Discord and the plugin's gate)
 * against one bot on the real `opencode serve`. Prints the outcomes per target and kind, the heap
 * after the warm-up and at the end, and every property that failed; exits non-zero if one did.
 * FUZZ_INPUTS and FUZZ_SEED change the size and the seed; FUZZ_LOG_LEVEL shows the bot's log.
 */
import { startOpencodeFixture, type OpencodeFixture } from "../test/support/opencode-fixture.ts";
import type { Stack } from "../test/support/stack.ts";
import { prepareTargets, startFuzzStack } from "../test/fuzz/fuzz-stack.ts";
import { mb } from "../test/fuzz/heap.ts";
import { passed, runFuzz, type FuzzReport } from "../test/fuzz/run-fuzz.ts";

const INPUTS = Number(process.env.FUZZ_INPUTS ?? 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const TARGETS = process.env.FUZZ_TARGETS?.split(",").map((t) => t.trim()) as Array<"slack" | "discord" | "gate"> | undefined;
/** See test/fuzz.test.ts for why 16 MB. */
const HEAP_BOUND = 16 * 1024 * 1024;
/** The two targets, and the gate pool: 2 sessions × 3 calls. */
const MAX_PENDING = 8;

const log = (line = "") => console.log(line);

function print(r: FuzzReport): void {
  log(`\n${r.inputs} inputs, seed ${r.seed}, in ${(r.ms / 1000).toFixed(1)} s`);
  const perTarget: Record<string, number> = {};
  for (const [key, outcomes] of Object.entries(r.outcomes)) {
    const target = key.split(" ")[0]!;
    perTarget[target] = (perTarget[target] ?? 0) + Object.values(outcomes).reduce((a, b) => a + b, 0);
  }
  log(`per target: ${Object.entries(perTarget).map(([k, v]) => `${k} ${v}`).join(", ")}`);
  for (const key of Object.keys(r.outcomes).sort()) {
    const counts = Object.entries(r.outcomes[key]!).sort(([a], [b]) => a.localeCompare(b)).map(([outcome, n]) => `${outcome} ×${n}`);
    log(`  ${key.padEnd(34)} ${counts.join(", ")}`);
  }
  const growth = r.heap.end.heapUsed - r.heap.warm.heapUsed;
  log(`\nheap used after warm-up ${mb(r.heap.warm.heapUsed)}, at the end ${mb(r.heap.end.heapUsed)} (${growth >= 0 ? "+" : ""}${mb(growth)}, bound +${mb(r.heap.boundBytes)})`);
  log(`rss after warm-up ${mb(r.heap.warm.rss)}, at the end ${mb(r.heap.end.rss)}`);
  log(`healthz ${r.health.status}; audit rows ${r.auditRows}; targets decided ${r.targetsDecided.length}; pending requests ${r.pending} (at most ${MAX_PENDING})`);
  const lines = Object.entries(r.consoleLines).sort(([, a], [, b]) => b - a);
  if (lines.length) log(`console lines (Bolt's warnings, mostly):\n${lines.slice(0, 12).map(([l, n]) => `  ×${n} ${l}`).join("\n")}`);
  for (const c of r.cardsChanged) log(`CARD CHANGED: ${c}`);
  for (const e of r.escaped.slice(0, 10)) log(`ESCAPED: ${e}`);
  for (const f of r.failures.slice(0, 30)) log(`FAILED #${f.index} ${f.target} ${f.kind}: ${f.why}\n    ${f.input}`);
  if (r.failures.length > 30) log(`… and ${r.failures.length - 30} more failures`);
}

async function main(): Promise<number> {
  let fixture: OpencodeFixture | undefined;
  let stack: Stack | undefined;
  try {
    fixture = await startOpencodeFixture();
    stack = await startFuzzStack(fixture, process.env.FUZZ_LOG_LEVEL ?? "silent");
    const wire = await prepareTargets(stack, 10_000);
    log(`opencode-chatops fuzz: ${INPUTS} inputs, seed ${SEED} (FUZZ_SEED=${SEED} replays it); bot on port ${stack.bot.port}, ${wire.targets.requestIds.length} target requests pending`);
    const report = await runFuzz(wire, stack.bot.store!, { inputs: INPUTS, seed: SEED, heapBoundBytes: HEAP_BOUND, ...(TARGETS ? { targets: TARGETS } : {}) });
    print(report);
    const ok = passed(report, MAX_PENDING);
    log(ok ? "\nall properties held" : "\nPROPERTIES FAILED");
    return ok ? 0 : 1;
  } finally {
    await stack?.stop();
    await fixture?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
