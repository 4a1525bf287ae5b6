import type { PermissionRequest, QuestionRequest } from "@opencode-ai/sdk/v2";
import { AlwaysRules, type AlwaysRuleStore } from "./always-rules.ts";
import { ApprovalBus, type ApprovalEvent } from "./approval-events.ts";
import { createApproverCheck, type ApproverLists } from "./approvers.ts";
import { createCardPresenter } from "./card-presenter.ts";
import { createDecider } from "./deciding.ts";
import { createDecisionPort } from "./decision-port.ts";
import { createFollower } from "./following.ts";
import { createExpiry } from "./expiry.ts";
import { createGateIntake } from "./gate-intake.ts";
import type { GateAnswer, GateCall } from "./gate.ts";
import { createIntake } from "./intake.ts";
import { KeyedQueue } from "./keyed-queue.ts";
import type { Logger } from "./logger.ts";
import type { Policy } from "./policy/policy-file.ts";
import type { Redactor } from "./redaction.ts";
import { judge } from "./policy/request-policy.ts";
import type { ChatAdapter, DecisionPort, OpencodeApi, PermissionReply } from "./ports.ts";
import { createReconciler, type Listed } from "./reconcile.ts";
import { createReplier } from "./replying.ts";
import type { ApprovalStore } from "./store-port.ts";
import { randomUUID } from "node:crypto";
import { BUDGET, type PermissionRecord } from "./types.ts";

/**
 * The approval loop, wired: OpenCode's asks come in (intake), teammates decide through the decision
 * port (deciding, replying), what OpenCode does on its own is followed (following, reconcile), and
 * the cards on every platform follow the bus (card presenter). Events of one session are handled in
 * the order they came.
 */
export function createApprovalEngine(deps: {
  store: ApprovalStore;
  /** Where the Always rules given on approvals are kept. */
  alwaysStore: AlwaysRuleStore;
  opencode: OpencodeApi;
  adapters: ChatAdapter[];
  approvers: ApproverLists;
  /** The policy in force (none: no policy file, and the approver lists alone decide). */
  policy?: () => Policy | undefined;
  /** Masks secrets in forms and views (cards are masked by the adapters' wrapper, see redacting-adapter.ts). */
  redactor?: Redactor;
  logger: Logger;
  now?: () => Date;
}) {
  const { store, opencode, adapters, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const policy = deps.policy ?? (() => undefined);
  const sessions = new KeyedQueue();
  const bus = new ApprovalBus(logger);
  const alwaysRules = new AlwaysRules(deps.alwaysStore);
  const presenter = createCardPresenter({ store, opencode, adapters, bus, logger, now });
  const reply = createReplier({ store, opencode, logger, now });
  const decider = createDecider({ store, reply, bus, alwaysRules, now });
  const intake = createIntake({ store, opencode, bus, decider, alwaysRules, missingCards: presenter.missingCards, expectCard: presenter.expectCard, policy, logger, now });
  const later = (sessionId: string, task: () => Promise<void>) =>
    void sessions.run(sessionId, task).catch((error: unknown) => logger.error({ err: error, sessionId }, "a queued task failed"));
  const gates = createGateIntake({ store, bus, decider, alwaysRules, missingCards: presenter.missingCards, later, policy, logger, now });
  const follower = createFollower({ store, bus, alwaysRules, logger, now });
  const reconcile = createReconciler({
    store,
    bus,
    sessions,
    asked: intake.asked,
    questionAsked: intake.questionAsked,
    sessionIdle: follower.sessionIdle,
    close: follower.close,
    missingCards: presenter.missingCards,
    redrawStale: presenter.redrawStale,
  });
  const expiry = createExpiry({ store, decider, bus, adapters, inSession: (id, task) => sessions.run(id, task), logger, now });
  bus.subscribe((event) => (event.type === "approval.requested" && event.record.expiresAt ? expiry.scheduled() : undefined));
  const decisions: DecisionPort = createDecisionPort({
    store,
    decider,
    adapters,
    mayDecide: createApproverCheck(deps.approvers, adapters),
    ...(deps.redactor ? { redactor: deps.redactor } : {}),
    logger,
  });

  return {
    /** What adapters call with clicks and form submissions. */
    decisions,

    /** A `permission.asked` (live or found by a resync): record it once and post its cards. */
    handleAsked: (directory: string, request: PermissionRequest) => sessions.run(request.sessionID, () => intake.asked(directory, request, true)),

    /** A `permission.replied`: when the bot did not decide it, close the cards saying who did. */
    handleReplied: (event: { sessionID: string; requestID: string; reply: PermissionReply }) =>
      sessions.run(event.sessionID, () => follower.replied(event)),

    /** A `question.asked` (live or found by a resync): record it once and post its cards. */
    handleQuestionAsked: (directory: string, question: QuestionRequest) =>
      sessions.run(question.sessionID, () => intake.questionAsked(directory, question)),

    /** A `question.replied` or `question.rejected`: when the bot did not answer it, close the cards. */
    handleQuestionClosed: (event: { sessionID: string; requestID: string; answers?: string[][] }) =>
      sessions.run(event.sessionID, () => follower.questionClosed(event)),

    /** The session went idle (finished or aborted): its pending requests will never run. */
    handleSessionIdle: (directory: string, sessionId: string) => sessions.run(sessionId, () => follower.sessionIdle(directory, sessionId)),

    /** After a (re)connect: what OpenCode has pending in a directory now. */
    reconcile: (listed: Listed) => reconcile(listed),

    /** A tool call held by the plugin (see gate-intake.ts). */
    gate: (call: GateCall): Promise<GateAnswer> => sessions.run(call.sessionId, () => gates.gate(call)),

    /** Another process decided `requestId` (its notification): long polls waiting here read it now. */
    settledElsewhere: (requestId: string) => bus.settledElsewhere(requestId),

    /** The plugin's long poll for one held call. */
    waitForGate: (requestId: string, waitMs: number) => gates.waitForGate(requestId, waitMs),

    /**
     * Holds a prompt from chat (its project is over budget): a pending request of the bot's own with
     * the budget as its reason, carded in the session's thread like OpenCode's. `onHeldDecided` hears
     * how it was decided.
     */
    async holdPrompt(hold: { directory: string; sessionId: string; prompt: string; reason: string; by: string; files?: unknown[] }): Promise<PermissionRecord> {
      const askedAt = now();
      const { policy: held } = judge(policy(), { directory: hold.directory, permission: BUDGET, metadata: {}, toolArgs: null, askedAt });
      const { record } = await store.addRequest({
        policy: held,
        id: `bud_${randomUUID()}`,
        source: "budget",
        directory: hold.directory,
        sessionId: hold.sessionId,
        permission: BUDGET,
        patterns: [],
        always: [],
        metadata: { prompt: hold.prompt, reason: hold.reason, by: hold.by, ...(hold.files?.length ? { files: hold.files } : {}) },
        callId: null,
        messageId: null,
        toolName: null,
        toolArgs: null,
        askedAt,
      });
      await sessions.run(hold.sessionId, () => bus.publish({ type: "approval.requested", record }));
      return record;
    },

    /** A held prompt was decided (approved once, or rejected). */
    onHeldDecided(handler: (record: PermissionRecord) => Promise<void>): void {
      bus.subscribe((event) => (event.type === "approval.decided" && event.record.source === "budget" ? handler(event.record) : undefined));
    },

    /** Hears every approval event after the engine's own handlers are registered (metrics). */
    observe(handler: (event: ApprovalEvent) => void): void {
      bus.subscribe(handler);
    },

    /** Resolves when every event handed to the engine so far has been handled (tests, shutdown). */
    idle: () => sessions.idle(),

    /** Starts the expiry timers (what is due since the last run expires at once). */
    start: () => expiry.start(),

    /** Ends the plugin's long polls and the timers and lets queued events finish; the store may close after it resolves. */
    async stop(): Promise<void> {
      await expiry.stop();
      intake.stop();
      await gates.stop();
      await sessions.idle();
      await presenter.settle(3_000);
    },
  };
}

export type ApprovalEngine = ReturnType<typeof createApprovalEngine>;
