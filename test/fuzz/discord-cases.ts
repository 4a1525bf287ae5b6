/**
 * INTERACTION_CREATE payloads for the bot's gateway session, in Discord's documented shape (type,
 * data, member or user, channel, message…) with the contents fuzzed: unknown and oversized
 * custom_ids, tampered request ids, non-approvers and strangers, members with odd roles, DM-shaped
 * interactions, modal submissions of garbage, `/opencode` with odd options. Discord's gateway is
 * authenticated, so a forgery here is someone who may not decide, or a request id that names nothing:
 * the approver only ever sends the latter.
 */
import fc from "fast-check";
import type { Json } from "../support/fake-discord.ts";
import { anyString, bigString, oddString, tampered } from "./garbage.ts";
import type { DiscordPerson, FuzzTargets } from "./fuzz-targets.ts";

export type DiscordCase = {
  target: "discord";
  kind: string;
  forged: boolean;
  /** 2 command, 3 component, 4 autocomplete, 5 modal submit. */
  type: 2 | 3 | 4 | 5;
  userId: string;
  channelId: string;
  messageId?: string;
  customId: string;
  /** Without id and token, which the fake issues at dispatch. */
  payload: Json;
  /** One of the bot's own custom_id shapes or its command: it must answer (a callback) within Discord's 3 s. */
  ours: boolean;
};

const ACTIONS = ["once", "always", "reject", "edit", "answer", "dismiss", "view"];
const FORMS = ["reject", "edit", "answer"];
// The bot's own custom_ids (adapters/discord/render.ts and render-progress.ts), as the bot parses them: `.` stops at a line break.
const OURS = [/^approval:(once|always|reject|edit|answer|dismiss|view):.+$/, /^question:option:\d+:.+$/, /^session:stop:/];
const OUR_FORMS = /^form:(reject|edit|answer):.+$/;

export function discordCases(t: FuzzTargets): fc.Arbitrary<DiscordCase> {
  const d = t.discord;
  const realIds = t.requestIds;
  const card = fc.nat(d.cards.length - 1).map((i) => d.cards[i]!);
  const stranger = fc.tuple(fc.bigInt({ min: 10n ** 17n, max: 10n ** 19n }), fc.array(fc.oneof(fc.bigInt({ min: 1n, max: 10n ** 19n }).map(String), oddString(20)), { maxLength: 4 }), oddString(32)).map(
    ([id, roles, name]): DiscordPerson => person(String(id), name || "x", roles),
  );
  const other = fc.oneof(fc.constantFrom(...d.others), stranger);
  // Who acts, and which request ids they may name: the approver names only ids that are no request.
  const actorAndId = fc.oneof(
    fc.tuple(fc.constant(d.approver), fc.oneof(tampered(realIds), anyString())),
    fc.tuple(other, fc.oneof(fc.constantFrom(...realIds), tampered(realIds), anyString())),
  );
  const customId = (id: string) =>
    fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...ACTIONS).map((a) => `approval:${a}:${id}`) },
      fc.nat(20).map((n) => `question:option:${n}:${id}`),
      fc.constantFrom("approval:", "approval:once:", "approval:nope:x", "question:option:x:y", "session:stop:", `session:stop:${id}`),
      oddString(100),
      bigString(101, 20_000),
    );
  // A component's interaction always carries the message it is on (a card, or some other message of the
  // bot's); a modal's may not. discord.js cannot build a component interaction without one.
  const onMessage = fc.oneof(
    { weight: 4, arbitrary: card.map((c) => ({ channelId: c.channelId, message: c.message, messageId: c.messageId as string | undefined })) },
    fc.tuple(card, fc.bigInt({ min: 10n ** 17n, max: 10n ** 19n })).map(([c, id]) => ({ channelId: c.channelId, message: { ...c.message, id: String(id), embeds: [], components: [] }, messageId: undefined })),
  );
  const where = fc.oneof({ weight: 4, arbitrary: onMessage }, fc.constant({ channelId: d.channelId, message: undefined, messageId: undefined }));
  const dmShaped = fc.boolean();

  const envelope = (type: DiscordCase["type"], who: DiscordPerson, place: { channelId: string; message?: Json | undefined }, data: Json, dm: boolean): Json => {
    const channel = d.channels[place.channelId] ?? { id: place.channelId, type: 0, guild_id: d.guildId, name: "x" };
    return {
      type,
      application_id: d.applicationId,
      ...(dm ? { user: who.user } : { guild_id: d.guildId, guild: { id: d.guildId, locale: "en-US", features: [] }, member: { ...who.member, permissions: who.permissions } }),
      channel: { ...channel, permissions: who.permissions },
      channel_id: place.channelId,
      data,
      ...(place.message ? { message: place.message } : {}),
      app_permissions: "2248473465835073",
      locale: "en-US",
      ...(dm ? {} : { guild_locale: "en-US" }),
      entitlements: [],
      authorizing_integration_owners: { "0": d.guildId },
      context: dm ? 1 : 0,
      attachment_size_limit: 10_485_760,
      version: 1,
    };
  };

  const component = fc.tuple(actorAndId, onMessage, dmShaped, fc.constantFrom(2, 2, 2, 3)).chain(([[who, id], place, dm, componentType]) =>
    fc.record({ custom: customId(id), values: fc.array(oddString(100), { maxLength: 3 }) }).map(({ custom, values }): DiscordCase => {
      const data: Json = { custom_id: custom, component_type: componentType, ...(componentType === 3 ? { values } : {}) };
      return {
        target: "discord",
        kind: componentType === 2 ? "button" : "select",
        forged: true,
        type: 3,
        userId: who.id,
        channelId: place.channelId,
        messageId: place.messageId,
        customId: custom,
        payload: envelope(3, who, place, data, dm),
        ours: componentType === 2 && OURS.some((re) => re.test(custom)),
      };
    }),
  );

  const field = fc.record({ id: fc.constantFrom("reason", "command", "description", "filePath", "content", "json", "answer", "value", "x"), value: anyString(), shape: fc.constantFrom("label", "row", "select") }).map(({ id, value, shape }): Json => {
    const input = shape === "select" ? { type: 3, id: 2, custom_id: id, values: [value] } : { type: 4, id: 2, custom_id: id, value };
    return shape === "label" || shape === "select" ? { type: 18, id: 1, component: input } : { type: 1, id: 1, components: [input] };
  });
  const modal = fc.tuple(actorAndId, where, dmShaped).chain(([[who, id], place, dm]) =>
    fc.record({ custom: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...FORMS).map((f) => `form:${f}:${id}`) }, oddString(100), bigString(101, 20_000)), fields: fc.array(field, { maxLength: 4 }) }).map(({ custom, fields }): DiscordCase => ({
      target: "discord",
      kind: "modal-submit",
      forged: true,
      type: 5,
      userId: who.id,
      channelId: place.channelId,
      messageId: place.messageId,
      customId: custom,
      payload: envelope(5, who, place, { custom_id: custom, components: fields }, dm),
      ours: OUR_FORMS.test(custom),
    })),
  );

  const option = fc.record({ type: fc.constantFrom(3, 4, 5), name: fc.oneof(fc.constantFrom("prompt", "project", "name", "path", "url", "period", "command", "tool", "revoke"), oddString(32)), value: anyString() }).map((o): Json => ({ ...o, value: o.type === 3 ? o.value : o.type === 4 ? o.value.length : o.value.length % 2 === 0 }));
  const subcommand = fc.oneof(
    fc.record({ type: fc.constant(1), name: fc.oneof(fc.constantFrom("run", "sessions", "status", "stop", "costs", "digest", "help"), oddString(32)), options: fc.array(option, { maxLength: 3 }) }),
    fc.record({ type: fc.constant(2), name: fc.constantFrom("project", "policy", "nonsense"), options: fc.array(fc.record({ type: fc.constant(1), name: fc.constantFrom("add", "list", "remove", "default", "show", "why", "reload", "always", "nonsense"), options: fc.array(option, { maxLength: 3 }) }), { maxLength: 1 }) }),
  );
  const command = fc.tuple(other, dmShaped, fc.constantFrom<2 | 4>(2, 2, 4), fc.oneof({ weight: 5, arbitrary: fc.constant("opencode") }, oddString(32))).chain(([who, dm, type, name]) =>
    fc.array(subcommand, { maxLength: 1 }).map((options): DiscordCase => {
      // An autocomplete always has one option focused, holding the partial text typed.
      const typing = { type: 3, name: "project", value: "", focused: true };
      const withTyping = (sub: Json): Json => ({ ...sub, options: [typing, ...((sub.options as Json[]) ?? []).filter((x) => x.name !== "project")] });
      const leaf = (o: Json): Json => (o.type === 2 ? { ...o, options: ((o.options as Json[]).length ? (o.options as Json[]) : [{ type: 1, name: "remove", options: [] }]).map(withTyping) } : withTyping(o));
      const focused = type === 4 ? (options.length ? options : [{ type: 1, name: "sessions", options: [] }]).map(leaf) : options;
      const data: Json = { id: d.commands[name] ?? "999999999999999999", name, type: 1, guild_id: d.guildId, options: focused };
      return { target: "discord", kind: type === 2 ? "command" : "autocomplete", forged: true, type, userId: who.id, channelId: d.channelId, customId: "", payload: envelope(type, who, { channelId: d.channelId }, data, dm), ours: type === 2 && name === "opencode" };
    }),
  );

  return fc.oneof({ weight: 6, arbitrary: component }, { weight: 3, arbitrary: modal }, { weight: 3, arbitrary: command });
}

/** A member the fake Discord does not know of: their own id, name and roles, and no permissions. */
export function person(id: string, username: string, roles: string[]): DiscordPerson {
  const user = { id, username, discriminator: "0", global_name: null, avatar: null, avatar_decoration_data: null, public_flags: 0 };
  const member = { user, roles, nick: null, avatar: null, banner: null, joined_at: "2024-01-01T00:00:00.000000+00:00", premium_since: null, deaf: false, mute: false, pending: false, flags: 0, communication_disabled_until: null };
  return { id, user, member, permissions: "0" };
}
