import type { PermissionRequest, QuestionRequest } from "@opencode-ai/sdk/v2";
import { alwaysReason, alwaysStands, type AlwaysRule, type AlwaysRules } from "./always-rules.ts";
import type { ApprovalBus } from "./approval-events.ts";
import type { Decide } from "./deciding.ts";
import { matchesPreapproval } from "./edit-form.ts";
import { gateRequestId } from "./gate.ts";
import type { Logger } from "./logger.ts";
import type { OpencodeApi, PermissionReply } from "./ports.ts";
import type { Policy } from "./policy/policy-file.ts";
import { denial, judge, ruleDecider, type Judgement } from "./policy/request-policy.ts";
import type { ApprovalStore } from "./store-port.ts";
import { botDecider, QUESTION, type ChatPlatform, type Decider, type NewPermission, type PermissionRecord, type RequestState, type StoredPreapproval } from "./types.ts";

/** The states of a gate request that let its call through. */
const GATE_PASSED: RequestState[] = ["approved_once", "approved_always", "edited"];

/** Longer than a reply to OpenCode takes (a local call), so a decision older than this whose request is still listed lost its reply. */
const REPLY_IN_FLIGHT_MS = 2_000;

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
  alwaysRules: AlwaysRules;
  /** Whether a pending request still lacks a card somewhere (its posting failed earlier). */
  missingCards: (record: PermissionRecord) => boolean;
  /** A request of the session is coming, that may need a card: its thread may be looked up meanwhile. */
  expectCard?: (sessionId: string) => void;
  /** The policy in force (none: no policy file). */
  policy: () => Policy | undefined;
  logger: Logger;
  now: () => Date;
}) {
  const { store, opencode, bus, decider, logger } = deps;

  /**
   * A request seen before (a resync, a re-sent event): its cards get another chance if some are
   * missing; one decided here that OpenCode still asks about gets its decision's reply again (the
   * bot stopped between the commit and the reply). A decision younger than REPLY_IN_FLIGHT_MS may
   * have its reply on the way from a click in this process or another: it is sent once that time
   * is up (a reply that arrived meanwhile makes it a harmless 404).
   */
  async function seenBefore(id: string): Promise<boolean> {
    const existing = await store.getRequest(id);
    if (!existing) return false;
    if (existing.state === "pending" && deps.missingCards(existing)) {
      await bus.publish({ type: "approval.requested", record: existing, recover: true });
    }
    const decidedAt = existing.decidedAt?.getTime();
    if (existing.state === "pending" || decidedAt === undefined) return true;
    const wait = REPLY_IN_FLIGHT_MS - (deps.now().getTime() - decidedAt);
    if (wait <= 0) await decider.resend(existing);
    else {
      const timer = setTimeout(() => {
        resendTimers.delete(timer);
        void resendLater(id);
      }, wait).unref();
      resendTimers.add(timer);
    }
    return true;
  }

  const resendTimers = new Set<NodeJS.Timeout>();
  async function resendLater(id: string): Promise<void> {
    try {
      const record = await store.getRequest(id);
      if (record && record.state !== "pending") await decider.resend(record);
    } catch (error) {
      logger.warn({ err: error, requestId: id }, "could not send a stored decision's reply again; the next resync tries again");
    }
  }

  /** A new request as it is to be recorded, with what the policy requires of it given who started its session. */
  function draft(request: Omit<NewPermission, "askedAt">, requester: Decider | undefined) {
    const askedAt = deps.now();
    const judgement = judge(deps.policy(), { ...request, askedAt, ...(requester ? { requester } : {}) });
    const row = { ...request, askedAt, policy: judgement.policy, expiresAt: judgement.expiresAt };
    return { row, judgement, owner: (requester?.platform as ChatPlatform | undefined) ?? null };
  }

  /**
   * A `permission.asked`, live or found by a resync. A live one is new but for a re-sent event, so it
   * is recorded at once (the conditional insert tells); a resync's is mostly known already, so it is
   * looked up first.
   */
  async function asked(directory: string, request: PermissionRequest, live = false): Promise<void> {
    if (!live && (await seenBefore(request.id))) return;
    const ask = fromPermission(directory, request);
    // Each round trip to the database comes before the card: what can be read at once is, in one
    // statement (most finds nothing) beside the tool call's read (usually known from the stream) and
    // the presenter's of the thread; then the insert, with the Always rule (both need the policy's verdict).
    deps.expectCard?.(ask.sessionId);
    const [call, context] = await Promise.all([
      request.tool
        ? opencode.toolCall(directory, { sessionId: request.sessionID, messageId: request.tool.messageID, callId: request.tool.callID }).catch((error: unknown) => {
            logger.warn({ err: error, requestId: request.id }, "could not read the tool call behind a permission request");
            return undefined;
          })
        : undefined,
      store.askContext({
        directory,
        sessionId: ask.sessionId,
        permission: ask.permission,
        ...(ask.callId ? { gateId: gateRequestId(ask.sessionId, ask.callId) } : {}),
      }),
    ]);
    const fields = { ...ask, toolName: call?.tool ?? null, toolArgs: call?.args ?? null };
    const { owner: requester, preapprovals } = context;
    // The plugin's gate let the same call through.
    const gate = context.gate && GATE_PASSED.includes(context.gate.state) ? context.gate : undefined;
    const added = draft(fields, requester);
    const [{ record: created, created: isNew }, always] = await Promise.all([store.addRequest(added.row), alwaysRuleFor(added.row)]);
    if (!isNew) return void (live && (await seenBefore(request.id)));
    logger.info({ requestId: created.id, sessionId: created.sessionId, permission: created.permission, rule: created.policy?.rule }, "permission asked");
    if (gate) return followGate(created, gate);
    if (await followPreapproval(created, preapprovals)) return;
    if (await followPolicy(created, added.judgement)) return;
    if (always) return followAlways(created, always);
    await bus.publish({ type: "approval.requested", record: created, owner: added.owner });
  }

  /** A `question.asked`, live or found by a resync. */
  async function questionAsked(directory: string, question: QuestionRequest): Promise<void> {
    if (await seenBefore(question.id)) return;
    const fields = {
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
    };
    const added = draft(fields, await store.sessionOwner(question.sessionID));
    const { record: created, created: isNew } = await store.addRequest(added.row);
    if (!isNew) return;
    logger.info({ requestId: created.id, sessionId: created.sessionId }, "question asked");
    await bus.publish({ type: "approval.requested", record: created });
  }

  /**
   * OpenCode's own ask for a call the plugin's gate already let through (the project also says "ask"):
   * answered at once, linked to the gate's decision, and no second card.
   */
  async function followGate(asked: PermissionRecord, gate: { id: string; state: RequestState }): Promise<void> {
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
  }

  /** A rule that decides by itself (`auto: allow | deny`): answered at once, no card, the rule as the decider. */
  async function followPolicy(asked: PermissionRecord, judgement: Judgement): Promise<boolean> {
    const auto = judgement.auto;
    if (!auto) return false;
    logger.info({ requestId: asked.id, rule: auto.rule, allow: auto.allow }, "decided by the policy");
    await decider.commit(
      {
        requestId: asked.id,
        state: auto.allow ? "approved_once" : "rejected",
        decider: ruleDecider(auto.rule),
        reason: auto.allow ? `the policy's rule “${auto.rule}” allows it` : denial(auto),
        at: deps.now(),
      },
      auto.allow ? { kind: "permission", reply: "once" } : { kind: "permission", reply: "reject", message: denial(auto) },
    );
    return true;
  }

  /**
   * An ask that an Always rule kept by the bot covers: OpenCode forgot the rule (it restarted), the
   * bot did not. Approved once, so that a revoked rule stops at the next ask.
   */
  async function followAlways(asked: PermissionRecord, rule: AlwaysRule): Promise<void> {
    await decider.commit(
      { requestId: asked.id, state: "approved_once", decider: botDecider, reason: alwaysReason(rule), at: deps.now() },
      { kind: "permission", reply: "once" },
    );
  }

  /** The Always rule kept by the bot that covers the call, where one may stand for a person (alwaysStands). */
  async function alwaysRuleFor(asked: Pick<PermissionRecord, "policy" | "metadata" | "toolArgs" | "directory" | "toolName" | "permission">): Promise<AlwaysRule | undefined> {
    if (!alwaysStands(asked.policy)) return undefined;
    const args = { command: asked.metadata.command, filePath: asked.metadata.filepath ?? asked.toolArgs?.filePath };
    return deps.alwaysRules.covering(asked.directory, asked.toolName ?? asked.permission, args);
  }

  /** The call an edit (decided without the plugin) asked the agent to make: approved once, with its card. */
  async function followPreapproval(asked: PermissionRecord, preapprovals: StoredPreapproval[]): Promise<boolean> {
    const matching = preapprovals.filter((p) => matchesPreapproval(p, asked));
    if (matching.length === 0) return false;
    const source = await store.consumePreapproval(asked.id, matching);
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

  return {
    asked,
    questionAsked,
    /** Drops the replies waiting to be sent again (the next start's resync sends them). */
    stop(): void {
      for (const timer of resendTimers) clearTimeout(timer);
      resendTimers.clear();
    },
  };
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
