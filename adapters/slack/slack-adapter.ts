import { App, HTTPReceiver, LogLevel, SocketModeReceiver } from "@slack/bolt";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { DecisionOutcome, DecisionRequest } from "../../src/core/approval-engine.ts";
import type { Logger } from "../../src/core/logger.ts";
import type { ChatAdapter } from "../../src/core/ports.ts";
import type { PermissionRecord } from "../../src/core/types.ts";
import type { Config } from "../../src/config.ts";
import { createApproverCheck } from "./approvers.ts";
import { createRateLimitedApi } from "./rate-limited-api.ts";
import { escapeMrkdwn, renderCard, threadParent } from "./render.ts";
import { registerInteractions } from "./interactions.ts";

export type SlackConfig = Config["slack"];

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

  registerInteractions(app, { config, logger, decisions, api, isApprover });

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
