/**
 * The targets of issue #18, each a figure beside its limit: for the final table and the JSON. A
 * row says whether the figure met its target; the bench only reports it, it never fails on it.
 */
export type TargetRow = {
  measure: string;
  /** What was measured, as printed (with its context: the baseline, the spread, the size). */
  figure: string;
  target: string;
  /** Undefined when the figure could not be measured in this run. */
  met?: boolean;
  value?: number;
  limit?: number;
  unit?: string;
};

/** A row for a figure that must not exceed `limit`. */
export function atMost(measure: string, value: number, limit: number, unit: string, figure = `${round(value)} ${unit}`): TargetRow {
  return { measure, figure, target: `≤ ${round(limit)} ${unit}`, met: value <= limit, value, limit, unit };
}

/** A row for a figure that must reach at least `limit`. */
export function atLeast(measure: string, value: number, limit: number, unit: string, figure = `${round(value)} ${unit}`): TargetRow {
  return { measure, figure, target: `≥ ${round(limit)} ${unit}`, met: value >= limit, value, limit, unit };
}

/** A row for a target this run did not measure, and why. */
export function notMeasured(measure: string, target: string, why: string): TargetRow {
  return { measure, figure: `not measured: ${why}`, target };
}

export function formatTargets(rows: TargetRow[]): string {
  const table = [["measure", "figure", "target", "met"], ...rows.map((r) => [r.measure, r.figure, r.target, r.met === undefined ? "—" : r.met ? "yes" : "no"])];
  const widths = [0, 1, 2].map((i) => Math.max(...table.map((cells) => cells[i]!.length)));
  return table.map((cells) => cells.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell)).join("  ")).join("\n");
}

/** Whole numbers (grouped: 20,000) from 100 up, one decimal below. */
export function round(x: number): string {
  return Math.abs(x) >= 100 ? Math.round(x).toLocaleString("en-US") : x.toFixed(1);
}
