import { csvLine } from "./csv.ts";
import type { AuditEntry } from "./types.ts";

export const AUDIT_CSV_COLUMNS = [
  "id", "request_id", "session_id", "directory", "tool", "tool_name", "decision", "decider_platform", "decider_user_id", "decider_name",
  "reason", "asked_at", "decided_at", "original_args", "edited_args", "linked_request_id",
] as const;

/** Audit rows as CSV, one line each, the arguments as JSON. */
export function auditCsv(entries: AuditEntry[]): string {
  const rows = entries.map((e) =>
    csvLine([
      e.id, e.requestId, e.sessionId, e.directory, e.tool, e.toolName, e.decision, e.decider.platform, e.decider.userId, e.decider.name,
      e.reason, e.askedAt.toISOString(), e.decidedAt.toISOString(), JSON.stringify(e.originalArgs), e.editedArgs ? JSON.stringify(e.editedArgs) : "", e.linkedRequestId,
    ]),
  );
  return [AUDIT_CSV_COLUMNS.join(","), ...rows].join("\n") + "\n";
}

/** Audit rows as JSON Lines. */
export const auditJsonl = (entries: AuditEntry[]) => entries.map((entry) => `${JSON.stringify(entry)}\n`).join("");

/** What the console's audit viewer filters on; every part optional. */
export type AuditFilter = { directory?: string; user?: string; tool?: string; decision?: string; from?: Date; to?: Date; text?: string };

/** The filter as typed in the page's query string (`project` already resolved to its directory by the caller). */
export function auditFilterOf(query: URLSearchParams, directoryOf: (project: string) => string | undefined): AuditFilter {
  const value = (key: string) => query.get(key)?.trim() || undefined;
  const date = (key: string, endOfDay = false) => {
    const text = value(key);
    if (!text || !/^\d{4}-\d{2}-\d{2}$/.test(text)) return undefined;
    const at = new Date(`${text}T00:00:00Z`);
    return endOfDay ? new Date(at.getTime() + 86_400_000) : at;
  };
  const project = value("project");
  const filter: AuditFilter = {};
  if (project) filter.directory = directoryOf(project) ?? project;
  for (const key of ["user", "tool", "decision"] as const) {
    const v = value(key);
    if (v) filter[key] = v;
  }
  const text = value("q");
  if (text) filter.text = text;
  const from = date("from");
  const to = date("to", true);
  if (from) filter.from = from;
  if (to) filter.to = to;
  return filter;
}

/** The rows that pass `filter`: the user by id or name, the decision by prefix, the text anywhere in the call, the reason or the ids. */
export function filterAudit(entries: AuditEntry[], filter: AuditFilter): AuditEntry[] {
  const text = filter.text?.toLowerCase();
  return entries.filter((entry) => {
    if (filter.directory && entry.directory !== filter.directory) return false;
    if (filter.user && entry.decider.userId !== filter.user && entry.decider.name !== filter.user) return false;
    if (filter.tool && entry.tool !== filter.tool && entry.toolName !== filter.tool) return false;
    if (filter.decision && !entry.decision.startsWith(filter.decision)) return false;
    if (filter.from && entry.decidedAt < filter.from) return false;
    if (filter.to && entry.decidedAt >= filter.to) return false;
    if (text) {
      const haystack = [entry.requestId, entry.sessionId, entry.reason ?? "", JSON.stringify(entry.originalArgs), JSON.stringify(entry.editedArgs ?? {})].join("\n").toLowerCase();
      if (!haystack.includes(text)) return false;
    }
    return true;
  });
}
