/**
 * The checks, once everything has stopped: every request OpenCode asked was replied exactly once or
 * is still pending with its card offering its buttons; every reply is accounted for by an audit row
 * that says the same; every click was answered unless its process was killed first.
 */
import type { ChainedRow } from "../../src/core/audit-chain.ts";
import type { ClickAction } from "./clicker.ts";
import type { SlackView } from "./slack-threads.ts";
import type { StoreSnapshot } from "./store-snapshot.ts";

export type Asked = { id: string; sessionId: string; at: number };

export type Counts = {
  requests: number;
  repliedOnce: number;
  repliedTwice: number;
  pendingWithCard: number;
  lost: number;
  noAudit: number;
  clicks: number;
  clicksRefused: number;
  clicksRefusedByLiveBot: number;
  clicksLostToKill: number;
  clicksUnanswered: number;
  cardless: number;
  duplicateCards: number;
  /** Message versions showing one request's card more than once. */
  repeatedCards: number;
  staleCards: number;
  threadProblems: number;
};

export type Verdict = { counts: Counts; problems: string[]; warnings: string[] };

/** The audit decisions that account for each reply OpenCode announced. */
const accounts: Record<string, (row: ChainedRow) => boolean> = {
  once: (row) => row.decision === "approved_once",
  always: (row) => row.decision === "approved_always",
  // The bot's own rejection or edit, OpenCode's cascade followed (answered elsewhere) or found after a restart (expired),
  // or the bot's approval that OpenCode refused because its cascade came first (reply_failed).
  reject: (row) => ["rejected", "edited", "expired", "cancelled", "reply_failed"].includes(row.decision) || row.decision === "answered_elsewhere:reject",
};

export function judge(input: {
  asked: Asked[];
  replies: (requestId: string) => string[];
  /** Requests OpenCode still waits for. */
  waiting: Set<string>;
  store: StoreSnapshot;
  slack: SlackView;
  actions: ClickAction[];
  /** Each session's request ids in ask order, for the thread checks. */
  order: Map<string, string[]>;
  /** The Slack 429 storm's promise: no card missing, cards in ask order, no card left offering buttons for an answered request. */
  postsMustHold: boolean;
}): Verdict {
  const { store, slack } = input;
  const problems: string[] = [];
  const warnings: string[] = [];
  const counts: Counts = {
    requests: input.asked.length,
    repliedOnce: 0,
    repliedTwice: 0,
    pendingWithCard: 0,
    lost: 0,
    noAudit: 0,
    clicks: input.actions.length,
    clicksRefused: input.actions.filter((a) => a.refused).length,
    clicksRefusedByLiveBot: 0,
    clicksLostToKill: input.actions.filter((a) => a.fate === "lost-to-kill").length,
    clicksUnanswered: 0,
    cardless: 0,
    duplicateCards: 0,
    repeatedCards: 0,
    staleCards: 0,
    threadProblems: 0,
  };
  const duplicates: string[] = [];
  const stale: string[] = [];

  for (const { id } of input.asked) {
    const replies = input.replies(id);
    const state = store.states.get(id);
    const rows = store.audit.get(id) ?? [];
    const cards = slack.cards.get(id) ?? [];
    const where = `store: ${state ?? "no row"}, audit: [${rows.map((r) => r.decision).join(", ")}], OpenCode: ${input.waiting.has(id) ? "still waiting" : "not waiting"}, cards: ${cards.length}${slack.offersButtons(id) ? " (offering buttons)" : ""}`;
    if (cards.length === 0) counts.cardless++;
    if (cards.length > 1) {
      counts.duplicateCards++;
      duplicates.push(`${id} in ${cards.map((m) => `${m.ts}${m.thread_ts ? ` (thread ${m.thread_ts})` : " (parent)"}`).join(", ")}`);
    }
    if (replies.length > 1) {
      counts.repliedTwice++;
      problems.push(`${id}: replied ${replies.length} times (${replies.join(", ")}); ${where}`);
      continue;
    }
    if (replies.length === 1) {
      if (slack.offersButtons(id)) {
        counts.staleCards++;
        stale.push(`${id} (${replies[0]}; audit: ${rows.map((r) => r.decision).join(", ") || "none"})`);
      }
      const reply = replies[0]!;
      if (!rows.some((row) => accounts[reply]?.(row))) {
        counts.noAudit++;
        problems.push(`${id}: OpenCode replied "${reply}" with no audit row that says so; ${where}`);
        continue;
      }
      counts.repliedOnce++;
      continue;
    }
    if (input.waiting.has(id) && state === "pending" && slack.offersButtons(id)) {
      counts.pendingWithCard++;
      continue;
    }
    counts.lost++;
    problems.push(`${id}: never replied, and not pending with its card; ${where}`);
  }

  for (const action of input.actions.filter((a) => a.fate === "unanswered")) {
    counts.clicksUnanswered++;
    problems.push(`click ${action.kind} on ${action.requestId} by ${action.user} to bot ${action.slot} at ${new Date(action.sentAt).toISOString()}: no answer, and its process was not killed`);
  }
  const refusedLive = input.actions.filter((a) => a.refusedByLiveBot);
  counts.clicksRefusedByLiveBot = refusedLive.length;
  for (const [reason, clicks] of groupBy(refusedLive, (a) => a.refused!)) {
    const sample = clicks.slice(0, 5).map((a) => `${a.kind} on ${a.requestId} at ${new Date(a.sentAt).toISOString()}`);
    problems.push(`${clicks.length} click(s) refused by a bot that was up: ${reason} (${sample.join("; ")}${clicks.length > 5 ? "; …" : ""})`);
  }
  counts.repeatedCards = slack.repeated.length;
  problems.push(...slack.repeated);
  const threads = slack.threadProblems(input.order);
  counts.threadProblems = threads.length;
  const strict = input.postsMustHold ? problems : warnings;
  strict.push(...threads);
  if (input.postsMustHold && counts.cardless > 0) problems.push(`${counts.cardless} request(s) never got a card`);
  if (input.postsMustHold && counts.staleCards > 0) problems.push(`${counts.staleCards} answered request(s) have a card still offering its buttons (an update lost): ${stale.join(", ")}`);
  if (store.chain.broken) problems.push(`the audit chain is broken at row ${store.chain.broken.id}: ${store.chain.broken.problem}`);
  if (counts.duplicateCards > 0) warnings.push(`${counts.duplicateCards} request(s) have more than one card: ${duplicates.join("; ")}`);
  if (!input.postsMustHold && counts.staleCards > 0) warnings.push(`${counts.staleCards} answered request(s) have a card still offering its buttons: ${stale.join(", ")}`);
  return { counts, problems, warnings };
}

/** Each session's request ids in the order OpenCode asked them. */
export function askOrder(asked: Asked[]): Map<string, string[]> {
  const bySession = new Map<string, string[]>();
  for (const { id, sessionId } of [...asked].sort((a, b) => a.at - b.at)) bySession.set(sessionId, [...(bySession.get(sessionId) ?? []), id]);
  return bySession;
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}
