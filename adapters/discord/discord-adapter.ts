import type { Message, MessageCreateOptions, SendableChannels } from "discord.js";
import type { Config } from "../../src/config.ts";
import type { Leases } from "../../src/core/lease-holder.ts";
import type { Logger } from "../../src/core/logger.ts";
import type { ChatAdapter } from "../../src/core/ports.ts";
import { registerCommands } from "./commands.ts";
import { createDiscordConnection } from "./connection.ts";
import { createDiscordEscalation } from "./escalation.ts";
import { registerInteractions } from "./interactions.ts";
import { registerMessages } from "./messages.ts";
import { discordLimits, discordNumbers } from "./limits.ts";
import { decodeRef, encodeRef } from "./refs.ts";
import { renderCardMessage, renderThreadParent } from "./render.ts";
import { renderProgress } from "./render-progress.ts";
import { planAnswer } from "../../src/core/progress.ts";
import { fit } from "../../src/core/limits.ts";

export type DiscordConfig = NonNullable<Config["discord"]>;

/**
 * The Discord side of the bot (discord.js): renders the core's cards and forms, and hands clicks and
 * submissions to the core. Clicks, commands and messages come over the gateway, which with `leases`
 * only one process of several holds (./connection.ts); cards and messages go over REST from any
 * process. Roles come with each interaction. REST rate limits are discord.js's own: it queues per
 * route and waits out every 429.
 */
export function createDiscordAdapter(options: { config: DiscordConfig; logger: Logger; onReconnected?: () => void; leases?: Leases }): ChatAdapter {
  const { config, logger } = options;
  const connection = createDiscordConnection(options);

  async function sendable(channelId: string): Promise<SendableChannels> {
    const channel = await connection.channel(channelId);
    if (!channel?.isSendable()) throw new Error(`Discord channel ${channelId} is not one the bot can post in`);
    return channel;
  }

  /** Sends a message into a thread; returns its reference. */
  async function postInThread(threadRef: string, payload: MessageCreateOptions): Promise<string> {
    const thread = await sendable(decodeRef(threadRef).channel);
    const message = await thread.send(payload);
    return encodeRef({ channel: thread.id, message: message.id });
  }

  const escalation = createDiscordEscalation(connection, sendable);

  return {
    platform: "discord",
    nameOf: escalation.nameOf,
    escalate: escalation.escalate,
    limits: discordLimits,
    status: connection.status,

    async start(decisions, commands) {
      await connection.start((client) => {
        registerInteractions(client, { logger, decisions });
        if (!commands) return;
        registerCommands(client, { commands, logger });
        registerMessages(client, { commands, logger });
      });
    },

    stop: () => connection.stop(),

    async openThread(parent, where = config.channel) {
      const rendered = renderThreadParent(parent);
      const channel = await sendable(where);
      const starter: Message = await channel.send(rendered.payload);
      const thread = await starter.startThread({ name: rendered.threadName });
      return encodeRef({ channel: thread.id, message: starter.id });
    },

    // The starter carries the cards: clicked in the channel, edited there; the thread is started from it.
    async openCardThread(parent, cards) {
      const where = config.channel;
      const channel = await sendable(where);
      const starter: Message = await channel.send(renderCardMessage({ parent, cards: cards() }));
      const thread = await starter.startThread({ name: renderThreadParent(parent).threadName });
      return { thread: encodeRef({ channel: thread.id, message: starter.id }), message: encodeRef({ channel: where, message: starter.id }) };
    },

    postCard: async (threadRef, cards) => postInThread(threadRef, renderCardMessage({ cards: cards() })),

    async updateCard(ref, content) {
      const { channel, message } = decodeRef(ref);
      // Without files: the attachment of a cut body stays as it was posted.
      await (await sendable(channel)).messages.edit(message, renderCardMessage(content, { withFiles: false }));
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
      const channel = await connection.channel(decodeRef(threadRef).channel);
      return channel && "guildId" in channel && channel.guildId ? `https://discord.com/channels/${channel.guildId}/${channel.id}` : undefined;
    },

    async postAnswer(threadRef, plan) {
      const thread = await sendable(decodeRef(threadRef).channel);
      for (const content of plan.messages) await thread.send({ content, allowedMentions: { parse: [] } });
      if (plan.file) await thread.send({ files: [{ attachment: Buffer.from(plan.file.text), name: plan.file.name }], allowedMentions: { parse: [] } });
    },

    async findCardThread(marker) {
      const me = await connection.botId();
      const messages = await (await sendable(config.channel)).messages.fetch({ limit: 100 });
      const starter = messages.find((message) => message.author.id === me && message.embeds.some((embed) => embed.footer?.text.includes(marker)));
      if (!starter) return undefined;
      // Posted, but the crash came before its thread was started: started now, named by the starter's first line.
      const thread = starter.thread ?? (await starter.startThread({ name: fit(starter.content.split("\n")[0]?.replace(/^🤖 /, "") || "OpenCode session", discordNumbers.threadName) }));
      return { thread: encodeRef({ channel: thread.id, message: starter.id }), message: encodeRef({ channel: config.channel, message: starter.id }) };
    },

    async cardReferences(ref) {
      const { channel, message } = decodeRef(ref);
      // Past discord.js's cache: the message as Discord has it now.
      const found = await (await sendable(channel)).messages.fetch({ message, force: true });
      return found.embeds.flatMap((embed) => (embed.footer?.text ? [embed.footer.text] : []));
    },

    async findCard(threadRef, reference) {
      const { channel: threadId, message: starterId } = decodeRef(threadRef);
      const thread = await sendable(threadId);
      const me = await connection.botId();
      const ours = (message: Message) => message.author.id === me && message.embeds.some((embed) => embed.footer?.text === reference);
      // The starter, in the parent channel, carries the session's first cards.
      if (thread.isThread() && thread.parentId) {
        const starter = await thread.fetchStarterMessage().catch(() => null);
        if (starter && starter.id === starterId && ours(starter)) return encodeRef({ channel: thread.parentId, message: starter.id });
      }
      let before: string | undefined;
      for (let page = 0; page < 10; page++) {
        const messages = await thread.messages.fetch({ limit: 100, ...(before ? { before } : {}) });
        const found = messages.find(ours);
        if (found) return encodeRef({ channel: thread.id, message: found.id });
        if (messages.size < 100) return undefined;
        before = messages.last()?.id;
      }
      return undefined;
    },
  };
}
