import { argsDiff } from "../../src/core/args-diff.ts";
import type { ChainCheck } from "../../src/core/audit-chain.ts";
import { formatWait } from "../../src/core/card-text.ts";
import type { AuditEntry } from "../../src/core/types.ts";
import { escapeHtml } from "./render.ts";

const DECISIONS = ["approved_once", "approved_always", "edited", "rejected", "expired", "answered", "answered_elsewhere", "cancelled", "approval", "escalated", "reply_failed"];

/** What a row's call was: its command, its file, or its arguments. */
function callOf(entry: AuditEntry): string {
  const args = entry.originalArgs;
  if (typeof args.command === "string") return args.command;
  const file = args.filePath ?? args.filepath;
  return typeof file === "string" ? file : JSON.stringify(args);
}

/** The chain's state as a badge: intact, or where it breaks. */
function badge(check: ChainCheck): string {
  if (check.broken) return `<p class="badge broken">Audit chain broken at row ${check.broken.id}: ${escapeHtml(check.broken.problem)}</p>`;
  const legacy = check.unchained > 0 ? ` (${check.unchained} older rows carry no hash)` : "";
  return `<p class="badge intact">Audit chain intact: ${check.rows} rows${legacy}</p>`;
}

/** `/audit`: every decision with who, when, tool, the call or the edit as a diff, the reason and the time waited; filters, search, export. */
export function auditPage(entries: AuditEntry[], query: URLSearchParams, check: ChainCheck): string {
  const value = (key: string) => escapeHtml(query.get(key) ?? "");
  const input = (key: string, label: string, type = "text") => `<label>${label} <input type="${type}" name="${key}" value="${value(key)}"></label>`;
  const options = DECISIONS.map((d) => `<option value="${d}"${query.get("decision") === d ? " selected" : ""}>${d.replaceAll("_", " ")}</option>`).join("");
  const filters = `<form class="filters" method="get" action="/audit">${input("project", "Project")}${input("user", "User")}${input("tool", "Tool")}<label>Decision <select name="decision"><option value="">any</option>${options}</select></label>${input("from", "From", "date")}${input("to", "To", "date")}${input("q", "Search")}<button>Filter</button></form>`;
  const exports = `<p class="exports">Export what is shown: <a href="/audit.csv?${escapeHtml(query.toString())}">CSV</a> · <a href="/audit.jsonl?${escapeHtml(query.toString())}">JSONL</a></p>`;
  const rows = entries
    .map((entry) => {
      const change = entry.editedArgs && entry.decision !== "answered" ? `<pre class="body diff">${escapeHtml(argsDiff(entry.originalArgs, entry.editedArgs))}</pre>` : "";
      return `<tr data-request="${escapeHtml(entry.requestId)}"><td>${entry.decidedAt.toISOString().slice(0, 19).replace("T", " ")}</td><td>${escapeHtml(entry.decider.name)} <small>${escapeHtml(entry.decider.platform)}</small></td><td>${escapeHtml(entry.toolName ?? entry.tool)}</td><td class="decision">${escapeHtml(entry.decision)}</td><td><code>${escapeHtml(callOf(entry))}</code>${change}</td><td>${escapeHtml(entry.reason ?? "")}</td><td>${formatWait(entry.decidedAt.getTime() - entry.askedAt.getTime())}</td></tr>`;
    })
    .join("");
  const table = entries.length
    ? `<div class="scroll"><table class="audit"><thead><tr><th>When (UTC)</th><th>Who</th><th>Tool</th><th>Decision</th><th>Command or change</th><th>Reason</th><th>Waited</th></tr></thead><tbody>${rows}</tbody></table></div>`
    : `<p class="empty">No decisions match.</p>`;
  return `<h1>Audit</h1>${badge(check)}${filters}${exports}<p>${entries.length} row${entries.length === 1 ? "" : "s"}</p>${table}`;
}
