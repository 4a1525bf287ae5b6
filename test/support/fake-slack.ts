/**
 * A local fake of Slack's Web API and Socket Mode that the real @slack/bolt talks to, keeping state
 * (messages and their edits, ephemerals, modals, every call) for tests to assert on.
 *
 * Pointing Bolt at it (checked against @slack/bolt 5.1.0, @slack/socket-mode 3.1.0, @slack/web-api 8.2.0):
 * - HTTP mode: `new App({ token: fake.botToken, signingSecret, clientOptions: { slackApiUrl: fake.apiUrl } })`.
 * - Socket Mode: the same `clientOptions: { slackApiUrl: fake.apiUrl }` is enough. App's constructor
 *   sets `installerOptions = { clientOptions: this.clientOptions, ...installerOptions }`, the default
 *   SocketModeReceiver passes `installerOptions.clientOptions` to `new SocketModeClient({ clientOptions })`,
 *   and that client spreads them into the WebClient that calls `apps.connections.open` (with
 *   `Authorization: Bearer <appToken>`); the `url` it gets back is this fake's `ws://…/link/?ticket=…`.
 *   Only when you pass `installerOptions.clientOptions` yourself, or construct a SocketModeReceiver,
 *   must that object carry `slackApiUrl` too. SocketModeClient also writes `retryConfig` into it.
 * Stop the app before `fake.close()`: a Socket Mode client whose connection drops reconnects.
 *
 * Events API: what people type (`postAsUser`, `editAsUser`) is stored like the bot's messages and
 * queued as `event_callback` envelopes in `sentEvents`; `deliverEvent` sends one (again, with
 * `retry`) through the delivery a user sim registers for its transport (`setEventDelivery`). The
 * bot's own posts and edits come back as events only while `echoBotMessages` is set.
 *
 * DMs: conversations.open opens the bot's IM with a person (D…, the same each time; `imOf` finds it),
 * or a group DM (G…) for several; chat.postMessage to a user id posts in that IM, as Slack does.
 *
 * Files (people's attachments, the bot's uploads through files.getUploadURLExternal, the POST to
 * upload_url and files.completeUploadExternal, url_private) live in fake-slack-files.ts.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createFileStore, type FakeFile, type FileInput } from "./fake-slack-files.ts";
import { attachSocketMode, type SocketAck, type SocketEnvelopeType, type SocketModeHub, type SocketSendOptions } from "./fake-slack-socket.ts";
import { waitForState } from "./slack-wait.ts";

export type Json = Record<string, unknown>;
export type FakeUser = { id: string; name: string; real_name?: string; display_name?: string; is_bot?: boolean; tz?: string };
export type FakeChannel = { id: string; name: string; is_private?: boolean };
/** One version of a message; `history[0]` is the message as posted. */
export type MessageVersion = { text: string; blocks: Json[]; at: number };
export type { FakeFile, FakeUpload, FileInput, FileShare } from "./fake-slack-files.ts";
export type FakeMessage = {
  channel: string;
  ts: string;
  thread_ts?: string;
  /** Who posted it: the bot's user id for what the bot posted. */
  user: string;
  /** Set on what a person typed, as the Slack client sets it. */
  client_msg_id?: string;
  files?: FakeFile[];
  text: string;
  blocks: Json[];
  metadata?: unknown;
  edited?: { user: string; ts: string };
  deleted: boolean;
  history: MessageVersion[];
};
export type FakeEphemeral = {
  channel: string;
  user: string;
  text: string;
  blocks: Json[];
  thread_ts?: string;
  via: "chat.postEphemeral" | "response_url" | "command_response";
};
/** A modal: `view` is its current JSON as Slack returns it; `history` holds every version. */
export type FakeView = { id: string; user: string; view: Json; history: Json[]; open: boolean; errors?: Record<string, string> };
/** `at`: Date.now() when answered; `hr`: performance.now() then, for sub-millisecond spans in this process. */
export type FakeCall = { method: string; body: Json; token?: string; at: number; hr: number; status: number; response: Json };
export type ResponseTarget = { kind: "message"; channel: string; ts: string; user: string } | { kind: "command"; channel: string; user: string };
export type FakeResponse = { url: string; target: ResponseTarget; body: Json; at: number };

/** The reasons Slack's Events API documents for a retry, sent as X-Slack-Retry-Reason. */
export type EventRetryReason = "http_timeout" | "too_many_redirects" | "connection_failed" | "ssl_error" | "http_error" | "unknown_error";
/** Slack retries an event up to 3 times (retryNum 1–3) with the same event_id. */
export type EventRetry = { retryNum: number; reason: EventRetryReason };
/** The bot's answer to an event: its HTTP status and body, or 200 and the Socket Mode ack's payload. */
export type EventAck = { status: number; body: unknown };
export type EventAttempt = { retry?: EventRetry; at: number; ack?: EventAck; error?: string };
/** An `event_callback` envelope Slack owes the bot, with every attempt to deliver it. */
export type SentEvent = { id: string; envelope: Json; event: Json; attempts: EventAttempt[] };
/** Sends one envelope to the bot over the sim's transport; a retry carries its number and reason. */
export type EventDelivery = (envelope: Json, retry?: EventRetry) => Promise<EventAck>;
/**
 * Whether the bot's own posts come back as `message` events: `true` as Slack sends a bot token's
 * chat.postMessage (the bot's `user`, `bot_id`, `bot_profile`, no subtype), `"bot_message"` in the
 * classic shape (subtype bot_message, `bot_id`, `username`, no `user`). Its edits come back as
 * message_changed either way.
 */
export type EchoBotMessages = boolean | "bot_message";
/** A person typing in a channel, or in the thread of a top-level message when `thread_ts` is set. */
export type UserMessageInput = { user: string; channel: string; text: string; thread_ts?: string; files?: FileInput[] };
export type UserEditInput = { user: string; channel: string; ts: string; text: string };

export type FakeSlackOptions = {
  users?: FakeUser[];
  usergroups?: Record<string, string[]>;
  channels?: FakeChannel[];
  botToken?: string;
  appToken?: string;
  /** How long a trigger_id stays usable; Slack's is 3 s. */
  triggerTtlMs?: number;
  /** Deliver the bot's own messages back as events (see EchoBotMessages); off by default. */
  echoBotMessages?: EchoBotMessages;
  /**
   * The seconds of the first message's ts: the clock's when the fake starts unless given, as Slack's ts
   * are times (the bot reads history by time: findCardThread asks for the last hour's parents).
   */
  tsBase?: number;
};

/** The deprecated verification token Slack still puts in every payload. */
export const VERIFICATION_TOKEN = "fakeVerificationToken0000";

export type FakeSlack = Awaited<ReturnType<typeof startFakeSlack>>;

const JSON_FIELDS = new Set(["blocks", "attachments", "view", "metadata"]);
const BLOCK_TYPES = new Set(["section", "divider", "image", "actions", "context", "input", "header", "file", "rich_text", "video", "markdown", "table", "context_actions"]);

/** Starts the fake on 127.0.0.1 with a free port. */
export async function startFakeSlack(opts: FakeSlackOptions = {}) {
  const botToken = opts.botToken ?? "xoxb-fake-bot-token";
  const appToken = opts.appToken ?? "xapp-1-A0FAKEAPP-fake-app-token";
  const team = { id: "T0FAKETEAM", domain: "fake-workspace", name: "Fake Workspace" };
  const bot = { userId: "U0FAKEBOT", botId: "B0FAKEBOT", appId: "A0FAKEAPP", name: "opencode" };
  const triggerTtlMs = opts.triggerTtlMs ?? 3_000;
  const events = new EventEmitter();
  const changed = () => events.emit("change");

  const users = new Map<string, FakeUser>([[bot.userId, { id: bot.userId, name: bot.name, real_name: "OpenCode", is_bot: true }]]);
  for (const user of opts.users ?? []) users.set(user.id, user);
  const usergroups = new Map(Object.entries(opts.usergroups ?? {}));
  const channels = new Map<string, FakeChannel>((opts.channels ?? []).map((c) => [c.id, c]));
  const messages: FakeMessage[] = [];
  const ephemerals: FakeEphemeral[] = [];
  const views: FakeView[] = [];
  const calls: FakeCall[] = [];
  const responses: FakeResponse[] = [];
  const triggers = new Map<string, { user: string; at: number; used: boolean; viewId?: string }>();
  const responseUrls = new Map<string, ResponseTarget>();
  const rateLimits = new Map<string, { times: number; retryAfterSec: number }>();
  let storm: { until: number; retryAfterSec: number } | undefined;
  const slowAnswers = new Map<string, { skip: number; times: number; ms: number }>();
  const sentEvents: SentEvent[] = [];
  let delivery: EventDelivery | undefined;
  let echoBotMessages: EchoBotMessages = opts.echoBotMessages ?? false;
  let tsSeq = 0;
  const tsBase = opts.tsBase ?? Math.floor(Date.now() / 1000);
  let viewSeq = 0;

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500, { "content-type": "text/plain" }).end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const socket: SocketModeHub = attachSocketMode(server, { appId: bot.appId, baseUrl: () => `ws://127.0.0.1:${port}`, onChange: changed });

  // ── ids ────────────────────────────────────────────────────────────────────────────────────────
  const nextTs = () => {
    const micros = ++tsSeq * 100;
    return `${tsBase + Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, "0")}`;
  };
  const newHash = () => `${Math.floor(Date.now() / 1000)}.${randomBytes(4).toString("hex")}`;
  const shortId = () => randomBytes(3).toString("base64url");
  const slackId = (prefix: string) => `${prefix}0${randomBytes(8).toString("hex").toUpperCase().slice(0, 9)}`;

  // ── state lookups ──────────────────────────────────────────────────────────────────────────────
  const message = (channel: string, ts: string) => messages.find((m) => m.channel === channel && m.ts === ts);
  const view = (id: string) => views.find((v) => v.id === id);
  // The bot's IM with each person (user id → D id) and its group DMs (sorted user ids → G id), opened on first use.
  const ims = new Map<string, string>();
  const mpims = new Map<string, string>();
  const imFor = (user: string) => {
    const known = ims.get(user);
    if (known) return known;
    const id = slackId("D");
    ims.set(user, id);
    channels.set(id, { id, name: id.toLowerCase() });
    return id;
  };
  const imUser = (channel: string) => [...ims].find(([, id]) => id === channel)?.[0];
  const resolveChannel = (raw: unknown): string | undefined => {
    if (typeof raw !== "string" || raw === "") return undefined;
    if (channels.has(raw)) return raw;
    const byName = [...channels.values()].find((c) => c.name === raw.replace(/^#/, ""));
    if (byName) return byName.id;
    // Posting to a user id posts in the bot's IM with them.
    if (/^[UW][A-Z0-9]+$/.test(raw)) return imFor(raw);
    if (!/^[CGD][A-Z0-9]+$/.test(raw)) return undefined;
    channels.set(raw, { id: raw, name: raw.toLowerCase() });
    return raw;
  };

  const byBot = (m: FakeMessage) => m.user === bot.userId;
  const threadOf = (m: FakeMessage): Json => {
    if (!m.thread_ts) return {};
    const parent = message(m.channel, m.thread_ts);
    return { thread_ts: m.thread_ts, ...(parent ? { parent_user_id: parent.user } : {}) };
  };
  const botMessageJson = (m: FakeMessage): Json => ({
    user: bot.userId,
    type: "message",
    ts: m.ts,
    bot_id: bot.botId,
    app_id: bot.appId,
    text: m.text,
    team: team.id,
    bot_profile: { id: bot.botId, app_id: bot.appId, name: bot.name, icons: {}, deleted: false, updated: 1_700_000_000, team_id: team.id },
    blocks: m.blocks,
    ...threadOf(m),
    ...(m.files ? { files: m.files.map(fileJson), upload: true, display_as_bot: false } : {}),
    ...(m.edited ? { edited: m.edited } : {}),
    ...(m.metadata ? { metadata: m.metadata } : {}),
  });
  // What the Slack client sends: rich_text blocks (none for a file without words), files with upload: false.
  const userMessageJson = (m: FakeMessage): Json => ({
    user: m.user,
    type: "message",
    ts: m.ts,
    ...(m.client_msg_id ? { client_msg_id: m.client_msg_id } : {}),
    text: m.text,
    team: team.id,
    ...threadOf(m),
    ...(m.blocks.length ? { blocks: m.blocks } : {}),
    ...(m.files ? { files: m.files.map(fileJson), upload: false, display_as_bot: false } : {}),
    ...(m.edited ? { edited: m.edited } : {}),
  });
  const messageJson = (m: FakeMessage): Json => (byBot(m) ? botMessageJson(m) : userMessageJson(m));
  const repliesTo = (m: FakeMessage) => messages.filter((r) => r.channel === m.channel && r.thread_ts === m.ts && r.ts !== m.ts && !r.deleted);
  // conversations.history and .replies add the thread's summary to a parent that has replies.
  const listedJson = (m: FakeMessage): Json => {
    const replies = repliesTo(m);
    const last = replies.at(-1);
    if (!last) return messageJson(m);
    const users = [...new Set(replies.map((r) => r.user))];
    return { ...messageJson(m), thread_ts: m.ts, reply_count: replies.length, reply_users_count: users.length, latest_reply: last.ts, reply_users: users, is_locked: false, subscribed: false };
  };

  const fileStore = createFileStore({
    url,
    team,
    botUserId: bot.userId,
    botToken,
    slackId,
    channelType: (channel) => channelType(channel),
    channelName: (channel) => channels.get(channel)?.name ?? channel.toLowerCase(),
    resolveChannel,
    blocksError: (blocks) => {
      if (!Array.isArray(blocks)) return fail("invalid_blocks_format");
      const problems = blockProblems(blocks, 50, "/blocks");
      return problems.length ? invalid("invalid_blocks", problems) : undefined;
    },
    shareFiles: ({ channel, thread_ts, text, blocks, files }) => {
      const m = storeMessage({ channel, user: bot.userId, text, blocks: blocks ?? richTextBlocks(text, shortId), files, ...(thread_ts ? { thread_ts } : {}) });
      if (echoBotMessages) echo(messageEvent(m));
      return m;
    },
    changed,
  });
  const { fileJson } = fileStore;

  // Slack fills in a block_id (and an action_id) wherever the app left them out.
  const withIds = (blocks: Json[]): Json[] =>
    blocks.map((block) => {
      const out: Json = { ...block, block_id: typeof block.block_id === "string" ? block.block_id : shortId() };
      const fill = (e: unknown) => (isObj(e) && typeof e.action_id !== "string" ? { ...e, action_id: shortId() } : e);
      if (Array.isArray(block.elements) && block.type === "actions") out.elements = block.elements.map(fill);
      if (block.element !== undefined) out.element = fill(block.element);
      if (block.accessory !== undefined) out.accessory = fill(block.accessory);
      return out;
    });

  const storeMessage = (m: Omit<FakeMessage, "ts" | "deleted" | "history">): FakeMessage => {
    const stored: FakeMessage = { ...m, ts: nextTs(), blocks: withIds(m.blocks), deleted: false, history: [] };
    stored.history.push({ text: stored.text, blocks: stored.blocks, at: Date.now() });
    messages.push(stored);
    return stored;
  };
  /** A message the bot posts (chat.postMessage, an in_channel response). */
  const postMessage = (channel: string, text: string, blocks: Json[], extra: { thread_ts?: string; metadata?: unknown } = {}) => {
    const m = storeMessage({ channel, user: bot.userId, text, blocks, ...extra });
    if (echoBotMessages) echo(echoBotMessages === "bot_message" ? classicBotEvent(m) : messageEvent(m));
    return m;
  };
  /** Edits `m` as `editor` (the bot unless said) and returns the event Slack sends for the edit. */
  const editMessage = (m: FakeMessage, text: string, blocks: Json[], editor = bot.userId): Json => {
    const previous = echoBotMessages === "bot_message" && byBot(m) ? classicBotJson(m) : messageJson(m);
    m.text = text;
    m.blocks = withIds(blocks);
    m.edited = { user: editor, ts: nextTs() };
    m.history.push({ text, blocks: m.blocks, at: Date.now() });
    const changedEvent = messageChangedEvent(m, previous);
    if (echoBotMessages && editor === bot.userId) echo(changedEvent);
    return changedEvent;
  };

  // ── Events API ─────────────────────────────────────────────────────────────────────────────────
  const channelType = (channel: string) => (channel.startsWith("D") ? "im" : channels.get(channel)?.is_private ? "group" : "channel");
  const inChannel = (m: FakeMessage) => ({ channel: m.channel, event_ts: m.ts, channel_type: channelType(m.channel) });
  const messageEvent = (m: FakeMessage): Json => ({ ...messageJson(m), ...(m.files ? { subtype: "file_share" } : {}), ...inChannel(m) });
  const classicBotJson = (m: FakeMessage): Json => ({
    type: "message",
    subtype: "bot_message",
    text: m.text,
    ts: m.ts,
    username: bot.name,
    bot_id: bot.botId,
    app_id: bot.appId,
    blocks: m.blocks,
    ...threadOf(m),
    ...(m.edited ? { edited: m.edited } : {}),
  });
  const classicBotEvent = (m: FakeMessage): Json => ({ ...classicBotJson(m), ...inChannel(m) });
  // app_mention carries the message's fields under its own type, without channel_type.
  const mentionEvent = (m: FakeMessage): Json => {
    const { type: _message, ...fields } = messageJson(m);
    return { ...fields, type: "app_mention", channel: m.channel, event_ts: m.ts };
  };
  const messageChangedEvent = (m: FakeMessage, previous: Json): Json => {
    const editTs = m.edited?.ts ?? nextTs();
    const current = echoBotMessages === "bot_message" && byBot(m) ? classicBotJson(m) : messageJson(m);
    return { type: "message", subtype: "message_changed", message: current, previous_message: previous, channel: m.channel, hidden: true, ts: editTs, event_ts: editTs, channel_type: channelType(m.channel) };
  };
  const mentionsBot = (text: string) => new RegExp(`<@${bot.userId}(\\|[^>]*)?>`).test(text);

  /** Wraps `event` in the envelope Slack sends and keeps it in `sentEvents`, not yet delivered. */
  const queueEvent = (event: Json): SentEvent => {
    const id = slackId("Ev");
    const channel = str(event.channel);
    const envelope: Json = {
      token: VERIFICATION_TOKEN,
      team_id: team.id,
      context_team_id: team.id,
      context_enterprise_id: null,
      api_app_id: bot.appId,
      event,
      type: "event_callback",
      event_id: id,
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ enterprise_id: null, team_id: team.id, user_id: bot.userId, is_bot: true, is_enterprise_install: false }],
      is_ext_shared_channel: false,
      event_context: `4-${Buffer.from(JSON.stringify({ et: event.type, tid: team.id, aid: bot.appId, cid: channel })).toString("base64url")}`,
    };
    const sent: SentEvent = { id, envelope, event, attempts: [] };
    sentEvents.push(sent);
    return sent;
  };

  async function deliverEvent(id: string, retry?: EventRetry): Promise<EventAck> {
    const sent = sentEvents.find((e) => e.id === id);
    if (!sent) throw new Error(`fake Slack: no event ${id} was sent`);
    if (retry && !(Number.isInteger(retry.retryNum) && retry.retryNum >= 1 && retry.retryNum <= 3)) {
      throw new Error(`fake Slack: Slack retries an event at most 3 times, not with retryNum ${retry.retryNum}`);
    }
    const attempt: EventAttempt = { ...(retry ? { retry } : {}), at: Date.now() };
    sent.attempts.push(attempt);
    try {
      if (!delivery) throw new Error("fake Slack: nothing delivers events; create a Slack user sim for this fake first");
      attempt.ack = await delivery(sent.envelope, retry);
      return attempt.ack;
    } catch (error) {
      attempt.error = error instanceof Error ? error.message : String(error);
      throw error;
    } finally {
      changed();
    }
  }

  // The bot's own message comes back after the API has answered; a failure stays in its attempt.
  const echo = (event: Json) => {
    const sent = queueEvent(event);
    setImmediate(() => void deliverEvent(sent.id).catch(() => undefined));
  };

  const postAsUser = (input: UserMessageInput): { message: FakeMessage; events: SentEvent[] } => {
    const channel = resolveChannel(input.channel);
    if (!channel) throw new Error(`fake Slack: no channel ${input.channel}`);
    if (!input.text && !input.files?.length) throw new Error("fake Slack: the client sends no empty message");
    if (input.text.length > 40_000) throw new Error("fake Slack: the client sends at most 40,000 characters");
    if (input.thread_ts !== undefined) {
      const parent = message(channel, input.thread_ts);
      if (!parent || parent.deleted || parent.thread_ts) throw new Error(`fake Slack: ${channel}/${input.thread_ts} is no top-level message to reply to`);
    }
    const shared = (input.files ?? []).map((f) => fileStore.storeFile(f, input.user));
    const m = storeMessage({
      channel,
      user: input.user,
      client_msg_id: randomUUID(),
      text: input.text,
      blocks: richTextBlocks(input.text, shortId),
      ...(input.thread_ts ? { thread_ts: input.thread_ts } : {}),
      ...(shared.length ? { files: shared } : {}),
    });
    fileStore.recordShare(shared, m);
    const events = [queueEvent(messageEvent(m))];
    // Slack sends both for one mention in a channel the bot is in; a DM gets no app_mention.
    if (mentionsBot(m.text) && channelType(channel) !== "im") events.push(queueEvent(mentionEvent(m)));
    changed();
    return { message: m, events };
  };

  const editAsUser = (input: UserEditInput): { message: FakeMessage; events: SentEvent[] } => {
    const channel = resolveChannel(input.channel);
    const m = channel ? message(channel, input.ts) : undefined;
    if (!m || m.deleted) throw new Error(`fake Slack: no message ${input.channel}/${input.ts} to edit`);
    if (m.user !== input.user) throw new Error(`fake Slack: ${input.user} cannot edit a message by ${m.user}`);
    if (!input.text && !m.files) throw new Error("fake Slack: the client will not save an empty message");
    const events = [queueEvent(editMessage(m, input.text, richTextBlocks(input.text, shortId), input.user))];
    changed();
    return { message: m, events };
  };

  const shapeView = (id: string, input: Json, stack: { root: string; previous: string | null }): Json => ({
    id,
    team_id: team.id,
    type: input.type,
    title: input.title,
    submit: input.submit ?? null,
    close: input.close ?? { type: "plain_text", text: "Cancel", emoji: true },
    blocks: withIds(input.blocks as Json[]),
    private_metadata: input.private_metadata ?? "",
    callback_id: input.callback_id ?? "",
    state: { values: {} },
    hash: newHash(),
    clear_on_close: input.clear_on_close ?? false,
    notify_on_close: input.notify_on_close ?? false,
    root_view_id: stack.root,
    previous_view_id: stack.previous,
    app_id: bot.appId,
    external_id: input.external_id ?? "",
    app_installed_team_id: team.id,
    bot_id: bot.botId,
  });
  const openView = (user: string, input: Json, previous?: FakeView): FakeView => {
    const id = `V0FAKE${String(++viewSeq).padStart(5, "0")}`;
    const root = previous ? String(previous.view.root_view_id) : id;
    const json = shapeView(id, input, { root, previous: previous?.id ?? null });
    const v: FakeView = { id, user, view: json, history: [json], open: true };
    views.push(v);
    return v;
  };
  const replaceView = (v: FakeView, input: Json) => {
    v.view = shapeView(v.id, input, { root: String(v.view.root_view_id), previous: (v.view.previous_view_id as string | null) ?? null });
    v.history.push(v.view);
    v.errors = undefined;
  };
  type Trigger = { user: string; at: number; used: boolean; viewId?: string };
  const takeTrigger = (id: unknown): { trigger: Trigger } | { error: string } => {
    const t = typeof id === "string" ? triggers.get(id) : undefined;
    if (!t) return { error: "invalid_trigger_id" };
    if (t.used) return { error: "exchanged_trigger_id" };
    if (Date.now() - t.at > triggerTtlMs) return { error: "expired_trigger_id" };
    return { trigger: t };
  };

  // ── Web API methods ────────────────────────────────────────────────────────────────────────────
  const methods: Record<string, (p: Json) => Json> = {
    ...fileStore.methods,
    "auth.test": () => ({ ok: true, url: `https://${team.domain}.slack.com/`, team: team.name, user: bot.name, team_id: team.id, user_id: bot.userId, bot_id: bot.botId, is_enterprise_install: false }),
    "apps.connections.open": () => ({ ok: true, url: socket.issueUrl() }),
    "chat.postMessage": (p) => {
      const channel = resolveChannel(p.channel);
      if (!channel) return fail("channel_not_found");
      const content = contentOf(p);
      if ("error" in content) return content.error;
      const m = postMessage(channel, content.text, content.blocks ?? [], { thread_ts: str(p.thread_ts) || undefined, metadata: p.metadata });
      return { ok: true, channel, ts: m.ts, message: messageJson(m) };
    },
    "chat.update": (p) => {
      const channel = resolveChannel(p.channel);
      const m = channel ? message(channel, str(p.ts)) : undefined;
      if (!channel || !m || m.deleted) return fail("message_not_found");
      if (!byBot(m)) return fail("cant_update_message");
      const content = contentOf(p);
      if ("error" in content) return content.error;
      // Omitted fields keep their old value; `blocks: []` removes the blocks (chat.update docs).
      editMessage(m, p.text === undefined ? m.text : content.text, content.blocks ?? m.blocks);
      return { ok: true, channel, ts: m.ts, text: m.text, message: messageJson(m) };
    },
    "chat.postEphemeral": (p) => {
      const channel = resolveChannel(p.channel);
      if (!channel) return fail("channel_not_found");
      if (!str(p.user)) return fail("user_not_in_channel");
      const content = contentOf(p);
      if ("error" in content) return content.error;
      const blocks = withIds(content.blocks ?? []);
      ephemerals.push({ channel, user: str(p.user), text: content.text, blocks, thread_ts: str(p.thread_ts) || undefined, via: "chat.postEphemeral" });
      return { ok: true, message_ts: nextTs() };
    },
    "views.open": (p) => {
      const problems = viewProblems(p.view);
      if (problems.length) return invalid("invalid_arguments", problems);
      const taken = takeTrigger(p.trigger_id);
      if ("error" in taken) return fail(taken.error);
      taken.trigger.used = true;
      return { ok: true, view: openView(taken.trigger.user, p.view as Json).view };
    },
    "views.push": (p) => {
      const problems = viewProblems(p.view);
      if (problems.length) return invalid("invalid_arguments", problems);
      const taken = takeTrigger(p.trigger_id);
      if ("error" in taken) return fail(taken.error);
      const below = taken.trigger.viewId ? view(taken.trigger.viewId) : undefined;
      if (!below) return fail("invalid_trigger_id");
      const depth = views.filter((v) => v.open && v.view.root_view_id === below.view.root_view_id).length;
      if (depth >= 3) return fail("push_limit_reached");
      taken.trigger.used = true;
      return { ok: true, view: openView(taken.trigger.user, p.view as Json, below).view };
    },
    "views.update": (p) => {
      const v = views.find((x) => x.id === p.view_id || (p.external_id !== undefined && x.view.external_id === p.external_id));
      if (!v) return fail("not_found");
      if (p.hash !== undefined && p.hash !== v.view.hash) return fail("hash_conflict");
      const problems = viewProblems(p.view);
      if (problems.length) return invalid("invalid_arguments", problems);
      replaceView(v, p.view as Json);
      return { ok: true, view: v.view };
    },
    "usergroups.users.list": (p) => {
      const members = usergroups.get(str(p.usergroup));
      return members ? { ok: true, users: members } : fail("no_such_subteam");
    },
    "users.info": (p) => {
      const u = users.get(str(p.user));
      return u ? { ok: true, user: userJson(u) } : fail("user_not_found");
    },
    "conversations.replies": (p) => {
      const channel = resolveChannel(p.channel);
      if (!channel) return fail("channel_not_found");
      const parent = message(channel, str(p.ts));
      if (!parent || parent.deleted) return fail("thread_not_found");
      // The parent first, then its replies oldest first; one page holds them all here.
      return { ok: true, messages: [listedJson(parent), ...repliesTo(parent).map(messageJson)], has_more: false, response_metadata: { next_cursor: "" } };
    },
    "conversations.history": (p) => {
      const channel = resolveChannel(p.channel);
      if (!channel) return fail("channel_not_found");
      return historyPage(messages.filter((m) => m.channel === channel && !m.thread_ts && !m.deleted).reverse(), p);
    },
    // Slack's permalink: the workspace URL, archives, the channel, "p" and the ts without its dot (a reply adds thread_ts and cid).
    "chat.getPermalink": (p) => {
      const channel = resolveChannel(p.channel);
      if (!channel) return fail("channel_not_found");
      const m = message(channel, str(p.message_ts));
      if (!m || m.deleted) return fail("message_not_found");
      const base = `https://${team.domain}.slack.com/archives/${channel}/p${m.ts.replace(".", "")}`;
      return { ok: true, channel, permalink: m.thread_ts && m.thread_ts !== m.ts ? `${base}?thread_ts=${m.thread_ts}&cid=${channel}` : base };
    },
    // One user: the bot's IM with them; several (up to 8): a group DM. `channel` resumes one already open.
    "conversations.open": (p) => {
      const resume = str(p.channel);
      if (resume) return imUser(resume) || [...mpims.values()].includes(resume) ? { ok: true, channel: { id: resume } } : fail("channel_not_found");
      const ids = [...new Set(str(p.users).split(",").map((u) => u.trim()).filter(Boolean))];
      if (!ids.length) return fail("users_list_not_supplied");
      if (ids.length > 8) return fail("too_many_users");
      if (ids.some((u) => !users.has(u))) return fail("user_not_found");
      const key = [...ids].sort().join(",");
      const already = ids.length === 1 ? ims.has(key) : mpims.has(key);
      const opened = already ? { no_op: true, already_open: true } : {};
      if (ids.length === 1) {
        const id = imFor(key);
        const returnIm = p.return_im === true || p.return_im === "true" || p.return_im === "1";
        return { ok: true, ...opened, channel: returnIm ? imJson(id, key) : { id } };
      }
      const id = mpims.get(key) ?? slackId("G");
      mpims.set(key, id);
      if (!already) channels.set(id, { id, name: `mpdm-${[bot.name, ...ids.map((u) => users.get(u)!.name)].join("--")}-1`, is_private: true });
      return { ok: true, ...opened, channel: { id } };
    },
    "conversations.info": (p) => {
      const user = imUser(str(p.channel));
      if (user) return { ok: true, channel: imJson(str(p.channel), user) };
      const c = channels.get(str(p.channel));
      if (!c) return fail("channel_not_found");
      const isPrivate = c.is_private ?? false;
      return {
        ok: true,
        channel: { id: c.id, name: c.name, name_normalized: c.name, is_channel: !isPrivate, is_group: isPrivate, is_im: false, is_mpim: false, is_private: isPrivate, is_archived: false, is_general: false, is_member: true, created: 1_700_000_000, creator: bot.userId, context_team_id: team.id },
      };
    },
  };

  // Newest first, between `oldest` and `latest` (each excluded unless `inclusive`), `limit` a page.
  const historyPage = (newestFirst: FakeMessage[], p: Json): Json => {
    const inclusive = p.inclusive === true || p.inclusive === "true" || p.inclusive === "1";
    const oldest = Number(str(p.oldest) || "0");
    const latest = str(p.latest) ? Number(str(p.latest)) : Infinity;
    // Slack's cursor is base64 of "next_ts:<ts of the next page's first message>".
    const cursor = str(p.cursor) ? Number(Buffer.from(str(p.cursor), "base64").toString("utf8").replace(/^next_ts:/, "")) : Infinity;
    const limit = Math.min(Number(str(p.limit) || "100") || 100, 999);
    const within = newestFirst.filter((m) => {
      const ts = Number(m.ts);
      return (inclusive ? ts >= oldest && ts <= latest : ts > oldest && ts < latest) && ts <= cursor;
    });
    const next = within[limit];
    return {
      ok: true,
      messages: within.slice(0, limit).map(listedJson),
      has_more: next !== undefined,
      pin_count: 0,
      channel_actions_ts: null,
      channel_actions_count: 0,
      response_metadata: { next_cursor: next ? Buffer.from(`next_ts:${next.ts}`).toString("base64") : "" },
    };
  };

  const imJson = (id: string, user: string): Json => ({
    id, created: 1_700_000_000, is_archived: false, is_im: true, is_org_shared: false, context_team_id: team.id, updated: 1_700_000_000_000, user,
    last_read: "0000000000.000000", latest: null, unread_count: 0, unread_count_display: 0, is_open: true, priority: 0,
  });
  const userJson = (u: FakeUser): Json => {
    const real = u.real_name ?? u.name;
    const display = u.display_name ?? "";
    return {
      id: u.id, team_id: team.id, name: u.name, deleted: false, color: "9f69e7", real_name: real,
      tz: u.tz ?? "Europe/London", tz_label: "Greenwich Mean Time", tz_offset: 0,
      profile: { real_name: real, display_name: display, real_name_normalized: real, display_name_normalized: display, team: team.id, ...(u.is_bot ? { bot_id: bot.botId } : {}) },
      is_admin: false, is_owner: false, is_bot: u.is_bot ?? false, is_app_user: false, updated: 1_700_000_000,
    };
  };

  // ── HTTP ───────────────────────────────────────────────────────────────────────────────────────
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = new URL(req.url ?? "/", url);
    const body = await readBody(req);
    const raw = body.toString("utf8");
    if (target.pathname.startsWith("/api/")) return api(target.pathname.slice("/api/".length), req, target, raw, res);
    if (target.pathname.startsWith("/respond/") && req.method === "POST") return respond(`${url}${target.pathname}`, raw, res);
    if (await fileStore.handleHttp(req, target, body, res)) return;
    res.writeHead(404, { "content-type": "text/plain" }).end("not found");
  }

  function api(method: string, req: IncomingMessage, target: URL, raw: string, res: ServerResponse): void {
    const isJson = (req.headers["content-type"] ?? "").split(";")[0]?.trim() === "application/json";
    const parsed = parseParams(target, raw, isJson);
    const header = req.headers.authorization;
    const token = header?.startsWith("Bearer ") ? header.slice("Bearer ".length) : !isJson && typeof parsed.token === "string" ? parsed.token : undefined;
    const { token: _dropped, ...body } = parsed;
    const reply = (status: number, response: Json, headers: Record<string, string> = {}) => {
      calls.push({ method, body, token, at: Date.now(), hr: performance.now(), status, response });
      res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers }).end(JSON.stringify(response));
      changed();
    };
    const run = methods[method];
    if (!run) return reply(200, fail("unknown_method"));
    if (storm && Date.now() < storm.until) return reply(429, fail("ratelimited"), { "retry-after": String(storm.retryAfterSec) });
    const limit = rateLimits.get(method);
    if (limit && limit.times > 0) {
      limit.times -= 1;
      return reply(429, fail("ratelimited"), { "retry-after": String(limit.retryAfterSec) });
    }
    if (token === undefined || token === "") return reply(200, fail("not_authed"));
    const wantsApp = method === "apps.connections.open";
    if (token === (wantsApp ? botToken : appToken)) return reply(200, fail("not_allowed_token_type"));
    if (token !== (wantsApp ? appToken : botToken)) return reply(200, fail("invalid_auth"));
    if (body.__invalid_json) return reply(200, fail("invalid_json"));
    const slow = slowAnswers.get(method);
    if (slow && slow.skip > 0) {
      slow.skip -= 1;
    } else if (slow && slow.times > 0) {
      // Done at once, answered late: the caller cannot know yet what Slack already shows.
      slow.times -= 1;
      const response = run(body);
      changed();
      setTimeout(() => reply(200, response), slow.ms);
      return;
    }
    reply(200, run(body));
  }

  function respond(responseUrl: string, raw: string, res: ServerResponse): void {
    const target = responseUrls.get(responseUrl);
    let body: Json;
    try {
      body = raw.startsWith("payload=") ? JSON.parse(new URLSearchParams(raw).get("payload") ?? "{}") : JSON.parse(raw);
    } catch {
      res.writeHead(400, { "content-type": "text/plain" }).end("invalid_payload");
      return;
    }
    if (!target) {
      res.writeHead(404, { "content-type": "text/plain" }).end("invalid_response_url");
      return;
    }
    const problem = applyResponse(target, body, "response_url");
    if (problem) {
      res.writeHead(400, { "content-type": "text/plain" }).end(problem);
      return;
    }
    responses.push({ url: responseUrl, target, body, at: Date.now() });
    res.writeHead(200, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify({ ok: true }));
    changed();
  }

  /** What Slack does with a message sent to a response_url or as a slash command's immediate answer. */
  function applyResponse(target: ResponseTarget, body: Json, via: FakeEphemeral["via"]): string | undefined {
    if (body.blocks !== undefined && blockProblems(body.blocks, 50, "/blocks").length) return "invalid_blocks";
    const text = str(body.text);
    const blocks = Array.isArray(body.blocks) ? (body.blocks as Json[]) : [];
    const original = target.kind === "message" ? message(target.channel, target.ts) : undefined;
    if (original && body.delete_original === true) {
      original.deleted = true;
      return undefined;
    }
    if (original && body.replace_original === true) {
      editMessage(original, text, blocks);
      return undefined;
    }
    if (!text && !blocks.length) return "no_text";
    const thread_ts = str(body.thread_ts) || undefined;
    if (body.response_type === "in_channel") postMessage(target.channel, text, blocks, { thread_ts });
    else ephemerals.push({ channel: target.channel, user: target.user, text, blocks: withIds(blocks), thread_ts, via });
    return undefined;
  }

  const waitFor = <T>(probe: () => T | undefined, what: string, timeoutMs?: number) => waitForState(events, "change", probe, what, timeoutMs);

  return {
    url,
    /** Pass as `clientOptions.slackApiUrl`; ends with "/". */
    apiUrl: `${url}/api/`,
    botToken,
    appToken,
    team,
    bot,
    messages,
    ephemerals,
    views,
    calls,
    responses,
    socket,
    events,
    /** Every event_callback queued for the bot, oldest first, with its delivery attempts. */
    sentEvents,
    /** Every file people shared and every upload the bot completed, oldest first. */
    files: fileStore.files,
    /** Every upload_url files.getUploadURLExternal handed out, with what was POSTed to it and its state. */
    uploads: fileStore.uploads,
    message,
    view,
    sentEvent: (id: string) => sentEvents.find((e) => e.id === id),
    file: fileStore.file,
    /** A file's bytes as UTF-8 text; throws for an unknown id. */
    fileText: fileStore.fileText,
    get echoBotMessages(): EchoBotMessages {
      return echoBotMessages;
    },
    set echoBotMessages(mode: EchoBotMessages) {
      echoBotMessages = mode;
    },
    /** Sets how events reach the bot (a user sim does, for its transport); the last one set wins. */
    setEventDelivery(deliver: EventDelivery | undefined) {
      delivery = deliver;
    },
    /**
     * Stores what a person typed (files become Slack file objects) and queues its `message` event,
     * and an `app_mention` too when it mentions the bot outside a DM. Throws where the client would
     * not send it: empty, or a reply to what is not a top-level message.
     */
    postAsUser,
    /** Edits a person's own message and queues the message_changed event (message, previous_message). */
    editAsUser,
    /** Delivers a queued event; with `retry`, as Slack's retry of it (same event_id). Rejects if the delivery fails. */
    deliverEvent,
    /** A message as Slack embeds it in payloads (`history[version]` if given: what a stale client shows). */
    slackMessage(m: FakeMessage, version?: number): Json {
      const shown = version === undefined ? m : m.history[version];
      if (!shown) throw new Error(`fake Slack: message ${m.ts} has no version ${version}`);
      return messageJson({ ...m, text: shown.text, blocks: shown.blocks });
    },
    user: (id: string) => users.get(id),
    channel: (id: string) => channels.get(id),
    /** The id of the bot's IM with `userId` (D…), once conversations.open or a post to the user id opened it. */
    imOf: (userId: string) => ims.get(userId),
    /** The next `times` calls of `method` answer HTTP 429 with `Retry-After: retryAfterSec`. */
    rateLimit(method: string, times: number, retryAfterSec: number) {
      rateLimits.set(method, { times, retryAfterSec });
    },
    /** For the next `ms` milliseconds every Web API call answers HTTP 429 `ratelimited` with `Retry-After: retryAfterSec` (a storm). */
    rateLimitFor(ms: number, retryAfterSec: number) {
      storm = { until: Date.now() + ms, retryAfterSec };
    },
    /** After `skip` calls answered as usual, the next `times` calls of `method` take effect at once but are answered `ms` later. */
    answerLate(method: string, times: number, ms: number, skip = 0) {
      slowAnswers.set(method, { skip, times, ms });
    },
    /** Mints a trigger_id as Slack does for an interaction by `user` (inside modal `viewId`, if any). */
    issueTriggerId(user: string, viewId?: string) {
      const id = `${Date.now()}.${tsSeq + 1000}.${randomBytes(16).toString("hex")}`;
      triggers.set(id, { user, at: Date.now(), used: false, viewId });
      return id;
    },
    /** Makes every trigger_id issued so far expired, as if 3 s had passed. */
    expireTriggers() {
      for (const t of triggers.values()) t.at = 0;
    },
    issueResponseUrl(target: ResponseTarget) {
      const responseUrl = `${url}/respond/${target.kind === "message" ? "actions" : "commands"}/${team.id}/${randomBytes(12).toString("hex")}`;
      responseUrls.set(responseUrl, target);
      return responseUrl;
    },
    /** Applies the app's answer to a view_submission: nothing → close, or response_action errors/update/push/clear. */
    applyViewResponse(viewId: string, response: unknown) {
      const v = view(viewId);
      if (!v) throw new Error(`fake Slack: no view ${viewId}`);
      const action = isObj(response) ? response.response_action : undefined;
      if (action === undefined) v.open = false;
      else if (action === "errors") v.errors = checkErrors(v, (response as Json).errors);
      else if (action === "update" || action === "push") {
        const next = (response as Json).view;
        const problems = viewProblems(next);
        if (problems.length) throw new Error(`fake Slack: response_action ${action} with an invalid view: ${problems.join("; ")}`);
        if (action === "update") replaceView(v, next as Json);
        else openView(v.user, next as Json, v);
      } else if (action === "clear") for (const x of views) x.open = x.open && x.view.root_view_id !== v.view.root_view_id;
      else throw new Error(`fake Slack: unknown response_action ${String(action)}`);
      changed();
    },
    /** Applies a slash command's immediate answer (a string or a message) like Slack: ephemeral unless in_channel. */
    applyCommandResponse(channel: string, user: string, response: unknown) {
      if (response === undefined || response === "") return;
      const body = typeof response === "string" ? { text: response } : (response as Json);
      const problem = applyResponse({ kind: "command", channel, user }, body, "command_response");
      if (problem) throw new Error(`fake Slack: slash command response rejected: ${problem}`);
      changed();
    },
    /** Delivers an envelope over Socket Mode and resolves with the app's ack. */
    socketSend(type: SocketEnvelopeType, payload: Json, sendOpts?: SocketSendOptions): Promise<SocketAck> {
      return socket.send(type, payload, sendOpts);
    },
    /** Resolves with `probe()`'s first non-undefined value, re-checked after every state change. */
    waitFor,
    waitForMessage(predicate: (m: FakeMessage) => boolean, timeoutMs?: number) {
      return waitFor(() => messages.find(predicate), "a matching message", timeoutMs);
    },
    waitForView(predicate: (v: FakeView) => boolean, timeoutMs?: number) {
      return waitFor(() => views.find(predicate), "a matching view", timeoutMs);
    },
    waitForCall(method: string, predicate: (c: FakeCall) => boolean = () => true, timeoutMs?: number) {
      return waitFor(() => calls.find((c) => c.method === method && predicate(c)), `a ${method} call`, timeoutMs);
    },
    /** The first sent event matching `predicate` whose latest attempt has ended (acked or failed). */
    waitForDelivery(predicate: (e: SentEvent) => boolean, timeoutMs?: number) {
      const ended = (e: SentEvent) => e.attempts.length > 0 && e.attempts.every((a) => a.ack !== undefined || a.error !== undefined);
      return waitFor(() => sentEvents.find((e) => predicate(e) && ended(e)), "a delivered event", timeoutMs);
    },
    async close() {
      await socket.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ── request parsing ──────────────────────────────────────────────────────────────────────────────
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Query string plus body; form bodies carry nested fields (blocks, view…) as JSON strings, as WebClient sends them. */
function parseParams(target: URL, raw: string, isJson: boolean): Json {
  const params: Json = Object.fromEntries(target.searchParams);
  if (isJson) {
    try {
      Object.assign(params, raw ? (JSON.parse(raw) as Json) : {});
    } catch {
      params.__invalid_json = true;
    }
    return params;
  }
  for (const [key, value] of new URLSearchParams(raw)) params[key] = JSON_FIELDS.has(key) ? parseJsonField(value) : value;
  return params;
}

function parseJsonField(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

// ── what the Slack client makes of what a person types ───────────────────────────────────────────
const SLACK_LINK = /<([@#!]?)([^>|]+)(?:\|([^>]*))?>/g;
const unescapeText = (text: string) => text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

/** The rich_text block the client sends with a message typed as `text` (Slack's wire format: `<@U…>`, `<#C…|name>`, `<!here>`, `<url|label>`). */
function richTextBlocks(text: string, blockId: () => string): Json[] {
  if (!text) return [];
  const elements: Json[] = [];
  let last = 0;
  for (const match of text.matchAll(SLACK_LINK)) {
    if (match.index > last) elements.push({ type: "text", text: unescapeText(text.slice(last, match.index)) });
    elements.push(linkElement(match[1] ?? "", match[2] ?? "", match[3]));
    last = match.index + match[0].length;
  }
  if (last < text.length) elements.push({ type: "text", text: unescapeText(text.slice(last)) });
  return [{ type: "rich_text", block_id: blockId(), elements: [{ type: "rich_text_section", elements }] }];
}

function linkElement(sigil: string, target: string, label: string | undefined): Json {
  if (sigil === "@") return { type: "user", user_id: target };
  if (sigil === "#") return { type: "channel", channel_id: target };
  if (sigil === "!" && target.startsWith("subteam^")) return { type: "usergroup", usergroup_id: target.slice("subteam^".length) };
  if (sigil === "!") return { type: "broadcast", range: target };
  return { type: "link", url: target, ...(label ? { text: label } : {}) };
}

// ── validation, following the limits in Slack's Block Kit reference ──────────────────────────────
const fail = (error: string): Json => ({ ok: false, error });
const invalid = (error: string, problems: string[]): Json => ({
  ok: false,
  error,
  errors: problems,
  response_metadata: { messages: problems.map((p) => `[ERROR] ${p}`) },
});
const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === "string" ? v : typeof v === "number" ? String(v) : "");

function contentOf(p: Json): { text: string; blocks?: Json[] } | { error: Json } {
  const text = str(p.text);
  if (p.blocks !== undefined) {
    if (!Array.isArray(p.blocks)) return { error: fail("invalid_blocks_format") };
    const problems = blockProblems(p.blocks, 50, "/blocks");
    if (problems.length) return { error: invalid("invalid_blocks", problems) };
  }
  if (!text && !(Array.isArray(p.blocks) && p.blocks.length) && p.attachments === undefined) return { error: fail("no_text") };
  if (text.length > 40_000) return { error: fail("msg_too_long") };
  return { text, blocks: p.blocks as Json[] | undefined };
}

function textProblems(t: unknown, max: number, at: string, plainOnly = false): string[] {
  if (!isObj(t)) return [`must provide an object [json-pointer:${at}]`];
  if (t.type !== "plain_text" && (plainOnly || t.type !== "mrkdwn")) return [`must be a valid enum value [json-pointer:${at}/type]`];
  if (typeof t.text !== "string" || t.text.length === 0) return [`must be more than 0 characters [json-pointer:${at}/text]`];
  if (t.text.length > max) return [`must be less than ${max + 1} characters [json-pointer:${at}/text]`];
  return [];
}

function elementProblems(e: unknown, at: string): string[] {
  if (!isObj(e) || typeof e.type !== "string") return [`missing required field: type [json-pointer:${at}]`];
  const problems: string[] = [];
  if (typeof e.action_id === "string" && e.action_id.length > 255) problems.push(`must be less than 256 characters [json-pointer:${at}/action_id]`);
  if (e.type === "button") {
    problems.push(...textProblems(e.text, 75, `${at}/text`, true));
    if (typeof e.value === "string" && e.value.length > 2000) problems.push(`must be less than 2001 characters [json-pointer:${at}/value]`);
    if (e.style !== undefined && e.style !== "primary" && e.style !== "danger") problems.push(`must be a valid enum value [json-pointer:${at}/style]`);
  }
  if (e.type === "plain_text_input") {
    if (e.max_length !== undefined && (typeof e.max_length !== "number" || e.max_length < 1 || e.max_length > 3000)) problems.push(`must be between 1 and 3000 [json-pointer:${at}/max_length]`);
    if (typeof e.initial_value === "string" && typeof e.max_length === "number" && e.initial_value.length > e.max_length) problems.push(`initial_value longer than max_length [json-pointer:${at}/initial_value]`);
  }
  return problems;
}

function blockProblems(blocks: unknown, max: number, at: string): string[] {
  if (!Array.isArray(blocks)) return [`must provide an array [json-pointer:${at}]`];
  const problems: string[] = [];
  if (blocks.length > max) problems.push(`no more than ${max} items allowed [json-pointer:${at}]`);
  const blockIds = new Set<string>();
  blocks.forEach((b: unknown, i) => {
    const p = `${at}/${i}`;
    if (!isObj(b) || typeof b.type !== "string") return void problems.push(`missing required field: type [json-pointer:${p}]`);
    if (!BLOCK_TYPES.has(b.type)) return void problems.push(`unsupported type: ${b.type} [json-pointer:${p}/type]`);
    if (typeof b.block_id === "string") {
      if (b.block_id.length > 255) problems.push(`must be less than 256 characters [json-pointer:${p}/block_id]`);
      if (blockIds.has(b.block_id)) problems.push(`duplicate block_id: ${b.block_id} [json-pointer:${p}/block_id]`);
      blockIds.add(b.block_id);
    }
    if (b.type === "header") problems.push(...textProblems(b.text, 150, `${p}/text`, true));
    if (b.type === "section") {
      if (b.text !== undefined || b.fields === undefined) problems.push(...textProblems(b.text, 3000, `${p}/text`));
      if (Array.isArray(b.fields)) {
        if (b.fields.length > 10) problems.push(`no more than 10 items allowed [json-pointer:${p}/fields]`);
        b.fields.forEach((f: unknown, j) => problems.push(...textProblems(f, 2000, `${p}/fields/${j}`)));
      }
      if (b.accessory !== undefined) problems.push(...elementProblems(b.accessory, `${p}/accessory`));
    }
    if (b.type === "actions" || b.type === "context") {
      const limit = b.type === "actions" ? 25 : 10;
      if (!Array.isArray(b.elements) || b.elements.length === 0) return void problems.push(`must provide a non-empty array [json-pointer:${p}/elements]`);
      if (b.elements.length > limit) problems.push(`no more than ${limit} items allowed [json-pointer:${p}/elements]`);
      if (b.type === "actions") {
        const actionIds = new Set<string>();
        b.elements.forEach((e: unknown, j) => {
          problems.push(...elementProblems(e, `${p}/elements/${j}`));
          const id = isObj(e) && typeof e.action_id === "string" ? e.action_id : undefined;
          if (id && actionIds.has(id)) problems.push(`duplicate action_id: ${id} [json-pointer:${p}/elements/${j}/action_id]`);
          if (id) actionIds.add(id);
        });
      }
    }
    if (b.type === "input") {
      problems.push(...textProblems(b.label, 2000, `${p}/label`, true));
      problems.push(...elementProblems(b.element, `${p}/element`));
    }
  });
  return problems;
}

function viewProblems(v: unknown): string[] {
  if (!isObj(v)) return ["must provide an object [json-pointer:/view]"];
  if (v.type !== "modal") return ["must be a valid enum value [json-pointer:/view/type]"];
  const problems = [...textProblems(v.title, 24, "/view/title", true), ...blockProblems(v.blocks, 100, "/view/blocks")];
  if (v.submit !== undefined) problems.push(...textProblems(v.submit, 24, "/view/submit", true));
  if (v.close !== undefined) problems.push(...textProblems(v.close, 24, "/view/close", true));
  if (Array.isArray(v.blocks) && v.blocks.some((b) => isObj(b) && b.type === "input") && v.submit === undefined) {
    problems.push("must provide submit when the view has input blocks [json-pointer:/view/submit]");
  }
  if (typeof v.private_metadata === "string" && v.private_metadata.length > 3000) problems.push("must be less than 3001 characters [json-pointer:/view/private_metadata]");
  if (typeof v.callback_id === "string" && v.callback_id.length > 255) problems.push("must be less than 256 characters [json-pointer:/view/callback_id]");
  return problems;
}

/** response_action "errors" may only name input blocks of the view, else Slack refuses the answer. */
function checkErrors(v: FakeView, errors: unknown): Record<string, string> {
  if (!isObj(errors)) throw new Error("fake Slack: response_action errors without an errors object");
  const inputs = new Set((v.view.blocks as Json[]).filter((b) => b.type === "input").map((b) => b.block_id));
  for (const key of Object.keys(errors)) {
    if (!inputs.has(key)) throw new Error(`fake Slack: response_action errors names "${key}", not an input block of view ${v.id}`);
  }
  return errors as Record<string, string>;
}
