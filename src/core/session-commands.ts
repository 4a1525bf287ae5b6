import { titleFromPrompt } from "./card-text.ts";
import type { OwnedSession, OwnedSessionStore } from "./owned-sessions.ts";
import type { ChatAdapter, ServerOverview, SessionApi } from "./ports.ts";
import { money } from "./progress.ts";
import type { ApprovalStore } from "./store-port.ts";
import { QUESTION } from "./types.ts";

export type SessionCommandDeps = {
  sessions: OwnedSessionStore;
  store: ApprovalStore;
  sessionApiFor(serverUrl: string): SessionApi;
  adapters: ChatAdapter[];
  /** Every OpenCode server the bot follows, as it is now. */
  overview(): Promise<ServerOverview[]>;
};

/** How many sessions `/opencode sessions` lists. */
const RECENT = 10;

/** One session started from chat as `/opencode sessions` and the console's /sessions show it. */
export type SessionRow = { sessionId: string; title: string; project: string; state: string; owner: string; platform: string; cost: string; link?: string };

/** The newest sessions started from chat (of one project where given), each with its state, owner, cost and thread. */
export async function sessionRows(deps: SessionCommandDeps, limit: number, project?: string): Promise<SessionRow[]> {
  const recent = await deps.sessions.recentOwned(limit, project);
  return Promise.all(recent.map((session) => describe(deps, session)));
}

/** `/opencode sessions [project]`: the newest sessions started from chat, each with its state, owner, cost and thread. */
export async function listSessions(deps: SessionCommandDeps, project?: string): Promise<string> {
  const rows = await sessionRows(deps, RECENT, project);
  if (rows.length === 0) return project ? `No sessions in \`${project}\` yet.` : "No sessions started from chat yet. Start one with `/opencode <prompt>`.";
  const lines = rows.map((row) => `• “${row.title}” · \`${row.project}\` · ${row.state} · ${row.owner} · ${row.cost}${row.link ? ` · ${row.link}` : ""}`);
  return [`Sessions${project ? ` in \`${project}\`` : ""} (newest first):`, ...lines].join("\n");
}

async function describe(deps: SessionCommandDeps, session: OwnedSession): Promise<SessionRow> {
  const api = deps.sessionApiFor(session.serverUrl);
  const [state, cost, link] = await Promise.all([
    stateOf(deps, session),
    api.sessionCost(session.directory, session.sessionId).then(money, () => "cost unknown"),
    deps.adapters.find((a) => a.platform === session.platform)?.threadLink(session.thread).catch(() => undefined),
  ]);
  return { sessionId: session.sessionId, title: titleFromPrompt(session.prompt), project: session.projectName, state, owner: session.user.name, platform: session.platform, cost, ...(link ? { link } : {}) };
}

async function stateOf(deps: SessionCommandDeps, session: OwnedSession): Promise<string> {
  if (session.state === "gone") return "gone from OpenCode";
  const pending = await deps.store.pendingRequests({ directory: session.directory, sessionId: session.sessionId });
  if (pending.some((r) => r.permission !== QUESTION)) return "waiting for approval";
  if (pending.length > 0) return "waiting for an answer";
  const busy = await deps.sessionApiFor(session.serverUrl).busySessions(session.directory).catch(() => undefined);
  if (!busy) return "state unknown (OpenCode did not answer)";
  return busy.has(session.sessionId) ? "working" : "idle";
}

/** `/opencode status`: each OpenCode server: reachable, version, stream, what is pending, what works. */
export async function statusReport(deps: SessionCommandDeps): Promise<string> {
  const servers = await deps.overview();
  const lines = servers.map((s) => {
    const reach = s.reachable ? `reachable, OpenCode ${s.version ?? "?"}` : `not reachable (${s.error ?? "no answer"})`;
    return `• ${s.url} · ${reach} · stream ${s.stream} · ${count(s.approvals, "approval")} and ${count(s.questions, "question")} pending · ${count(s.working, "session")} working`;
  });
  return [`OpenCode servers (${servers.length}):`, ...lines].join("\n");
}

const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`;
