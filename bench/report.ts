import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { ratio, summarize, type Summary } from "./stats.ts";

export type Row = { label: string; measured: Summary; baseline?: { label: string; summary: Summary } };

const ms = (x: number) => x.toFixed(1).padStart(7);
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

/** A latency row: n, p50, p95, max, mean, and against a baseline its p50 and the ratio of the medians. */
export function row(label: string, samples: number[], baseline?: { label: string; samples: number[] }): Row {
  return { label, measured: summarize(samples), baseline: baseline && { label: baseline.label, summary: summarize(baseline.samples) } };
}

export function formatRows(rows: Row[]): string {
  const head = `${"".padEnd(34)}${"n".padStart(4)}${"p50".padStart(8)}${"p95".padStart(8)}${"max".padStart(8)}${"mean".padStart(8)}   baseline p50 (ms) · ratio p50/baseline`;
  const lines = rows.map(({ label, measured: m, baseline }) => {
    const against = baseline ? `   ${baseline.summary.p50.toFixed(1)} (${baseline.label}) · ${ratio(m, baseline.summary).toFixed(1)}×` : "";
    return `${label.padEnd(34)}${String(m.n).padStart(4)} ${ms(m.p50)} ${ms(m.p95)} ${ms(m.max)} ${ms(m.mean)}${against}`;
  });
  return [`${head}`, ...lines].join("\n");
}

/** A row for the JSON results: the figures, the baseline's p50 and the ratio of the medians. */
export function toJson({ label, measured, baseline }: Row) {
  return {
    label: label.trim(),
    ...measured,
    ...(baseline ? { baseline: baseline.label, baselineP50: baseline.summary.p50, ratioP50: ratio(measured, baseline.summary) } : {}),
  };
}

export function formatRss(rss: { before: number; started: number; after: number; peak: number }): string {
  return `harness process RSS: ${mb(rss.before)} before, ${mb(rss.started)} with the stack up, ${mb(rss.after)} after, ${mb(rss.peak)} peak (one process: bench, in-process bot, fake Slack, fake LLM; not the bot alone, and OpenCode runs in its own process, not counted)`;
}

export async function writeJson(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}
