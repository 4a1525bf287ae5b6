import type { App, BlockAction, ButtonAction, SlackViewAction, SlackViewMiddlewareArgs } from "@slack/bolt";
import type { DecisionOutcome, DecisionRequest } from "../../src/core/approval-engine.ts";
import { buildCard } from "../../src/core/card-text.ts";
import { applyEdit, editFields } from "../../src/core/edit-form.ts";
import { InvalidInput } from "../../src/core/errors.ts";
import type { Logger } from "../../src/core/logger.ts";
import { answerForOption, parseAnswers, questionsOf } from "../../src/core/question-form.ts";
import type { Choice, Decider, PermissionRecord } from "../../src/core/types.ts";
import { notices, outcomeMessage } from "./outcome-message.ts";
import type { RateLimitedApi } from "./rate-limited-api.ts";
import {
  answerModal,
  callbackIds,
  editModal,
  fullBodyModal,
  INPUT_LIMIT,
  optionActionPrefix,
  rejectModal,
  type ModalContext,
} from "./render.ts";
import type { DecisionPort, SlackConfig } from "./slack-adapter.ts";

/**
 * The clicks and dialog submissions: who may decide is checked here, the decision is the core's,
 * and the clicker is told privately whatever the updated card does not say.
 */
export function registerInteractions(
  app: App,
  deps: { config: SlackConfig; logger: Logger; decisions: DecisionPort; api: RateLimitedApi; isApprover: (userId: string) => Promise<boolean> },
): void {
  const { config, logger, decisions, api, isApprover } = deps;

  const tell = (channel: string, user: string, text: string, threadTs?: string) =>
    // Ephemerals are Tier 4 and not bound by the one-message-a-second channel limit.
    api
      .call("chat.postEphemeral", undefined, () => app.client.chat.postEphemeral({ channel, user, text, thread_ts: threadTs }))
      .catch((error: unknown) => logger.error({ err: error, user }, "could not send an ephemeral message"));

  const decider = (user: { id: string; name?: string; username?: string }): Decider => ({
    platform: "slack",
    userId: user.id,
    name: user.username ?? user.name ?? user.id,
  });

  async function decideAndTell(request: DecisionRequest, where: { channel: string; messageTs?: string }) {
    let outcome: DecisionOutcome;
    try {
      const via = where.messageTs ? { channel: where.channel, ts: where.messageTs } : undefined;
      outcome = await decisions.decide({ ...request, via });
    } catch (error) {
      if (error instanceof InvalidInput) return void (await tell(where.channel, request.decider.userId, `Nothing was done: ${error.message}.`));
      logger.error({ err: error, requestId: request.requestId }, "deciding failed");
      await tell(where.channel, request.decider.userId, notices.notRecorded);
      return;
    }
    const message = outcomeMessage(outcome);
    if (message) await tell(where.channel, request.decider.userId, message);
  }

  app.action<BlockAction<ButtonAction>>(/^approval:(once|always|reject|edit|answer|dismiss|view)$/, async ({ ack, body, action }) => {
    await ack();
    const requestId = action.value ?? "";
    const channel = body.channel?.id ?? config.channel;
    const messageTs = body.message?.ts ?? body.container?.message_ts;
    const choice = action.action_id.slice("approval:".length) as Choice | "view";
    const record = await readRequest(requestId, channel, body.user.id);
    if (!record) return;
    if (choice === "view") {
      await api.call("views.open", undefined, () =>
        app.client.views.open({ trigger_id: body.trigger_id, view: fullBodyModal(buildCard(record)) as never }),
      );
      return;
    }
    if (!(await isApprover(body.user.id))) {
      logger.warn({ user: body.user.id, requestId }, "click from a user who is not an approver");
      return void (await tell(channel, body.user.id, notices.notApprover));
    }
    if (record.state !== "pending") return void (await tell(channel, body.user.id, outcomeMessage({ kind: "already_decided", record })!));
    const context: ModalContext = { requestId, channel, messageTs: messageTs ?? "" };
    const summary = buildCard(record).summary;
    if (choice === "reject") {
      await api.call("views.open", undefined, () =>
        app.client.views.open({ trigger_id: body.trigger_id, view: rejectModal(context, summary) as never }),
      );
      return;
    }
    if (choice === "answer") {
      await api.call("views.open", undefined, () =>
        app.client.views.open({ trigger_id: body.trigger_id, view: answerModal(context, questionsOf(record)) as never }),
      );
      return;
    }
    if (choice === "edit") {
      const fields = editFields(record);
      const tooLong = fields.find((field) => field.value.length > INPUT_LIMIT);
      if (tooLong) {
        return void (await tell(channel, body.user.id, `${tooLong.label} is longer than Slack lets a dialog hold (${INPUT_LIMIT} characters), so it cannot be edited here. Approve or reject it instead.`));
      }
      await api.call("views.open", undefined, () =>
        app.client.views.open({ trigger_id: body.trigger_id, view: editModal(context, summary, fields) as never }),
      );
      return;
    }
    await decideAndTell({ requestId, choice, decider: decider(body.user) }, { channel, messageTs });
  });

  app.action<BlockAction<ButtonAction>>(new RegExp(`^${optionActionPrefix}\\d+$`), async ({ ack, body, action }) => {
    await ack();
    const requestId = action.value ?? "";
    const channel = body.channel?.id ?? config.channel;
    if (!(await isApprover(body.user.id))) {
      return void (await tell(channel, body.user.id, notices.notApprover));
    }
    const record = await readRequest(requestId, channel, body.user.id);
    if (!record) return;
    let answers: string[][];
    try {
      answers = answerForOption(record, Number(action.action_id.slice(optionActionPrefix.length)));
    } catch (error) {
      if (!(error instanceof InvalidInput)) throw error;
      return void (await tell(channel, body.user.id, outcomeMessage({ kind: "already_decided", record })!));
    }
    await decideAndTell({ requestId, choice: "answer", decider: decider(body.user), answers }, { channel, messageTs: body.message?.ts });
  });

  app.view(callbackIds.answer, async ({ ack, body, view }) => {
    const found = await modalRequest(body.user.id, view, ack);
    if (!found) return;
    const { context, record } = found;
    const questions = questionsOf(record);
    const values = questions.map((question, index) => {
      const select = view.state.values[`q${index}`]?.value;
      const picked = select?.selected_options ?? (select?.selected_option ? [select.selected_option] : []);
      const chosen = picked.map((option) => question.options[Number(option.value)]?.label ?? "");
      return { chosen, typed: view.state.values[`q${index}_text`]?.value?.value ?? undefined };
    });
    let answers: string[][];
    try {
      answers = parseAnswers(record, values);
    } catch (error) {
      if (!(error instanceof InvalidInput)) throw error;
      await ack({ response_action: "errors", errors: { [error.field ?? "q0"]: error.message } });
      return;
    }
    await ack();
    await decideAndTell({ requestId: context.requestId, choice: "answer", decider: decider(body.user), answers }, context);
  });

  app.view(callbackIds.reject, async ({ ack, body, view }) => {
    const found = await modalRequest(body.user.id, view, ack);
    if (!found) return;
    const { context } = found;
    await ack();
    const reason = view.state.values.reason?.value?.value ?? undefined;
    await decideAndTell(
      { requestId: context.requestId, choice: "reject", decider: decider(body.user), reason: reason ?? undefined },
      context,
    );
  });

  app.view(callbackIds.edit, async ({ ack, body, view }) => {
    const found = await modalRequest(body.user.id, view, ack);
    if (!found) return;
    const { context, record } = found;
    const values = Object.fromEntries(
      Object.entries(view.state.values).map(([blockId, inputs]) => [blockId, inputs.value?.value ?? undefined]),
    );
    let editedArgs: Record<string, unknown>;
    try {
      editedArgs = applyEdit(record, values);
    } catch (error) {
      if (!(error instanceof InvalidInput)) throw error;
      // Keeps the dialog open with the message under the field; nothing is decided or sent.
      await ack({ response_action: "errors", errors: { [error.field ?? "json"]: error.message } });
      return;
    }
    await ack();
    await decideAndTell({ requestId: context.requestId, choice: "edit", decider: decider(body.user), editedArgs }, context);
  });

  /** A submitted dialog's card and request, once the submitter may decide; otherwise acked, told, and undefined. */
  async function modalRequest(
    userId: string,
    view: SlackViewAction["view"],
    ack: SlackViewMiddlewareArgs["ack"],
  ): Promise<{ context: ModalContext; record: PermissionRecord } | undefined> {
    const context = JSON.parse(view.private_metadata) as ModalContext;
    const refuse = async (text: string) => {
      await ack();
      await tell(context.channel, userId, text);
      return undefined;
    };
    if (!(await isApprover(userId))) return refuse(notices.notApprover);
    const record = await decisions.getRequest(context.requestId).catch((error: unknown) => error as Error);
    if (record instanceof Error) {
      logger.error({ err: record, requestId: context.requestId }, "reading a request failed");
      return refuse(notices.notRecorded);
    }
    return record ? { context, record } : refuse(notices.unknown);
  }

  /** The request a click is about; when unknown or unreadable (database down) the clicker is told, and undefined. */
  async function readRequest(requestId: string, channel: string, userId: string): Promise<PermissionRecord | undefined> {
    try {
      const record = await decisions.getRequest(requestId);
      if (!record) await tell(channel, userId, notices.unknown);
      return record;
    } catch (error) {
      logger.error({ err: error, requestId }, "reading a request failed");
      await tell(channel, userId, notices.notRecorded);
      return undefined;
    }
  }
}
