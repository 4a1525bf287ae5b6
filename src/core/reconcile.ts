import type { PermissionRequest, QuestionRequest } from "@opencode-ai/sdk/v2";
import type { ApprovalBus } from "./approval-events.ts";
import type { KeyedQueue } from "./keyed-queue.ts";
import type { ApprovalStore } from "./store-port.ts";
import type { PermissionRecord } from "./types.ts";

/** What OpenCode had pending in one directory when it was read after a (re)connect. */
export type Listed = {
  directory: string;
  permissions: PermissionRequest[];
  questions: QuestionRequest[];
  /** Sessions running at the time. */
  busy: Set<string>;
  listedAt: Date;
  /** Why a request OpenCode no longer lists is gone, in words for its card. */
  goneReason: string;
};

/**
 * The reconcile after a connect: requests not seen get their cards, requests OpenCode no longer has
 * are closed, and cards whose posting failed earlier get another chance.
 */
export function createReconciler(deps: {
  store: ApprovalStore;
  bus: ApprovalBus;
  sessions: KeyedQueue;
  asked: (directory: string, request: PermissionRequest) => Promise<void>;
  questionAsked: (directory: string, question: QuestionRequest) => Promise<void>;
  sessionIdle: (directory: string, sessionId: string) => Promise<void>;
  close: (record: PermissionRecord, state: "expired" | "cancelled", reason: string) => Promise<void>;
  missingCards: (record: PermissionRecord) => boolean;
  /** Draws again the cards of `directory` whose edit was lost. */
  redrawStale: (directory: string) => Promise<void>;
}) {
  const { store, sessions } = deps;

  return async function reconcile(listed: Listed): Promise<void> {
    const { directory, busy } = listed;
    const requests = [...listed.permissions, ...listed.questions];
    const listedIds = new Set(requests.map((request) => request.id));
    for (const request of listed.permissions) await sessions.run(request.sessionID, () => deps.asked(directory, request));
    for (const question of listed.questions) await sessions.run(question.sessionID, () => deps.questionAsked(directory, question));
    for (const request of requests) {
      if (!busy.has(request.sessionID)) await sessions.run(request.sessionID, () => deps.sessionIdle(directory, request.sessionID));
    }
    for (const record of await store.pendingRequests({ directory })) {
      if (listedIds.has(record.id)) continue;
      // The bot's own (a prompt held over budget): OpenCode never lists it.
      if (record.source === "budget") continue;
      if (record.source === "plugin") {
        // Held by the plugin, so never in GET /permission: gone only when its session stopped running.
        if (!busy.has(record.sessionId)) {
          await sessions.run(record.sessionId, () =>
            deps.close(record, "cancelled", "OpenCode is no longer waiting for this call (the session stopped, or OpenCode restarted)"),
          );
        }
        continue;
      }
      // A request that arrived after the list was read is not gone, only newer than the list.
      if (record.askedAt >= listed.listedAt) continue;
      await sessions.run(record.sessionId, () => deps.close(record, "expired", listed.goneReason));
    }
    // Cards whose posting failed earlier (chat down) get another chance on every resync.
    for (const record of await store.pendingRequests({ directory })) {
      if (!deps.missingCards(record)) continue;
      await sessions.run(record.sessionId, () => deps.bus.publish({ type: "approval.requested", record, recover: true }));
    }
    await deps.redrawStale(directory);
  };
}
