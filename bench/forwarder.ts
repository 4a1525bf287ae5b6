/**
 * The bare forwarder: what the bot's approval loop would cost with nothing of the bot in it, as the
 * baseline its latencies are held against. It follows the same OpenCode event stream through the
 * same SDK, makes the same Slack calls on `permission.asked` (for a session it has not seen, a thread
 * parent carrying the card, one post; then cards in that thread; roughly the bot's Block Kit) through @slack/web-api, and
 * answers a click, received by a Bolt App in HTTP mode (signature checked), with the SDK's
 * permission reply, then edits the card. No database, no policy, no limiter, no reconnect: one
 * connection, for one bench run.
 *
 * In the bench it runs in the bench's process, as the bot does there. Alone:
 *   OPENCODE_URL=… SLACK_BOT_TOKEN=… SLACK_SIGNING_SECRET=… SLACK_CHANNEL=… [SLACK_API_URL=…] [PORT=3100] npx tsx bench/forwarder.ts
 */
import { pathToFileURL } from "node:url";
import { createOpencodeClient, type GlobalEvent } from "@opencode-ai/sdk/v2";
import { App, LogLevel, type BlockAction, type ButtonAction } from "@slack/bolt";

type PermissionAsked = Extract<GlobalEvent["payload"], { type: "permission.asked" }>["properties"];
type Block = Record<string, unknown>;

export type ForwarderOptions = {
  opencodeUrl: string;
  slack: { apiUrl?: string; botToken: string; signingSecret: string; channel: string };
  /** Where Slack delivers clicks: `POST http://127.0.0.1:<port>/slack/events`. */
  port: number;
};

export type Forwarder = { port: number; eventsUrl: string; stop(): Promise<void> };

const replies = { "approval:once": "once", "approval:always": "always", "approval:reject": "reject" } as const;
const verdicts = { once: "Approved once", always: "Always approved", reject: "Rejected" } as const;

/** Subscribes, starts the Bolt App, and resolves once OpenCode has said `server.connected`. */
export async function startForwarder(options: ForwarderOptions): Promise<Forwarder> {
  const connection = new AbortController();
  // As the bot does: the SDK drops the stream's abort signal on its way to fetch, so it is handed over here.
  const stream = createOpencodeClient({
    baseUrl: options.opencodeUrl,
    fetch: (input: RequestInfo | URL, init?: RequestInit) => fetch(input, { ...init, signal: connection.signal }),
  });
  const opencode = createOpencodeClient({ baseUrl: options.opencodeUrl });
  const { channel } = options.slack;
  const app = new App({
    token: options.slack.botToken,
    signingSecret: options.slack.signingSecret,
    clientOptions: { slackApiUrl: options.slack.apiUrl },
    logLevel: LogLevel.ERROR,
  });
  const threads = new Map<string, Promise<string>>();
  const cards = new Map<string, { directory: string; channel: string; ts: string; request: PermissionAsked; inParent: boolean }>();

  // As the bot does: a new session's parent carries its first card, one post; later cards go into its thread.
  async function asked(directory: string, request: PermissionAsked): Promise<void> {
    const known = threads.get(request.sessionID);
    const posted = known
      ? await app.client.chat.postMessage({ channel, thread_ts: await known, unfurl_links: false, ...renderCard(request) })
      : await openWithCard(directory, request);
    cards.set(request.id, { directory, channel: posted.channel ?? channel, ts: posted.ts!, request, inParent: !known });
  }

  function withParent(directory: string, request: PermissionAsked, status?: string): { text: string; blocks: Block[] } {
    const parent = renderParent(directory, request.sessionID);
    const card = renderCard(request, status);
    return { text: `${parent.text}\n${card.text}`, blocks: [...parent.blocks, { type: "divider" }, ...card.blocks] };
  }

  function openWithCard(directory: string, request: PermissionAsked) {
    const posted = app.client.chat.postMessage({ channel, unfurl_links: false, ...withParent(directory, request) });
    threads.set(request.sessionID, posted.then((p) => p.ts!));
    return posted;
  }

  app.action<BlockAction<ButtonAction>>(/^approval:/, async ({ ack, action, body, logger }) => {
    await ack();
    const reply = replies[action.action_id as keyof typeof replies];
    const card = cards.get(action.value ?? "");
    if (!reply || !card) return;
    const answered = await opencode.permission.reply({ requestID: card.request.id, directory: card.directory, reply });
    if (answered.error !== undefined) return logger.error(`reply to ${card.request.id} failed: ${JSON.stringify(answered.error)}`);
    const status = `${verdicts[reply]} by <@${body.user.id}>`;
    const content = card.inParent ? withParent(card.directory, card.request, status) : renderCard(card.request, status);
    await app.client.chat.update({ channel: card.channel, ts: card.ts, ...content });
  });
  await app.start(options.port);

  const { stream: events } = await stream.global.event({ signal: connection.signal, sseMaxRetryAttempts: 1 });
  let connected!: () => void;
  const ready = new Promise<void>((resolve) => (connected = resolve));
  const reading = (async () => {
    for await (const event of events) {
      if (event.payload.type === "server.connected") connected();
      if (event.payload.type !== "permission.asked") continue;
      const request = event.payload.properties;
      asked(event.directory, request).catch((error: unknown) => console.error(`forwarder: the card for ${request.id} failed:`, error));
    }
  })().catch((error: unknown) => {
    if (!connection.signal.aborted) console.error("forwarder: the event stream failed:", error);
  });
  await ready;
  return {
    port: options.port,
    eventsUrl: `http://127.0.0.1:${options.port}/slack/events`,
    async stop() {
      connection.abort();
      await reading;
      await app.stop();
    },
  };
}

function renderParent(directory: string, sessionId: string): { text: string; blocks: Block[] } {
  const text = `OpenCode session ${sessionId} in ${directory}`;
  return { text, blocks: [{ type: "section", text: { type: "mrkdwn", text: `:robot_face: OpenCode session *${sessionId}*\nDirectory: \`${directory}\`` } }] };
}

/** Title, fields, the command or the patterns in a code block, the four buttons (or the verdict), the reference. */
function renderCard(request: PermissionAsked, status?: string): { text: string; blocks: Block[] } {
  const command = typeof request.metadata.command === "string" ? request.metadata.command : request.patterns.join("\n");
  const button = (id: string, label: string, style?: string) => ({
    type: "button",
    action_id: id,
    text: { type: "plain_text", text: label },
    value: request.id,
    ...(style ? { style } : {}),
  });
  const blocks: Block[] = [
    { type: "section", text: { type: "mrkdwn", text: `*OpenCode asks to use ${request.permission}*` } },
    { type: "section", fields: [{ type: "mrkdwn", text: `*Tool*\n${request.permission}` }, { type: "mrkdwn", text: `*Session*\n${request.sessionID}` }] },
    { type: "section", block_id: "body", text: { type: "mrkdwn", text: "```" + command + "```" } },
    status
      ? { type: "section", text: { type: "mrkdwn", text: `✅ ${status}` } }
      : {
          type: "actions",
          block_id: "approval_actions",
          elements: [
            button("approval:once", "Approve once", "primary"),
            button("approval:always", "Always"),
            button("approval:reject", "Reject", "danger"),
            button("approval:edit", "Edit"),
          ],
        },
    { type: "context", elements: [{ type: "mrkdwn", text: `Request ${request.id} · session ${request.sessionID}` }] },
  ];
  const summary = `OpenCode asks to use ${request.permission}: ${command}`;
  return { text: status ? `${summary} — ${status}` : summary, blocks };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const env = process.env;
  const required = (name: string) => env[name] ?? (console.error(`forwarder: ${name} is required`), process.exit(1));
  const forwarder = await startForwarder({
    opencodeUrl: env.OPENCODE_URL ?? "http://127.0.0.1:4096",
    slack: { apiUrl: env.SLACK_API_URL, botToken: required("SLACK_BOT_TOKEN"), signingSecret: required("SLACK_SIGNING_SECRET"), channel: required("SLACK_CHANNEL") },
    port: Number(env.PORT ?? 3100),
  });
  console.error(`forwarder: following ${env.OPENCODE_URL}; Slack delivers clicks to ${forwarder.eventsUrl}`);
  process.once("SIGINT", () => void forwarder.stop().then(() => process.exit(0)));
  process.once("SIGTERM", () => void forwarder.stop().then(() => process.exit(0)));
}
