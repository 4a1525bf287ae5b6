import type { AlwaysRules } from "./always-rules.ts";
import type { ApprovalBus } from "./approval-events.ts";
import { fallbackMessage, originalCall, preapprovalFor } from "./edit-form.ts";
import { AlreadyDecided, InvalidInput } from "./errors.ts";
import type { PermissionReply } from "./ports.ts";
import type { Reply } from "./replying.ts";
import type { ApprovalStore, DecideInput } from "./store-port.ts";
import { QUESTION, type Choice, type Decider, type PermissionRecord, type PostedCard } from "./types.ts";

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
 * Deciding: the conditional update with its audit row, then the one reply, then `approval.decided`
 * for the cards and the plugin's long polls. A request no longer pending is left as it is.
 */
export function createDecider(deps: { store: ApprovalStore; reply: Reply; bus: ApprovalBus; alwaysRules: AlwaysRules; now: () => Date }) {
  const { store, reply, bus, alwaysRules } = deps;

  /** Commits `input` and sends `plan`; throws AlreadyDecided when the request is no longer pending. */
  async function commit(input: DecideInput, plan: ReplyPlan, via?: PostedCard): Promise<DecisionOutcome> {
    const decided = await store.decide(input);
    if (decided.state === "approved_always" && decided.source === "opencode") {
      alwaysRules.add(decided.directory, decided.permission, decided.always);
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
    const { input, reply: plan } = planDecision(record, request, deps.now());
    try {
      return await commit(input, plan, via);
    } catch (error) {
      if (!(error instanceof AlreadyDecided)) throw error;
      return { kind: "already_decided", record: (await store.getRequest(record.id)) ?? record };
    }
  }

  return { commit, decide };
}

export type Decide = ReturnType<typeof createDecider>;
