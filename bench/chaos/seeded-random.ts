/** A small seeded generator (mulberry32), so that a run's choices can be replayed with `--seed`. */
export type Random = () => number;

export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Waits `ms`: only for the deliberate moments of chaos (when to kill, how long an outage lasts), never to wait for a result. */
export const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
