import { once } from "node:events";
import { Client, Events, GatewayIntentBits, type Message, type MessageCreateOptions, type RESTOptions, type SendableChannels } from "discord.js";
import type { Config } from "../../src/config.ts";
import type { Logger } from "../../src/core/logger.ts";
import type { ChatAdapter, ChatStatus } from "../../src/core/ports.ts";
import { registerCommands } from "./commands.ts";
import { createDiscordEscalation } from "./escalation.ts";
import { registerInteractions } from "./interactions.ts";
import { registerMessages } from "./messages.ts";
import { discordLimits } from "./limits.ts";
import { decodeRef, encodeRef } from "./refs.ts";
import { renderCard, renderThreadParent } from "./render.ts";
import { renderProgress } from "./render-progress.ts";
import { planAnswer } from "../../src/core/progress.ts";

export type DiscordConfig = NonNullable<Config["discord"]>;

/**
 * discord.js's REST options: our API base, a timeout, and Node's own fetch for the calls. Its default
 * sends through undici 6's `request()` on the process's global dispatcher, which is whichever undici
 * loaded first; when that is Slack's (undici 7), every request with a file (a FormData body) fails
 * with "action is not a function". fetch serializes the body itself (test/discord-files.test.ts).
 */
export function discordRestOptions(api: string) {
  return { api, timeout: 10_000, makeRequest: fetch as unknown as NonNullable<RESTOptions["makeRequest"]> };
}

/** How long login may take before start() gives up with a clear error. */
const READY_TIMEOUT_MS = 30_000;

/**
 * The Discord side of the bot over the gateway (discord.js): renders the core's cards and forms, and
 * hands clicks and submissions to the core. Intents: Guilds, GuildMessages and MessageContent (the
 * one privileged intent, for thread replies as prompts); roles come with each interaction. REST rate
 * limits are discord.js's own: it queues per route and waits out every 429.
 */
export function createDiscordAdapter(options: { config: DiscordConfig; logger: Logger; onReconnected?: () => void }): ChatAdapter {
  const { config, logger } = options;
  const client = new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent],
    rest: discordRestOptions(config.apiUrl),
  });
  let status: ChatStatus = "connecting";

  let connectedBefore = false;
  // A resume, or a new session after a lost one: either way events may have been missed meanwhile.
  const connected = () => {
    status = "ready";
    if (connectedBefore) options.onReconnected?.();
    connectedBefore = true;
  };
  client.on(Events.ShardReady, connected);
  client.on(Events.ShardResume, connected);
  client.on(Events.ShardDisconnect, () => void (status = "connecting"));
  client.on(Events.ShardReconnecting, () => void (status = "connecting"));
  client.on(Events.Error, (error) => logger.error({ err: error }, "Discord client error"));

  async function sendable(channelId: string): Promise<SendableChannels> {
    const channel = await client.channels.fetch(channelId);
    if (!channel?.isSendable()) throw new Error(`Discord channel ${channelId} is not one the bot can post in`);
    return channel;
  }

  /** Sends a message into a thread; returns its reference. */
  async function postInThread(threadRef: string, payload: MessageCreateOptions): Promise<string> {
    const thread = await sendable(decodeRef(threadRef).channel);
    const message = await thread.send(payload);
    return encodeRef({ channel: thread.id, message: message.id });
  }

  const escalation = createDiscordEscalation(client, sendable);

  return {
    platform: "discord",
    nameOf: escalation.nameOf,
    escalate: escalation.escalate,
    limits: discordLimits,
    status: () => status,

    async start(decisions, commands) {
      registerInteractions(client, { logger, decisions });
      if (commands) {
        registerCommands(client, { commands, logger });
        registerMessages(client, { commands, logger });
      }
      const ready = once(client, Events.ClientReady, { signal: AbortSignal.timeout(READY_TIMEOUT_MS) });
      await client.login(config.token);
      await ready.catch((error: Error) => {
        throw new Error(`Discord did not get ready within ${READY_TIMEOUT_MS / 1000} s`, { cause: error });
      });
      status = "ready";
      logger.info({ user: client.user?.tag, channel: config.channel }, "Discord adapter ready");
    },

    async stop() {
      status = "stopped";
      await client.destroy();
    },

    async openThread(parent, where = config.channel) {
      const rendered = renderThreadParent(parent);
      const channel = await sendable(where);
      const starter: Message = await channel.send(rendered.payload);
      const thread = await starter.startThread({ name: rendered.threadName });
      return encodeRef({ channel: thread.id, message: starter.id });
    },

    postCard: (threadRef, card) => postInThread(threadRef, renderCard(card)),

    async updateCard(ref, card) {
      const { channel, message } = decodeRef(ref);
      // Without files: the attachment of a cut body stays as it was posted.
      await (await sendable(channel)).messages.edit(message, renderCard(card, { withFiles: false }));
    },

    postProgress: (threadRef, view) => postInThread(threadRef, renderProgress(view)),

    async updateProgress(ref, view) {
      const { channel, message } = decodeRef(ref);
      await (await sendable(channel)).messages.edit(message, renderProgress(view));
    },

    async postDigest(channelId, digest) {
      const channel = await sendable(channelId);
      const messages = planAnswer(digest.lines.join("\n"), discordLimits.message, "digest.txt").messages;
      const last = messages.pop() ?? "";
      for (const content of messages) await channel.send({ content, allowedMentions: { parse: [] } });
      if (!digest.chart) return void (await channel.send({ content: last, allowedMentions: { parse: [] } }));
      const { name, png, title } = digest.chart;
      // The chart in an embed of the digest's (last) message, from its attachment.
      await channel.send({
        content: last,
        embeds: [{ title, image: { url: `attachment://${name}` } }],
        files: [{ attachment: Buffer.from(png), name, description: title }],
        allowedMentions: { parse: [] },
      });
    },

    async threadLink(threadRef) {
      const channel = await client.channels.fetch(decodeRef(threadRef).channel);
      return channel && "guildId" in channel && channel.guildId ? `https://discord.com/channels/${channel.guildId}/${channel.id}` : undefined;
    },

    async postAnswer(threadRef, plan) {
      const thread = await sendable(decodeRef(threadRef).channel);
      for (const content of plan.messages) await thread.send({ content, allowedMentions: { parse: [] } });
      if (plan.file) await thread.send({ files: [{ attachment: Buffer.from(plan.file.text), name: plan.file.name }], allowedMentions: { parse: [] } });
    },

    async findCard(threadRef, reference) {
      const thread = await sendable(decodeRef(threadRef).channel);
      let before: string | undefined;
      for (let page = 0; page < 10; page++) {
        const messages = await thread.messages.fetch({ limit: 100, ...(before ? { before } : {}) });
        const found = messages.find((message) => message.author.id === client.user?.id && message.embeds.some((embed) => embed.footer?.text === reference));
        if (found) return encodeRef({ channel: thread.id, message: found.id });
        if (messages.size < 100) return undefined;
        before = messages.last()?.id;
      }
      return undefined;
    },
  };
}
