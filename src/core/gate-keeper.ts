import { type EventEmitter, once } from "node:events";
import { type AlwaysRules, GATED_TOOLS, gateAnswer, gateMetadata, gatePermission, gateRequestId, type GateAnswer, type GateCall } from "./gate.ts";
import type { KeyedQueue } from "./keyed-queue.ts";
import type { Logger } from "./logger.ts";
import type { ApprovalStore } from "./store-port.ts";
import { botDecider, type PermissionRecord } from "./types.ts";


/**
 * Tool calls the opencode-chatops plugin holds before they run: one record and one card per call,
 * decided through the same engine as OpenCode's own requests, read back by the plugin's long poll.
 */
export class GateKeeper {
  constructor(
    private readonly deps: {
      store: ApprovalStore;
      logger: Logger;
      /** The engine's per-session queue, so a call and its session's events are handled in order. */
      sessions: KeyedQueue;
      /** Emits a request's id when the engine decides or closes it. */
      settled: EventEmitter;
      alwaysRules: AlwaysRules;
      now: () => Date;
      postCard: (record: PermissionRecord, options?: { recover?: boolean }) => Promise<void>;
    },
  ) {}

  /**
   * A tool call held by the plugin: calls of ungated tools, or that an "Always" rule covers, pass at
   * once; otherwise the call gets one record and one card, and the answer says where it stands.
   */
  async gate(call: GateCall): Promise<GateAnswer> {
    if (!GATED_TOOLS.has(call.tool)) return { status: "allow", args: call.args };
    const id = gateRequestId(call.sessionId, call.callId);
    return this.deps.sessions.run(call.sessionId, async () => {
      const existing = await this.deps.store.getRequest(id);
      if (existing) {
        if (existing.state === "pending" && !existing.card) await this.deps.postCard(existing, { recover: true });
        return gateAnswer(existing);
      }
      const { record, created } = await this.deps.store.addRequest({
        id,
        source: "plugin",
        directory: call.directory,
        sessionId: call.sessionId,
        permission: gatePermission(call.tool),
        patterns: [],
        always: [],
        metadata: gateMetadata(call.tool, call.args),
        callId: call.callId,
        messageId: null,
        toolName: call.tool,
        toolArgs: call.args,
        askedAt: this.deps.now(),
      });
      if (!created) return gateAnswer(record);
      if (this.deps.alwaysRules.allows(call.directory, call.tool, call.args)) {
        const decided = await this.deps.store.decide({
          requestId: id,
          state: "approved_always",
          decider: botDecider,
          reason: "an “Always” rule given earlier in this directory covers it",
          at: this.deps.now(),
        });
        return gateAnswer(decided);
      }
      this.deps.logger.info({ requestId: id, sessionId: call.sessionId, tool: call.tool }, "tool call held by the plugin");
      await this.deps.postCard(record);
      return gateAnswer(record);
    });
  }

  /** The gate answer for `requestId`, waiting up to `waitMs` for a decision (the plugin's long poll). */
  async waitForGate(requestId: string, waitMs: number): Promise<GateAnswer | undefined> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const record = await this.deps.store.getRequest(requestId);
      if (!record) return undefined;
      const remaining = deadline - Date.now();
      if (record.state !== "pending" || remaining <= 0) return gateAnswer(record);
      // Woken at once by a decision in this process; the 1 s tick covers a decision made by another bot process.
      const wake = new AbortController();
      const timer = setTimeout(() => wake.abort(), Math.min(remaining, 1000));
      await once(this.deps.settled, requestId, { signal: wake.signal }).catch(() => undefined);
      clearTimeout(timer);
      wake.abort();
    }
  }
}
