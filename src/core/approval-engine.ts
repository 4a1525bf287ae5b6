import { EventEmitter } from "node:events";
import type { PermissionRequest, QuestionRequest } from "@opencode-ai/sdk/v2";
import { buildCard } from "./card-text.ts";
import { fallbackMessage, matchesPreapproval, originalCall, preapprovalFor } from "./edit-form.ts";
import { AlreadyDecided, ChatopsError, InvalidInput, NotFound } from "./errors.ts";
import { AlwaysRules, gateRequestId } from "./gate.ts";
import { GateKeeper } from "./gate-keeper.ts";
import { KeyedQueue } from "./keyed-queue.ts";
import type { Logger } from "./logger.ts";
import type { ChatAdapter, OpencodeApi, PermissionReply } from "./ports.ts";
import type { ApprovalStore, DecideInput } from "./store-port.ts";
import {
  botDecider,
  opencodeDecider,
  QUESTION,
  type CardRef,
  type Choice,
  type Decider,
  type PermissionRecord,
  type SessionThread,
} from "./types.ts";

export type DecisionOutcome =
  | { kind: "decided"; record: PermissionRecord }
  | { kind: "already_decided"; record: PermissionRecord }
  | { kind: "reply_failed"; record: PermissionRecord; error: string }
  | { kind: "not_found" };

export type DecisionRequest = {
  requestId: string;
  choice: Choice;
  decider: Decider;
  reason?: string;
  /** With `edit`: the approver's arguments (see edit-form.ts `applyEdit`). */
  editedArgs?: Record<string, unknown>;
  /** With `answer`: one list of labels per question (see question-form.ts). */
  answers?: string[][];
  /** The card that was clicked, updated too should it not be the one on record (a duplicate after a crash). */
  via?: CardRef;
};

/** OpenCode answers a cascade within milliseconds; a minute leaves room for a slow event stream. */
const CASCADE_WINDOW_MS = 60_000;

const stateFor = {
  once: "approved_once",
  always: "approved_always",
  reject: "rejected",
  edit: "edited",
  answer: "answered",
  dismiss: "rejected",
} as const;
const questionChoices: Choice[] = ["answer", "dismiss"];

/**
 * The approval loop: records each OpenCode permission request, shows it as a card, turns a click into
 * exactly one reply, and follows what OpenCode decides on its own (TUI answers, cascades, restarts).
 */
export class ApprovalEngine {
  private readonly sessions = new KeyedQueue();
  private readonly threads = new Map<string, Promise<Pick<SessionThread, "channel" | "threadTs">>>();
  /** Emits a request's id when it leaves `pending`, for the plugin's long polls in this process. */
  private readonly settled = new EventEmitter().setMaxListeners(0);
  private readonly alwaysRules = new AlwaysRules();
  /** The plugin's side door: tool calls held before they run (see gate-keeper.ts). */
  readonly gates: GateKeeper;

  constructor(
    private readonly deps: {
      store: ApprovalStore;
      opencode: OpencodeApi;
      chat: ChatAdapter;
      logger: Logger;
      now?: () => Date;
    },
  ) {
    this.gates = new GateKeeper({
      store: deps.store,
      logger: deps.logger,
      sessions: this.sessions,
      settled: this.settled,
      alwaysRules: this.alwaysRules,
      now: () => this.now(),
      postCard: (record, options) => this.postCard(record, options),
    });
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /** A `permission.asked` (live or found by a resync): record it once and post its card. */
  handleAsked(directory: string, request: PermissionRequest): Promise<void> {
    return this.sessions.run(request.sessionID, () => this.asked(directory, request));
  }

  /** A `permission.replied`: when the bot did not decide it, close the card saying who did. */
  handleReplied(directory: string, event: { sessionID: string; requestID: string; reply: PermissionReply }): Promise<void> {
    return this.sessions.run(event.sessionID, () => this.replied(event));
  }

  /** A `question.asked` (live or found by a resync): record it once and post its card. */
  handleQuestionAsked(directory: string, question: QuestionRequest): Promise<void> {
    return this.sessions.run(question.sessionID, () => this.questionAsked(directory, question));
  }

  /** A `question.replied` or `question.rejected`: when the bot did not answer it, close the card. */
  handleQuestionClosed(directory: string, event: { sessionID: string; requestID: string; answers?: string[][] }): Promise<void> {
    return this.sessions.run(event.sessionID, async () => {
      const record = await this.deps.store.getRequest(event.requestID);
      if (!record || record.state !== "pending") return;
      const reason = event.answers
        ? `Answered in OpenCode (TUI, web or API): ${event.answers.map((a) => `“${a.join(", ")}”`).join("; ")}`
        : "Dismissed in OpenCode (TUI, web or API)";
      await this.close(record, "answered_elsewhere", reason, event.answers ? "answered_elsewhere:answer" : "answered_elsewhere:reject");
    });
  }

  /** The session went idle (finished or aborted): its pending requests will never run. */
  handleSessionIdle(directory: string, sessionId: string): Promise<void> {
    return this.sessions.run(sessionId, async () => {
      for (const record of await this.deps.store.pendingRequests({ directory, sessionId })) {
        await this.close(record, "cancelled", "the session was stopped (aborted) before anyone decided");
      }
    });
  }

  /**
   * After a (re)connect: `listed` is what OpenCode has pending in `directory` now, `busy` the sessions
   * that are running. Posts cards for requests not seen, closes cards whose request is gone.
   */
  async reconcile(
    directory: string,
    listed: { permissions: PermissionRequest[]; questions: QuestionRequest[] },
    busy: Set<string>,
    listedAt: Date,
    goneReason: string,
  ): Promise<void> {
    const listedIds = new Set([...listed.permissions, ...listed.questions].map((request) => request.id));
    for (const request of listed.permissions) await this.handleAsked(directory, request);
    for (const question of listed.questions) await this.handleQuestionAsked(directory, question);
    for (const request of [...listed.permissions, ...listed.questions]) {
      if (!busy.has(request.sessionID)) await this.handleSessionIdle(directory, request.sessionID);
    }
    for (const record of await this.deps.store.pendingRequests({ directory })) {
      if (listedIds.has(record.id)) continue;
      if (record.source === "plugin") {
        // Held by the plugin, so never in GET /permission: gone only when its session stopped running.
        if (!busy.has(record.sessionId)) {
          await this.sessions.run(record.sessionId, () => this.close(record, "cancelled", "OpenCode is no longer waiting for this call (the session stopped, or OpenCode restarted)"));
        }
        continue;
      }
      // A request that arrived after the list was read is not gone, only newer than the list.
      if (record.askedAt >= listedAt) continue;
      await this.sessions.run(record.sessionId, () => this.close(record, "expired", goneReason));
    }
    // Cards whose posting failed earlier (chat down) get another chance on every resync.
    for (const record of await this.deps.store.pendingRequests({ directory })) {
      if (!record.card) {
        await this.sessions.run(record.sessionId, () => this.postCard(record, { recover: true }));
      }
    }
  }

  /** A teammate's choice on a card. Authorization is the caller's job; this records, replies, and updates the card. */
  async decide(request: DecisionRequest): Promise<DecisionOutcome> {
    const record = await this.deps.store.getRequest(request.requestId);
    if (!record) return { kind: "not_found" };
    if (record.state !== "pending") return { kind: "already_decided", record };
    if ((record.permission === QUESTION) !== questionChoices.includes(request.choice)) {
      throw new InvalidInput(`${request.choice} does not apply to ${record.permission === QUESTION ? "a question" : "a permission request"}`);
    }
    const { opencode } = this.deps;
    const input: DecideInput = {
      requestId: record.id,
      state: stateFor[request.choice],
      decider: request.decider,
      reason: request.reason?.trim() || undefined,
      at: this.now(),
    };
    const target = { directory: record.directory, requestId: record.id };
    let send: () => Promise<void>;
    if (record.source === "plugin") {
      // The plugin reads the decision through its long poll: nothing to send to OpenCode.
      if (request.choice === "edit") input.editedArgs = request.editedArgs ?? originalCall(record).args;
      send = async () => {};
    } else switch (request.choice) {
      case "once":
      case "always":
      case "reject": {
        const reply = { ...target, reply: request.choice, message: input.reason };
        send = () => opencode.replyPermission(reply);
        break;
      }
      case "edit": {
        const edited = request.editedArgs ?? originalCall(record).args;
        input.editedArgs = edited;
        input.preapproval = preapprovalFor(record, edited);
        const message = fallbackMessage(originalCall(record).tool, edited);
        send = () => opencode.replyPermission({ ...target, reply: "reject", message });
        break;
      }
      case "answer": {
        const answers = request.answers ?? [];
        input.editedArgs = { answers };
        send = () => opencode.replyQuestion({ ...target, answers });
        break;
      }
      case "dismiss":
        send = () => opencode.rejectQuestion(target);
        break;
    }
    let decided: PermissionRecord;
    try {
      decided = await this.deps.store.decide(input);
    } catch (error) {
      if (error instanceof AlreadyDecided) {
        const current = await this.deps.store.getRequest(record.id);
        return { kind: "already_decided", record: current ?? record };
      }
      throw error;
    }
    this.settled.emit(decided.id);
    if (decided.state === "approved_always" && decided.source === "opencode") {
      this.alwaysRules.add(decided.directory, decided.permission, decided.always);
    }
    return this.sendReply(decided, send, request.via);
  }

  private async questionAsked(directory: string, question: QuestionRequest): Promise<void> {
    const existing = await this.deps.store.getRequest(question.id);
    if (existing) {
      if (existing.state === "pending" && !existing.card) await this.postCard(existing, { recover: true });
      return;
    }
    const { record, created } = await this.deps.store.addRequest({
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
      askedAt: this.now(),
    });
    if (!created) return;
    this.deps.logger.info({ requestId: record.id, sessionId: record.sessionId }, "question asked");
    await this.postCard(record);
  }

  private async asked(directory: string, request: PermissionRequest): Promise<void> {
    const existing = await this.deps.store.getRequest(request.id);
    if (existing) {
      if (existing.state === "pending" && !existing.card) await this.postCard(existing, { recover: true });
      return;
    }
    const call = request.tool
      ? await this.deps.opencode
          .toolCall(directory, { sessionId: request.sessionID, messageId: request.tool.messageID, callId: request.tool.callID })
          .catch((error: unknown) => {
            this.deps.logger.warn({ err: error, requestId: request.id }, "could not read the tool call behind a permission request");
            return undefined;
          })
      : undefined;
    const { record, created } = await this.deps.store.addRequest({
      id: request.id,
      directory,
      sessionId: request.sessionID,
      permission: request.permission,
      patterns: request.patterns,
      always: request.always,
      metadata: request.metadata,
      callId: request.tool?.callID ?? null,
      messageId: request.tool?.messageID ?? null,
      toolName: call?.tool ?? null,
      toolArgs: call?.args ?? null,
      askedAt: this.now(),
    });
    if (!created) return;
    this.deps.logger.info({ requestId: record.id, sessionId: record.sessionId, permission: record.permission }, "permission asked");
    if (await this.followGate(record)) return;
    const source = await this.deps.store.consumePreapproval(record.id, (p) => matchesPreapproval(p, record), {
      directory: record.directory,
      sessionId: record.sessionId,
      permission: record.permission,
    });
    if (source) {
      const decided = await this.deps.store.decide({
        requestId: record.id,
        state: "approved_once",
        decider: botDecider,
        decision: "approved_once",
        reason: `the edited call approved on request ${source}`,
        linkedRequestId: source,
        at: this.now(),
      });
      await this.postCard(decided);
      await this.sendReply(decided, () =>
        this.deps.opencode.replyPermission({ directory: decided.directory, requestId: decided.id, reply: "once" }),
      );
      return;
    }
    await this.postCard(record);
  }

  /**
   * OpenCode's own ask for a call the plugin's gate already let through (the project also says "ask"):
   * answered at once, linked to the gate's decision, and no second card.
   */
  private async followGate(record: PermissionRecord): Promise<boolean> {
    if (!record.callId) return false;
    const gate = await this.deps.store.getRequest(gateRequestId(record.sessionId, record.callId));
    if (!gate || !["approved_once", "approved_always", "edited"].includes(gate.state)) return false;
    const reply: PermissionReply = gate.state === "approved_always" ? "always" : "once";
    if (reply === "always") this.alwaysRules.add(record.directory, record.permission, record.always);
    const decided = await this.deps.store.decide({
      requestId: record.id,
      state: reply === "always" ? "approved_always" : "approved_once",
      decider: botDecider,
      reason: `the plugin's gate approved this call on request ${gate.id}`,
      linkedRequestId: gate.id,
      at: this.now(),
    });
    await this.sendReply(decided, () => this.deps.opencode.replyPermission({ directory: record.directory, requestId: record.id, reply }));
    return true;
  }

  private async replied(event: { sessionID: string; requestID: string; reply: PermissionReply }): Promise<void> {
    const record = await this.deps.store.getRequest(event.requestID);
    if (!record || record.state !== "pending") return;
    if (event.reply === "always") this.alwaysRules.add(record.directory, record.permission, record.always);
    const reason = await this.explainReply(record, event.reply);
    await this.close(record, "answered_elsewhere", reason, `answered_elsewhere:${event.reply}`);
  }

  /** Words for a reply the bot did not send: OpenCode's own cascade, or somebody in OpenCode's TUI/API. */
  private async explainReply(record: PermissionRecord, reply: PermissionReply): Promise<string> {
    const since = new Date(this.now().getTime() - CASCADE_WINDOW_MS);
    const recent = (await this.deps.store.recentlyDecided(record.sessionId, since)).filter(
      (other) => other.id !== record.id && other.decider && other.decider.platform !== "opencode",
    );
    if (reply === "reject") {
      const cause = recent.find((other) => other.state === "rejected" || other.state === "edited");
      if (cause) {
        return `Rejected by OpenCode's cascade: ${cause.decider!.name} ${cause.state === "edited" ? "edited" : "rejected"} request ${cause.id} in this session, which rejects every pending request of the session. No reason reached the agent for this one.`;
      }
      return "Rejected in OpenCode (TUI, web or API), not from chat";
    }
    const always = recent.find((other) => other.state === "approved_always");
    if (always) {
      return `Approved by OpenCode: it matches the “Always” rule ${always.decider!.name} gave on request ${always.id}`;
    }
    return reply === "always"
      ? "Always approved in OpenCode (TUI, web or API), not from chat"
      : "Approved once in OpenCode (TUI, web or API), not from chat";
  }

  private async close(record: PermissionRecord, state: "expired" | "cancelled" | "answered_elsewhere", reason: string, decision?: string) {
    try {
      const closed = await this.deps.store.decide({ requestId: record.id, state, decider: opencodeDecider, decision, reason, at: this.now() });
      this.settled.emit(closed.id);
      this.deps.logger.info({ requestId: record.id, state, reason }, "permission request closed without a chat decision");
      await this.refreshCard(closed);
    } catch (error) {
      if (!(error instanceof AlreadyDecided)) throw error;
    }
  }

  /** Sends the one reply for a committed decision; a failure is recorded and shown, never hidden. */
  private async sendReply(record: PermissionRecord, send: () => Promise<void>, via?: CardRef): Promise<DecisionOutcome> {
    try {
      await send();
    } catch (error) {
      const message =
        error instanceof NotFound
          ? "OpenCode no longer has this request (it restarted, or the request was answered elsewhere)"
          : error instanceof ChatopsError
            ? error.message
            : String(error);
      this.deps.logger.error({ err: error, requestId: record.id }, "reply to OpenCode failed");
      const failed = await this.deps.store.recordReplyFailure(record.id, message, this.now());
      await this.refreshCard(failed, via);
      return { kind: "reply_failed", record: failed, error: message };
    }
    this.deps.logger.info({ requestId: record.id, state: record.state, by: record.decider?.userId }, "permission decided");
    await this.refreshCard(record, via);
    return { kind: "decided", record };
  }

  /**
   * Posts the card of a request, or, for a request seen before (`recover`), first adopts a card
   * already in its thread. Should the request be decided while the card was being posted, the card
   * is brought up to date at once.
   */
  private async postCard(record: PermissionRecord, options: { recover?: boolean } = {}): Promise<void> {
    try {
      const thread = await this.threadFor(record);
      const card = buildCard(record, this.now());
      const found = options.recover ? await this.deps.chat.findCard?.(thread, card.reference) : undefined;
      const ref = found ?? (await this.deps.chat.postCard(thread, card));
      await this.deps.store.setCard(record.id, ref);
      const current = await this.deps.store.getRequest(record.id);
      if (found || (current && current.state !== record.state)) await this.refreshCard(current ?? record);
    } catch (error) {
      this.deps.logger.error({ err: error, requestId: record.id }, "could not post the card; will retry on the next resync");
    }
  }

  /** Updates a card (and the clicked one, if another) after a state change; a chat failure never undoes the decision. */
  private async refreshCard(record: PermissionRecord, via?: CardRef): Promise<void> {
    const current = (await this.deps.store.getRequest(record.id)) ?? record;
    const refs = [current.card, via].filter((ref): ref is CardRef => ref != null);
    const unique = refs.filter((ref, i) => refs.findIndex((other) => other.channel === ref.channel && other.ts === ref.ts) === i);
    const card = buildCard(current, this.now());
    for (const ref of unique) {
      try {
        await this.deps.chat.updateCard(ref, card);
      } catch (error) {
        this.deps.logger.error({ err: error, requestId: record.id }, "could not update the card");
      }
    }
  }

  private threadFor(record: PermissionRecord): Promise<Pick<SessionThread, "channel" | "threadTs">> {
    let thread = this.threads.get(record.sessionId);
    if (!thread) {
      thread = this.openThread(record);
      this.threads.set(record.sessionId, thread);
      thread.catch(() => this.threads.delete(record.sessionId));
    }
    return thread;
  }

  private async openThread(record: PermissionRecord): Promise<Pick<SessionThread, "channel" | "threadTs">> {
    const stored = await this.deps.store.getThread(record.sessionId);
    if (stored) return stored;
    const title =
      (await this.deps.opencode.sessionTitle(record.directory, record.sessionId).catch(() => undefined)) ?? record.sessionId;
    const opened = await this.deps.chat.openThread({ directory: record.directory, sessionId: record.sessionId, title });
    return this.deps.store.saveThread({ sessionId: record.sessionId, directory: record.directory, title, ...opened });
  }

  /** Resolves when every event handed to the engine so far has been handled (tests, shutdown). */
  idle(): Promise<void> {
    return this.sessions.idle();
  }
}
