/**
 * A seeded week of costs and decisions (2026-11-23 to 2026-11-29, UTC), written through the bot's
 * own stores, for the cost report and the digest to be checked number by number.
 */
import type { LedgerEntry, LedgerStore } from "../../src/core/ledger.ts";
import type { ApprovalStore } from "../../src/core/store-port.ts";

const at = (iso: string) => new Date(`${iso}Z`);

/** One model call: `calls` × (1,000 in, 100 out) tokens, at $0.0045 a call on the priced model. */
function entry(id: string, when: string, sessionId: string, project: string, user: string | undefined, model: "fake-model" | "free-model", calls: number): LedgerEntry {
  return {
    messageId: id,
    sessionId,
    directory: `/srv/${project}`,
    serverUrl: "http://127.0.0.1:4096",
    projectName: project,
    providerId: "fake",
    modelId: model,
    agent: "build",
    ...(user ? { user: { platform: "slack" as const, id: `U0${user.toUpperCase()}`, name: user } } : {}),
    cost: model === "free-model" ? 0 : 0.0045 * calls,
    tokens: { input: 1000 * calls, output: 100 * calls, reasoning: 0, cacheRead: 0, cacheWrite: 0 },
    completedAt: at(when),
  };
}

export const SEEDED_WEEK = [
  entry("msg_1", "2026-11-23T10:00:00", "ses_login", "web", "alice", "fake-model", 1),
  entry("msg_2", "2026-11-24T11:00:00", "ses_login", "web", "alice", "fake-model", 1),
  entry("msg_3", "2026-11-24T12:00:00", "ses_api", "api", "bob", "fake-model", 2),
  entry("msg_4", "2026-11-26T15:00:00", "ses_cron", "api", undefined, "free-model", 0.5),
  entry("msg_5", "2026-11-29T20:00:00", "ses_docs", "web", "bob", "fake-model", 3),
];
/** The week before: one message of two calls, $0.009. */
export const WEEK_BEFORE = [entry("msg_0", "2026-11-20T10:00:00", "ses_old", "web", "alice", "fake-model", 2)];

/** Decisions in the seeded week: waited 10 s, 20 s and 2 min (approved), 5 s (rejected). */
const DECISIONS = [
  { id: "per_a", asked: "2026-11-23T10:00:00", waitS: 10, state: "approved_once" as const },
  { id: "per_b", asked: "2026-11-24T11:00:00", waitS: 20, state: "approved_once" as const },
  { id: "per_c", asked: "2026-11-25T09:30:00", waitS: 120, state: "approved_always" as const },
  { id: "per_d", asked: "2026-11-27T16:00:00", waitS: 5, state: "rejected" as const },
];

/** Writes the seed: ledger rows, session titles (threads) and decided requests with their audit rows. */
export async function seedCosts(stores: { ledgerStore: LedgerStore; store: ApprovalStore }): Promise<void> {
  for (const row of [...WEEK_BEFORE, ...SEEDED_WEEK]) await stores.ledgerStore.record(row);
  const titles: Record<string, string> = { ses_login: "fix the flaky login test", ses_api: "add rate limits to the API", ses_cron: "nightly dependency check", ses_docs: "rewrite the setup docs" };
  for (const [sessionId, title] of Object.entries(titles)) {
    await stores.store.saveThread({ sessionId, platform: "slack", directory: "/srv/web", title, ref: `C0NOWHERE/${sessionId}` });
  }
  for (const d of DECISIONS) {
    const askedAt = at(d.asked);
    await stores.store.addRequest({
      id: d.id,
      directory: "/srv/web",
      sessionId: "ses_login",
      permission: "bash",
      patterns: ["make test"],
      always: ["make *"],
      metadata: { command: "make test" },
      callId: null,
      messageId: null,
      toolName: "bash",
      toolArgs: { command: "make test" },
      askedAt,
    });
    await stores.store.decide({
      requestId: d.id,
      state: d.state,
      decider: { platform: "slack", userId: "U0ALICE", name: "alice" },
      ...(d.state === "rejected" ? { reason: "not now" } : {}),
      at: new Date(askedAt.getTime() + d.waitS * 1000),
    });
  }
}

/** What a report of the seeded week says after its heading, total and change, line by line (each number worked out by hand from the seed above). */
export const SEEDED_WEEK_BREAKDOWN = [
  "By user: bob $0.0225 · 5,500 tokens; alice $0.009 · 2,200 tokens; outside chat 550 tokens",
  "By project: web $0.0225 · 5,500 tokens; api $0.009 · 2,750 tokens",
  "By model: fake/fake-model $0.0315 · 7,700 tokens; fake/free-model 550 tokens",
  "Most expensive sessions:",
  "• “rewrite the setup docs” (web, bob) $0.0135 · 3,300 tokens",
  "• “fix the flaky login test” (web, alice) $0.009 · 2,200 tokens",
  "• “add rate limits to the API” (api, bob) $0.009 · 2,200 tokens",
  "• “nightly dependency check” (api, outside chat) 550 tokens",
  "Approvals: 3 approved, 1 rejected, 0 expired · median 15 s, slowest 2 min to decide",
];
