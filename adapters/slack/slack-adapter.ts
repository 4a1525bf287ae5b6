import { App, HTTPReceiver, LogLevel, SocketModeReceiver, type BlockAction, type ButtonAction } from "@slack/bolt";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { DecisionOutcome, DecisionRequest } from "../../src/core/approval-engine.ts";
import { buildCard } from "../../src/core/card-text.ts";
import { applyEdit, editFields } from "../../src/core/edit-form.ts";
import { answerForOption, parseAnswers, questionsOf } from "../../src/core/question-form.ts";
import { InvalidInput } from "../../src/core/errors.ts";
import type { Logger } from "../../src/core/logger.ts";
import type { ChatAdapter } from "../../src/core/ports.ts";
import type { Choice, Decider, PermissionRecord } from "../../src/core/types.ts";
import { createApproverCheck } from "./approvers.ts";
import { createRateLimitedApi } from "./rate-limited-api.ts";
import {
  answerModal,
  callbackIds,
  optionActionPrefix,
  editModal,
  escapeMrkdwn,
  fullBodyModal,
  INPUT_LIMIT,
  rejectModal,
  renderCard,
  threadParent,
  type ModalContext,
} from "./render.ts";
import { outcomeMessage } from "./outcome-message.ts";

export type SlackConfig = {
  botToken: string;
  signingSecret?: string;
  appToken?: string;
  apiUrl: string;
  channel: string;
  approvers?: string[];
};

/** What the adapter needs from the core to turn clicks into decisions. */
export type DecisionPort = {
  decide(request: DecisionRequest): Promise<DecisionOutcome>;
  getRequest(id: string): Promise<PermissionRecord | undefined>;
};

export type SlackAdapter = ChatAdapter & {
  /** In HTTP mode, the handler for `POST /slack/events` (signature checked by Bolt); undefined in Socket Mode. */
  httpHandler?: (req: IncomingMessage, res: ServerResponse) => void;
};

/** The Slack side of the bot: posts and updates cards, and turns clicks and modal submissions into decisions. */
export function createSlackAdapter(options: { config: SlackConfig; logger: Logger; decisions: DecisionPort }): SlackAdapter {
  const { config, logger, decisions } = options;
  const clientOptions = { slackApiUrl: config.apiUrl, timeout: 10_000, rejectRateLimitedCalls: true, retryConfig: { retries: 2 } };
  const receiver = config.appToken
    ? new SocketModeReceiver({ appToken: config.appToken, installerOptions: { clientOptions }, logLevel: LogLevel.WARN })
    : new HTTPReceiver({ signingSecret: config.signingSecret!, endpoints: "/slack/events", logLevel: LogLevel.WARN });
  const app = new App({ token: config.botToken, receiver, clientOptions, deferInitialization: true, logLevel: LogLevel.WARN });
  const api = createRateLimitedApi(app.client, logger);
  const isApprover = createApproverCheck(config.approvers, api);

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
      await tell(where.channel, request.decider.userId, "Your decision could not be recorded (the bot's database did not answer), so nothing was sent to OpenCode. Please try again.");
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
    const record = await decisions.getRequest(requestId).catch((error: unknown) => {
      logger.error({ err: error, requestId }, "reading a request failed");
      return undefined;
    });
    if (!record) return void (await tell(channel, body.user.id, "opencode-chatops does not know this request; nothing was done."));
    if (choice === "view") {
      await api.call("views.open", undefined, () =>
        app.client.views.open({ trigger_id: body.trigger_id, view: fullBodyModal(buildCard(record)) as never }),
      );
      return;
    }
    if (!(await isApprover(body.user.id))) {
      logger.warn({ user: body.user.id, requestId }, "click from a user who is not an approver");
      return void (await tell(channel, body.user.id, "You are not an approver for this, so nothing was done."));
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
      return void (await tell(channel, body.user.id, "You are not an approver for this, so nothing was done."));
    }
    const record = await decisions.getRequest(requestId);
    if (!record) return void (await tell(channel, body.user.id, "opencode-chatops does not know this request; nothing was done."));
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
    const context = JSON.parse(view.private_metadata) as ModalContext;
    if (!(await isApprover(body.user.id))) {
      await ack();
      return void (await tell(context.channel, body.user.id, "You are not an approver for this, so nothing was done."));
    }
    const record = await decisions.getRequest(context.requestId);
    if (!record) {
      await ack();
      return void (await tell(context.channel, body.user.id, "opencode-chatops does not know this request; nothing was done."));
    }
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
    const context = JSON.parse(view.private_metadata) as ModalContext;
    if (!(await isApprover(body.user.id))) {
      await ack();
      return void (await tell(context.channel, body.user.id, "You are not an approver for this, so nothing was done."));
    }
    await ack();
    const reason = view.state.values.reason?.value?.value ?? undefined;
    await decideAndTell(
      { requestId: context.requestId, choice: "reject", decider: decider(body.user), reason: reason ?? undefined },
      context,
    );
  });

  app.view(callbackIds.edit, async ({ ack, body, view }) => {
    const context = JSON.parse(view.private_metadata) as ModalContext;
    if (!(await isApprover(body.user.id))) {
      await ack();
      return void (await tell(context.channel, body.user.id, "You are not an approver for this, so nothing was done."));
    }
    const record = await decisions.getRequest(context.requestId);
    if (!record) {
      await ack();
      return void (await tell(context.channel, body.user.id, "opencode-chatops does not know this request; nothing was done."));
    }
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

  app.error(async (error) => {
    logger.error({ err: error }, "Slack handler failed");
  });

  return {
    httpHandler: receiver instanceof HTTPReceiver ? receiver.requestListener : undefined,

    async start() {
      await app.init();
      if (receiver instanceof SocketModeReceiver) await app.start();
      logger.info({ mode: receiver instanceof SocketModeReceiver ? "socket" : "http", channel: config.channel }, "Slack adapter ready");
    },

    async stop() {
      if (receiver instanceof SocketModeReceiver) await app.stop();
      await api.stop();
    },

    async openThread(session) {
      const parent = threadParent(session);
      const result = await api.call("chat.postMessage", config.channel, () =>
        app.client.chat.postMessage({ channel: config.channel, text: parent.text, blocks: parent.blocks as never, unfurl_links: false }),
      );
      return { channel: result.channel ?? config.channel, threadTs: result.ts! };
    },

    async postCard(thread, card) {
      const rendered = renderCard(card);
      const result = await api.call("chat.postMessage", thread.channel, () =>
        app.client.chat.postMessage({
          channel: thread.channel,
          thread_ts: thread.threadTs,
          text: rendered.text,
          blocks: rendered.blocks as never,
          unfurl_links: false,
        }),
      );
      return { channel: result.channel ?? thread.channel, ts: result.ts! };
    },

    async findCard(thread, reference) {
      const marker = escapeMrkdwn(reference);
      let cursor: string | undefined;
      do {
        const page = await api.call("conversations.replies", undefined, () =>
          app.client.conversations.replies({ channel: thread.channel, ts: thread.threadTs, limit: 200, cursor }),
        );
        const found = page.messages?.find((message) => message.ts && JSON.stringify(message.blocks ?? []).includes(marker));
        if (found?.ts) return { channel: thread.channel, ts: found.ts };
        cursor = page.response_metadata?.next_cursor || undefined;
      } while (cursor);
      return undefined;
    },

    async updateCard(ref, card) {
      const rendered = renderCard(card);
      await api.call("chat.update", ref.channel, () =>
        app.client.chat.update({ channel: ref.channel, ts: ref.ts, text: rendered.text, blocks: rendered.blocks as never }),
      );
    },
  };
}
