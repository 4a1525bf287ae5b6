import { Events, type Client, type Message } from "discord.js";
import { fit } from "../../src/core/limits.ts";
import type { Logger } from "../../src/core/logger.ts";
import type { CommandPort, PromptFile } from "../../src/core/ports.ts";
import { discordNumbers } from "./limits.ts";
import { actorOf } from "./interactions.ts";
import { encodeRef } from "./refs.ts";

/** Files bigger than this are not sent to OpenCode (the rest of the message still is). */
const MAX_FILE_BYTES = 10 * 1024 * 1024;

/**
 * People's messages (MESSAGE_CREATE; edits are never prompts): a reply in a session's thread is its
 * next prompt, a mention of the bot elsewhere starts a session. What the core has to say goes back
 * as a reply to the message.
 */
export function registerMessages(client: Client, deps: { commands: CommandPort; logger: Logger }): void {
  const { commands, logger } = deps;
  client.on(Events.MessageCreate, (message: Message) => void handle(message));

  async function handle(message: Message): Promise<void> {
    const me = client.user?.id;
    if (!me || message.author.bot || message.system || !message.inGuild()) return;
    const mentioned = message.mentions.users.has(me);
    const channel = message.channel;
    const inThread = channel.isThread();
    try {
      const reply = await commands.message({
        actor: actorOf({ user: message.author, member: message.member }),
        channel: inThread ? (channel.parentId ?? channel.id) : channel.id,
        // A thread the bot started from its starter message has the starter's id (see openThread).
        ...(inThread ? { thread: encodeRef({ channel: channel.id, message: channel.id }) } : {}),
        message: encodeRef({ channel: channel.id, message: message.id }),
        text: message.content.replaceAll(`<@${me}>`, "").replaceAll(`<@!${me}>`, "").trim(),
        mentioned,
        files: () => download(message),
      });
      if (reply) await message.reply({ content: fit(reply.text, discordNumbers.content), allowedMentions: { parse: [], repliedUser: true } });
    } catch (error) {
      logger.error({ err: error, user: message.author.id, channel: channel.id }, "handling a Discord message failed");
    }
  }

  async function download(message: Message): Promise<PromptFile[]> {
    const parts: PromptFile[] = [];
    for (const attachment of message.attachments.values()) {
      if (attachment.size > MAX_FILE_BYTES) continue;
      const response = await fetch(attachment.url, { signal: AbortSignal.timeout(30_000) });
      if (!response.ok) {
        logger.warn({ file: attachment.name, status: response.status }, "could not download a Discord attachment; the prompt goes without it");
        continue;
      }
      const mime = attachment.contentType ?? "application/octet-stream";
      const bytes = Buffer.from(await response.arrayBuffer());
      parts.push({ filename: attachment.name, mime, url: `data:${mime};base64,${bytes.toString("base64")}` });
    }
    return parts;
  }
}
