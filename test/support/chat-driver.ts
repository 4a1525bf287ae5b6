/**
 * One way for a test to act as people in either chat platform, so an end-to-end case is written once
 * and run on Slack and on Discord (`describe.each(PLATFORMS)`). Each driver works through its fake
 * and its user simulator, the wire the bot really speaks; it only hides which buttons and dialogs
 * that platform uses.
 */
import { discordCard, discordCardSays } from "./discord-cards.ts";
import type { FakeMessage as DiscordMessage } from "./fake-discord.ts";
import type { FakeMessage as SlackMessage } from "./fake-slack.ts";
import { alice, bob, CHANNEL, cardBlocks, cardText, discordPeople, mallory, type Platform, type Stack, type StackOptions } from "./stack.ts";
import { waitFor } from "./wait-for.ts";

export const PLATFORMS: Platform[] = ["slack", "discord"];

/** alice and bob, approvers with `onePlatform`'s options, and mallory, who is not, as each platform knows them. */
export function peopleOf(platform: Platform): { alice: Person; bob: Person; mallory: Person } {
  if (platform === "slack") return { alice: { id: alice.id, name: alice.name }, bob: { id: bob.id, name: bob.name }, mallory: { id: mallory.id, name: mallory.name } };
  const person = (p: { id: string; username: string }): Person => ({ id: p.id, name: p.username });
  return { alice: person(discordPeople.alice), bob: person(discordPeople.bob), mallory: person(discordPeople.mallory) };
}

/**
 * A stack on `platform` alone whose approvers are the driver's alice and bob (on Discord alice by
 * her role, bob by id) and not mallory.
 */
export function onePlatform(platform: Platform, options: StackOptions = {}): StackOptions {
  return platform === "slack"
    ? { ...options, approvers: `${alice.id},${bob.id}` }
    : { ...options, platforms: ["discord"], discordApprovers: `role:${discordPeople.leads.id},${discordPeople.bob.id}` };
}

export type Person = { id: string; name: string };
export type Label = "Approve once" | "Always" | "Reject" | "Edit";
/** What a person sees: the card's words (markup unescaped) and its buttons' labels. */
export type CardView = { text: string; buttons: string[] };

export type ChatDriver = {
  platform: Platform;
  /** Two approvers (with `onePlatform`'s options) and someone who is not one. */
  people: { alice: Person; bob: Person; mallory: Person };
  /** How a decided card names a decider from this platform. */
  mention(person: Person): string;
  /** The card for a request once posted, the words of the thread's parent (its starter) and the channel that is in. */
  card(requestId: string): Promise<CardView & { thread: string; threadChannel: string }>;
  /** The card once its words match. */
  cardSays(requestId: string, pattern: RegExp): Promise<CardView>;
  click(person: Person, requestId: string, label: Label): Promise<void>;
  /** Clicks Reject or Edit, waits for the dialog (returning what it shows), and submits `values` by field. */
  fillForm(person: Person, requestId: string, label: "Reject" | "Edit", values: Record<string, string>): Promise<string>;
  /** The words of the newest note only `person` sees, once there is one matching `pattern`. */
  noticeTo(person: Person, pattern: RegExp): Promise<string>;
  /** The notes for `person` that match `pattern`, as of now: only they see them (Discord: or they answer their message). */
  notices(person: Person, pattern: RegExp): string[];
  /**
   * Types `/opencode <path>` with `options` in a channel (default: the bot's channel) and resolves to
   * the answer only `person` sees. On Slack the options become words in order (those of `run` other
   * than the prompt as `--flag value`); on Discord `path`'s words are the subcommand group and
   * subcommand, and the options are the command's.
   */
  command(person: Person, path: string, options?: Record<string, string | number>, where?: { channel?: string }): Promise<string>;
  /** What the bot posted in a session's thread, once the thread is there. */
  thread(sessionId: string): Promise<SessionThread>;
  /**
   * Posts a message as `person`: in the session's thread with `sessionId`, else in `channel` (default:
   * the bot's channel); `@bot` in `text` becomes the platform's mention of the bot. Resolves once the
   * bot has been handed it (Slack: every event acknowledged), with the events' ids on Slack.
   */
  say(person: Person, text: string, where?: { sessionId?: string; channel?: string; files?: Array<{ name: string; content: string }> }): Promise<{ eventIds: string[] }>;
  /** Clicks Stop on the session's newest status message. */
  clickStop(person: Person, sessionId: string): Promise<void>;
  /** The channel the bot posts to, where commands are typed by default; and another one, for work started from chat. */
  channel: string;
  workChannel: string;
};

/** The words of `/opencode <path> <options>` as typed in Slack. */
export function slackCommandText(path: string, options: Record<string, string | number>): string {
  if (path !== "run") return [path, ...Object.values(options)].join(" ");
  const { prompt = "", ...flags } = options;
  return ["run", ...Object.entries(flags).map(([flag, value]) => `--${flag} ${value}`), prompt].join(" ");
}

/** The sessions titled after `prompt`'s first line (as a session started from chat is), newest first; only those created since `since`. */
export async function sessionsStartedWith(stack: Stack, prompt: string, since = 0) {
  const title = prompt.trim().split("\n")[0]!;
  const all = (await stack.opencode.client.session.list()).data ?? [];
  return all
    .filter((s) => (s.title.endsWith("…") ? title.startsWith(s.title.slice(0, -1)) : s.title === title) && s.time.created >= since)
    .sort((a, b) => b.time.created - a.time.created);
}

/** The id of the OpenCode session started from chat with `prompt` since `since`, once it exists (a project may hold older ones of other tests). */
export async function sessionStartedWith(stack: Stack, prompt: string, since: number): Promise<string> {
  const session = await waitFor(async () => (await sessionsStartedWith(stack, prompt, since))[0], { what: `the session started with "${prompt.slice(0, 40)}"` });
  return session.id;
}

/** Adds the stack's project as `web` and starts `prompt` in it as alice; resolves to the new session's id. */
export async function startAsAlice(stack: Stack, platform: Platform, prompt: string): Promise<string> {
  const chat = chatDriver(stack, platform);
  const { alice } = chat.people;
  const since = Date.now();
  await chat.command(alice, "project add", { name: "web", path: stack.opencode.projectDir });
  const answer = await chat.command(alice, "run", { prompt });
  if (!answer.startsWith("Started")) throw new Error(`/opencode run was answered: ${answer}`);
  return sessionStartedWith(stack, prompt, since);
}

/** A session's thread as read now: its status messages (each with how often and when it changed), answers and files. */
export type SessionThread = {
  status(): Array<CardView & { edits: number; at: number[] }>;
  answers(): string[];
  files(): Array<{ name: string; text: string }>;
};

/** The words a status message starts with, by state. */
const STATUS = /^(?:\S+ )?\**(Working|Waiting for approval|Waiting for an answer|Done|Failed|Stopped)\b/;

const unescapeSlack = (text: string) => text.replace(/&gt;/g, ">").replace(/&lt;/g, "<").replace(/&amp;/g, "&");
const unescapeMarkdown = (text: string) => text.replace(/\\([*_`~|>\\])/g, "$1");

/** A driver for one platform of `stack` (which must have it among its platforms). */
export function chatDriver(stack: Stack, platform: Platform): ChatDriver {
  return platform === "slack" ? slackDriver(stack) : discordDriver(stack);
}

function slackDriver(stack: Stack): ChatDriver {
  const view = (m: SlackMessage, requestId?: string): CardView => ({
    text: unescapeSlack(cardText(m, requestId)),
    buttons: labelsOf((requestId && cardBlocks(m, requestId)) || m.blocks),
  });
  const formIds = { Reject: "approval_reject", Edit: "approval_edit" } as const;
  return {
    platform: "slack",
    people: peopleOf("slack"),
    mention: (person) => `<@${person.id}>`,
    async card(requestId) {
      const card = await stack.card(requestId);
      // A new session's parent carries its first cards: the card is then its thread's parent.
      const parent = stack.slack.messages.find((m) => m.ts === (card.thread_ts ?? card.ts));
      return { ...view(card, requestId), thread: parent ? unescapeSlack(cardText(parent)) : "", threadChannel: parent?.channel ?? "" };
    },
    async cardSays(requestId, pattern) {
      await stack.card(requestId);
      const card = await waitFor(
        async () => {
          const m = await stack.card(requestId);
          const current = stack.slack.message(m.channel, m.ts)!;
          return pattern.test(view(current, requestId).text) ? current : undefined;
        },
        { what: `the Slack card for ${requestId} to say ${pattern}`, timeout: 15_000 },
      );
      return view(card, requestId);
    },
    async click(person, requestId, label) {
      const card = await stack.card(requestId);
      const response = await stack.click(person, stack.slack.message(card.channel, card.ts)!, label, requestId);
      if (response.status !== 200) throw new Error(`the click on ${label} got HTTP ${response.status}`);
    },
    async fillForm(person, requestId, label, values) {
      const before = new Set(stack.slack.views.map((v) => v.id));
      await this.click(person, requestId, label);
      const modal = await waitFor(() => stack.slack.views.find((v) => !before.has(v.id) && v.user === person.id && v.view.callback_id === formIds[label] && v.open), {
        what: `a ${formIds[label]} dialog for ${person.id}`,
      });
      const shown = JSON.stringify(modal.view);
      const fields = Object.fromEntries(Object.entries(values).map(([field, value]) => [field, { value }]));
      const response = await stack.user.submitView({ user: person, viewId: modal.id, values: fields });
      if (response.status !== 200) throw new Error(`submitting ${formIds[label]} got HTTP ${response.status}`);
      return shown;
    },
    async noticeTo(person, pattern) {
      const note = await waitFor(() => this.notices(person, pattern).at(-1), { what: `a note to ${person.id} matching ${pattern}` });
      return note;
    },
    notices: (person, pattern) => stack.slack.ephemerals.filter((e) => e.user === person.id && pattern.test(e.text)).map((e) => e.text),
    channel: CHANNEL,
    workChannel: "C0WORK",
    async thread(sessionId) {
      const parent = await waitFor(() => stack.slack.messages.find((m) => !m.thread_ts && cardText(m).includes(sessionId)), { what: `the Slack thread of ${sessionId}` });
      const inThread = () => stack.slack.messages.filter((m) => m.thread_ts === parent.ts && m.ts !== parent.ts && m.user === stack.slack.bot.userId);
      const isStatus = (m: SlackMessage) => STATUS.test(m.history[0]?.text ?? "");
      return {
        status: () => inThread().filter(isStatus).map((m) => ({ ...view(m), edits: m.history.length - 1, at: m.history.map((v) => v.at) })),
        answers: () => inThread().filter((m) => !isStatus(m) && m.blocks.length === 0 && !m.files?.length).map((m) => unescapeSlack(m.text)),
        files: () => inThread().flatMap((m) => (m.files ?? []).map((f) => ({ name: f.name, text: f.content.toString("utf8") }))),
      };
    },
    async say(person, text, where = {}) {
      const parent = where.sessionId ? await waitFor(() => stack.slack.messages.find((m) => !m.thread_ts && cardText(m).includes(where.sessionId!)), { what: `the thread of ${where.sessionId}` }) : undefined;
      const posted = await stack.user.postMessage({
        user: person,
        channel: parent?.channel ?? where.channel ?? CHANNEL,
        text: text.replaceAll("@bot", `<@${stack.slack.bot.userId}>`),
        ...(parent ? { thread_ts: parent.ts } : {}),
        ...(where.files ? { files: where.files } : {}),
      });
      const failed = posted.responses.find((r) => r.status !== 200);
      if (failed) throw new Error(`the bot answered an event with HTTP ${failed.status}`);
      return { eventIds: posted.eventIds };
    },
    async clickStop(person, sessionId) {
      const status = await waitFor(() => [...stack.slack.messages].reverse().find((m) => JSON.stringify(m.blocks).includes(`"value":"${sessionId}"`)), { what: `a Stop button for ${sessionId}` });
      const response = await stack.user.clickButton({ user: person, channel: status.channel, messageTs: status.ts, actionId: "session:stop" });
      if (response.status !== 200) throw new Error(`Stop got HTTP ${response.status}`);
    },
    async command(person, path, options = {}, where = {}) {
      const channel = where.channel ?? CHANNEL;
      const before = stack.slack.ephemerals.length;
      const response = await stack.user.slashCommand({ user: person, channel, text: slackCommandText(path, options) });
      if (response.status !== 200) throw new Error(`/opencode ${path} got HTTP ${response.status}`);
      const reply = await waitFor(() => stack.slack.ephemerals.slice(before).find((e) => e.user === person.id && e.channel === channel), {
        what: `the answer to /opencode ${path} for ${person.id}`,
      });
      return unescapeSlack(reply.text);
    },
  };
}

function discordDriver(stack: Stack): ChatDriver {
  const discord = stack.discord;
  const user = stack.discordUser;
  if (!discord || !user) throw new Error("this stack runs without Discord");
  const actions = { "Approve once": "once", Always: "always", Reject: "reject", Edit: "edit" } as const;
  const view = (m: DiscordMessage): CardView => ({
    text: unescapeMarkdown(embedText(m)),
    buttons: m.components.flatMap((row) => (Array.isArray(row.components) ? (row.components as Array<{ label?: string }>) : []).flatMap((b) => (b.label ? [b.label] : []))),
  });
  return {
    platform: "discord",
    people: peopleOf("discord"),
    mention: (p) => `<@${p.id}>`,
    async card(requestId) {
      const card = await discordCard(discord, requestId);
      // A new session's starter carries its first card: the card is then the starter, once its thread is started.
      const starter =
        card.channelId === discord.channelId
          ? await waitFor(() => card.threadId !== undefined && card, { what: `the thread started from the card of ${requestId}` })
          : discord.messages.find((m) => m.id === card.channelId);
      return { ...view(card), thread: starter?.content ?? "", threadChannel: starter?.channelId ?? "" };
    },
    async cardSays(requestId, pattern) {
      const card = await discordCard(discord, requestId);
      await waitFor(() => pattern.test(view(card).text), { what: `the Discord card for ${requestId} to say ${pattern}`, timeout: 15_000 });
      return view(card);
    },
    async click(p, requestId, label) {
      const card = await discordCard(discord, requestId);
      const click = await user.clickButton({ user: p.id, message: card, customId: `approval:${actions[label]}:${requestId}` });
      await click.callback();
    },
    async fillForm(p, requestId, label, values) {
      const card = await discordCard(discord, requestId);
      const click = await user.clickButton({ user: p.id, message: card, customId: `approval:${actions[label]}:${requestId}` });
      const answer = await click.callback();
      if (answer.type !== 9) throw new Error(`${label} was answered with type ${String(answer.type)}, not a modal: ${JSON.stringify(answer.data)}`);
      const modal = discord.modals.find((m) => m.interactionId === click.interactionId)!;
      await user.submitModal({ user: p.id, customId: modal.customId, values });
      return JSON.stringify(modal.components);
    },
    async noticeTo(p, pattern) {
      return waitFor(() => this.notices(p, pattern).at(-1), { what: `an ephemeral note to ${p.id} matching ${pattern}` });
    },
    // Only p sees an ephemeral; a reply to p's own message (what the bot answers a message with) is for p too.
    notices: (p, pattern) =>
      discord.messages
        .filter((m) => (m.visibleTo === p.id || (m.replyTo !== undefined && discord.message(m.replyTo)?.authorId === p.id)) && pattern.test(m.content))
        .map((m) => m.content),
    channel: discord.channelId,
    workChannel: discordPeople.workChannel,
    async thread(sessionId) {
      const starter = await waitFor(() => discord.messages.find((m) => m.via === "rest" && m.content.includes(sessionId) && m.threadId), { what: `the Discord thread of ${sessionId}` });
      const inThread = () => discord.messages.filter((m) => m.channelId === starter.threadId && m.via === "rest");
      const isStatus = (m: DiscordMessage) => STATUS.test(m.history[0]?.content ?? "");
      return {
        status: () => inThread().filter(isStatus).map((m) => ({ ...view(m), edits: m.history.length - 1, at: m.history.map((v) => v.at) })),
        answers: () => inThread().filter((m) => !isStatus(m) && m.embeds.length === 0 && m.content !== "").map((m) => m.content),
        files: () => inThread().flatMap((m) => (m.embeds.length === 0 ? m.attachments.map((a) => ({ name: a.filename, text: a.text })) : [])),
      };
    },
    async say(p, text, where = {}) {
      const starter = where.sessionId ? await waitFor(() => discord.messages.find((m) => m.via === "rest" && m.content.includes(where.sessionId!) && m.threadId), { what: `the thread of ${where.sessionId}` }) : undefined;
      user.say({
        user: p.id,
        content: text.replaceAll("@bot", `<@${discord.applicationId}>`),
        channelId: starter?.threadId ?? where.channel ?? discord.channelId,
        ...(where.files ? { attachments: where.files.map((f) => ({ filename: f.name, data: f.content })) } : {}),
      });
      return { eventIds: [] };
    },
    async clickStop(p, sessionId) {
      const status = await waitFor(() => [...discord.messages].reverse().find((m) => JSON.stringify(m.components).includes(`session:stop:${sessionId}`)), { what: `a Stop button for ${sessionId}` });
      const click = await user.clickButton({ user: p.id, message: status, customId: `session:stop:${sessionId}` });
      await click.callback();
    },
    async command(p, path, options = {}, where = {}) {
      const [first, second] = path.split(" ");
      const invocation = second ? { group: first, subcommand: second } : { subcommand: first };
      const handle = await user.runCommand({ user: p.id, channelId: where.channel ?? discord.channelId, name: "opencode", ...invocation, options });
      const reply = await waitFor(
        () => discord.messages.find((m) => m.interactionId === handle.interactionId && m.content !== "" && (m.flags & 128) === 0),
        { what: `the answer to /opencode ${path} for ${p.id}` },
      );
      return reply.content;
    },
  };
}

/** Every label of a Slack card's buttons. */
function labelsOf(blocks: unknown[]): string[] {
  const labels: string[] = [];
  JSON.stringify(blocks, (_key, value: unknown) => {
    const button = value as { type?: string; text?: { text?: string } };
    if (button && button.type === "button" && typeof button.text?.text === "string") labels.push(button.text.text);
    return value;
  });
  return labels;
}

/** An embed's words as a person reads them: title, description, fields and footer, and the content. */
function embedText(m: DiscordMessage): string {
  const parts: string[] = [m.content];
  for (const embed of m.embeds as Array<{ title?: string; description?: string; fields?: Array<{ name: string; value: string }>; footer?: { text?: string } }>) {
    parts.push(embed.title ?? "", embed.description ?? "", ...(embed.fields ?? []).flatMap((f) => [f.name, f.value]), embed.footer?.text ?? "");
  }
  return parts.join("\n");
}
