import { App, LogLevel, SocketModeReceiver } from "@slack/bolt";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../../src/core/logger.ts";
import type { ChatAdapter, ChatStatus } from "../../src/core/ports.ts";
import type { Config } from "../../src/config.ts";
import type { LimiterFactory } from "../../src/rate-limits.ts";
import { registerCommands } from "./commands.ts";
import { createHttpReceiver } from "./http-receiver.ts";
import { registerInteractions } from "./interactions.ts";
import { registerMessages } from "./messages.ts";
import { slackLimits } from "./limits.ts";
import { createRateLimitedApi } from "./rate-limited-api.ts";
import { decodeRef, encodeRef } from "./refs.ts";
import { createSlackEscalation } from "./escalation.ts";
import { cardReferenceLines, escapeMrkdwn, renderCardMessage, renderThreadParent } from "./render.ts";
import { renderProgress } from "./render-progress.ts";

export type SlackConfig = NonNullable<Config["slack"]>;

type Rendered = { text: string; blocks: unknown[] };

export type SlackAdapter = ChatAdapter & {
  /** In HTTP mode, the handler for `POST /slack/events` (signature checked by Bolt); undefined in Socket Mode. */
  httpHandler?: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
};

/** How long a user group's member list is trusted before it is read again. */
const GROUP_CACHE_MS = 60_000;

/** The Slack side of the bot: renders the core's cards and forms, and hands clicks and submissions to the core. */
export function createSlackAdapter(options: { config: SlackConfig; logger: Logger; limiters: LimiterFactory; onRateLimited?: () => void }): SlackAdapter {
  const { config, logger } = options;
  const clientOptions = { slackApiUrl: config.apiUrl, timeout: 10_000, rejectRateLimitedCalls: true, retryConfig: { retries: 2 } };
  // HTTP mode: Bolt's receiver behind the guards of http-receiver.ts; Socket Mode otherwise.
  const http = config.appToken ? undefined : createHttpReceiver(config.signingSecret!, logger);
  const receiver = http?.receiver ?? new SocketModeReceiver({ appToken: config.appToken!, installerOptions: { clientOptions }, logLevel: LogLevel.WARN });
  const app = new App({ token: config.botToken, receiver, clientOptions, deferInitialization: true, logLevel: LogLevel.WARN });
  const api = createRateLimitedApi(app.client, logger, options.limiters, options.onRateLimited);
  const groups = new Map<string, { members: Set<string>; at: number }>();
  let status: ChatStatus = "connecting";
  if (receiver instanceof SocketModeReceiver) {
    receiver.client.on("connected", () => void (status = "ready"));
    receiver.client.on("reconnecting", () => void (status = "connecting"));
    receiver.client.on("disconnected", () => void (status = status === "stopped" ? "stopped" : "connecting"));
  }

  /** Posts rendered content into a thread; returns the new message's reference. */
  /** Posts in a thread; a lazy `content` is rendered when the post leaves the channel's queue. */
  async function postInThread(threadRef: string, content: Rendered | (() => Rendered)): Promise<string> {
    const thread = decodeRef(threadRef);
    const result = await api.call("chat.postMessage", { posts: thread.channel }, () => {
      const rendered = typeof content === "function" ? content() : content;
      return app.client.chat.postMessage({
        channel: thread.channel,
        thread_ts: thread.ts,
        text: rendered.text,
        ...(rendered.blocks.length > 0 ? { blocks: rendered.blocks as never } : {}),
        unfurl_links: false,
      });
    });
    return encodeRef({ channel: result.channel ?? thread.channel, ts: result.ts! });
  }

  /** Replaces a posted message's content. */
  async function replace(ref: string, rendered: Rendered): Promise<void> {
    const message = decodeRef(ref);
    await api.call("chat.update", { edits: ref }, () =>
      app.client.chat.update({ channel: message.channel, ts: message.ts, text: rendered.text, blocks: rendered.blocks as never }),
    );
  }

  /** A user group's members, each group read at most once a minute. */
  async function membersOf(group: string): Promise<Set<string>> {
    const cached = groups.get(group);
    if (cached && Date.now() - cached.at < GROUP_CACHE_MS) return cached.members;
    const result = await api.call("usergroups.users.list", undefined, () => app.client.usergroups.users.list({ usergroup: group }));
    const members = new Set(result.users ?? []);
    groups.set(group, { members, at: Date.now() });
    return members;
  }
  const escalation = createSlackEscalation({ api, client: app.client, membersOf, postInThread });

  app.error(async (error) => {
    logger.error({ err: error }, "Slack handler failed");
  });

  return {
    platform: "slack",
    limits: slackLimits,
    httpHandler: http?.listener,
    status: () => status,

    async start(decisions, commands) {
      registerInteractions(app, { config, logger, decisions, api });
      if (commands) {
        registerCommands(app, { commands, logger });
        registerMessages(app, {
          commands,
          logger,
          botToken: config.botToken,
          tell: async (channel, user, text, thread) => {
            await api.call("chat.postEphemeral", "now", () =>
              app.client.chat.postEphemeral({ channel, user, text: escapeMrkdwn(text), ...(thread ? { thread_ts: thread } : {}) }),
            );
          },
        });
      }
      await app.init();
      if (receiver instanceof SocketModeReceiver) await app.start();
      // HTTP mode: Slack calls us; the token was verified by init().
      status = "ready";
      logger.info({ mode: receiver instanceof SocketModeReceiver ? "socket" : "http", channel: config.channel }, "Slack adapter ready");
    },

    async stop() {
      status = "stopped";
      if (receiver instanceof SocketModeReceiver) await app.stop();
      await api.stop();
    },

    async openThread(parent, where = config.channel) {
      const rendered = renderThreadParent(parent);
      const result = await api.call("chat.postMessage", { posts: where }, () =>
        app.client.chat.postMessage({ channel: where, text: rendered.text, blocks: rendered.blocks as never, unfurl_links: false }),
      );
      return encodeRef({ channel: result.channel ?? where, ts: result.ts! });
    },

    // The parent is the thread's first message: as a card message it has the same reference as the thread.
    async openCardThread(parent, cards) {
      const where = config.channel;
      const result = await api.call("chat.postMessage", { posts: where }, () => {
        const rendered = renderCardMessage({ parent, cards: cards() });
        return app.client.chat.postMessage({ channel: where, text: rendered.text, blocks: rendered.blocks as never, unfurl_links: false });
      });
      const ref = encodeRef({ channel: result.channel ?? where, ts: result.ts! });
      return { thread: ref, message: ref };
    },

    postCard: (threadRef, cards) => postInThread(threadRef, () => renderCardMessage({ cards: cards() })),

    async findCard(threadRef, reference) {
      const thread = decodeRef(threadRef);
      const marker = escapeMrkdwn(reference);
      let cursor: string | undefined;
      do {
        const page = await api.call("conversations.replies", undefined, () =>
          app.client.conversations.replies({ channel: thread.channel, ts: thread.ts, limit: 200, cursor }),
        );
        const found = page.messages?.find((message) => message.ts && JSON.stringify(message.blocks ?? []).includes(marker));
        if (found?.ts) return encodeRef({ channel: thread.channel, ts: found.ts });
        cursor = page.response_metadata?.next_cursor || undefined;
      } while (cursor);
      return undefined;
    },

    async findCardThread(marker) {
      const escaped = escapeMrkdwn(marker);
      // The parents of the last hour: a crash between a post and its record is seconds old when the bot is back.
      const page = await api.call("conversations.history", undefined, () =>
        app.client.conversations.history({ channel: config.channel, limit: 200, oldest: String(Math.floor(Date.now() / 1000) - 3600) }),
      );
      const found = page.messages?.find((message) => message.ts && message.bot_id && JSON.stringify(message.blocks ?? []).includes(escaped));
      if (!found?.ts) return undefined;
      const ref = encodeRef({ channel: config.channel, ts: found.ts });
      return { thread: ref, message: ref };
    },

    async cardReferences(ref) {
      const { channel, ts } = decodeRef(ref);
      // conversations.replies with any message's ts lists that message's thread (the parent first); ours is found by its ts.
      const page = await api.call("conversations.replies", undefined, () => app.client.conversations.replies({ channel, ts, limit: 200 }));
      const message = page.messages?.find((m) => m.ts === ts);
      return cardReferenceLines(message?.blocks ?? []);
    },

    updateCard: (ref, message) => replace(ref, renderCardMessage(message)),
    postProgress: (threadRef, view) => postInThread(threadRef, renderProgress(view)),
    updateProgress: (ref, view) => replace(ref, renderProgress(view)),

    async postDigest(channel, digest) {
      const text = escapeMrkdwn(digest.lines.join("\n"));
      const posted = await api.call("chat.postMessage", { posts: channel }, () => app.client.chat.postMessage({ channel, text, unfurl_links: false, unfurl_media: false }));
      if (!digest.chart) return;
      const { name, png, title } = digest.chart;
      // The chart as the digest's first reply (files.getUploadURLExternal, the upload, files.completeUploadExternal).
      await api.call("files.uploadV2", { posts: channel }, () =>
        app.client.filesUploadV2({ channel_id: posted.channel ?? channel, thread_ts: posted.ts!, file: Buffer.from(png), filename: name, title, alt_text: title }),
      );
    },

    async threadLink(threadRef) {
      const thread = decodeRef(threadRef);
      const result = await api.call("chat.getPermalink", undefined, () => app.client.chat.getPermalink({ channel: thread.channel, message_ts: thread.ts }));
      return result.permalink;
    },

    async postAnswer(threadRef, plan) {
      const thread = decodeRef(threadRef);
      for (const text of plan.messages) await postInThread(threadRef, { text: escapeMrkdwn(text), blocks: [] });
      if (!plan.file) return;
      const { name, text } = plan.file;
      await api.call("files.uploadV2", { posts: thread.channel }, () =>
        app.client.filesUploadV2({ channel_id: thread.channel, thread_ts: thread.ts, file: Buffer.from(text), filename: name, title: name }),
      );
    },

    /** User groups (S…) through usergroups.users.list, each cached for a minute; user ids are never groups. */
    async isMember(group, userId) {
      if (!group.startsWith("S")) return false;
      return (await membersOf(group)).has(userId);
    },

    nameOf: escalation.nameOf,
    escalate: escalation.escalate,
  };
}
