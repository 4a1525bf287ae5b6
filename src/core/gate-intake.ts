import { alwaysReason, alwaysStands, type AlwaysRules } from "./always-rules.ts";
import type { ApprovalBus } from "./approval-events.ts";
import type { Decide } from "./deciding.ts";
import { GATED_TOOLS, gateAnswer, gateMetadata, gatePermission, gateRequestId, type GateAnswer, type GateCall } from "./gate.ts";
import type { Logger } from "./logger.ts";
import type { Policy } from "./policy/policy-file.ts";
import { denial, judge, ruleDecider } from "./policy/request-policy.ts";
import type { ApprovalStore } from "./store-port.ts";
import { botDecider, type Decider, type PermissionRecord } from "./types.ts";

// A decision anywhere wakes the poll at once (the bus, fed by NOTIFY from other processes); the
// re-read every few seconds covers a notification lost while the listening connection reconnected.
const POLL_TICK_MS = 5000;

/**
 * Tool calls the opencode-chatops plugin holds before they run: one record and one card per call,
 * decided through the same path as OpenCode's own requests, read back by the plugin's long poll.
 */
export function createGateIntake(deps: {
  store: ApprovalStore;
  bus: ApprovalBus;
  decider: Decide;
  alwaysRules: AlwaysRules;
  /** Whether a pending request still lacks a card somewhere (its posting failed earlier). */
  missingCards: (record: PermissionRecord) => boolean;
  /** Runs `task` after the current one in the session's queue, without waiting for it. */
  later: (sessionId: string, task: () => Promise<void>) => void;
  /** The policy in force (none: no policy file). */
  policy: () => Policy | undefined;
  logger: Logger;
  now: () => Date;
}) {
  const { store, bus, logger } = deps;
  const stopping = new AbortController();
  const polls = new Set<Promise<unknown>>();

  /**
   * A tool call held by the plugin: calls of ungated tools, or that an "Always" rule covers, pass at
   * once; otherwise the call gets one record and one card, and the answer says where it stands.
   * It answers once the call is recorded; the card follows in the session's queue, so a slow chat
   * (a rate limit, a burst) never keeps the plugin from hearing that its call is held.
   * The caller runs it in the session's queue.
   */
  async function gate(call: GateCall): Promise<GateAnswer> {
    if (!GATED_TOOLS.has(call.tool)) return { status: "allow", args: call.args };
    const id = gateRequestId(call.sessionId, call.callId);
    const existing = await store.getRequest(id);
    if (existing) {
      if (existing.state === "pending" && deps.missingCards(existing)) {
        deps.later(call.sessionId, () => bus.publish({ type: "approval.requested", record: existing, recover: true }));
      }
      return gateAnswer(existing);
    }
    const asked = { directory: call.directory, permission: gatePermission(call.tool), metadata: gateMetadata(call.tool, call.args), toolArgs: call.args, askedAt: deps.now() };
    const requester = await store.sessionOwner(call.sessionId);
    const judgement = judge(deps.policy(), { ...asked, ...(requester ? { requester } : {}) });
    const { record, created } = await store.addRequest({
      ...asked,
      id,
      source: "plugin",
      sessionId: call.sessionId,
      patterns: [],
      always: [],
      callId: call.callId,
      messageId: null,
      toolName: call.tool,
      policy: judgement.policy,
      expiresAt: judgement.expiresAt,
    });
    if (!created) return gateAnswer(record);
    // Decided without a card: by a rule of the policy, or by an Always rule the policy lets stand.
    const pass = async (state: "approved_once" | "approved_always" | "rejected", decider: Decider, reason: string) =>
      gateAnswer((await deps.decider.commit({ requestId: id, state, decider, reason, at: deps.now() }, { kind: "none" })).record);
    if (judgement.auto) {
      const { allow, rule } = judgement.auto;
      logger.info({ requestId: id, rule, allow }, "decided by the policy");
      return pass(allow ? "approved_once" : "rejected", ruleDecider(rule), allow ? `the policy's rule “${rule}” allows it` : denial(judgement.auto));
    }
    const always = alwaysStands(judgement.policy) ? await deps.alwaysRules.covering(call.directory, call.tool, call.args) : undefined;
    if (always) return pass("approved_always", botDecider, alwaysReason(always));
    logger.info({ requestId: id, sessionId: call.sessionId, tool: call.tool }, "tool call held by the plugin");
    deps.later(call.sessionId, () => bus.publish({ type: "approval.requested", record }));
    return gateAnswer(record);
  }

  /**
   * The gate answer for `requestId`, waiting up to `waitMs` for `approval.decided` or `approval.closed`
   * (the plugin's long poll). Once `stop()` is called it answers at once, without reading the store again.
   */
  function waitForGate(requestId: string, waitMs: number): Promise<GateAnswer | undefined> {
    const poll = longPoll(requestId, Date.now() + waitMs);
    polls.add(poll);
    void poll.finally(() => polls.delete(poll)).catch(() => undefined);
    return poll;
  }

  async function longPoll(requestId: string, deadline: number): Promise<GateAnswer | undefined> {
    for (;;) {
      const record = await store.getRequest(requestId);
      if (!record) return undefined;
      const remaining = deadline - Date.now();
      if (record.state !== "pending" || remaining <= 0 || stopping.signal.aborted) return gateAnswer(record);
      await bus.settledOnce(requestId, AbortSignal.any([stopping.signal, AbortSignal.timeout(Math.min(remaining, POLL_TICK_MS))]));
      if (stopping.signal.aborted) return gateAnswer(record);
    }
  }

  return {
    gate,
    waitForGate,
    /** Ends every long poll now (each answers "pending", and the plugin asks again); resolves when they have. */
    async stop(): Promise<void> {
      stopping.abort();
      await Promise.allSettled([...polls]);
    },
  };
}
