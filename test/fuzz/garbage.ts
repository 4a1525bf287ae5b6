/**
 * The raw material every fuzz target draws from: odd strings (control characters, NUL, lone
 * surrogates, right-to-left marks, mrkdwn and Markdown that could inject), big strings, ids that look
 * almost right, and bodies of a few megabytes kept as a size until they are sent.
 */
import fc from "fast-check";

/** A body too big to keep thousands of in memory: `fill` repeated to at least `huge` bytes, made when it is sent. */
export type Huge = { huge: number; fill: string };
export type Body = string | Huge;

export const isHuge = (body: Body): body is Huge => typeof body !== "string";
const repeats = (h: Huge) => Math.ceil(h.huge / Buffer.byteLength(h.fill));
export const bodyText = (body: Body): string => (isHuge(body) ? body.fill.repeat(repeats(body)) : body);
export const bodyBytes = (body: Body): number => (isHuge(body) ? repeats(body) * Buffer.byteLength(body.fill) : Buffer.byteLength(body));
export const describeBody = (body: Body): string => (isHuge(body) ? `<${body.huge} bytes of ${JSON.stringify(body.fill.slice(0, 12))}>` : JSON.stringify(body.slice(0, 160)));

const nasty = fc.constantFrom(
  "\u0000",
  "\u0000\u0001\u001f",
  "\ud800",
  "\udfff\ud800",
  "\u202e",
  "\ufeff",
  "\r\n",
  "%00",
  "%",
  "&amp;&lt;&gt;",
  "<@U0ALICE>",
  "<!channel>",
  "<!subteam^S0LEADS>",
  "@everyone",
  "```",
  "*_~`>",
  "${process.exit()}",
  "'; drop table audit_log; --",
  "../../etc/passwd",
  "__proto__",
  "constructor",
  "approval:once:",
  "gate_",
  "🧨",
  "e\u0301",
  "\u00a0",
);

/** A short string of anything, with the characters that break parsers, stores and renderers over-represented. */
export const oddString = (maxLength = 40): fc.Arbitrary<string> =>
  fc
    .array(fc.oneof({ weight: 3, arbitrary: fc.string({ unit: "grapheme", maxLength: 8 }) }, { weight: 2, arbitrary: nasty }, fc.string({ unit: "binary", maxLength: 4 })), {
      maxLength: Math.max(1, Math.ceil(maxLength / 6)),
    })
    .map((parts) => parts.join("").slice(0, maxLength));

/** A string of `min`..`max` characters repeating a short odd piece: oversized without costing the generator. */
export const bigString = (min: number, max: number): fc.Arbitrary<string> =>
  fc.tuple(fc.integer({ min, max }), oddString(12).filter((s) => s.length > 0)).map(([length, piece]) => piece.repeat(Math.ceil(length / piece.length)).slice(0, length));

/** Either an odd string or, now and then, a big one. */
export const anyString = (bigMax = 20_000): fc.Arbitrary<string> =>
  fc.oneof({ weight: 8, arbitrary: oddString() }, { weight: 1, arbitrary: bigString(1_000, bigMax) });

/** A body of `min`..`max` bytes (kept as a size), of something that is not the expected format. */
export const hugeBody = (min: number, max: number): fc.Arbitrary<Huge> =>
  fc.record({ huge: fc.integer({ min, max }), fill: fc.constantFrom("A", "{", "[", "payload=%7B", "\"", "é", "\u0000") });

/** A real id changed just enough to name nothing: a character swapped, cut, doubled, padded or cased. */
export const tampered = (ids: readonly string[]): fc.Arbitrary<string> =>
  fc
    .tuple(fc.constantFrom(...ids), fc.nat(), fc.constantFrom("swap", "cut", "append", "prefix", "case", "space", "nul"))
    .map(([id, at, how]) => {
      const i = at % Math.max(1, id.length);
      switch (how) {
        case "swap":
          return id.slice(0, i) + (id[i] === "x" ? "y" : "x") + id.slice(i + 1);
        case "cut":
          return id.slice(0, i);
        case "append":
          return `${id}${id.slice(i)}`;
        case "prefix":
          return `0${id}`;
        case "case":
          return id.toUpperCase() === id ? id.toLowerCase() : id.toUpperCase();
        case "space":
          return ` ${id} `;
        default:
          return `${id}\u0000`;
      }
    })
    .filter((id) => !ids.includes(id));

/** Any JSON value, shallow or deep, with odd strings in it. */
export const anyJson: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 4, stringUnit: "grapheme" });
