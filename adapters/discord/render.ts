import { ButtonStyle, ComponentType, escapeMarkdown, type APIEmbed, type APIModalInteractionResponseCallbackData } from "discord.js";
import type { Card, CardMessage, StatusLine, ThreadParent } from "../../src/core/card.ts";
import { choiceLabels, renderStatus } from "../../src/core/card.ts";
import type { Form, FormField, FormKind, FormValues, TextView } from "../../src/core/form.ts";
import { fit } from "../../src/core/limits.ts";
import type { Choice, Decider } from "../../src/core/types.ts";
import { discordNumbers } from "./limits.ts";

/** A button's custom_id: `approval:<action>:<request id>`; a question's one-click answer `question:option:<index>:<request id>`. */
export const buttonPrefix = "approval:";
export const optionPrefix = "question:option:";
/** A modal's custom_id: `form:<kind>:<request id>`. */
export const formPrefix = "form:";

/** A message as discord.js sends it: raw API embeds and components, and files to attach. */
export type DiscordPayload = {
  content?: string;
  embeds: APIEmbed[];
  components: Array<{ type: ComponentType.ActionRow; components: Button[] }>;
  files?: Array<{ attachment: Buffer; name: string }>;
  allowedMentions: { parse: [] };
};

type Button = { type: ComponentType.Button; style: ButtonStyle; label: string; custom_id: string };

const mention = (decider: Decider) => (decider.platform === "discord" ? `<@${decider.userId}>` : escapeMarkdown(decider.name));
const toneIcon: Record<StatusLine["tone"], string> = { ok: "✅", rejected: "❌", closed: "⏹️", warning: "⚠️" };
const toneColour: Record<StatusLine["tone"] | "pending", number> = {
  pending: 0x5865f2,
  ok: 0x57f287,
  rejected: 0xed4245,
  closed: 0x99aab5,
  warning: 0xfee75c,
};
const choiceStyle: Partial<Record<Choice, ButtonStyle>> = { once: ButtonStyle.Success, reject: ButtonStyle.Danger, dismiss: ButtonStyle.Danger };

/** Text in a code block that no backticks inside it can end early. */
function codeBlock(text: string, language = ""): string {
  return "```" + language + "\n" + text.replaceAll("```", "`\u200b``") + "\n```";
}

/** The file a cut body's whole text is attached as. */
export function bodyFileName(requestId: string): string {
  return `${requestId}.txt`;
}

/**
 * A card message: the thread parent's text as the content when it carries the cards, then each
 * card's embed, buttons and files (discordLimits.cardsPerMessage keeps them within a message's).
 */
export function renderCardMessage(message: CardMessage, options: { withFiles?: boolean } = {}): DiscordPayload {
  const cards = message.cards.map((card) => renderCard(card, options));
  const files = cards.flatMap((card) => card.files ?? []);
  return {
    ...(message.parent ? { content: renderThreadParent(message.parent).payload.content } : {}),
    embeds: cards.flatMap((card) => card.embeds),
    components: cards.flatMap((card) => card.components),
    ...(files.length ? { files } : {}),
    allowedMentions: { parse: [] },
  };
}

/**
 * An approval card: one embed (title, fields, the body in a code block, the status lines, the
 * reference in the footer) and its buttons. A body cut to fit is attached whole as a file, so no
 * "show all" button is needed on Discord. `withFiles: false` for an edit, which keeps the attachment.
 */
export function renderCard(card: Card, options: { withFiles?: boolean } = {}): DiscordPayload {
  const description: string[] = [];
  if (card.body) {
    description.push(codeBlock(card.body.text, card.body.kind === "diff" ? "diff" : card.body.kind === "json" ? "json" : ""));
    if (card.body.truncated) description.push(`The whole text is attached as ${bodyFileName(card.requestId)}.`);
  }
  for (const line of card.status) {
    const text = `${toneIcon[line.tone]} ${renderStatus({ ...line, text: escapeMarkdown(line.text) }, mention)}`;
    description.push(line.code ? `${text}\n${codeBlock(line.code)}` : text);
  }
  const tone = card.status.at(-1)?.tone ?? "pending";
  const embed: APIEmbed = {
    title: fit(card.title, 256),
    color: toneColour[tone],
    fields: card.fields.slice(0, discordNumbers.embedFields).map((field) => ({
      name: fit(field.label, discordNumbers.embedFieldName),
      value: fit(escapeMarkdown(field.value), discordNumbers.embedFieldValue) || "-",
    })),
    footer: { text: card.reference },
    ...(description.length ? { description: fit(description.join("\n"), discordNumbers.embedDescription) } : {}),
  };
  const rows: DiscordPayload["components"] = [];
  if (card.options?.length) {
    rows.push(row(card.options.map((label, index) => button(`${optionPrefix}${index}:${card.requestId}`, label, ButtonStyle.Secondary))));
  }
  if (card.actions.length > 0) {
    rows.push(
      row(card.actions.map((choice) => button(`${buttonPrefix}${choice}:${card.requestId}`, choiceLabels[choice], choiceStyle[choice] ?? ButtonStyle.Primary))),
    );
  }
  const files =
    options.withFiles !== false && card.body?.truncated ? [{ attachment: Buffer.from(card.body.full, "utf8"), name: bodyFileName(card.requestId) }] : undefined;
  return { embeds: [embed], components: rows, ...(files ? { files } : {}), allowedMentions: { parse: [] } };
}

function row(components: Button[]): DiscordPayload["components"][number] {
  return { type: ComponentType.ActionRow, components: components.slice(0, discordNumbers.rowButtons) };
}

function button(customId: string, label: string, style: ButtonStyle): Button {
  return { type: ComponentType.Button, style, label: fit(label, discordNumbers.buttonLabel), custom_id: customId };
}

/** The first message of a session's thread, and the thread's name. */
export function renderThreadParent(parent: ThreadParent): { payload: { content: string; allowedMentions: { parse: [] } }; threadName: string } {
  const fields = parent.fields.map((field) => `${field.label}: \`${field.value.replaceAll("`", "'")}\``).join("\n");
  const first = parent.lead ? renderStatus({ ...parent.lead, text: escapeMarkdown(parent.lead.text) }, mention) : `${parent.heading} **${escapeMarkdown(parent.name)}**`;
  const content = `🤖 ${first}\n${fields}\n${parent.note}`;
  return {
    payload: { content: fit(content, discordNumbers.content), allowedMentions: { parse: [] } },
    threadName: fit(parent.name.trim() || parent.heading, discordNumbers.threadName),
  };
}

/** A core form as a modal: what it is about as a text display, then one labelled input per field. */
export function renderForm(form: Form): APIModalInteractionResponseCallbackData {
  return {
    custom_id: `${formPrefix}${form.kind}:${form.requestId}`,
    title: fit(form.title, discordNumbers.modalTitle),
    components: [
      { type: ComponentType.TextDisplay, content: fit(form.intro, discordNumbers.content) },
      ...form.fields.map(labelled),
    ],
  } as APIModalInteractionResponseCallbackData;
}

function labelled(field: FormField) {
  const label = {
    type: ComponentType.Label,
    label: fit(field.label, discordNumbers.inputLabel),
    ...(field.hint ? { description: fit(field.hint, discordNumbers.inputDescription) } : {}),
  };
  if (field.kind === "text") {
    return {
      ...label,
      component: {
        type: ComponentType.TextInput,
        custom_id: field.id,
        style: field.multiline ? 2 : 1,
        required: !field.optional,
        max_length: field.maxLength,
        ...(field.value ? { value: field.value } : {}),
      },
    };
  }
  const options = field.options.slice(0, discordNumbers.selectOptions);
  return {
    ...label,
    component: {
      type: ComponentType.StringSelect,
      custom_id: field.id,
      placeholder: fit(field.placeholder, 150),
      required: !field.optional,
      min_values: field.optional ? 0 : 1,
      max_values: field.multiple ? options.length : 1,
      options: options.map((option) => ({ label: fit(option.label, discordNumbers.optionLabel), value: option.value })),
    },
  };
}

/** The form kind and request a modal's custom_id names; undefined for a modal not ours. */
export function parseFormId(customId: string): { form: FormKind; requestId: string } | undefined {
  const match = /^(reject|edit|answer):(.+)$/.exec(customId.startsWith(formPrefix) ? customId.slice(formPrefix.length) : "");
  return match ? { form: match[1] as FormKind, requestId: match[2]! } : undefined;
}

/** A submitted modal's fields (text inputs and selects, by custom_id) as the core's form values. */
export function formValues(fields: Iterable<{ customId: string; value?: string; values?: readonly string[] }>): FormValues {
  const values: FormValues = {};
  for (const field of fields) values[field.customId] = field.values ? [...field.values] : field.value;
  return values;
}

/** A text shown in full on request: as an attached file, Discord's way for long text. */
export function renderView(view: TextView): { content: string; files: Array<{ attachment: Buffer; name: string }> } {
  return { content: fit(view.title, discordNumbers.content), files: [{ attachment: Buffer.from(view.text, "utf8"), name: "full.txt" }] };
}
