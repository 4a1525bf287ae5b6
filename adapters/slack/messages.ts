import type { AllMiddlewareArgs, App, SlackEventMiddlewareArgs } from "@slack/bolt";
import type { Logger } from "../../src/core/logger.ts";
import type { CommandPort, PromptFile } from "../../src/core/ports.ts";
import { encodeRef } from "./refs.ts";

/** Files bigger than this are not sent to OpenCode (the rest of the message still is). */
const MAX_FILE_BYTES = 10 * 1024 * 1024;

type SlackFile = { name?: string | null; mimetype?: string; url_private_download?: string; url_private?: string; size?: number };
type Incoming = { user?: string; text?: string; ts: string; thread_ts?: string; channel: string; files?: SlackFile[]; bot_id?: string; subtype?: string };

/**
 * People's messages: a reply in a session's thread is its next prompt, a mention starts a session.
 * Slack sends a mention twice (`message` and `app_mention`) and retries events: both come here, and
 * the core acts on a message once.
 */
export function registerMessages(app: App, deps: { commands: CommandPort; logger: Logger; botToken: string; tell(channel: string, user: string, text: string, thread?: string): Promise<void> }) {
  const { commands, logger } = deps;

  async function handle(event: Incoming, context: AllMiddlewareArgs["context"]): Promise<void> {
    if (!event.user || event.bot_id || (event.subtype !== undefined && event.subtype !== "file_share")) return;
    const bot = context.botUserId;
    const mention = bot ? `<@${bot}>` : undefined;
    const raw = event.text ?? "";
    const mentioned = mention !== undefined && raw.includes(mention);
    const text = unescape(mention ? raw.replaceAll(mention, "") : raw).trim();
    try {
      const reply = await commands.message({
        actor: { platform: "slack", userId: event.user, name: await nameOf(event.user) },
        channel: event.channel,
        ...(event.thread_ts && event.thread_ts !== event.ts ? { thread: encodeRef({ channel: event.channel, ts: event.thread_ts }) } : {}),
        message: encodeRef({ channel: event.channel, ts: event.ts }),
        text,
        mentioned,
        files: () => download(event.files ?? []),
      });
      if (reply) await deps.tell(event.channel, event.user, reply.text, event.thread_ts);
    } catch (error) {
      logger.error({ err: error, user: event.user, channel: event.channel }, "handling a Slack message failed");
      await deps.tell(event.channel, event.user, commands.failedNotice, event.thread_ts).catch(() => undefined);
    }
  }

  const names = new Map<string, string>();
  async function nameOf(user: string): Promise<string> {
    const known = names.get(user);
    if (known) return known;
    const info = await app.client.users.info({ user }).catch(() => undefined);
    const name = info?.user?.name ?? user;
    names.set(user, name);
    return name;
  }

  async function download(files: SlackFile[]): Promise<PromptFile[]> {
    const parts: PromptFile[] = [];
    for (const file of files) {
      const url = file.url_private_download ?? file.url_private;
      if (!url || (file.size ?? 0) > MAX_FILE_BYTES) continue;
      // Without the token Slack redirects to its sign-in page: only a 200 is the file.
      const response = await fetch(url, { headers: { Authorization: `Bearer ${deps.botToken}` }, redirect: "manual", signal: AbortSignal.timeout(30_000) });
      if (response.status !== 200) {
        logger.warn({ file: file.name, status: response.status }, "could not download a Slack file; the prompt goes without it");
        continue;
      }
      const bytes = Buffer.from(await response.arrayBuffer());
      const mime = file.mimetype ?? "application/octet-stream";
      parts.push({ filename: file.name ?? "file", mime, url: `data:${mime};base64,${bytes.toString("base64")}` });
    }
    return parts;
  }

  // Bolt types a message event as the union of its subtypes; `handle` reads the fields all of them may carry.
  app.message(async ({ message, context }: SlackEventMiddlewareArgs<"message"> & AllMiddlewareArgs) => {
    await handle(message as Incoming, context);
  });
  app.event("app_mention", async ({ event, context }) => {
    await handle(event as Incoming, context);
  });
}

/** Slack escapes these three in message text. */
function unescape(text: string): string {
  return text.replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&amp;", "&");
}
