/** The counts of every scenario side by side, a row per count, and what went wrong below them. */
import type { ScenarioResult } from "./drive.ts";

const ROWS: Array<[string, (r: ScenarioResult) => string | number]> = [
  ["requests", (r) => r.counts.requests],
  ["replied once", (r) => r.counts.repliedOnce],
  ["replied twice (must be 0)", (r) => r.counts.repliedTwice],
  ["pending with its card", (r) => r.counts.pendingWithCard],
  ["lost (must be 0)", (r) => r.counts.lost],
  ["replies without audit row (must be 0)", (r) => r.counts.noAudit],
  ["clicks", (r) => r.counts.clicks],
  ["  refused (bot down or starting)", (r) => r.counts.clicksRefused - r.counts.clicksRefusedByLiveBot],
  ["  refused by a bot that was up (must be 0)", (r) => r.counts.clicksRefusedByLiveBot],
  ["  lost to a kill", (r) => r.counts.clicksLostToKill],
  ["  unanswered (must be 0)", (r) => r.counts.clicksUnanswered],
  ["requests without a card", (r) => r.counts.cardless],
  ["requests with 2+ cards", (r) => r.counts.duplicateCards],
  ["messages showing a card twice (must be 0)", (r) => r.counts.repeatedCards],
  ["answered, card still offers buttons", (r) => r.counts.staleCards],
  ["thread problems", (r) => r.counts.threadProblems],
  ["kills", (r) => r.counts.kills],
  ["restarts", (r) => r.counts.restarts],
  ["time taken (s)", (r) => r.counts.seconds.toFixed(0)],
];

export function formatTable(results: ScenarioResult[]): string {
  const extras = [...new Set(results.flatMap((r) => Object.keys(r.extra)))];
  const rows: string[][] = [
    ["", ...results.map((r) => r.name)],
    ...ROWS.map(([label, value]) => [label, ...results.map((r) => String(value(r)))]),
    ...extras.map((key) => [key, ...results.map((r) => String(r.extra[key] ?? ""))]),
    ["verdict", ...results.map((r) => (r.problems.length === 0 ? "ok" : `FAILED (${r.problems.length})`))],
  ];
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
  return rows.map((row) => row.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!))).join("  ")).join("\n");
}

export function formatFindings(results: ScenarioResult[], shown = 25): string {
  const lines: string[] = [];
  for (const r of results) {
    for (const w of r.warnings.slice(0, shown)) lines.push(`${r.name}: warning: ${w}`);
    if (r.warnings.length > shown) lines.push(`${r.name}: … and ${r.warnings.length - shown} more warnings`);
    if (r.problems.length === 0) {
      if (r.logFile) lines.push(`${r.name}: the bots' log and data: ${r.logFile}`);
      continue;
    }
    lines.push(`${r.name}: FAILED, ${r.problems.length} problem(s)${r.logFile ? `; the bots' log and data: ${r.logFile}` : ""}`);
    lines.push(...r.problems.slice(0, shown).map((p) => `  ${p}`));
    if (r.problems.length > shown) lines.push(`  … and ${r.problems.length - shown} more`);
  }
  return lines.join("\n");
}
