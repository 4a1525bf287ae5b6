import type { PermissionRequest, QuestionRequest } from "@opencode-ai/sdk/v2";
import type { ApprovalBus } from "./approval-events.ts";
import type { Decide } from "./deciding.ts";
import { matchesPreapproval } from "./edit-form.ts";
import { gateRequestId } from "./gate.ts";
import type { Logger } from "./logger.ts";
import type { OpencodeApi, PermissionReply } from "./ports.ts";
import type { ApprovalStore } from "./store-port.ts";
import { botDecider, QUESTION, type NewPermission, type PermissionRecord } from "./types.ts";

/**
 * Intake of what OpenCode asks: each permission request and question is recorded once and
 * announced as `approval.requested`, unless the bot may answer it itself (an edited call approved
 * earlier, a call the plugin's gate already let through).
 */
export function createIntake(deps: {
  store: ApprovalStore;
  opencode: OpencodeApi;
  bus: ApprovalBus;
  decider: Decide;
  /** Whether a pending request still lacks a card somewhere (its posting failed earlier). */
  missingCards: (record: PermissionRecord) => boolean;
  logger: Logger;
  now: () => Date;
}) {
  const { store, opencode, bus, decider, logger } = deps;

  /** A request seen before (a resync, a re-sent event): its cards get another chance if some are missing. */
  async function seenBefore(id: string): Promise<boolean> {
    const existing = await store.getRequest(id);
    if (!existing) return false;
    if (existing.state === "pending" && deps.missingCards(existing)) {
      await bus.publish({ type: "approval.requested", record: existing, recover: true });
    }
    return true;
  }

  /** Records a new request; undefined when another handler recorded it first. */
  async function add(request: Omit<NewPermission, "askedAt">): Promise<PermissionRecord | undefined> {
    const { record, created } = await store.addRequest({ ...request, askedAt: deps.now() });
    return created ? record : undefined;
  }

  /** A `permission.asked`, live or found by a resync. */
  async function asked(directory: string, request: PermissionRequest): Promise<void> {
    if (await seenBefore(request.id)) return;
    const call = request.tool
      ? await opencode
          .toolCall(directory, { sessionId: request.sessionID, messageId: request.tool.messageID, callId: request.tool.callID })
          .catch((error: unknown) => {
            logger.warn({ err: error, requestId: request.id }, "could not read the tool call behind a permission request");
            return undefined;
          })
      : undefined;
    const created = await add({ ...fromPermission(directory, request), toolName: call?.tool ?? null, toolArgs: call?.args ?? null });
    if (!created) return;
    logger.info({ requestId: created.id, sessionId: created.sessionId, permission: created.permission }, "permission asked");
    if (await followGate(created)) return;
    if (await followPreapproval(created)) return;
    await bus.publish({ type: "approval.requested", record: created });
  }

  /** A `question.asked`, live or found by a resync. */
  async function questionAsked(directory: string, question: QuestionRequest): Promise<void> {
    if (await seenBefore(question.id)) return;
    const created = await add({
      id: question.id,
      directory,
      sessionId: question.sessionID,
      permission: QUESTION,
      patterns: [],
      always: [],
      metadata: { questions: question.questions },
      callId: question.tool?.callID ?? null,
      messageId: question.tool?.messageID ?? null,
      toolName: "question",
      toolArgs: null,
    });
    if (!created) return;
    logger.info({ requestId: created.id, sessionId: created.sessionId }, "question asked");
    await bus.publish({ type: "approval.requested", record: created });
  }

  /**
   * OpenCode's own ask for a call the plugin's gate already let through (the project also says "ask"):
   * answered at once, linked to the gate's decision, and no second card.
   */
  async function followGate(asked: PermissionRecord): Promise<boolean> {
    if (!asked.callId) return false;
    const gate = await store.getRequest(gateRequestId(asked.sessionId, asked.callId));
    if (!gate || !["approved_once", "approved_always", "edited"].includes(gate.state)) return false;
    const reply: PermissionReply = gate.state === "approved_always" ? "always" : "once";
    await decider.commit(
      {
        requestId: asked.id,
        state: reply === "always" ? "approved_always" : "approved_once",
        decider: botDecider,
        reason: `the plugin's gate approved this call on request ${gate.id}`,
        linkedRequestId: gate.id,
        at: deps.now(),
      },
      { kind: "permission", reply },
    );
    return true;
  }

  /** The call an edit (decided without the plugin) asked the agent to make: approved once, with its card. */
  async function followPreapproval(asked: PermissionRecord): Promise<boolean> {
    const source = await store.consumePreapproval(asked.id, (p) => matchesPreapproval(p, asked), {
      directory: asked.directory,
      sessionId: asked.sessionId,
      permission: asked.permission,
    });
    if (!source) return false;
    const outcome = await decider.commit(
      {
        requestId: asked.id,
        state: "approved_once",
        decider: botDecider,
        reason: `the edited call approved on request ${source}`,
        linkedRequestId: source,
        at: deps.now(),
      },
      { kind: "permission", reply: "once" },
    );
    await bus.publish({ type: "approval.requested", record: outcome.record });
    return true;
  }

  return { asked, questionAsked };
}

function fromPermission(directory: string, request: PermissionRequest): Omit<NewPermission, "askedAt" | "toolName" | "toolArgs"> {
  return {
    id: request.id,
    directory,
    sessionId: request.sessionID,
    permission: request.permission,
    patterns: request.patterns,
    always: request.always,
    metadata: request.metadata,
    callId: request.tool?.callID ?? null,
    messageId: request.tool?.messageID ?? null,
  };
}
