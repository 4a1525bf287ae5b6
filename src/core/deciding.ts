import type { AlwaysRules } from "./always-rules.ts";
import type { ApprovalBus } from "./approval-events.ts";
import { fallbackMessage, originalCall, preapprovalFor } from "./edit-form.ts";
import { AlreadyDecided, InvalidInput } from "./errors.ts";
import type { PermissionReply } from "./ports.ts";
import type { Reply } from "./replying.ts";
import type { ApprovalStore, DecideInput } from "./store-port.ts";
import { botDecider, QUESTION, type Choice, type Decider, type PermissionRecord, type PostedCard, type Vote } from "./types.ts";

/** Whether `choice` on `record` is an approval towards several rather than a decision. */
export function needsVotes(record: PermissionRecord, choice: Choice): boolean {
  return (record.policy?.approvals ?? 1) > 1 && (choice === "once" || choice === "always" || choice === "edit");
}

export type DecisionRequest = {
  choice: Choice;
  decider: Decider;
  reason?: string;
  /** With `edit`: the approver's arguments (see edit-form.ts `applyEdit`). */
  editedArgs?: Record<string, unknown>;
  /** With `answer`: one list of labels per question (see question-form.ts). */
  answers?: string[][];
};

export type DecisionOutcome =
  | { kind: "decided"; record: PermissionRecord }
  /** An approval towards several (N-of-M) was counted; `counted` false when this person had already given it. */
  | { kind: "voted"; record: PermissionRecord; counted: boolean }
  | { kind: "already_decided"; record: PermissionRecord }
  | { kind: "reply_failed"; record: PermissionRecord; error: string };

/** The one message OpenCode gets for a decision, as data; replying.ts sends it. */
export type ReplyPlan =
  | { kind: "none" }
  | { kind: "permission"; reply: PermissionReply; message?: string }
  | { kind: "answer"; answers: string[][] }
  | { kind: "dismiss" };

const stateFor = {
  once: "approved_once",
  always: "approved_always",
  reject: "rejected",
  edit: "edited",
  answer: "answered",
  dismiss: "rejected",
} as const;
const questionChoices: Choice[] = ["answer", "dismiss"];

/** Whether `choice` can be made on `record` (a question's choices on a question, the others on a permission). */
export function choiceApplies(record: PermissionRecord, choice: Choice): boolean {
  if (record.source === "budget") return choice === "once" || choice === "reject";
  return (record.permission === QUESTION) === questionChoices.includes(choice);
}

/**
 * What deciding `record` with `request` writes and what it tells OpenCode. Pure: the same record and
 * request always give the same plan. Throws InvalidInput for a choice that does not apply.
 */
export function planDecision(record: PermissionRecord, request: DecisionRequest, at: Date): { input: DecideInput; reply: ReplyPlan } {
  if (!choiceApplies(record, request.choice)) {
    throw new InvalidInput(`${request.choice} does not apply to ${record.permission === QUESTION ? "a question" : "a permission request"}`);
  }
  const input: DecideInput = {
    requestId: record.id,
    state: stateFor[request.choice],
    decider: request.decider,
    reason: request.reason?.trim() || undefined,
    at,
  };
  if (record.source === "budget") return { input, reply: { kind: "none" } };
  if (record.source === "plugin") {
    // The plugin reads the decision through its long poll: nothing to send to OpenCode.
    if (request.choice === "edit") input.editedArgs = request.editedArgs ?? originalCall(record).args;
    return { input, reply: { kind: "none" } };
  }
  switch (request.choice) {
    case "once":
    case "always":
    case "reject":
      return { input, reply: { kind: "permission", reply: request.choice, message: input.reason } };
    case "edit": {
      const edited = request.editedArgs ?? originalCall(record).args;
      input.editedArgs = edited;
      input.preapproval = preapprovalFor(record, edited);
      return { input, reply: { kind: "permission", reply: "reject", message: fallbackMessage(originalCall(record).tool, edited) } };
    }
    case "answer": {
      const answers = request.answers ?? [];
      input.editedArgs = { answers };
      return { input, reply: { kind: "answer", answers } };
    }
    case "dismiss":
      return { input, reply: { kind: "dismiss" } };
  }
}

/**
 * The reply a decided request's stored state stands for: what its decision told OpenCode, or was
 * about to (see the decider's `resend`). None for what OpenCode never hears of from us: the plugin's
 * requests, a budget hold, and a request answered or dropped by OpenCode itself.
 */
export function storedReply(record: PermissionRecord): ReplyPlan {
  const question = record.permission === QUESTION;
  const choice = question && (record.state === "rejected" || record.state === "expired") ? "dismiss" : choiceFor[record.state];
  if (!choice || !choiceApplies(record, choice)) return { kind: "none" };
  // The plan the decision was made with, from what it stored (a reason goes to OpenCode only with a rejection).
  const request: DecisionRequest = {
    choice,
    decider: record.decider ?? botDecider,
    ...(choice === "reject" && record.reason ? { reason: record.reason } : {}),
    ...(choice === "edit" && record.editedArgs ? { editedArgs: record.editedArgs } : {}),
    ...(choice === "answer" ? { answers: (record.editedArgs?.answers as string[][] | undefined) ?? [] } : {}),
  };
  return planDecision(record, request, record.decidedAt ?? new Date()).reply;
}

/** The choice a decided state was made with (a question's rejection is a dismissal); none for OpenCode's own endings. */
const choiceFor: Partial<Record<PermissionRecord["state"], Choice>> = {
  approved_once: "once",
  approved_always: "always",
  rejected: "reject",
  expired: "reject",
  edited: "edit",
  answered: "answer",
};

/**
 * Deciding: the conditional update with its audit row, then the one reply, then `approval.decided`
 * for the cards and the plugin's long polls. A request no longer pending is left as it is.
 */
export function createDecider(deps: { store: ApprovalStore; reply: Reply; bus: ApprovalBus; alwaysRules: AlwaysRules; now: () => Date }) {
  const { store, reply, bus, alwaysRules } = deps;

  /** Commits `input` and sends `plan`; throws AlreadyDecided when the request is no longer pending. */
  async function commit(input: DecideInput, plan: ReplyPlan, via?: PostedCard): Promise<DecisionOutcome> {
    return afterCommit(await store.decide(input), plan, via);
  }

  /** After a decision is committed: what it teaches (an Always rule), the one reply, then the cards. */
  async function afterCommit(decided: PermissionRecord, plan: ReplyPlan, via?: PostedCard): Promise<DecisionOutcome> {
    if (decided.state === "approved_always" && decided.source === "opencode") {
      await alwaysRules.add(decided, decided.decider ?? botDecider, decided.decidedAt ?? deps.now());
    }
    const replied = await reply(decided, plan);
    await bus.publish({ type: "approval.decided", record: replied.record, via });
    return replied.error === undefined
      ? { kind: "decided", record: replied.record }
      : { kind: "reply_failed", record: replied.record, error: replied.error };
  }

  /** A person's choice on `record`, as read once when their click or form came in. */
  async function decide(record: PermissionRecord, request: DecisionRequest, via?: PostedCard): Promise<DecisionOutcome> {
    if (record.state !== "pending") return { kind: "already_decided", record };
    try {
      if (needsVotes(record, request.choice)) return await vote(record, request, via);
      const { input, reply: plan } = planDecision(record, request, deps.now());
      return await commit(input, plan, via);
    } catch (error) {
      if (!(error instanceof AlreadyDecided)) throw error;
      return { kind: "already_decided", record: (await store.getRequest(record.id)) ?? record };
    }
  }

  /**
   * An approval towards a request that needs several: counted once per person; the one that
   * completes the count decides, in the same transaction, with the least the approvals agree on
   * (Always only when every approver chose it; an edit stands for the edited call).
   */
  async function vote(record: PermissionRecord, request: DecisionRequest, via?: PostedCard): Promise<DecisionOutcome> {
    const at = deps.now();
    const choice = request.choice as Vote["choice"];
    const editedArgs = choice === "edit" ? (request.editedArgs ?? originalCall(record).args) : null;
    let plan: ReplyPlan = { kind: "none" };
    const needed = record.policy?.approvals ?? 1;
    const result = await store.vote(record.id, { by: request.decider, choice, editedArgs, at }, (votes) => {
      if (votes.length < needed) return undefined;
      const edit = votes.find((v) => v.choice === "edit");
      const final: Choice = edit ? "edit" : votes.every((v) => v.choice === "always") ? "always" : "once";
      const names = votes.map((v) => v.by.name).join(", ");
      const planned = planDecision(record, { choice: final, decider: request.decider, ...(edit?.editedArgs ? { editedArgs: edit.editedArgs } : {}) }, at);
      plan = planned.reply;
      return { ...planned.input, reason: `${votes.length} approvals: ${names}` };
    });
    if (!result.decided) {
      await bus.publish({ type: "approval.updated", record: result.record, via });
      return { kind: "voted", record: result.record, counted: result.counted };
    }
    return afterCommit(result.record, plan, via);
  }

  /**
   * Sends again the reply of a decision that is committed but that OpenCode still lists as pending:
   * the bot stopped between the commit and the reply. OpenCode answers 404 for a request already
   * answered, so a reply that did arrive meanwhile is not given twice; nothing is written for it.
   */
  async function resend(record: PermissionRecord): Promise<void> {
    const plan = storedReply(record);
    if (plan.kind === "none") return;
    const replied = await reply(record, plan, { again: true });
    if (replied.error === undefined) await bus.publish({ type: "approval.decided", record: replied.record, recover: true });
  }

  return { commit, decide, resend };
}

export type Decide = ReturnType<typeof createDecider>;
