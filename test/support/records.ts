import type { PermissionRecord } from "../../src/core/types.ts";

/** A pending bash request as the store returns it, with `extra` on top: for tests of the core's pure parts. */
export function record(extra: Partial<PermissionRecord> = {}): PermissionRecord {
  return {
    id: "per_1",
    source: "opencode",
    directory: "/p",
    sessionId: "ses_1",
    permission: "bash",
    patterns: [],
    always: [],
    metadata: {},
    callId: "c1",
    messageId: "m1",
    toolName: "bash",
    toolArgs: null,
    state: "pending",
    askedAt: new Date("2026-01-01T00:00:00Z"),
    decidedAt: null,
    decider: null,
    reason: null,
    editedArgs: null,
    linkedRequestId: null,
    replyError: null,
    policy: null,
    expiresAt: null,
    escalatedAt: null,
    votes: [],
    cards: [],
    ...extra,
  };
}

/** A question record asking `questions`. */
export function question(questions: Array<{ question: string; header?: string; options: string[]; multiple?: boolean }>): PermissionRecord {
  return record({
    id: "que_1",
    permission: "question",
    toolName: "question",
    metadata: {
      questions: questions.map((q) => ({ ...q, header: q.header ?? "", options: q.options.map((label) => ({ label, description: "" })) })),
    },
  });
}
