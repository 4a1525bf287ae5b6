import type { ApprovalBus } from "./approval-events.ts";
import { AlreadyDecided } from "./errors.ts";
import type { AlwaysRules } from "./always-rules.ts";
import type { Logger } from "./logger.ts";
import type { PermissionReply } from "./ports.ts";
import type { ApprovalStore } from "./store-port.ts";
import { opencodeDecider, type PermissionRecord } from "./types.ts";

/** OpenCode answers a cascade within milliseconds; a minute leaves room for a slow event stream. */
export const CASCADE_WINDOW_MS = 60_000;

export type ClosedState = "expired" | "cancelled" | "answered_elsewhere";

/**
 * Following what OpenCode did on its own: a request answered in its TUI or API, its cascades, an
 * aborted session. Each closes the request (an audit row by "OpenCode") and announces `approval.closed`.
 */
export function createFollower(deps: { store: ApprovalStore; bus: ApprovalBus; alwaysRules: AlwaysRules; logger: Logger; now: () => Date }) {
  const { store, bus, logger } = deps;

  /** Closes a pending request without a chat decision; one already decided is left as it is. */
  async function close(record: PermissionRecord, state: ClosedState, reason: string, decision?: string): Promise<void> {
    try {
      const closed = await store.decide({ requestId: record.id, state, decider: opencodeDecider, decision, reason, at: deps.now() });
      logger.info({ requestId: record.id, state, reason }, "permission request closed without a chat decision");
      await bus.publish({ type: "approval.closed", record: closed });
    } catch (error) {
      if (!(error instanceof AlreadyDecided)) throw error;
    }
  }

  /** A `permission.replied` the bot did not send: the card says who decided, or which cascade did. */
  async function replied(event: { requestID: string; reply: PermissionReply }): Promise<void> {
    const record = await store.getRequest(event.requestID);
    if (!record || record.state !== "pending") return;
    if (event.reply === "always") await deps.alwaysRules.add(record, opencodeDecider, deps.now());
    const since = new Date(deps.now().getTime() - CASCADE_WINDOW_MS);
    const reason = explainReply(record, event.reply, await store.recentlyDecided(record.sessionId, since));
    await close(record, "answered_elsewhere", reason, `answered_elsewhere:${event.reply}`);
  }

  /** A `question.replied` or `question.rejected` the bot did not send. */
  async function questionClosed(event: { requestID: string; answers?: string[][] }): Promise<void> {
    const record = await store.getRequest(event.requestID);
    if (!record || record.state !== "pending") return;
    const reason = event.answers
      ? `Answered in OpenCode (TUI, web or API): ${event.answers.map((a) => `“${a.join(", ")}”`).join("; ")}`
      : "Dismissed in OpenCode (TUI, web or API)";
    await close(record, "answered_elsewhere", reason, event.answers ? "answered_elsewhere:answer" : "answered_elsewhere:reject");
  }

  /** The session went idle (finished or aborted): its pending requests will never run. */
  async function sessionIdle(directory: string, sessionId: string): Promise<void> {
    for (const record of await store.pendingRequests({ directory, sessionId })) {
      // A held prompt waits while its session is idle: that is what it is for.
      if (record.source === "budget") continue;
      await close(record, "cancelled", "the session was stopped (aborted) before anyone decided");
    }
  }

  return { close, replied, questionClosed, sessionIdle };
}

/**
 * Words for a reply the bot did not send, given the session's `recent` decisions: OpenCode's own
 * cascade (a rejection rejects every pending request of the session; an "Always" approves matching
 * ones), or somebody in OpenCode's TUI, web or API.
 */
export function explainReply(record: PermissionRecord, reply: PermissionReply, recent: PermissionRecord[]): string {
  const others = recent.filter((other) => other.id !== record.id && other.decider && other.decider.platform !== "opencode");
  if (reply === "reject") {
    const cause = others.find((other) => other.state === "rejected" || other.state === "edited");
    if (cause) {
      return `Rejected by OpenCode's cascade: ${cause.decider!.name} ${cause.state === "edited" ? "edited" : "rejected"} request ${cause.id} in this session, which rejects every pending request of the session. No reason reached the agent for this one.`;
    }
    return "Rejected in OpenCode (TUI, web or API), not from chat";
  }
  const always = others.find((other) => other.state === "approved_always");
  if (always) {
    return `Approved by OpenCode: it matches the “Always” rule ${always.decider!.name} gave on request ${always.id}`;
  }
  return reply === "always"
    ? "Always approved in OpenCode (TUI, web or API), not from chat"
    : "Approved once in OpenCode (TUI, web or API), not from chat";
}
