/**
 * Requests for `POST /opencode/gate`: a wrong or missing bearer token (forged), bodies that are not
 * JSON or over the 1 MB limit, calls that break the schema, and valid-token calls with random
 * directories, ids and arguments. A gated tool's valid call draws its session and call ids from
 * the targets' pool (or ids no store could keep), so the run makes a bounded number of cards.
 */
import fc from "fast-check";
import { anyJson, anyString, bigString, hugeBody, oddString, type Body } from "./garbage.ts";
import type { FuzzTargets } from "./fuzz-targets.ts";

export type GateCase = { target: "gate"; kind: string; forged: boolean; authorization?: string; contentType?: string; body: Body; wantStatus: number[] };

/** The gate's body limit (src/gate-route.ts MAX_BODY_BYTES). */
export const GATE_BODY_LIMIT = 1024 * 1024;
/** Stands for `Bearer <CHATOPS_TOKEN>`, put in at send time. */
export const GOOD_TOKEN = "@good-token";

const GATED = ["bash", "write", "edit"];
/** Whether Postgres can keep the string in text and jsonb: no NUL, no lone UTF-16 surrogate. */
const keepable = (s: string) => !/\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
const keepableDeep = (v: unknown): boolean =>
  typeof v === "string" ? keepable(v) : typeof v !== "object" || v === null || Object.entries(v).every(([k, x]) => keepable(k) && keepableDeep(x));

export function gateCases(t: FuzzTargets): fc.Arbitrary<GateCase> {
  const { sessions, calls } = t.gatePool;
  const directory = fc.oneof(fc.constantFrom("/tmp/fuzz-project", "/", "C:\\work", "relative/dir", "/tmp/../etc"), anyString(), bigString(1_000, 50_000)).filter((d) => d.length > 0);
  const args = fc.oneof(
    fc.record({ command: anyString(100_000), description: fc.option(oddString(), { nil: undefined }) }),
    fc.record({ filePath: anyString(), content: anyString(100_000) }),
    fc.record({ filePath: anyString(), oldString: anyString(), newString: anyString() }),
    fc.dictionary(oddString(20), anyJson, { maxKeys: 6 }),
  );
  // Ungated tools pass at once (no record), so their ids may be anything the schema takes: what Postgres can keep, 256 characters.
  const storable = (max: number) => fc.oneof({ weight: 8, arbitrary: oddString() }, bigString(1, max)).filter((s) => s.length > 0 && s.length <= max && keepable(s));
  const ungated = fc.record({
    directory: fc.oneof(directory, storable(4096)).filter((d) => d.length <= 4096 && keepable(d)),
    sessionID: storable(256),
    callID: storable(256),
    tool: fc.oneof(fc.constantFrom("read", "glob", "grep", "webfetch", "todowrite", "Bash", "BASH", "bash "), oddString().filter((s) => s.length > 0 && !GATED.includes(s) && keepable(s))),
    args: args.filter(keepableDeep),
    wait: fc.option(fc.integer({ min: 0, max: 50 }), { nil: undefined }),
  });
  // Gated tools: pooled ids, or ids with NUL or of a size no key should hold.
  const gatedId = (pool: string[]) => fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...pool) }, fc.constantFrom(...pool).map((id) => `${id}\u0000`), bigString(3_000, 200_000));
  // Mostly what the store keeps (a card follows), now and then what it cannot (refused 400).
  const mostlyKeepable = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 3, arbitrary: arb.filter(keepableDeep) }, arb);
  const gated = fc.record({ directory: mostlyKeepable(directory), sessionID: gatedId(sessions), callID: gatedId(calls), tool: fc.constantFrom(...GATED), args: mostlyKeepable(args), wait: fc.option(fc.integer({ min: 0, max: 50 }), { nil: undefined }) });
  // Each breaks the schema on purpose: a field missing, empty, of another type, or wait out of range.
  const broken = fc.tuple(gated, fc.constantFrom("directory", "sessionID", "callID", "tool", "args", "wait"), fc.constantFrom("missing", "empty", "number", "null", "array", "object")).map(([call, field, how]) => {
    const value = { missing: undefined, empty: "", number: field === "wait" ? -1 : 42, null: null, array: [], object: { x: 1 } }[how];
    const changed: Record<string, unknown> = { ...call, [field]: value };
    if (field === "wait" && (how === "missing" || how === "null")) changed.wait = 25_001;
    if (field === "args" && how === "object") changed.args = "not an object";
    return changed;
  });

  const token = fc.oneof(fc.constant(undefined), fc.constantFrom("Bearer", "Bearer ", "bearer test-chatops-token-0123456789", "Basic dGVzdDp0ZXN0", "Bearer test-chatops-token-012345678", "Bearer test-chatops-token-01234567890"), oddString(60).map((s) => `Bearer ${s}`));
  const json = (v: unknown) => JSON.stringify(v);
  // With the right token, a body over the gate's limit is refused 413 whatever else is wrong with it
  // (ids of 200,000 control characters are 1.2 MB of JSON).
  const good = (kind: string, body: fc.Arbitrary<Body>, wantStatus: number[], contentType = fc.constant<string | undefined>("application/json")) =>
    fc.record({ target: fc.constant("gate" as const), kind: fc.constant(kind), forged: fc.constant(false), authorization: fc.constant(GOOD_TOKEN), contentType, body }).map((c) => ({
      ...c,
      wantStatus: typeof c.body === "string" && Buffer.byteLength(c.body) > GATE_BODY_LIMIT && !wantStatus.includes(413) ? [413] : wantStatus,
    }));

  return fc.oneof(
    // Forged: a wrong or missing token is refused before the body is read.
    { weight: 4, arbitrary: fc.record({ target: fc.constant("gate" as const), kind: fc.constant("bad-token"), forged: fc.constant(true), authorization: token, contentType: fc.constant("application/json"), body: fc.oneof(gated.map(json), fc.constant("{")), wantStatus: fc.constant<number[]>([401]) }) },
    { weight: 1, arbitrary: fc.record({ target: fc.constant("gate" as const), kind: fc.constant("bad-token-huge"), forged: fc.constant(true), authorization: token, contentType: fc.constant("application/json"), body: hugeBody(GATE_BODY_LIMIT + 1, 3_000_000), wantStatus: fc.constant<number[]>([401]) }) },
    // Valid token, malformed: 400, or 413 for a body over the limit.
    { weight: 2, arbitrary: good("not-json", fc.oneof(anyString(), fc.constant(""), gated.map(json).map((b) => b.slice(0, Math.max(0, b.length - 1)))), [400], fc.constantFrom("application/json", "text/plain", undefined)) },
    { weight: 1, arbitrary: good("oversized", fc.oneof(hugeBody(GATE_BODY_LIMIT + 1, 4_000_000), fc.integer({ min: GATE_BODY_LIMIT + 1, max: 2_000_000 }).map((n) => json({ directory: "/tmp", sessionID: sessions[0], callID: calls[0], tool: "bash", args: { command: "x".repeat(n) } }))), [400, 413]) },
    { weight: 3, arbitrary: good("schema-violation", fc.oneof(broken.map(json), anyJson.map(json)), [400]) },
    { weight: 3, arbitrary: good("ungated-call", ungated.map(json), [200]) },
    { weight: 3, arbitrary: good("gated-call", gated.map(json), [200, 400]) },
  );
}
