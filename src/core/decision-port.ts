import { buildCard, fullBodyView } from "./card-text.ts";
import type { Decide, DecisionRequest } from "./deciding.ts";
import { choiceApplies } from "./deciding.ts";
import { InvalidInput } from "./errors.ts";
import type { Logger } from "./logger.ts";
import { notices, outcomeNotice } from "./notices.ts";
import type { Actor, Answer, CardAction, ChatAdapter, DecisionPort, Submission } from "./ports.ts";
import { answerForOption } from "./question-form.ts";
import { createRedactor, type Redactor } from "./redaction.ts";
import { formFor, readForm } from "./request-forms.ts";
import type { ApprovalStore } from "./store-port.ts";
import type { Decider, PermissionRecord } from "./types.ts";

/**
 * How long a click's read of its request may take: Slack's trigger_id and Discord's interaction
 * expire 3 s after the click, and a dialog (Reject, Edit) must be opened within them.
 */
const READ_LIMIT_MS = 2_000;

/**
 * The decision port every adapter calls: reads the request once, checks who acts, and answers with a
 * form to open, words to show, or a decision to commit once the adapter has acknowledged.
 */
export function createDecisionPort(deps: {
  store: ApprovalStore;
  decider: Decide;
  adapters: ChatAdapter[];
  /** Whether `actor` is an approver: by `approvers` (a policy's list) where given, else by the platform lists. */
  mayDecide: (actor: Actor, approvers?: string[]) => Promise<boolean>;
  /** Masks secrets in what a form or view shows (and puts them back in what an Edit dialog returns untouched). */
  redactor?: Redactor;
  logger: Logger;
}): DecisionPort {
  const { store, decider, logger } = deps;
  const redactor = deps.redactor ?? createRedactor();

  /**
   * The form for `kind`, its secrets masked, and the table that masked them: built the same way for
   * the click that opens it and for the submission, so a mask left as it was gets its original back.
   */
  function maskedForm(kind: Submission["form"], record: PermissionRecord, actor: Actor) {
    const table = redactor.table();
    const opened = formFor(kind, record, actor.platform, limitsOf(actor));
    return { opened: "form" in opened ? { form: table.maskDeep(opened.form) } : opened, table };
  }
  const limitsOf = (actor: Actor) => {
    const adapter = deps.adapters.find((candidate) => candidate.platform === actor.platform);
    if (!adapter) throw new Error(`no adapter for ${actor.platform}`);
    return adapter.limits;
  };
  const notice = (text: string): Answer => ({ kind: "notice", text });

  /** The request, or the answer that says why there is none to act on (in time for the platform). */
  async function read(requestId: string): Promise<PermissionRecord | Answer> {
    const reading = store.getRequest(requestId);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), READ_LIMIT_MS)));
    try {
      const found = await Promise.race([reading, late]);
      if (found !== "late") return found ?? notice(notices.unknown);
      // Read-only: what it finds later is dropped (its failure too).
      reading.catch(() => undefined);
      logger.warn({ requestId, waitedMs: READ_LIMIT_MS }, "reading a request took too long; the click is answered without it");
      return notice(notices.tooSlow);
    } catch (error) {
      logger.error({ err: error, requestId }, "reading a request failed");
      return notice(notices.notRecorded);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Why `actor` may not make `choice` on `record`, if they may not: not an approver (of the rule),
   * approving a session they started themselves where the rule forbids it, Always where not offered.
   */
  async function refusal(record: PermissionRecord, actor: Actor, choice: CardAction | Submission["form"]): Promise<string | undefined> {
    const policy = record.policy;
    if (!(await deps.mayDecide(actor, policy?.approvers))) {
      logger.warn({ user: actor.userId, platform: actor.platform, requestId: record.id, rule: policy?.rule }, "a decision from a user who is not an approver");
      return policy?.approvers ? notices.notApproverOfRule(policy.rule) : notices.notApprover;
    }
    if (!policy) return undefined;
    const approves = choice === "once" || choice === "always" || choice === "edit";
    const requester = policy.requester;
    if (approves && !policy.selfApproval && requester && requester.platform === actor.platform && requester.userId === actor.userId) {
      return notices.selfApproval(policy.rule);
    }
    if (choice === "always" && !policy.allowAlways) return notices.noAlways(policy.rule);
    return undefined;
  }

  function decision(record: PermissionRecord, actor: Actor, request: Omit<DecisionRequest, "decider">, via?: string): Answer {
    const who: Decider = { platform: actor.platform, userId: actor.userId, name: actor.name };
    const clicked = via === undefined ? undefined : { platform: actor.platform, ref: via };
    return {
      kind: "decide",
      async commit() {
        try {
          return outcomeNotice(await decider.decide(record, { ...request, decider: who }, clicked));
        } catch (error) {
          if (error instanceof InvalidInput) return notices.invalid(error.message);
          logger.error({ err: error, requestId: record.id }, "deciding failed");
          return notices.notRecorded;
        }
      },
    };
  }

  return {
    failedNotice: notices.failed,

    async click({ actor, requestId, action, via }) {
      const found = await read(requestId);
      if ("kind" in found) return found;
      const record = found;
      const limits = limitsOf(actor);
      if (action === "view") return { kind: "view", view: redactor.maskDeep(fullBodyView(buildCard(record, limits))) };
      const refused = await refusal(record, actor, action);
      if (refused) return notice(refused);
      if (record.state !== "pending") return notice(outcomeNotice({ kind: "already_decided", record })!);
      if (typeof action === "object") {
        let answers: string[][];
        try {
          answers = answerForOption(record, action.option, limits.quickOptions);
        } catch {
          return notice(outcomeNotice({ kind: "already_decided", record })!);
        }
        return decision(record, actor, { choice: "answer", answers }, via);
      }
      if (!choiceApplies(record, action)) return notice(notices.invalid(`${action} does not apply to this request`));
      if (action === "reject" || action === "edit" || action === "answer") {
        const { opened } = maskedForm(action, record, actor);
        return "form" in opened ? { kind: "form", form: opened.form } : notice(opened.refusal);
      }
      return decision(record, actor, { choice: action }, via);
    },

    async submit({ actor, requestId, form, values, via }) {
      const found = await read(requestId);
      if ("kind" in found) return found;
      const record = found;
      const refused = await refusal(record, actor, form);
      if (refused) return notice(refused);
      try {
        const restored = form === "edit" ? maskedForm(form, record, actor).table.restoreDeep(values) : values;
        return decision(record, actor, readForm(form, record, restored), via);
      } catch (error) {
        if (!(error instanceof InvalidInput)) throw error;
        return { kind: "invalid", field: error.field ?? firstFields[form], message: error.message };
      }
    },
  };
}

/** Where an error without a field of its own is shown. */
const firstFields: Record<Submission["form"], string> = { reject: "reason", edit: "json", answer: "q0" };
