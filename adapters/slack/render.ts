import type { Card, CardMessage, StatusLine, ThreadParent } from "../../src/core/card.ts";
import { choiceLabels, renderStatus } from "../../src/core/card.ts";
import type { Form, FormField, FormKind, FormValues, TextView } from "../../src/core/form.ts";
import type { Decider } from "../../src/core/types.ts";
import { slackBlocks } from "./limits.ts";

export const actionIds = {
  once: "approval:once",
  always: "approval:always",
  reject: "approval:reject",
  edit: "approval:edit",
  answer: "approval:answer",
  dismiss: "approval:dismiss",
  view: "approval:view",
} as const;
/** A one-click answer to a question: `question:option:<index>`, the button's value the request id. */
export const optionActionPrefix = "question:option:";
/** A form's modal by kind; deployments' logs and the tests know these ids. */
export const callbackIds: Record<FormKind, string> = { reject: "approval_reject", edit: "approval_edit", answer: "question_answer" };

// Slack's types are loose JSON; our blocks are plain objects checked by the fake Slack in tests.
export type Block = Record<string, unknown>;
export type Rendered = { text: string; blocks: Block[] };

const mention = (decider: Decider) => (decider.platform === "slack" ? `<@${decider.userId}>` : decider.name);
const toneIcon: Record<StatusLine["tone"], string> = { ok: "✅", rejected: "❌", closed: "⏹️", warning: "⚠️" };

/** Escapes the three characters Slack's mrkdwn treats as control characters. */
export function escapeMrkdwn(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/** Escaped mrkdwn cut to `max` characters, as Slack counts them, never inside an entity (`&amp;`). */
function fitMrkdwn(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).replace(/&[a-z]*$/, "")}…`;
}

/** The reference lines of the cards rendered in `blocks` (each card's last block: see renderCard), as written before escaping. */
export function cardReferenceLines(blocks: unknown[]): string[] {
  return blocks.flatMap((block) => {
    const { type, elements } = block as { type?: string; elements?: Array<{ type?: string; text?: string }> };
    if (type !== "context" || elements?.length !== 1 || elements[0]?.type !== "mrkdwn") return [];
    return [unescapeMrkdwn(elements[0].text ?? "")];
  });
}

const unescapeMrkdwn = (text: string) => text.replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&amp;", "&");

/** `text` in a code block of at most `max` characters once escaped (a body of many `<`, `>` and `&` grows up to 5×). */
function codeBlock(text: string, max: number = slackBlocks.sectionText): string {
  return "```" + fitMrkdwn(escapeMrkdwn(text).replaceAll("```", "`\u200b``"), max - 6) + "```";
}

const plain = (text: string) => ({ type: "plain_text", text });

/**
 * Block Kit for a card message: the thread's parent if it carries the cards, then each card, a
 * divider between them. Block ids are unique within a message: the second card's end in `:2`.
 */
export function renderCardMessage(message: CardMessage): Rendered {
  const parts = message.cards.map((card, index) => renderCard(card, index === 0 ? "" : `:${index + 1}`));
  if (message.parent) parts.unshift(renderThreadParent(message.parent));
  return {
    text: parts.map((part) => part.text).join("\n"),
    blocks: parts.flatMap((part, index) => (index === 0 ? part.blocks : [{ type: "divider" }, ...part.blocks])),
  };
}

/** Block Kit for an approval card; `suffix` ends its block ids. */
export function renderCard(card: Card, suffix = ""): Rendered {
  const blocks: Block[] = [
    // A title or a field can be as long as what OpenCode asks (a tool's name, its Always patterns):
    // Slack refuses the whole message for one text over its limit.
    { type: "section", text: { type: "mrkdwn", text: `*${fitMrkdwn(escapeMrkdwn(card.title), slackBlocks.sectionText - 2)}*` } },
    {
      type: "section",
      fields: card.fields.map((field) => ({ type: "mrkdwn", text: fitMrkdwn(`*${field.label}*\n${escapeMrkdwn(field.value)}`, slackBlocks.sectionField) })),
    },
  ];
  if (card.body) {
    blocks.push({ type: "section", block_id: `body${suffix}`, text: { type: "mrkdwn", text: codeBlock(card.body.text) } });
    if (card.body.more) {
      blocks.push({ type: "actions", block_id: `view_full${suffix}`, elements: [button(actionIds.view, card.body.more, card.requestId)] });
    }
  }
  if (card.options?.length) {
    blocks.push({
      type: "actions",
      block_id: `question_options${suffix}`,
      elements: card.options.map((label, index) => button(`${optionActionPrefix}${index}`, label, card.requestId)),
    });
  }
  if (card.actions.length > 0) {
    blocks.push({
      type: "actions",
      block_id: `approval_actions${suffix}`,
      elements: card.actions.map((choice) =>
        button(actionIds[choice], choiceLabels[choice], card.requestId, choice === "once" ? "primary" : choice === "reject" || choice === "dismiss" ? "danger" : undefined),
      ),
    });
  }
  for (const line of card.status) {
    // A reason is as long as its author wrote it; the line and its code share one section.
    const text = fitMrkdwn(`${toneIcon[line.tone]} ${renderStatus({ ...line, text: escapeMrkdwn(line.text) }, mention)}`, slackBlocks.sectionText / 2);
    const code = line.code ? `\n${codeBlock(line.code, slackBlocks.sectionText - text.length - 1)}` : "";
    blocks.push({ type: "section", text: { type: "mrkdwn", text: `${text}${code}` } });
  }
  blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: fitMrkdwn(escapeMrkdwn(card.reference), slackBlocks.sectionText) }] });
  const status = card.status.map((line) => renderStatus(line, mention)).join(" · ");
  return { text: status ? `${card.summary} — ${status}` : card.summary, blocks };
}

function button(actionId: string, text: string, value: string, style?: "primary" | "danger"): Block {
  return { type: "button", action_id: actionId, text: plain(text), value, ...(style ? { style } : {}) };
}

/** Where a modal came from, so its submission can update the right card and tell the right person. */
export type ModalContext = { requestId: string; channel: string; messageTs: string };

/** A core form as a modal; its submission decides the request in `context`. */
export function renderForm(form: Form, context: ModalContext): Block {
  return {
    type: "modal",
    callback_id: callbackIds[form.kind],
    private_metadata: JSON.stringify(context),
    title: plain(form.title),
    submit: plain(form.submit),
    close: plain(form.cancel),
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: escapeMrkdwn(form.intro).slice(0, slackBlocks.sectionText) } },
      ...form.fields.map(inputBlock),
    ],
  };
}

function inputBlock(field: FormField): Block {
  const common = { type: "input", block_id: field.id, optional: field.optional, label: plain(field.label), ...(field.hint ? { hint: plain(field.hint) } : {}) };
  if (field.kind === "text") {
    return {
      ...common,
      element: {
        type: "plain_text_input",
        action_id: "value",
        multiline: field.multiline,
        max_length: field.maxLength,
        ...(field.value ? { initial_value: field.value } : {}),
      },
    };
  }
  return {
    ...common,
    element: {
      type: field.multiple ? "multi_static_select" : "static_select",
      action_id: "value",
      placeholder: plain(field.placeholder),
      options: field.options.slice(0, slackBlocks.selectOptions).map((option) => ({
        text: plain(option.label.slice(0, slackBlocks.optionText)),
        value: option.value,
      })),
    },
  };
}

type InputState = { type?: string; value?: string | null; selected_option?: { value: string } | null; selected_options?: Array<{ value: string }> };

/** A submitted modal's `view.state.values` as the core's form values. */
export function formValues(state: Record<string, Record<string, InputState>>): FormValues {
  return Object.fromEntries(
    Object.entries(state).map(([blockId, inputs]) => {
      const input = inputs.value;
      if (!input) return [blockId, undefined];
      if (input.selected_options) return [blockId, input.selected_options.map((option) => option.value)];
      if (input.type === "static_select") return [blockId, input.selected_option ? [input.selected_option.value] : []];
      return [blockId, input.value ?? undefined];
    }),
  );
}

/** A read-only modal with the whole text, in as many sections as it needs (up to Slack's 100 blocks). */
export function renderView(view: TextView): Block {
  return {
    type: "modal",
    title: plain(view.title),
    close: plain(view.close),
    blocks: viewChunks(view.text).map((chunk) => ({ type: "section", text: { type: "mrkdwn", text: codeBlock(chunk) } })),
  };
}

/**
 * `text` in pieces that each fit one section's code block once escaped (& < > grow to 5 and 4
 * characters, a backtick may gain a zero-width space), as many as a modal holds beside its title.
 */
function viewChunks(text: string): string[] {
  const budget = slackBlocks.sectionText - 6;
  const chunks: string[] = [];
  let chunk = "";
  let size = 0;
  for (const char of text) {
    const cost = char === "&" ? 5 : char === "<" || char === ">" ? 4 : char === "`" ? 2 : 1;
    if (size + cost > budget) {
      chunks.push(chunk);
      if (chunks.length === slackBlocks.modalBlocks - 1) return chunks;
      [chunk, size] = ["", 0];
    }
    chunk += char;
    size += cost;
  }
  return chunk ? [...chunks, chunk] : chunks;
}

export function renderThreadParent(parent: ThreadParent): Rendered {
  const fields = parent.fields.map((field) => `${field.label}: \`${escapeMrkdwn(field.value)}\``).join("\n");
  return {
    text: parent.summary,
    blocks: [
      {
        type: "section",
        text: {
          type: "mrkdwn",
          // A session's title is its prompt when it was started from chat: as long as anyone typed.
          text: fitMrkdwn(
            `${parent.lead ? `:robot_face: ${renderStatus({ ...parent.lead, text: escapeMrkdwn(parent.lead.text) }, mention)}` : `:robot_face: ${parent.heading} *${escapeMrkdwn(parent.name)}*`}\n${fields}\n${parent.note}`,
            slackBlocks.sectionText,
          ),
        },
      },
    ],
  };
}
