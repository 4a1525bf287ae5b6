import { costliestSessions, reportText, summarize, type CostSummary } from "./cost-report.ts";
import type { LedgerStore } from "./ledger.ts";
import type { OwnedSessionStore } from "./owned-sessions.ts";
import { parsePeriod, type Period } from "./periods.ts";
import type { ChatAdapter } from "./ports.ts";
import { titleFromPrompt } from "./card-text.ts";
import type { ApprovalStore } from "./store-port.ts";
import type { ChatPlatform } from "./types.ts";

export type CostDeps = {
  ledgerStore: LedgerStore;
  store: ApprovalStore;
  sessions: OwnedSessionStore;
  adapters: ChatAdapter[];
  /** DIGEST_TZ: the zone days are counted in. */
  timeZone: string;
  now?: () => Date;
};

/** The summary of a period (of one project where given), its sessions named and linked on `platform`. */
export async function costSummary(deps: CostDeps, period: Period, project: string | undefined, platform: ChatPlatform): Promise<CostSummary> {
  const entries = await deps.ledgerStore.entries(period, project);
  const decisions = await deps.store.decisionsBetween(period);
  const projectDirectories = new Set(entries.map((e) => e.directory));
  const relevant = project === undefined ? decisions : decisions.filter((d) => projectDirectories.has(d.directory));
  const sessions = new Map<string, { title: string; link?: string }>();
  for (const sessionId of costliestSessions(entries)) sessions.set(sessionId, await describeSession(deps, sessionId, platform));
  return summarize({ period, ...(project ? { project } : {}), entries, decisions: relevant, sessions });
}

/** A session's title (from its first prompt or its thread) and the link to its thread: on `platform` if it has one there, else wherever it has one. */
async function describeSession(deps: CostDeps, sessionId: string, platform: ChatPlatform): Promise<{ title: string; link?: string }> {
  const owned = await deps.sessions.ownedSession(sessionId);
  const threads = (await Promise.all(PLATFORMS.map((p) => (owned?.platform === p ? { platform: p, ref: owned.thread, title: titleFromPrompt(owned.prompt) } : deps.store.getThread(sessionId, p))))).filter(
    (thread) => thread !== undefined,
  );
  const title = owned ? titleFromPrompt(owned.prompt) : (threads[0]?.title ?? sessionId);
  const byPreference = [...threads].sort((a, b) => Number(b.platform === platform) - Number(a.platform === platform));
  for (const thread of byPreference) {
    const adapter = deps.adapters.find((a) => a.platform === thread.platform);
    const link = adapter ? await adapter.threadLink(thread.ref).catch(() => undefined) : undefined;
    if (link) return { title, link };
  }
  return { title };
}

const PLATFORMS: ChatPlatform[] = ["slack", "discord", "web"];

/** `/opencode costs [period] [project]`: the caller's private report. */
export async function costsCommand(deps: CostDeps, platform: ChatPlatform, command: { period?: string; project?: string }): Promise<string> {
  let period: Period;
  try {
    period = parsePeriod(command.period, deps.timeZone, (deps.now ?? (() => new Date()))());
  } catch (error) {
    return (error as Error).message;
  }
  const summary = await costSummary(deps, period, command.project, platform);
  return reportText(summary, { heading: "Costs" }).join("\n");
}
