/**
 * A V8 CPU profile (`node --cpu-prof`) summed by where the code lives: node's own (module loading
 * among it), tsx, each package, the bot's src/ and adapters/, wasm (PGlite's Postgres), and V8's
 * (program), (garbage collector) and (idle): the last is waiting, not working.
 */
import { readFileSync } from "node:fs";

type ProfileNode = { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] };
type Profile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };

export type ProfileSummary = {
  /** The part of the profile summed, from its start. */
  windowMs: number;
  byPlace: Array<{ place: string; ms: number }>;
  topFunctions: Array<{ fn: string; place: string; ms: number }>;
};

/** Where a function's code lives, for grouping. */
export function placeOf(url: string, functionName: string): string {
  if (url === "") return functionName.startsWith("(") ? functionName : "native / node builtins";
  if (url.startsWith("node:")) return url.startsWith("node:internal/modules") ? "node module loader" : "node builtins";
  if (url.startsWith("wasm://")) return "wasm (PGlite)";
  const modules = url.lastIndexOf("/node_modules/");
  if (modules >= 0) {
    const rest = url.slice(modules + "/node_modules/".length).split("/");
    return rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  for (const dir of ["/src/", "/adapters/", "/bench/", "/test/"]) if (url.includes(dir)) return `own code ${dir.slice(1, -1)}/`;
  return url;
}

/** Self time summed by place over the first `windowMs` of the profile (all of it by default). */
export function summarizeProfile(path: string, windowMs = Infinity): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  let at = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i]!;
    if (at / 1000 > windowMs) break;
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
  }
  const places = new Map<string, number>();
  const functions = new Map<string, { place: string; us: number }>();
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const place = placeOf(url, functionName);
    places.set(place, (places.get(place) ?? 0) + us);
    const key = `${functionName || "(anonymous)"} ${url.split("/").slice(-2).join("/")}:${lineNumber + 1}`;
    const entry = functions.get(key) ?? { place, us: 0 };
    entry.us += us;
    functions.set(key, entry);
  }
  const ms = (us: number) => Math.round(us / 100) / 10;
  return {
    windowMs: Math.min(windowMs, (profile.endTime - profile.startTime) / 1000),
    byPlace: [...places].sort(([, a], [, b]) => b - a).map(([place, us]) => ({ place, ms: ms(us) })),
    topFunctions: [...functions]
      .sort(([, a], [, b]) => b.us - a.us)
      .slice(0, 12)
      .map(([fn, { place, us }]) => ({ fn, place, ms: ms(us) })),
  };
}
