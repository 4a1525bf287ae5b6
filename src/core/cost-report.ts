/**
 * What was spent and decided in a period, as numbers (`summarize`, pure) and as the words every
 * platform shows (`reportText`): `/opencode costs` and the digest are both made of it.
 */
import type { LedgerEntry } from "./ledger.ts";
import type { Period } from "./periods.ts";
import { money } from "./progress.ts";
import { QUESTION, type AuditEntry } from "./types.ts";

export type Amount = { cost: number; tokens: number };
export type Ranked = Array<{ name: string } & Amount>;
export type SessionCost = { sessionId: string; title: string; project: string; user: string; link?: string } & Amount;

export type CostSummary = {
  period: Period;
  project?: string;
  total: Amount;
  byUser: Ranked;
  byProject: Ranked;
  byModel: Ranked;
  /** The most expensive sessions, most first. */
  sessions: SessionCost[];
  approvals: { approved: number; rejected: number; expired: number; medianMs?: number; slowestMs?: number };
};

/** How many names a ranking shows before "others". */
export const TOP = 5;

const tokensOf = (entry: LedgerEntry) => entry.tokens.input + entry.tokens.output + entry.tokens.reasoning + entry.tokens.cacheRead + entry.tokens.cacheWrite;
const APPROVED = new Set(["approved_once", "approved_always", "edited"]);

/** Sums the period's ledger rows and decisions; `describeSession` names a session and links its thread. */
export function summarize(input: {
  period: Period;
  project?: string;
  entries: LedgerEntry[];
  decisions: AuditEntry[];
  /** Titles and thread links of the sessions `costliestSessions` named. */
  sessions: Map<string, { title: string; link?: string }>;
}): CostSummary {
  const { entries } = input;
  const total = { cost: sum(entries.map((e) => e.cost)), tokens: sum(entries.map(tokensOf)) };
  const rank = (key: (entry: LedgerEntry) => string): Ranked => top(group(entries, key));
  const sessions = costliest(entries).map((s) => {
      const first = entries.find((e) => e.sessionId === s.name)!;
      const described = input.sessions.get(s.name);
      return {
        sessionId: s.name,
        title: described?.title ?? s.name,
        project: projectOf(first),
        user: first.user?.name ?? "outside chat",
        ...(described?.link ? { link: described.link } : {}),
        cost: s.cost,
        tokens: s.tokens,
      };
    });
  const decided = input.decisions.filter((d) => d.tool !== QUESTION && d.decider.platform !== "bot" && d.decision !== "reply_failed");
  const waits = decided.map((d) => d.decidedAt.getTime() - d.askedAt.getTime()).sort((a, b) => a - b);
  return {
    period: input.period,
    ...(input.project ? { project: input.project } : {}),
    total,
    byUser: rank((e) => e.user?.name ?? "outside chat"),
    byProject: rank(projectOf),
    byModel: rank((e) => `${e.providerId}/${e.modelId}`),
    sessions,
    approvals: {
      approved: decided.filter((d) => APPROVED.has(d.decision)).length,
      rejected: decided.filter((d) => d.decision === "rejected").length,
      expired: decided.filter((d) => d.decision === "expired").length,
      ...(waits.length > 0 ? { medianMs: median(waits), slowestMs: waits.at(-1)! } : {}),
    },
  };
}

const projectOf = (entry: LedgerEntry) => entry.projectName ?? entry.directory;

const costliest = (entries: LedgerEntry[]) => group(entries, (e) => e.sessionId).sort((a, b) => b.cost - a.cost || b.tokens - a.tokens).slice(0, TOP);

/** The ids of the sessions a summary of `entries` lists as the most expensive. */
export const costliestSessions = (entries: LedgerEntry[]): string[] => costliest(entries).map((s) => s.name);

function group(entries: LedgerEntry[], key: (entry: LedgerEntry) => string): Ranked {
  const groups = new Map<string, Amount>();
  for (const entry of entries) {
    const name = key(entry);
    const amount = groups.get(name) ?? { cost: 0, tokens: 0 };
    amount.cost += entry.cost;
    amount.tokens += tokensOf(entry);
    groups.set(name, amount);
  }
  return [...groups].map(([name, amount]) => ({ name, ...amount }));
}

/** The biggest TOP by cost (then tokens), the rest summed as "others". */
function top(ranked: Ranked): Ranked {
  const sorted = [...ranked].sort((a, b) => b.cost - a.cost || b.tokens - a.tokens || a.name.localeCompare(b.name));
  if (sorted.length <= TOP) return sorted;
  const rest = sorted.slice(TOP);
  return [...sorted.slice(0, TOP), { name: "others", cost: sum(rest.map((r) => r.cost)), tokens: sum(rest.map((r) => r.tokens)) }];
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
function median(sorted: number[]): number {
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** An amount as people read it: the money, and the tokens; a model priced at zero shows tokens only. */
export function amount(a: Amount): string {
  const tokens = `${a.tokens.toLocaleString("en-US")} tokens`;
  return a.cost > 0 ? `${money(a.cost)} · ${tokens}` : tokens;
}

/** A duration for people: 12 s, 3 min 4 s, 2 h 5 min. */
export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min${s % 60 ? ` ${s % 60} s` : ""}`;
  return `${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ""}`;
}

/** The change from `before` to `now` in words: "+$0.012 (+25%)", "no change", "new". */
export function change(now: number, before: number): string {
  if (now === before) return "no change";
  if (before === 0) return `+${money(now)} (none before)`;
  const delta = now - before;
  const pct = Math.round((delta / before) * 100);
  const sign = (n: number) => (n > 0 ? "+" : n < 0 ? "−" : "");
  return `${sign(delta)}${money(Math.abs(delta))} (${sign(pct)}${Math.abs(pct)}%)`;
}

/** The words of a summary: the total first, then by user, project and model, the costliest sessions, the approvals. */
export function reportText(summary: CostSummary, options: { heading: string; previous?: CostSummary }): string[] {
  const { total, approvals } = summary;
  const lines = [`${options.heading} · ${summary.period.label}${summary.project ? ` · project ${summary.project}` : " · every project"}`];
  lines.push(`Total ${total.cost > 0 ? `${money(total.cost)} · ` : ""}${total.tokens.toLocaleString("en-US")} tokens`);
  if (options.previous) lines.push(`Against ${options.previous.period.label}: ${change(total.cost, options.previous.total.cost)}`);
  const ranked = (label: string, list: Ranked) => (list.length > 0 ? [`${label}: ${list.map((r) => `${r.name} ${amount(r)}`).join("; ")}`] : []);
  lines.push(...ranked("By user", summary.byUser), ...ranked("By project", summary.byProject), ...ranked("By model", summary.byModel));
  if (summary.sessions.length > 0) {
    lines.push("Most expensive sessions:");
    for (const s of summary.sessions) lines.push(`• “${s.title}” (${s.project}, ${s.user}) ${amount(s)}${s.link ? ` · ${s.link}` : ""}`);
  }
  const decided = approvals.approved + approvals.rejected + approvals.expired;
  const times = approvals.medianMs !== undefined ? ` · median ${duration(approvals.medianMs)}, slowest ${duration(approvals.slowestMs!)} to decide` : "";
  lines.push(decided > 0 ? `Approvals: ${approvals.approved} approved, ${approvals.rejected} rejected, ${approvals.expired} expired${times}` : "Approvals: none");
  return lines;
}

/** Whether the period had anything to say: spend or decisions. */
export const isQuiet = (summary: CostSummary) => summary.total.tokens === 0 && summary.approvals.approved + summary.approvals.rejected + summary.approvals.expired === 0;
