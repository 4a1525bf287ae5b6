import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prepareTargets, startFuzzStack } from "./fuzz/fuzz-stack.ts";
import { mb } from "./fuzz/heap.ts";
import { GOOD_TOKEN } from "./fuzz/gate-cases.ts";
import { runFuzz } from "./fuzz/run-fuzz.ts";
import { sendCase, type Wire } from "./fuzz/send-case.ts";
import type { Stack } from "./support/stack.ts";
import { sharedOpencode } from "./support/stack-per-test.ts";

// `npm run fuzz` (bench/fuzz.ts) runs the same at 10,000 inputs; FUZZ_SEED replays a run.
const INPUTS = Number(process.env.FUZZ_INPUTS ?? 300);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
/**
 * Growth allowed from after the warm-up to the end, with the fakes' transcripts emptied at both
 * points. What the bot legitimately keeps grows by far less: the Slack event ids it dedupes (tens of
 * bytes each), the names of the few users the cases draw from, at most 4 more pending requests and
 * their cards; the fake Discord's resume backlog (capped at 1,000 dispatches) fills up too. 16 MB is
 * above that and GC noise, and below what a leak leaves: 1.7 KB per input over the full run, or a
 * fraction of the megabyte bodies, each of which is sent once.
 */
const HEAP_BOUND = 16 * 1024 * 1024;
/** The two targets, and the gate pool: 2 sessions × 3 calls. */
const MAX_PENDING = 8;

describe("fuzzing Slack's door, Discord's gateway and the plugin's gate", () => {
  const opencode = sharedOpencode();
  let stack: Stack | undefined;
  let wire: Wire;
  beforeAll(async () => {
    stack = await startFuzzStack(opencode());
    wire = await prepareTargets(stack, 10_000);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it(`${INPUTS} malformed, oversized and forged inputs: each refused or answered without a 5xx, nothing decided, nothing escaped, heap flat`, async () => {
    const report = await runFuzz(wire, stack!.bot.store!, { inputs: INPUTS, seed: SEED, heapBoundBytes: HEAP_BOUND, warmup: 100 });
    const context = `seed ${SEED} (FUZZ_SEED=${SEED} replays it); heap ${mb(report.heap.warm.heapUsed)} → ${mb(report.heap.end.heapUsed)}`;
    expect(report.failures, context).toEqual([]);
    expect(report.escaped, context).toEqual([]);
    expect(report.health.status, report.health.body).toBe(200);
    expect({ auditRows: report.auditRows, targetsDecided: report.targetsDecided, cardsChanged: report.cardsChanged }, context).toEqual({ auditRows: 0, targetsDecided: [], cardsChanged: [] });
    expect(report.pending).toBeLessThanOrEqual(MAX_PENDING);
    expect(report.heap.end.heapUsed - report.heap.warm.heapUsed, context).toBeLessThanOrEqual(HEAP_BOUND);
    // Not vacuous: each door got forged and malformed inputs.
    const kinds = Object.keys(report.outcomes);
    for (const key of ["slack forged-click", "slack block_actions", "discord button", "gate bad-token", "gate schema-violation"]) expect(kinds, context).toContain(key);
  }, 120_000);

  it("the inputs the fuzzer found bugs with: a signed JSON null, a payload Bolt cannot route, a gate body over 1 MB, what the store cannot keep", async () => {
    const slack = (contentType: string, body: string) => sendCase({ target: "slack", via: "http", kind: "found", forged: false, contentType, body, signing: { as: "valid" } }, wire);
    const gate = (body: string) => sendCase({ target: "gate", kind: "found", forged: false, authorization: GOOD_TOKEN, contentType: "application/json", body, wantStatus: [] }, wire);
    const call = { directory: "/tmp/fuzz-project", sessionID: "ses_fuzz_a", callID: "call_1", tool: "bash", args: { command: "echo found" } };
    // Bolt threw outside any handler (an unhandled rejection: `npm start` exits) and never answered.
    expect(await slack("application/json", "null")).toBe("400");
    expect(await slack("application/x-www-form-urlencoded", "payload=null")).toBe("400");
    // Bolt failed before any listener (no `user`): a 500.
    expect(await slack("application/x-www-form-urlencoded", new URLSearchParams({ payload: JSON.stringify({ type: "block_actions", actions: [] }) }).toString())).toBe("400");
    // The gate destroyed the socket: a reset, not an answer.
    expect(await gate(JSON.stringify({ ...call, args: { command: "x".repeat(1024 * 1024) } }))).toBe("413");
    // The store failed (503, which the plugin retries) on a NUL, a lone surrogate, a key too long to index.
    expect(await gate(JSON.stringify({ ...call, callID: "call_1\u0000" }))).toBe("400");
    expect(await gate(JSON.stringify({ ...call, args: { command: "\udfff" } }))).toBe("400");
    expect(await gate(JSON.stringify({ ...call, sessionID: "s".repeat(3000) }))).toBe("400");
    expect((await fetch(`${wire.botUrl}/healthz`)).status).toBe(200);
    expect((await stack!.bot.store!.auditChain()).filter((row) => row.deciderPlatform !== "opencode")).toEqual([]);
  });
});
