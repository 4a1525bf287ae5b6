import type { SessionRow } from "../../src/core/session-commands.ts";
import { escapeHtml } from "./render.ts";

/** `/sessions`: each session started from chat with its state, owner, cost so far and a link to its thread. */
export function sessionsPage(rows: SessionRow[]): string {
  if (rows.length === 0) return `<h1>Sessions</h1><p class="empty">No sessions started from chat yet.</p>`;
  const body = rows
    .map(
      (row) =>
        `<tr data-session="${escapeHtml(row.sessionId)}"><td>${escapeHtml(row.title)}</td><td>${escapeHtml(row.project)}</td><td class="state">${escapeHtml(row.state)}</td><td>${escapeHtml(row.owner)} <small>${escapeHtml(row.platform)}</small></td><td>${escapeHtml(row.cost)}</td><td>${row.link ? `<a href="${escapeHtml(row.link)}">thread</a>` : ""}</td></tr>`,
    )
    .join("");
  return `<h1>Sessions</h1><div class="scroll"><table class="audit"><thead><tr><th>Session</th><th>Project</th><th>State</th><th>Started by</th><th>Cost so far</th><th></th></tr></thead><tbody>${body}</tbody></table></div>`;
}

/** `/costs`: the same report as `/opencode costs`, for the period and project asked, with the chart of spend per day. */
export function costsPage(report: { text: string; chart?: { png: Uint8Array; title: string } }, query: URLSearchParams): string {
  const value = (key: string) => escapeHtml(query.get(key) ?? "");
  const form = `<form class="filters" method="get" action="/costs"><label>Period <input name="period" value="${value("period")}" placeholder="today, week, month, 2026-11-01..2026-11-30"></label><label>Project <input name="project" value="${value("project")}"></label><button>Show</button></form>`;
  const chart = report.chart ? `<img class="chart" alt="${escapeHtml(report.chart.title)}" src="data:image/png;base64,${Buffer.from(report.chart.png).toString("base64")}">` : "";
  return `<h1>Costs</h1>${form}<pre class="report">${escapeHtml(report.text)}</pre>${chart}`;
}
