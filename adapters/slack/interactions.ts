import type { App, BlockAction, ButtonAction } from "@slack/bolt";
import type { FormKind } from "../../src/core/form.ts";
import type { Logger } from "../../src/core/logger.ts";
import type { Actor, Answer, CardAction, DecisionPort } from "../../src/core/ports.ts";
import type { RateLimitedApi } from "./rate-limited-api.ts";
import { encodeRef } from "./refs.ts";
import { callbackIds, formValues, optionActionPrefix, renderForm, renderView, type ModalContext } from "./render.ts";
import type { SlackConfig } from "./slack-adapter.ts";

type SlackUser = { id: string; name?: string; username?: string };
/** Where an interaction happened: whom to tell, and which card and dialog it came from. */
type Where = ModalContext & { userId: string; triggerId?: string };

/**
 * Clicks and dialog submissions: each is acknowledged first, handed to the core's decision port,
 * and its answer rendered (a modal, an ephemeral message). No decision is made here.
 */
export function registerInteractions(app: App, deps: { config: SlackConfig; logger: Logger; decisions: DecisionPort; api: RateLimitedApi }): void {
  const { config, logger, decisions, api } = deps;

  const tell = (where: Where, text: string) =>
    // Ephemerals are Tier 4 and not bound by the one-message-a-second channel limit.
    api
      .call("chat.postEphemeral", "now", () => app.client.chat.postEphemeral({ channel: where.channel, user: where.userId, text }))
      .catch((error: unknown) => logger.error({ err: error, user: where.userId }, "could not send an ephemeral message"));

  const actor = (user: SlackUser): Actor => ({ platform: "slack", userId: user.id, name: user.username ?? user.name ?? user.id });
  const modalContext = ({ requestId, channel, messageTs }: Where): ModalContext => ({ requestId, channel, messageTs });
  const via = (where: Where) => (where.messageTs ? encodeRef({ channel: where.channel, ts: where.messageTs }) : undefined);

  async function render(answer: Answer, where: Where): Promise<void> {
    switch (answer.kind) {
      case "notice":
        return void (await tell(where, answer.text));
      case "form":
        return void (await api.call("views.open", "now", () =>
          app.client.views.open({ trigger_id: where.triggerId!, view: renderForm(answer.form, modalContext(where)) as never }),
        ));
      case "view":
        return void (await api.call("views.open", "now", () =>
          app.client.views.open({ trigger_id: where.triggerId!, view: renderView(answer.view) as never }),
        ));
      case "decide": {
        const text = await answer.commit();
        if (text) await tell(where, text);
        return;
      }
      case "invalid":
        return void (await tell(where, answer.message));
    }
  }

  /** Runs one interaction's handling; a bug is logged and the person told, never left silent. */
  async function guarded(where: Where, handle: () => Promise<void>): Promise<void> {
    try {
      await handle();
    } catch (error) {
      logger.error({ err: error, requestId: where.requestId, user: where.userId }, "handling a Slack interaction failed");
      await tell(where, decisions.failedNotice);
    }
  }

  const clicked = async (body: BlockAction<ButtonAction>, action: CardAction, requestId: string) => {
    const where: Where = {
      requestId,
      channel: body.channel?.id ?? config.channel,
      messageTs: body.message?.ts ?? body.container?.message_ts ?? "",
      userId: body.user.id,
      triggerId: body.trigger_id,
    };
    await guarded(where, async () => render(await decisions.click({ actor: actor(body.user), requestId, action, via: via(where) }), where));
  };

  app.action<BlockAction<ButtonAction>>(/^approval:(once|always|reject|edit|answer|dismiss|view)$/, async ({ ack, body, action }) => {
    await ack();
    await clicked(body, action.action_id.slice("approval:".length) as CardAction, action.value ?? "");
  });

  app.action<BlockAction<ButtonAction>>(new RegExp(`^${optionActionPrefix}\\d+$`), async ({ ack, body, action }) => {
    await ack();
    await clicked(body, { option: Number(action.action_id.slice(optionActionPrefix.length)) }, action.value ?? "");
  });

  for (const [form, callbackId] of Object.entries(callbackIds) as Array<[FormKind, string]>) {
    app.view(callbackId, async ({ ack, body, view }) => {
      const context = JSON.parse(view.private_metadata) as ModalContext;
      const where: Where = { ...context, userId: body.user.id };
      let answer: Answer;
      try {
        // Read-only until commit(): the answer may be the field errors Slack wants as the acknowledgement itself.
        answer = await decisions.submit({
          actor: actor(body.user),
          requestId: context.requestId,
          form,
          values: formValues(view.state.values as never),
          via: via(where),
        });
      } catch (error) {
        await ack();
        logger.error({ err: error, requestId: context.requestId }, "handling a Slack dialog failed");
        return void (await tell(where, decisions.failedNotice));
      }
      if (answer.kind === "invalid") {
        // Keeps the dialog open with the message under the field; nothing is decided or sent.
        return void (await ack({ response_action: "errors", errors: { [answer.field]: answer.message } }));
      }
      await ack();
      await guarded(where, () => render(answer, where));
    });
  }
}
