import type { TopLevelSpec } from "vega-lite";

/** Spend of one project on one day. */
export type DailySpend = { day: string; project: string; cost: number };

export const CHART_SIZE = { width: 900, height: 450 };

/**
 * Spend per day by project as stacked bars, a PNG of CHART_SIZE: a Vega-Lite spec rendered to SVG by
 * Vega (no browser, no canvas) and to PNG by resvg (its native part comes from the npm registry).
 */
export async function spendChart(rows: DailySpend[], days: string[], title: string): Promise<Uint8Array> {
  const spec: TopLevelSpec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: CHART_SIZE.width - 170,
    height: CHART_SIZE.height - 110,
    background: "white",
    padding: 12,
    data: { values: rows },
    mark: "bar",
    encoding: {
      // Every day of the period, spent or not.
      x: { field: "day", type: "ordinal", title: "Day", scale: { domain: days }, axis: { labelAngle: days.length > 10 ? -45 : 0 } },
      y: { field: "cost", type: "quantitative", aggregate: "sum", title: "US dollars", axis: { format: "$,.4~f" } },
      color: { field: "project", type: "nominal", title: "Project" },
    },
    config: { font: "DejaVu Sans, Liberation Sans, Arial, sans-serif" },
  };
  // Loaded on the first chart, not at start (Vega alone takes ~100 ms to import).
  const [{ Resvg }, { parse, View }, { compile }] = await Promise.all([import("@resvg/resvg-js"), import("vega"), import("vega-lite")]);
  const view = new View(parse(compile(spec).spec), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  const png = new Resvg(svg, { fitTo: { mode: "width", value: CHART_SIZE.width }, background: "white", font: { loadSystemFonts: true } }).render().asPng();
  return new Uint8Array(png);
}
