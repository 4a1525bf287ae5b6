export type Summary = { n: number; p50: number; p95: number; p99: number; max: number; mean: number };

/** Nearest-rank percentiles (p95 of 20 samples is the 19th smallest, p99 of 20 the largest), max and mean, in the samples' unit. */
export function summarize(samples: number[]): Summary {
  if (samples.length === 0) throw new Error("summarize: no samples");
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
  const mean = sorted.reduce((sum, x) => sum + x, 0) / sorted.length;
  return { n: sorted.length, p50: rank(50), p95: rank(95), p99: rank(99), max: sorted.at(-1)!, mean };
}

/** How many times the baseline's median the measured median is. */
export function ratio(measured: Summary, baseline: Summary): number {
  return measured.p50 / Math.max(baseline.p50, 0.001);
}
