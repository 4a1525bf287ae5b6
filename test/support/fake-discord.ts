/**
 * A local fake of Discord's REST API (v10) and gateway that the real discord.js talks to, keeping
 * state (messages and their edits, attachments, threads, interactions and their answers, modals, every
 * REST call, every IDENTIFY) for tests to assert on. Checked against discord.js 14.28.1
 * (@discordjs/rest 2.6.3, @discordjs/ws 1.2.3); see /work/shared/DISCORD.md.
 *
 * Pointing discord.js at it: `new Client({ intents, rest: { api: fake.apiUrl } })` and
 * `client.login(fake.token)`; the gateway URL comes from GET /gateway/bot. Destroy the client before
 * `fake.close()`: a client whose connection drops resumes.
 * Users act through test/support/discord-user-sim.ts (clicks, modal submits, slash commands, messages).
 * Application commands registered over REST are kept in `commands` and `guildCommands`.
 * DMs: POST /users/@me/channels opens one DM channel (type 1) per person, found with `dmOf`; sending
 * there needs the person to be a guild member (else 50007). GET /guilds/:guild/members answers only
 * when `privilegedIntents` has GuildMembers (else 403 Missing Access), as Discord restricts it.
 */
import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { attachGateway, Intents, type DispatchData, type PrivilegedIntent } from "./fake-discord-gateway.ts";
import { waitForState } from "./slack-wait.ts";
import { timeLeft } from "./wait-for.ts";

export { Intents, type PrivilegedIntent } from "./fake-discord-gateway.ts";
export type Json = Record<string, unknown>;
export type FakeDiscordUser = { id: string; username: string; global_name?: string | null; bot?: boolean };
export type FakeRole = { id: string; name: string; permissions: string; position: number };
export type FakeMember = { userId: string; roles: string[]; nick: string | null; joinedAt: string };
/** A channel; threads (type 11/12) have `parentId` and `thread`, DMs (type 1) `recipientId` and no guild. */
export type FakeChannel = {
  id: string;
  type: number;
  name: string;
  parentId: string | null;
  position: number;
  thread?: { ownerId: string; starterMessageId?: string; archived: boolean; locked: boolean; autoArchiveDuration: number; createdAt: string; messageCount: number };
  recipientId?: string;
  lastMessageId: string | null;
};
export type FakeAttachment = { id: string; filename: string; description?: string; contentType: string; size: number; data: Buffer; text: string; url: string };
/** One version of a message; `history[0]` is the message as posted. */
export type MessageVersion = { content: string; components: Json[]; embeds: Json[]; attachments: string[]; flags: number; at: number };
export type FakeMessage = {
  id: string;
  channelId: string;
  authorId: string;
  content: string;
  components: Json[];
  embeds: Json[];
  attachments: FakeAttachment[];
  /** 64 ephemeral, 128 loading (a deferred reply), 32 has a thread. */
  flags: number;
  /** How it came: a bot REST call, an interaction callback, a follow-up webhook, or a user in the client. */
  via: "rest" | "callback" | "followup" | "user";
  interactionId?: string;
  /** For ephemeral messages: the only user who sees them. */
  visibleTo?: string;
  /** The message this one replies to (message_reference), in the same channel. */
  replyTo?: string;
  threadId?: string;
  createdAt: number;
  editedAt?: number;
  deleted: boolean;
  history: MessageVersion[];
};
export type FakeInteraction = {
  id: string;
  token: string;
  /** 2 application command, 3 message component, 4 command autocomplete, 5 modal submit. */
  type: 2 | 3 | 4 | 5;
  userId: string;
  channelId: string;
  /** The component's or modal's custom_id; empty for commands. */
  customId: string;
  /** For commands and autocompletes: the registered command that was run. */
  command?: { id: string; name: string; group?: string; subcommand?: string };
  messageId?: string;
  createdAt: number;
  /** The type of the accepted initial answer (4, 5, 6, 7, 8 or 9). */
  answeredWith?: number;
  /** For autocompletes: the choices the bot answered with (callback type 8). */
  choices?: Json[];
  /** What `@original` means for this interaction's webhook. */
  originalId?: string;
  payload: Json;
};
/** Every interaction callback received, accepted (status 200/204) or refused (`code`). */
export type FakeCallback = { interactionId: string; type: unknown; data: Json | undefined; status: number; code?: number; withResponse: boolean; at: number };
export type FakeModal = { interactionId: string; userId: string; customId: string; title: string; components: Json[]; channelId: string; messageId?: string; open: boolean; at: number };
/** An option of a CHAT_INPUT command as the fake stores it (`required` only when true). */
export type FakeCommandOption = {
  type: number;
  name: string;
  description: string;
  required?: true;
  choices?: Array<{ name: string; value: string | number }>;
  options?: FakeCommandOption[];
  autocomplete?: boolean;
  channel_types?: number[];
  min_value?: number;
  max_value?: number;
  min_length?: number;
  max_length?: number;
};
/** An application command as Discord returns it; `guild_id` only on guild commands. */
export type FakeCommand = {
  id: string;
  application_id: string;
  version: string;
  type: number;
  name: string;
  description: string;
  options?: FakeCommandOption[];
  default_member_permissions: string | null;
  nsfw: boolean;
  contexts: number[] | null;
  integration_types: number[] | null;
  guild_id?: string;
};
/** A file a user uploads in the client (a message attachment, an attachment option). */
export type UserFile = { filename: string; contentType?: string; data: Buffer | string };
export type FakeCall = { method: string; path: string; route: string | null; query: string; status: number; body: unknown; files: string[]; at: number };

export type FakeDiscordOptions = {
  token?: string;
  /** Other people; all are guild members without roles unless `members` says who is one, and with which roles. */
  users?: FakeDiscordUser[];
  roles?: Array<{ id: string; name: string; permissions?: string }>;
  members?: Array<{ user: string; roles?: string[]; nick?: string }>;
  /** Extra channels (text 0, category 4…); the default text channel `channelId` always exists. */
  channels?: Array<{ id: string; name: string; type?: number; parentId?: string }>;
  /** HELLO's heartbeat_interval; Discord's is 41250 ms. */
  heartbeatIntervalMs?: number;
  /** Privileged intents switched on for the app (default MessageContent); others close IDENTIFY with 4014. */
  privilegedIntents?: PrivilegedIntent[];
  /** How long an interaction may wait for its first answer; Discord's is 3 s. */
  interactionTtlMs?: number;
};

export type FakeDiscord = Awaited<ReturnType<typeof startFakeDiscord>>;

type Upload = { filename: string; contentType: string; data: Buffer };
type Ctx = { params: Record<string, string>; query: URLSearchParams; body: Json; uploads: Map<string, Upload> };
type Reply = { status: number; body?: unknown };
type Route = { method: string; pattern: string; auth: boolean; regex: RegExp; keys: string[]; run: (c: Ctx) => Reply };

class ApiError extends Error {
  constructor(readonly status: number, readonly code: number, message: string, readonly errors?: Json) {
    super(message);
  }
}
const unknown = (what: "Channel" | "Message" | "Member" | "User" | "Webhook" | "Application" | "Guild", code: number) => new ApiError(404, code, `Unknown ${what}`);

const DISCORD_EPOCH = 1_420_070_400_000n;
const GUILD_FIELDS = {
  name: "Fake Guild", icon: null, splash: null, discovery_splash: null, banner: null, description: null, owner_id: "1", afk_channel_id: null, afk_timeout: 300,
  verification_level: 0, default_message_notifications: 1, explicit_content_filter: 0, mfa_level: 0, nsfw_level: 0, premium_tier: 0, premium_subscription_count: 0,
  preferred_locale: "en-US", system_channel_id: null, system_channel_flags: 0, rules_channel_id: null, public_updates_channel_id: null, safety_alerts_channel_id: null,
  max_members: 500_000, max_video_channel_users: 25, vanity_url_code: null, premium_progress_bar_enabled: false, large: false, unavailable: false,
  features: [], emojis: [], stickers: [], presences: [], voice_states: [], stage_instances: [], guild_scheduled_events: [], soundboard_sounds: [],
};
const ROLE_FIELDS = { color: 0, colors: { primary_color: 0, secondary_color: null, tertiary_color: null }, hoist: false, icon: null, unicode_emoji: null, managed: false, mentionable: false, flags: 0 };
const EVERYONE_PERMISSIONS = "1071698660929";
const APP_PERMISSIONS = "2248473465835073";
const EPHEMERAL = 64;
const LOADING = 128;
const HAS_THREAD = 32;
/** GatewayIntentBits.DirectMessages: what a session needs to be sent DM messages. */
const DIRECT_MESSAGES = 1 << 12;
/** The callback types Discord accepts as the first answer, by interaction type. */
const FIRST_ANSWERS: Record<FakeInteraction["type"], number[]> = { 2: [4, 5, 9], 3: [4, 5, 6, 7, 9], 4: [8], 5: [4, 5, 6, 7] };

/** Starts the fake on 127.0.0.1 with a free port. */
export async function startFakeDiscord(opts: FakeDiscordOptions = {}) {
  const ttlMs = opts.interactionTtlMs ?? 3_000;
  const events = new EventEmitter();
  const changed = () => events.emit("change");
  let seq = 0;
  const snowflake = () => String(((BigInt(Date.now()) - DISCORD_EPOCH) << 22n) | BigInt(++seq % 4096));

  const applicationId = snowflake();
  const guildId = snowflake();
  const channelId = snowflake();
  // A bot token starts with the bot's user id in base64.
  const token = opts.token ?? `${Buffer.from(applicationId).toString("base64url")}.ZmFrZQ.fake-discord-bot-token`;
  const bot: FakeDiscordUser = { id: applicationId, username: "opencode", global_name: null, bot: true };
  const users = new Map<string, FakeDiscordUser>([[bot.id, bot], ...(opts.users ?? []).map((u) => [u.id, u] as const)]);
  const roles: FakeRole[] = [{ id: guildId, name: "@everyone", permissions: EVERYONE_PERMISSIONS, position: 0 }];
  (opts.roles ?? []).forEach((r, i) => roles.push({ id: r.id, name: r.name, permissions: r.permissions ?? "0", position: i + 1 }));
  const joinedAt = new Date().toISOString();
  const members = new Map<string, FakeMember>([[bot.id, { userId: bot.id, roles: [], nick: null, joinedAt }]]);
  const memberOptions: NonNullable<FakeDiscordOptions["members"]> = opts.members ?? (opts.users ?? []).map((u) => ({ user: u.id }));
  for (const m of memberOptions) members.set(m.user, { userId: m.user, roles: m.roles ?? [], nick: m.nick ?? null, joinedAt });
  const channels = new Map<string, FakeChannel>();
  const addChannel = (c: Omit<FakeChannel, "position" | "lastMessageId">) => channels.set(c.id, { position: channels.size, lastMessageId: null, ...c });
  addChannel({ id: channelId, type: 0, name: "opencode-sessions", parentId: null });
  for (const c of opts.channels ?? []) addChannel({ id: c.id, type: c.type ?? 0, name: c.name, parentId: c.parentId ?? null });
  const messages: FakeMessage[] = [];
  const threads: FakeChannel[] = [];
  const interactions = new Map<string, FakeInteraction>();
  const callbacks: FakeCallback[] = [];
  const modals: FakeModal[] = [];
  const commands: FakeCommand[] = [];
  const guildCommands: FakeCommand[] = [];
  /** Files users attached to command options: served like message attachments, on no message. */
  const looseFiles: FakeAttachment[] = [];
  const calls: FakeCall[] = [];
  const faults = new Map<string, { times: number; reply: () => { status: number; body: Json; headers: Record<string, string> } }>();
  const slow = new Map<string, { times: number; ms: number }>();

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(String(error)));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const gateway = attachGateway(server, {
    token,
    heartbeatIntervalMs: opts.heartbeatIntervalMs ?? 41_250,
    privilegedIntents: opts.privilegedIntents ?? ["MessageContent"],
    resumeUrl: `ws://127.0.0.1:${port}/resume`,
    readyPayloads: () => ({ ready: readyJson(), guilds: [guildJson()] }),
    onChange: changed,
  });

  // ── JSON as Discord shows it ─────────────────────────────────────────────────────────────────────
  const userJson = (id: string): Json => {
    const u = users.get(id) ?? { id, username: `user-${id}` };
    return { id: u.id, username: u.username, discriminator: u.bot ? "0001" : "0", global_name: u.global_name ?? null, avatar: null, avatar_decoration_data: null, public_flags: 0, ...(u.bot ? { bot: true } : {}) };
  };
  const memberJson = (userId: string, withUser = true): Json => {
    const m = members.get(userId);
    if (!m) throw unknown("Member", 10007);
    const base = { roles: m.roles, nick: m.nick, avatar: null, banner: null, joined_at: m.joinedAt, premium_since: null, deaf: false, mute: false, pending: false, flags: 0, communication_disabled_until: null };
    return withUser ? { user: userJson(userId), ...base } : base;
  };
  /** The member's permissions: the union of its roles' (and @everyone's), as a decimal string. */
  const permissionsOf = (userId: string) => {
    const held = new Set([guildId, ...(members.get(userId)?.roles ?? [])]);
    return String(roles.filter((r) => held.has(r.id)).reduce((all, r) => all | BigInt(r.permissions), 0n));
  };
  const channelJson = (c: FakeChannel): Json => {
    if (c.recipientId) return { id: c.id, type: 1, last_message_id: c.lastMessageId, flags: 0, recipients: [userJson(c.recipientId)] };
    const base = { id: c.id, type: c.type, guild_id: guildId, name: c.name, position: c.position, parent_id: c.parentId, last_message_id: c.lastMessageId };
    const fixed = { permission_overwrites: [], nsfw: false, topic: null, rate_limit_per_user: 0, flags: 0 };
    const t = c.thread;
    if (!t) return { ...base, ...fixed };
    const metadata = { archived: t.archived, locked: t.locked, auto_archive_duration: t.autoArchiveDuration, archive_timestamp: t.createdAt, create_timestamp: t.createdAt, ...(c.type === 12 ? { invitable: true } : {}) };
    return { ...base, ...fixed, owner_id: t.ownerId, message_count: t.messageCount, total_message_sent: t.messageCount, member_count: 1, thread_metadata: metadata };
  };
  const attachmentJson = (a: FakeAttachment): Json => ({ id: a.id, filename: a.filename, size: a.size, url: a.url, proxy_url: a.url, content_type: a.contentType, ...(a.description ? { description: a.description } : {}) });
  const messageJson = (m: FakeMessage, version?: MessageVersion): Json => {
    const shown = version ?? m;
    const interaction = m.interactionId ? interactions.get(m.interactionId) : undefined;
    const command = interaction?.command;
    return {
      id: m.id,
      // CHAT_INPUT_COMMAND: the answer to a slash command.
      type: command ? 20 : 0,
      channel_id: m.channelId,
      author: userJson(m.authorId),
      content: shown.content,
      timestamp: new Date(m.createdAt).toISOString(),
      edited_timestamp: m.editedAt ? new Date(m.editedAt).toISOString() : null,
      tts: false,
      mention_everyone: false,
      mentions: [...shown.content.matchAll(/<@!?(\d+)>/g)].map((x) => userJson(x[1] ?? "")),
      mention_roles: [],
      attachments: version ? m.attachments.filter((a) => version.attachments.includes(a.id)).map(attachmentJson) : m.attachments.map(attachmentJson),
      embeds: shown.embeds,
      pinned: false,
      flags: shown.flags,
      components: shown.components,
      ...(m.via === "callback" || m.via === "followup" ? { webhook_id: applicationId, application_id: applicationId } : {}),
      ...(interaction
        ? { interaction_metadata: { id: interaction.id, type: interaction.type, user: userJson(interaction.userId), authorizing_integration_owners: { "0": guildId }, ...(interaction.messageId ? { interacted_message_id: interaction.messageId } : {}) } }
        : {}),
      ...(interaction && command
        ? { interaction: { id: interaction.id, type: 2, name: [command.name, command.group, command.subcommand].filter(Boolean).join(" "), user: userJson(interaction.userId), member: memberJson(interaction.userId, false) } }
        : {}),
      ...(m.threadId && channels.has(m.threadId) ? { thread: channelJson(channels.get(m.threadId)!) } : {}),
    };
  };
  const isDm = (channel: string) => channels.get(channel)?.type === 1;
  /** The intent a session needs to be sent a message's create, update and delete. */
  const messageIntent = (m: FakeMessage) => (isDm(m.channelId) ? DIRECT_MESSAGES : Intents.GuildMessages);
  /** A message as the gateway sends it to a session: guild_id, the author's member, content only with MessageContent (or in a DM). */
  const messageEvent = (m: FakeMessage): DispatchData => (intents) => {
    const dm = isDm(m.channelId);
    const json: Json = { ...messageJson(m), ...(dm ? {} : { guild_id: guildId }), ...(!dm && members.has(m.authorId) ? { member: memberJson(m.authorId, false) } : {}) };
    const mentioned = (json.mentions as Json[]).some((u) => u.id === bot.id);
    if (intents & Intents.MessageContent || m.authorId === bot.id || mentioned || dm) return json;
    return { ...json, content: "", embeds: [], attachments: [], components: [] };
  };
  const readyJson = (): Json => ({
    v: 10, user: { ...userJson(bot.id), verified: true, mfa_enabled: false, flags: 0, email: null }, guilds: [{ id: guildId, unavailable: true }],
    application: { id: applicationId, flags: appFlags() }, session_type: "normal", shard: [0, 1], user_settings: {}, private_channels: [], presences: [],
    relationships: [], guild_join_requests: [], geo_ordered_rtc_regions: ["fake"], auth: {}, _trace: ["fake-discord"],
  });
  // GatewayPresenceLimited, GatewayGuildMembersLimited, GatewayMessageContentLimited: what the portal switches grant.
  const appFlags = () => {
    const on = opts.privilegedIntents ?? ["MessageContent"];
    return (on.includes("GuildPresences") ? 1 << 13 : 0) | (on.includes("GuildMembers") ? 1 << 15 : 0) | (on.includes("MessageContent") ? 1 << 19 : 0);
  };
  const guildJson = (): Json => ({
    ...GUILD_FIELDS,
    id: guildId,
    features: [],
    roles: roles.map((r) => ({ ...ROLE_FIELDS, id: r.id, name: r.name, position: r.position, permissions: r.permissions })),
    joined_at: joinedAt,
    member_count: members.size,
    // Without GuildMembers/GuildPresences, Discord lists only the bot's own member here.
    members: [memberJson(bot.id)],
    // Channels in GUILD_CREATE come without guild_id.
    channels: [...channels.values()].filter((c) => !c.thread && !c.recipientId).map((c) => ({ ...channelJson(c), guild_id: undefined })),
    threads: threads.filter((t) => !t.thread?.archived).map(channelJson),
  });

  // ── messages ─────────────────────────────────────────────────────────────────────────────────────
  const textChannel = (id: string | undefined) => {
    const c = id === undefined ? undefined : channels.get(id);
    if (!c) throw unknown("Channel", 10003);
    if (c.type !== 0 && c.type !== 1 && c.type !== 5 && c.type !== 11 && c.type !== 12) throw new ApiError(400, 50008, "Cannot send messages in a non-text channel");
    return c;
  };
  const findMessage = (channel: string | undefined, id: string | undefined) => {
    const m = messages.find((x) => x.id === id && x.channelId === channel && !x.deleted);
    if (!m) throw unknown("Message", 10008);
    return m;
  };
  const snapshot = (m: FakeMessage): MessageVersion => ({ content: m.content, components: m.components, embeds: m.embeds, attachments: m.attachments.map((a) => a.id), flags: m.flags, at: Date.now() });

  /** Content, components, embeds and attachments of a create (`m` undefined) or an edit, after Discord's checks. */
  function applyContent(body: Json, uploads: Map<string, Upload>, channel: string, m?: FakeMessage, allowEmpty = false) {
    problemsOf(body);
    const content = "content" in body ? (typeof body.content === "string" ? body.content : "") : (m?.content ?? "");
    const components = Array.isArray(body.components) ? numberComponents(body.components as Json[]) : body.components === null ? [] : (m?.components ?? []);
    const embeds = Array.isArray(body.embeds) ? (body.embeds as Json[]).map((e) => ({ type: "rich", ...e })) : body.embeds === null ? [] : (m?.embeds ?? []);
    const attachments = attachmentsOf(body.attachments, uploads, channel, m?.attachments);
    if (!content && !components.length && !embeds.length && !attachments.length && !allowEmpty) throw new ApiError(400, 50006, "Cannot send an empty message");
    return { content, components, embeds, attachments };
  }
  // v10: `attachments` lists every attachment the message keeps; new files are listed by their upload index.
  function attachmentsOf(listed: unknown, uploads: Map<string, Upload>, channel: string, existing: FakeAttachment[] = []): FakeAttachment[] {
    const fresh = (key: string, meta: Json = {}): FakeAttachment => {
      const up = uploads.get(key)!;
      const id = snowflake();
      const filename = typeof meta.filename === "string" ? meta.filename : up.filename;
      const description = typeof meta.description === "string" ? meta.description : undefined;
      return { id, filename, description, contentType: up.contentType, size: up.data.length, data: up.data, text: up.data.toString("utf8"), url: `${url}/attachments/${channel}/${id}/${encodeURIComponent(filename)}` };
    };
    if (!Array.isArray(listed)) return [...(listed === null ? [] : existing), ...[...uploads.keys()].map((k) => fresh(k))];
    const kept: FakeAttachment[] = [];
    const used = new Set<string>();
    listed.forEach((entry: unknown, i) => {
      const id = isObj(entry) ? String(entry.id) : "";
      const old = existing.find((a) => a.id === id);
      if (old) return void kept.push(old);
      if (!uploads.has(id)) throw formError(["attachments", String(i), "id"], "ATTACHMENT_NOT_FOUND", `Attachment with id ${id} was not found in the request.`);
      used.add(id);
      kept.push(fresh(id, entry as Json));
    });
    for (const key of uploads.keys()) if (!used.has(key)) kept.push(fresh(key));
    return kept;
  }

  function createMessage(channel: FakeChannel, authorId: string, body: Json, uploads: Map<string, Upload>, extra: Partial<FakeMessage> & { via: FakeMessage["via"] }): FakeMessage {
    const content = applyContent(body, uploads, channel.id, undefined, Boolean((extra.flags ?? 0) & LOADING));
    // Settable flags: suppress embeds (4), suppress notifications (4096), components v2 (32768); ephemeral only on interaction answers.
    const settable = 4 | 4096 | 32768 | (extra.via === "callback" || extra.via === "followup" ? EPHEMERAL : 0);
    const flags = (typeof body.flags === "number" ? body.flags : 0) & settable;
    const m: FakeMessage = { id: snowflake(), channelId: channel.id, authorId, ...content, createdAt: Date.now(), deleted: false, history: [], ...extra, flags: flags | (extra.flags ?? 0) };
    const reference = isObj(body.message_reference) ? body.message_reference : undefined;
    if (reference && typeof reference.message_id === "string") {
      const replied = messages.find((x) => x.id === reference.message_id && x.channelId === channel.id);
      if (!replied && reference.fail_if_not_exists !== false) throw formError(["message_reference"], "REPLIES_UNKNOWN_MESSAGE", "Unknown message");
      if (replied) m.replyTo = replied.id;
    }
    m.history.push(snapshot(m));
    messages.push(m);
    if (m.flags & EPHEMERAL) return m;
    channel.lastMessageId = m.id;
    if (channel.thread) channel.thread.messageCount += 1;
    gateway.dispatch("MESSAGE_CREATE", messageEvent(m), messageIntent(m));
    return m;
  }
  function editMessage(m: FakeMessage, body: Json, uploads: Map<string, Upload>): FakeMessage {
    Object.assign(m, applyContent(body, uploads, m.channelId, m));
    m.flags &= ~LOADING;
    m.editedAt = Date.now();
    m.history.push(snapshot(m));
    if (!(m.flags & EPHEMERAL)) gateway.dispatch("MESSAGE_UPDATE", messageEvent(m), messageIntent(m));
    return m;
  }
  function deleteMessage(m: FakeMessage): Reply {
    m.deleted = true;
    if (!(m.flags & EPHEMERAL)) gateway.dispatch("MESSAGE_DELETE", { id: m.id, channel_id: m.channelId, ...(isDm(m.channelId) ? {} : { guild_id: guildId }) }, messageIntent(m));
    return { status: 204 };
  }
  function startThread(parent: FakeChannel, body: Json, starter?: FakeMessage): Reply {
    if (parent.recipientId) throw new ApiError(400, 50003, "Cannot execute action on a DM channel");
    const name = typeof body.name === "string" ? body.name : "";
    if (name.length < 1 || name.length > 100) throw formError(["name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.");
    if (starter?.threadId) throw new ApiError(400, 160004, "A thread has already been created for this message");
    const type = starter ? 11 : Number(body.type ?? 12);
    const duration = typeof body.auto_archive_duration === "number" ? body.auto_archive_duration : 4320;
    // A thread started from a message takes the message's id.
    const id = starter?.id ?? snowflake();
    addChannel({ id, type, name, parentId: parent.id, thread: { ownerId: bot.id, starterMessageId: starter?.id, archived: false, locked: false, autoArchiveDuration: duration, createdAt: new Date().toISOString(), messageCount: 0 } });
    const thread = channels.get(id)!;
    threads.push(thread);
    if (starter) {
      starter.threadId = id;
      starter.flags |= HAS_THREAD;
    }
    gateway.dispatch("THREAD_CREATE", { ...channelJson(thread), newly_created: true, member: { id, user_id: bot.id, join_timestamp: thread.thread!.createdAt, flags: 1 } }, Intents.Guilds);
    return { status: 201, body: channelJson(thread) };
  }

  /** The bot's DM channel with `userId`, opened on first use as Discord's Create DM does. */
  const dmOf = (userId: string) => [...channels.values()].find((c) => c.recipientId === userId);
  function openDm(body: Json): Reply {
    if (typeof body.recipient_id !== "string") throw formError(["recipient_id"], "BASE_TYPE_REQUIRED", "This field is required");
    const recipient = body.recipient_id;
    if (!users.has(recipient)) throw new ApiError(400, 50033, "Invalid Recipient(s)");
    if (!dmOf(recipient)) addChannel({ id: snowflake(), type: 1, name: "", parentId: null, recipientId: recipient });
    return ok(channelJson(dmOf(recipient)!));
  }
  /** List Guild Members: needs GuildMembers switched on for the app; `limit` 1–1000 (default 1), ascending by user id after `after`. */
  function listMembers(c: Ctx): Reply {
    if (c.params.guild !== guildId) throw new ApiError(404, 10004, "Unknown Guild");
    if (!(opts.privilegedIntents ?? ["MessageContent"]).includes("GuildMembers")) throw new ApiError(403, 50001, "Missing Access");
    const limit = Number(c.query.get("limit") ?? 1);
    if (!Number.isInteger(limit) || limit < 1) throw formError(["limit"], "NUMBER_TYPE_MIN", "int value should be greater than or equal to 1.");
    if (limit > 1000) throw formError(["limit"], "NUMBER_TYPE_MAX", "int value should be less than or equal to 1000.");
    const raw = c.query.get("after") || "0";
    if (!/^\d+$/.test(raw)) throw formError(["after"], "NUMBER_TYPE_COERCE", `Value "${raw}" is not snowflake.`);
    const after = BigInt(raw);
    const ids = [...members.keys()].filter((id) => BigInt(id) > after).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
    return ok(ids.slice(0, limit).map((id) => memberJson(id)));
  }

  // ── interactions ─────────────────────────────────────────────────────────────────────────────────
  const interactionByToken = (app: string | undefined, tok: string | undefined) => {
    const found = [...interactions.values()].find((i) => i.token === tok);
    // An autocomplete answer (type 8) leaves no message to edit or follow up.
    if (!found || app !== applicationId || found.answeredWith === undefined || found.answeredWith === 8) throw unknown("Webhook", 10015);
    return found;
  };
  function callback(c: Ctx): Reply {
    const i = interactions.get(c.params.interaction ?? "");
    const withResponse = c.query.get("with_response") === "true";
    const record = (status: number, code?: number) => callbacks.push({ interactionId: c.params.interaction ?? "", type: c.body.type, data: c.body.data as Json | undefined, status, code, withResponse, at: Date.now() });
    try {
      if (!i || i.token !== c.params.token) throw new ApiError(404, 10062, "Unknown interaction");
      if (i.answeredWith !== undefined) throw new ApiError(400, 40060, "Interaction has already been acknowledged.");
      if (Date.now() - i.createdAt > ttlMs) throw new ApiError(404, 10062, "Unknown interaction");
      const data = isObj(c.body.data) ? c.body.data : {};
      const channel = textChannel(i.channelId);
      const clicked = messages.find((x) => x.id === i.messageId && !x.deleted);
      let message: FakeMessage | undefined;
      const type = c.body.type;
      if (typeof type !== "number" || !FIRST_ANSWERS[i.type].includes(type)) {
        throw formError(["type"], "INTERACTION_RESPONSE_TYPE_INVALID", `Value ${String(type)} is not a valid response type for an interaction of type ${i.type}.`);
      }
      if (type === 8) {
        i.choices = choicesOf(data);
      } else if (type === 4 || type === 5) {
        const flags = type === 5 ? LOADING | (Number(data.flags ?? 0) & EPHEMERAL) : 0;
        message = createMessage(channel, bot.id, type === 5 ? {} : data, c.uploads, { via: "callback", interactionId: i.id, flags, visibleTo: Number(data.flags ?? 0) & EPHEMERAL ? i.userId : undefined });
        i.originalId = message.id;
      } else if (type === 6 || type === 7) {
        if (!clicked) throw formError(["type"], "INTERACTION_RESPONSE_TYPE_INVALID", "This response type is only valid for interactions on a message.");
        if (type === 7) editMessage(clicked, data, c.uploads);
        message = clicked;
        i.originalId = clicked.id;
      } else if (type === 9) {
        modalProblems(data);
        modals.push({ interactionId: i.id, userId: i.userId, customId: String(data.custom_id), title: String(data.title), components: numberComponents((data.components as Json[]) ?? []), channelId: i.channelId, messageId: i.messageId, open: true, at: Date.now() });
      } else {
        throw formError(["type"], "INTERACTION_RESPONSE_TYPE_INVALID", `Value ${String(type)} is not a valid response type here.`);
      }
      i.answeredWith = type;
      record(withResponse ? 200 : 204);
      if (!withResponse) return { status: 204 };
      const resource = { type, ...(message ? { message: messageJson(message) } : {}) };
      const loading = type === 5;
      const ephemeral = Boolean(message && message.flags & EPHEMERAL);
      return { status: 200, body: { interaction: { id: i.id, type: i.type, response_message_id: message?.id, response_message_loading: loading, response_message_ephemeral: ephemeral }, resource } };
    } catch (error) {
      if (error instanceof ApiError) record(error.status, error.code);
      throw error;
    }
  }
  const webhookMessage = (c: Ctx) => {
    const i = interactionByToken(c.params.app, c.params.token);
    const id = c.params.message === "@original" ? i.originalId : c.params.message;
    const m = messages.find((x) => x.id === id && !x.deleted && (x.id === i.originalId || x.interactionId === i.id));
    if (!m) throw unknown("Message", 10008);
    return m;
  };

  // ── application commands ─────────────────────────────────────────────────────────────────────────
  /** The global list, or the guild's with `:guild`; only this app and this guild exist. */
  const commandList = (c: Ctx): FakeCommand[] => {
    if (c.params.app !== applicationId) throw unknown("Application", 10002);
    if (c.params.guild === undefined) return commands;
    if (c.params.guild !== guildId) throw unknown("Guild", 10004);
    return guildCommands;
  };
  const findCommand = (c: Ctx) => {
    const list = commandList(c);
    const found = list.find((x) => x.id === c.params.command);
    if (!found) throw new ApiError(404, 10063, "Unknown application command");
    return { list, found };
  };
  /** The stored form of `body` (already checked); replacing `old` keeps its id, and its version if nothing changed. */
  const storeCommand = (body: Json, old: FakeCommand | undefined, guild: boolean): FakeCommand => {
    const stored = commandFrom(body, { id: old?.id ?? snowflake(), application_id: applicationId, version: old?.version ?? "", ...(guild ? { guild_id: guildId } : {}) });
    const same = old && JSON.stringify({ ...old, version: "" }) === JSON.stringify({ ...stored, version: "" });
    return { ...stored, version: same ? old.version : snowflake() };
  };
  const sameCommand = (body: Json) => (x: FakeCommand) => (typeof body.id === "string" ? x.id === body.id : x.name === body.name && x.type === (body.type ?? 1));
  function overwriteCommands(c: Ctx): Reply {
    const list = commandList(c);
    const body: unknown = c.body;
    if (!Array.isArray(body)) throw formErrors([{ path: [], code: "LIST_TYPE_CONVERT", message: "Only iterables may be used in a ListType" }]);
    const problems = body.flatMap((cmd: unknown, i) => commandProblems(cmd, [String(i)]));
    const seen = new Set<string>();
    body.forEach((cmd: unknown, i) => {
      const key = isObj(cmd) ? `${String(cmd.type ?? 1)}:${String(cmd.name)}` : "";
      if (seen.has(key)) problems.push({ path: [String(i)], code: "APPLICATION_COMMANDS_DUPLICATE_NAME", message: "Application command names must be unique" });
      seen.add(key);
    });
    if (problems.length) throw formErrors(problems);
    const next = (body as Json[]).map((cmd) => storeCommand(cmd, list.find(sameCommand(cmd)), list === guildCommands));
    list.splice(0, list.length, ...next);
    return ok(next);
  }
  function createCommand(c: Ctx): Reply {
    const list = commandList(c);
    const problems = commandProblems(c.body, []);
    if (problems.length) throw formErrors(problems);
    const old = list.find((x) => x.name === c.body.name && x.type === (c.body.type ?? 1));
    const stored = storeCommand(c.body, old, list === guildCommands);
    if (old) list[list.indexOf(old)] = stored;
    else list.push(stored);
    // 201 for a new command, 200 when one of the same name was replaced.
    return { status: old ? 200 : 201, body: stored };
  }
  function editCommand(c: Ctx): Reply {
    const { list, found } = findCommand(c);
    const { id: _id, application_id: _app, version: _version, guild_id: _guild, ...fields } = found;
    const merged: Json = { ...fields, ...c.body };
    const problems = commandProblems(merged, []);
    if (problems.length) throw formErrors(problems);
    const stored = storeCommand(merged, found, list === guildCommands);
    list[list.indexOf(found)] = stored;
    return ok(stored);
  }

  // ── REST routes (under /api/v10) ─────────────────────────────────────────────────────────────────
  const routes: Route[] = [];
  const route = (method: string, pattern: string, auth: boolean, run: (c: Ctx) => Reply) => {
    const keys: string[] = [];
    const regex = new RegExp(`^${pattern.replace(/:(\w+)/g, (_m, key: string) => (keys.push(key), "([^/]+)"))}$`);
    routes.push({ method, pattern, auth, regex, keys, run });
  };
  const ok = (body: unknown): Reply => ({ status: 200, body });
  const gatewayUrl = `ws://127.0.0.1:${port}/gateway`;
  route("GET", "/gateway", false, () => ok({ url: gatewayUrl }));
  route("GET", "/gateway/bot", true, () => ok({ url: gatewayUrl, shards: 1, session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 } }));
  route("GET", "/users/@me", true, () => ok({ ...userJson(bot.id), verified: true, mfa_enabled: false, flags: 0, email: null, locale: "en-US" }));
  route("GET", "/users/:user", true, (c) => {
    if (!users.has(c.params.user ?? "")) throw unknown("User", 10013);
    return ok(userJson(c.params.user!));
  });
  route("GET", "/applications/@me", true, () => {
    const owner = { id: "1", username: "owner", discriminator: "0", global_name: null, avatar: null };
    return ok({ id: applicationId, name: bot.username, icon: null, description: "", bot_public: false, bot_require_code_grant: false, verify_key: "0".repeat(64), flags: appFlags(), team: null, owner, bot: userJson(bot.id) });
  });
  route("GET", "/channels/:channel", true, (c) => {
    const ch = channels.get(c.params.channel ?? "");
    if (!ch) throw unknown("Channel", 10003);
    return ok(channelJson(ch));
  });
  route("GET", "/channels/:channel/messages", true, (c) => {
    const ch = textChannel(c.params.channel);
    const limit = Math.min(100, Math.max(1, Number(c.query.get("limit") ?? 50)));
    const before = c.query.get("before");
    const after = c.query.get("after");
    let list = messages.filter((m) => m.channelId === ch.id && !m.deleted && !(m.flags & EPHEMERAL));
    if (before) list = list.filter((m) => BigInt(m.id) < BigInt(before));
    if (after) list = list.filter((m) => BigInt(m.id) > BigInt(after));
    // Newest first; with `after`, the page closest to `after`.
    list = after ? list.slice(0, limit).reverse() : list.reverse().slice(0, limit);
    return ok(list.map((m) => messageJson(m)));
  });
  route("POST", "/users/@me/channels", true, (c) => openDm(c.body));
  route("POST", "/channels/:channel/messages", true, (c) => {
    const ch = textChannel(c.params.channel);
    // Discord lets a bot DM only people it shares a guild with.
    if (ch.recipientId && !members.has(ch.recipientId)) throw new ApiError(403, 50007, "Cannot send messages to this user");
    return { status: 200, body: messageJson(createMessage(ch, bot.id, c.body, c.uploads, { via: "rest" })) };
  });
  route("GET", "/channels/:channel/messages/:message", true, (c) => ok(messageJson(findMessage(c.params.channel, c.params.message))));
  route("PATCH", "/channels/:channel/messages/:message", true, (c) => {
    const m = findMessage(c.params.channel, c.params.message);
    if (m.authorId !== bot.id) throw new ApiError(403, 50005, "Cannot edit a message authored by another user");
    return ok(messageJson(editMessage(m, c.body, c.uploads)));
  });
  route("DELETE", "/channels/:channel/messages/:message", true, (c) => deleteMessage(findMessage(c.params.channel, c.params.message)));
  route("POST", "/channels/:channel/messages/:message/threads", true, (c) => startThread(textChannel(c.params.channel), c.body, findMessage(c.params.channel, c.params.message)));
  route("POST", "/channels/:channel/threads", true, (c) => startThread(textChannel(c.params.channel), c.body));
  route("POST", "/channels/:channel/typing", true, (c) => (textChannel(c.params.channel), { status: 204 }));
  // As Discord answers it: the guild and its roles, without what only GUILD_CREATE carries (channels, members, threads…).
  route("GET", "/guilds/:guild", true, (c) => {
    if (c.params.guild !== guildId) throw unknown("Guild", 10004);
    const { members: _m, channels: _c, threads: _t, presences: _p, voice_states: _v, stage_instances: _s, guild_scheduled_events: _e, soundboard_sounds: _b, joined_at: _j, member_count: _n, large: _l, unavailable: _u, ...guild } = guildJson();
    return ok(c.query.get("with_counts") === "true" ? { ...guild, approximate_member_count: members.size, approximate_presence_count: 0 } : guild);
  });
  route("GET", "/guilds/:guild/members", true, listMembers);
  route("GET", "/guilds/:guild/members/:user", true, (c) => {
    if (c.params.guild !== guildId) throw new ApiError(404, 10004, "Unknown Guild");
    return ok(memberJson(c.params.user ?? ""));
  });
  for (const base of ["/applications/:app/commands", "/applications/:app/guilds/:guild/commands"]) {
    route("GET", base, true, (c) => ok(commandList(c)));
    route("PUT", base, true, overwriteCommands);
    route("POST", base, true, createCommand);
    route("GET", `${base}/:command`, true, (c) => ok(findCommand(c).found));
    route("PATCH", `${base}/:command`, true, editCommand);
    route("DELETE", `${base}/:command`, true, (c) => {
      const { list, found } = findCommand(c);
      list.splice(list.indexOf(found), 1);
      return { status: 204 };
    });
  }
  route("POST", "/interactions/:interaction/:token/callback", false, callback);
  route("POST", "/webhooks/:app/:token", false, (c) => {
    const i = interactionByToken(c.params.app, c.params.token);
    const ephemeral = Number(c.body.flags ?? 0) & EPHEMERAL;
    const m = createMessage(textChannel(i.channelId), bot.id, c.body, c.uploads, { via: "followup", interactionId: i.id, visibleTo: ephemeral ? i.userId : undefined });
    return c.query.get("wait") === "true" ? ok(messageJson(m)) : { status: 204 };
  });
  route("GET", "/webhooks/:app/:token/messages/:message", false, (c) => ok(messageJson(webhookMessage(c))));
  route("PATCH", "/webhooks/:app/:token/messages/:message", false, (c) => ok(messageJson(editMessage(webhookMessage(c), c.body, c.uploads))));
  route("DELETE", "/webhooks/:app/:token/messages/:message", false, (c) => deleteMessage(webhookMessage(c)));

  // ── HTTP ─────────────────────────────────────────────────────────────────────────────────────────
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = new URL(req.url ?? "/", url);
    const raw = await readBody(req);
    // CDN paths: /attachments/{channel}/{id}/{name} for messages, /ephemeral-attachments/{app}/{id}/{name} for command options.
    const file = /^\/(?:ephemeral-)?attachments\/[^/]+\/([^/]+)\//.exec(target.pathname);
    const attachment = file ? [...messages.flatMap((m) => m.attachments), ...looseFiles].find((a) => a.id === file[1]) : undefined;
    if (attachment) return void res.writeHead(200, { "content-type": attachment.contentType }).end(attachment.data);
    const path = target.pathname.replace(/^\/api\/v10/, "");
    const method = req.method ?? "GET";
    const found = target.pathname.startsWith("/api/v10/") ? routes.find((r) => r.method === method && r.regex.test(path)) : undefined;
    let parsed: { body: Json; uploads: Map<string, Upload> } = { body: {}, uploads: new Map() };
    const reply = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      const files = [...parsed.uploads.values()].map((u) => u.filename);
      calls.push({ method, path, route: found ? `${found.method} ${found.pattern}` : null, query: target.search, status, body: parsed.body, files, at: Date.now() });
      if (body === undefined) res.writeHead(status, headers).end();
      else res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
      changed();
    };
    try {
      parsed = await parseBody(req.headers["content-type"] ?? "", raw);
    } catch {
      return reply(400, { message: "400: Bad Request", code: 0 });
    }
    if (!found) return reply(404, { message: "404: Not Found", code: 0 });
    if (found.auth && req.headers.authorization !== `Bot ${token}`) return reply(401, { message: "401: Unauthorized", code: 0 });
    const key = `${found.method} ${found.pattern}`;
    const fault = faults.get(key);
    if (fault && fault.times > 0) {
      fault.times -= 1;
      const f = fault.reply();
      return reply(f.status, f.body, f.headers);
    }
    const values = found.regex.exec(path)?.slice(1) ?? [];
    const params = Object.fromEntries(found.keys.map((k, i) => [k, decodeURIComponent(values[i] ?? "")]));
    let out: Reply;
    try {
      out = found.run({ params, query: target.searchParams, ...parsed });
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      out = { status: error.status, body: { message: error.message, code: error.code, ...(error.errors ? { errors: error.errors } : {}) } };
    }
    const late = slow.get(key);
    if (late && late.times > 0) {
      // Done at once, answered late: the caller cannot know yet what Discord already shows.
      late.times -= 1;
      changed();
      setTimeout(() => reply(out.status, out.body), late.ms);
      return;
    }
    reply(out.status, out.body);
  }

  const waitFor = <T>(probe: () => T | undefined, what: string, timeoutMs = 5_000) => waitForState(events, "change", probe, what, timeLeft(timeoutMs));

  return {
    url,
    /** What `rest: { api }` and DISCORD_API_URL take: discord.js appends /v10/… itself. */
    apiUrl: `${url}/api`,
    token,
    applicationId,
    guildId,
    /** The text channel where session threads start. */
    channelId,
    bot,
    users,
    roles,
    members,
    channels,
    messages,
    threads,
    interactions,
    callbacks,
    modals,
    /** Global application commands, as last registered. */
    commands,
    /** The guild's application commands, as last registered. */
    guildCommands,
    calls,
    /** IDENTIFY payloads (token, intents, properties…), oldest first. */
    identifies: gateway.identifies,
    /** Gateway connections (path, query, session, close code), oldest first. */
    gatewayConnections: gateway.connections,
    /** Every dispatch sent, per session, with its sequence number. */
    dispatches: gateway.dispatches,
    /** What the gateway refused at the upgrade, in words. */
    gatewayProblems: gateway.problems,
    get connections() {
      return gateway.connections.length;
    },
    get heartbeats() {
      return gateway.heartbeats;
    },
    /** Gateway WebSocket connections open right now. */
    get gatewaySockets() {
      return gateway.openSockets;
    },
    /** The most gateway connections ever open at once. */
    get peakGatewaySockets() {
      return gateway.peakSockets;
    },
    events,
    json: {
      user: userJson,
      member: memberJson,
      channel: (id: string) => channelJson(textChannel(id)),
      /** Any channel, text or not (a category, say), as Discord shows it. */
      anyChannel: (id: string) => {
        const c = channels.get(id);
        if (!c) throw unknown("Channel", 10003);
        return channelJson(c);
      },
      role: (id: string): Json | undefined => {
        const r = roles.find((x) => x.id === id);
        return r && { ...ROLE_FIELDS, id: r.id, name: r.name, position: r.position, permissions: r.permissions };
      },
      message: messageJson,
      attachment: attachmentJson,
      permissionsOf,
      appPermissions: APP_PERMISSIONS,
    },
    message: (id: string) => messages.find((m) => m.id === id),
    /** The id of the bot's DM channel with `userId`, once the bot has opened it (POST /users/@me/channels). */
    dmOf: (userId: string) => dmOf(userId)?.id,
    snowflake,
    /** Registers an interaction Discord is about to send; the simulator builds and dispatches its payload. */
    registerInteraction(i: Omit<FakeInteraction, "id" | "token" | "createdAt">): FakeInteraction {
      const id = snowflake();
      const record: FakeInteraction = { ...i, id, token: `aW50ZXJhY3Rpb246${Buffer.from(`${id}:${randomBytes(24).toString("hex")}`).toString("base64url")}`, createdAt: Date.now() };
      interactions.set(id, record);
      return record;
    },
    /** Posts a message as `authorId` (a user typing in the client, with `files` attached) and dispatches MESSAGE_CREATE. */
    postAsUser(authorId: string, channel: string, content: string, files: UserFile[] = []): FakeMessage {
      const uploads = new Map(files.map((f, i) => [String(i), uploadOf(f)] as const));
      return createMessage(textChannel(channel), authorId, { content }, uploads, { via: "user" });
    },
    /** Stores a file a user attached to a command option; its `url` serves the bytes, as Discord's CDN does without a token. */
    storeUserFile(file: UserFile): FakeAttachment {
      const up = uploadOf(file);
      const id = snowflake();
      const stored: FakeAttachment = { id, filename: up.filename, contentType: up.contentType, size: up.data.length, data: up.data, text: up.data.toString("utf8"), url: `${url}/ephemeral-attachments/${applicationId}/${id}/${encodeURIComponent(up.filename)}` };
      looseFiles.push(stored);
      return stored;
    },
    /** Marks the modal a submit answers as closed. */
    closeModal(m: FakeModal) {
      m.open = false;
      changed();
    },
    /** Sends a gateway dispatch to every session (that has `intent`, if given). */
    dispatch: gateway.dispatch,
    /** Drops the gateway connections (close code, default 4000, or "destroy"); the sessions stay resumable. */
    dropGateway: gateway.drop,
    requestReconnect: gateway.requestReconnect,
    invalidateSessions: gateway.invalidateSessions,
    /** The next `times` calls of `route` ("POST /channels/:channel/messages") answer 429 with Retry-After `retryAfterSec`. */
    rateLimit(routeKey: string, times: number, retryAfterSec: number) {
      if (!routes.some((r) => `${r.method} ${r.pattern}` === routeKey)) throw new Error(`fake Discord: no route ${routeKey}`);
      const bucket = randomBytes(8).toString("hex");
      faults.set(routeKey, {
        times,
        reply: () => ({
          status: 429,
          body: { message: "You are being rate limited.", retry_after: retryAfterSec, global: false },
          headers: { "retry-after": String(retryAfterSec), "x-ratelimit-limit": "5", "x-ratelimit-remaining": "0", "x-ratelimit-reset-after": String(retryAfterSec), "x-ratelimit-bucket": bucket, "x-ratelimit-scope": "user" },
        }),
      });
    },
    /** The next `times` calls of `route` fail with `status` (a 5xx, say) and Discord's error JSON. */
    failRoute(routeKey: string, times: number, status = 500, body: Json = { message: "500: Internal Server Error", code: 0 }) {
      faults.set(routeKey, { times, reply: () => ({ status, body, headers: {} }) });
    },
    /** The next `times` calls of `route` take effect at once but are answered `ms` later. */
    answerLate(routeKey: string, times: number, ms: number) {
      slow.set(routeKey, { times, ms });
    },
    /** Makes every interaction received so far too old for a first answer, as if 3 s had passed. */
    expireInteractions() {
      for (const i of interactions.values()) i.createdAt = 0;
    },
    /** Resolves with `probe()`'s first non-undefined value, re-checked after every state change. */
    waitFor,
    waitForMessage(predicate: (m: FakeMessage) => boolean, timeoutMs?: number) {
      return waitFor(() => messages.find(predicate), "a matching message", timeoutMs);
    },
    waitForCall(routeKey: string, predicate: (c: FakeCall) => boolean = () => true, timeoutMs?: number) {
      return waitFor(() => calls.find((c) => c.route === routeKey && predicate(c)), `a ${routeKey} call`, timeoutMs);
    },
    waitForCallback(interactionId: string, timeoutMs?: number) {
      return waitFor(() => callbacks.find((c) => c.interactionId === interactionId && c.status < 300), `a callback for interaction ${interactionId}`, timeoutMs);
    },
    async close() {
      await gateway.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ── request parsing ────────────────────────────────────────────────────────────────────────────────
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** JSON, or multipart/form-data with `payload_json` and `files[n]` parts as @discordjs/rest sends files. */
async function parseBody(contentType: string, raw: Buffer): Promise<{ body: Json; uploads: Map<string, Upload> }> {
  const uploads = new Map<string, Upload>();
  if (!contentType.startsWith("multipart/form-data")) return { body: raw.length ? (JSON.parse(raw.toString("utf8")) as Json) : {}, uploads };
  const form = await new Response(new Uint8Array(raw), { headers: { "content-type": contentType } }).formData();
  let body: Json = {};
  for (const [key, value] of form.entries()) {
    const index = /^files\[(\d+)\]$/.exec(key)?.[1];
    if (key === "payload_json" && typeof value === "string") body = JSON.parse(value) as Json;
    else if (index !== undefined && typeof value !== "string") uploads.set(index, { filename: value.name, contentType: value.type || "application/octet-stream", data: Buffer.from(await value.arrayBuffer()) });
  }
  return { body, uploads };
}

// ── Discord's checks (its documented limits) ───────────────────────────────────────────────────────
const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** A 50035 "Invalid Form Body" with Discord's nested `errors` object for the field at `path`. */
function formError(path: string[], code: string, message: string): ApiError {
  const errors = path.reduceRight<Json>((inner, key) => ({ [key]: inner }), { _errors: [{ code, message }] });
  return new ApiError(400, 50035, "Invalid Form Body", errors);
}

/** Discord gives every component of a message or modal a numeric `id` when the app did not. */
function numberComponents(components: Json[]): Json[] {
  let next = 1;
  const taken = new Set<unknown>();
  const walk = (c: Json): Json => {
    const out: Json = { ...c };
    if (Array.isArray(c.components)) out.components = (c.components as Json[]).map(walk);
    if (isObj(c.component)) out.component = walk(c.component);
    if (typeof c.id !== "number") {
      while (taken.has(next)) next += 1;
      out.id = next;
    }
    taken.add(out.id);
    return out;
  };
  return components.map(walk);
}

function problemsOf(body: Json): void {
  if (typeof body.content === "string" && body.content.length > 2000) throw formError(["content"], "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.");
  const embeds = Array.isArray(body.embeds) ? (body.embeds as unknown[]) : [];
  if (embeds.length > 10) throw formError(["embeds"], "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.");
  embeds.forEach((e, i) => {
    if (isObj(e) && typeof e.description === "string" && e.description.length > 4096) throw formError(["embeds", String(i), "description"], "BASE_TYPE_MAX_LENGTH", "Must be 4096 or fewer in length.");
  });
  const rows = Array.isArray(body.components) ? (body.components as unknown[]) : [];
  if (rows.length > 5 && !(Number(body.flags ?? 0) & (1 << 15))) throw formError(["components"], "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.");
  const ids = new Set<string>();
  rows.forEach((row, r) => {
    const inner = isObj(row) && Array.isArray(row.components) ? (row.components as unknown[]) : [];
    if (inner.length > 5) throw formError(["components", String(r), "components"], "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.");
    inner.forEach((c, j) => {
      if (!isObj(c)) return;
      const at = ["components", String(r), "components", String(j)];
      if (typeof c.label === "string" && c.label.length > 80) throw formError([...at, "label"], "BASE_TYPE_MAX_LENGTH", "Must be 80 or fewer in length.");
      if (c.type === 2 && c.style !== 5 && c.style !== 6 && typeof c.custom_id !== "string") throw formError([...at, "custom_id"], "BASE_TYPE_REQUIRED", "This field is required");
      if (typeof c.custom_id !== "string") return;
      if (c.custom_id.length > 100) throw formError([...at, "custom_id"], "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.");
      if (ids.has(c.custom_id)) throw formError([...at, "custom_id"], "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated");
      ids.add(c.custom_id);
    });
  });
}

function modalProblems(data: Json): void {
  if (typeof data.title !== "string" || data.title.length < 1 || data.title.length > 45) throw formError(["data", "title"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 45 in length.");
  if (typeof data.custom_id !== "string" || data.custom_id.length > 100) throw formError(["data", "custom_id"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.");
  const top = Array.isArray(data.components) ? (data.components as unknown[]) : [];
  if (top.length < 1 || top.length > 5) throw formError(["data", "components"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.");
  top.forEach((c, i) => {
    const input = isObj(c) ? (isObj(c.component) ? c.component : Array.isArray(c.components) ? (c.components[0] as unknown) : undefined) : undefined;
    if (!isObj(input) || input.type !== 4) return;
    const max = typeof input.max_length === "number" ? input.max_length : 4000;
    if (max > 4000) throw formError(["data", "components", String(i), "max_length"], "NUMBER_TYPE_MAX", "int value should be less than or equal to 4000.");
    if (typeof input.value === "string" && input.value.length > max) throw formError(["data", "components", String(i), "value"], "BASE_TYPE_MAX_LENGTH", `Must be ${max} or fewer in length.`);
  });
}

// ── application commands (Discord's checks on registration) ───────────────────────────────────────
type Problem = { path: string[]; code: string; message: string };
// Discord's CHAT_INPUT naming rule (unicode flag); letters that have a lowercase form must use it.
const COMMAND_NAME = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;
const NOT_A_MODEL = "Only dictionaries may be used in a ModelType";
const REQUIRED = "This field is required";

/** A 50035 "Invalid Form Body" listing every problem at its path, as Discord reports them all at once. */
function formErrors(problems: Problem[]): ApiError {
  const errors: Json = {};
  for (const p of problems) {
    let node = errors;
    for (const key of p.path) {
      if (!isObj(node[key])) node[key] = {};
      node = node[key] as Json;
    }
    const list = Array.isArray(node._errors) ? (node._errors as Json[]) : [];
    node._errors = [...list, { code: p.code, message: p.message }];
  }
  return new ApiError(400, 50035, "Invalid Form Body", errors);
}

/** What Discord refuses in one command of a create, edit or bulk overwrite; `at` is its path in the body. */
function commandProblems(body: unknown, at: string[]): Problem[] {
  if (!isObj(body)) return [{ path: at, code: "MODEL_TYPE_CONVERT", message: NOT_A_MODEL }];
  const type = body.type ?? 1;
  if (type !== 1 && type !== 2 && type !== 3 && type !== 4) return [{ path: [...at, "type"], code: "BASE_TYPE_CHOICES", message: "Value must be one of (1, 2, 3, 4)." }];
  const problems = nameProblems(body.name, at, type === 1);
  // USER and MESSAGE commands have no description or options.
  if (type === 1) problems.push(...descriptionProblems(body.description, at), ...optionProblems(body.options, at, "command"));
  return problems;
}

function nameProblems(name: unknown, at: string[], chatInput: boolean): Problem[] {
  const path = [...at, "name"];
  if (typeof name !== "string") return [{ path, code: "BASE_TYPE_REQUIRED", message: REQUIRED }];
  const length = [...name].length;
  if (length < 1 || length > 32) return [{ path, code: "BASE_TYPE_BAD_LENGTH", message: "Must be between 1 and 32 in length." }];
  if (!chatInput) return [];
  const invalid = { path, code: "APPLICATION_COMMAND_INVALID_NAME", message: "Command name is invalid" };
  if (!COMMAND_NAME.test(name)) return [{ path, code: "STRING_TYPE_REGEX", message: "String value did not match validation regex." }, invalid];
  return name === name.toLowerCase() ? [] : [invalid];
}

function descriptionProblems(description: unknown, at: string[]): Problem[] {
  const path = [...at, "description"];
  if (typeof description !== "string") return [{ path, code: "BASE_TYPE_REQUIRED", message: REQUIRED }];
  const length = [...description].length;
  return length < 1 || length > 100 ? [{ path, code: "BASE_TYPE_BAD_LENGTH", message: "Must be between 1 and 100 in length." }] : [];
}

/**
 * The options of a command, a subcommand group or a subcommand. Only command → group → subcommand →
 * value options nests; a level holds either subcommands/groups or value options, never both. The codes
 * are Discord's; the wording for a group or subcommand nested too deep is ours.
 */
function optionProblems(options: unknown, at: string[], level: "command" | "group" | "subcommand"): Problem[] {
  if (options === undefined || options === null) return [];
  const path = [...at, "options"];
  if (!Array.isArray(options)) return [{ path, code: "LIST_TYPE_CONVERT", message: "Only iterables may be used in a ListType" }];
  const problems: Problem[] = [];
  if (options.length > 25) problems.push({ path, code: "BASE_TYPE_MAX_LENGTH", message: "Must be 25 or fewer in length." });
  const nests = (o: unknown) => isObj(o) && (o.type === 1 || o.type === 2);
  const firstNests = nests(options[0]);
  let optionalSeen = false;
  options.forEach((o: unknown, i) => {
    const here = [...path, String(i)];
    if (!isObj(o)) return void problems.push({ path: here, code: "MODEL_TYPE_CONVERT", message: NOT_A_MODEL });
    if (typeof o.type !== "number" || !Number.isInteger(o.type) || o.type < 1 || o.type > 11) {
      const missing = o.type === undefined;
      return void problems.push({ path: [...here, "type"], code: missing ? "BASE_TYPE_REQUIRED" : "BASE_TYPE_CHOICES", message: missing ? REQUIRED : "Value must be one of (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)." });
    }
    problems.push(...nameProblems(o.name, here, true), ...descriptionProblems(o.description, here));
    const invalid = (message: string) => problems.push({ path: here, code: "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", message });
    if (level === "subcommand" && nests(o)) invalid("A sub-command cannot contain sub-commands or sub-command groups");
    else if (level === "group" && o.type !== 1) invalid("A sub-command group can only contain sub-commands");
    else if (level === "command" && nests(o) !== firstNests) invalid("Sub-command and sub-command group option types are mutually exclusive to all other types");
    if (nests(o)) return void problems.push(...optionProblems(o.options, here, o.type === 2 ? "group" : "subcommand"));
    if (o.required === true && optionalSeen) problems.push({ path: here, code: "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID", message: "Required options must be placed before non-required options" });
    if (o.required !== true) optionalSeen = true;
    if (o.choices !== undefined) problems.push(...choiceProblems(o.choices, [...here, "choices"]));
  });
  return problems;
}

/** Choices of an option or of an autocomplete answer: at most 25, names 1-100, string values up to 100. */
function choiceProblems(choices: unknown, path: string[]): Problem[] {
  if (!Array.isArray(choices)) return [{ path, code: "LIST_TYPE_CONVERT", message: "Only iterables may be used in a ListType" }];
  const problems: Problem[] = [];
  if (choices.length > 25) problems.push({ path, code: "BASE_TYPE_MAX_LENGTH", message: "Must be 25 or fewer in length." });
  choices.forEach((c: unknown, i) => {
    const here = [...path, String(i)];
    if (!isObj(c)) return void problems.push({ path: here, code: "MODEL_TYPE_CONVERT", message: NOT_A_MODEL });
    const name = typeof c.name === "string" ? [...c.name].length : 0;
    if (name < 1 || name > 100) problems.push({ path: [...here, "name"], code: "BASE_TYPE_BAD_LENGTH", message: "Must be between 1 and 100 in length." });
    if (c.value === undefined) problems.push({ path: [...here, "value"], code: "BASE_TYPE_REQUIRED", message: REQUIRED });
    if (typeof c.value === "string" && [...c.value].length > 100) problems.push({ path: [...here, "value"], code: "BASE_TYPE_MAX_LENGTH", message: "Must be 100 or fewer in length." });
  });
  return problems;
}

/** The choices of an autocomplete answer (callback type 8), after Discord's checks. */
function choicesOf(data: Json): Json[] {
  if (data.choices === undefined) throw formError(["data", "choices"], "BASE_TYPE_REQUIRED", REQUIRED);
  const problems = choiceProblems(data.choices, ["data", "choices"]);
  if (problems.length) throw formErrors(problems);
  return data.choices as Json[];
}

const numbers = (v: unknown): number[] | null => (Array.isArray(v) ? v.filter((x): x is number => typeof x === "number") : null);

/** A checked command body as Discord stores and returns it. */
function commandFrom(body: Json, base: Pick<FakeCommand, "id" | "application_id" | "version" | "guild_id">): FakeCommand {
  const options = Array.isArray(body.options) ? (body.options as Json[]).map(optionFrom) : [];
  const permissions = body.default_member_permissions;
  return {
    id: base.id,
    application_id: base.application_id,
    version: base.version,
    type: typeof body.type === "number" ? body.type : 1,
    name: String(body.name),
    description: typeof body.description === "string" ? body.description : "",
    ...(options.length ? { options } : {}),
    default_member_permissions: typeof permissions === "string" || typeof permissions === "number" ? String(permissions) : null,
    nsfw: body.nsfw === true,
    contexts: numbers(body.contexts),
    integration_types: numbers(body.integration_types),
    ...(base.guild_id ? { guild_id: base.guild_id } : {}),
  };
}

function optionFrom(o: Json): FakeCommandOption {
  const out: FakeCommandOption = { type: Number(o.type), name: String(o.name), description: String(o.description) };
  if (o.required === true) out.required = true;
  if (Array.isArray(o.choices)) out.choices = (o.choices as Json[]).map((c) => ({ name: String(c.name), value: typeof c.value === "number" ? c.value : String(c.value) }));
  if (Array.isArray(o.options)) out.options = (o.options as Json[]).map(optionFrom);
  if (typeof o.autocomplete === "boolean") out.autocomplete = o.autocomplete;
  const channelTypes = numbers(o.channel_types);
  if (channelTypes) out.channel_types = channelTypes;
  for (const key of ["min_value", "max_value", "min_length", "max_length"] as const) {
    const v = o[key];
    if (typeof v === "number") out[key] = v;
  }
  return out;
}

// ── user files ─────────────────────────────────────────────────────────────────────────────────────
const CONTENT_TYPES: Record<string, string> = { txt: "text/plain; charset=utf-8", json: "application/json; charset=utf-8", png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg" };

function uploadOf(f: UserFile): Upload {
  const extension = f.filename.split(".").pop()?.toLowerCase() ?? "";
  return { filename: f.filename, contentType: f.contentType ?? CONTENT_TYPES[extension] ?? "application/octet-stream", data: typeof f.data === "string" ? Buffer.from(f.data) : f.data };
}
