import type { Card, StatusLine } from "../../src/core/card.ts";
import { choiceLabels, renderStatus } from "../../src/core/card.ts";
import type { QuestionInfo } from "@opencode-ai/sdk/v2";
import type { EditField } from "../../src/core/edit-form.ts";
import type { Decider } from "../../src/core/types.ts";

// Slack's limits: a section's text is at most 3000 characters, a modal has at most 100 blocks,
// a plain_text_input's initial value at most 3000.
const SECTION_LIMIT = 2900;
export const INPUT_LIMIT = 3000;
const BODY_CODE_LIMIT = 2500;

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
export const callbackIds = { reject: "approval_reject", edit: "approval_edit", answer: "question_answer" } as const;

// Slack's types are loose JSON; our blocks are plain objects checked by the fake Slack in tests.
export type Block = Record<string, unknown>;

const mention = (decider: Decider) => (decider.platform === "slack" ? `<@${decider.userId}>` : decider.name);
const toneIcon: Record<StatusLine["tone"], string> = { ok: "✅", rejected: "❌", closed: "⏹️", warning: "⚠️" };

/** Escapes the three characters Slack's mrkdwn treats as control characters. */
export function escapeMrkdwn(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

function codeBlock(text: string): string {
  return "```" + escapeMrkdwn(text).replaceAll("```", "`\u200b``") + "```";
}

/** Block Kit for an approval card. */
export function renderCard(card: Card): { text: string; blocks: Block[] } {
  const blocks: Block[] = [
    { type: "section", text: { type: "mrkdwn", text: `*${escapeMrkdwn(card.title)}*` } },
    {
      type: "section",
      fields: card.fields.map((field) => ({ type: "mrkdwn", text: `*${field.label}*\n${escapeMrkdwn(field.value)}` })),
    },
  ];
  if (card.body) {
    blocks.push({ type: "section", block_id: "body", text: { type: "mrkdwn", text: codeBlock(card.body.text) } });
    if (card.body.truncated) {
      blocks.push({
        type: "actions",
        block_id: "view_full",
        elements: [button(actionIds.view, `Show all (${card.body.full.length} characters)`, card.requestId)],
      });
    }
  }
  if (card.options?.length) {
    blocks.push({
      type: "actions",
      block_id: "question_options",
      elements: card.options.map((label, index) => button(`${optionActionPrefix}${index}`, label.slice(0, 75), card.requestId)),
    });
  }
  if (card.actions.length > 0) {
    blocks.push({
      type: "actions",
      block_id: "approval_actions",
      elements: card.actions.map((choice) =>
        button(actionIds[choice], choiceLabels[choice], card.requestId, choice === "once" ? "primary" : choice === "reject" || choice === "dismiss" ? "danger" : undefined),
      ),
    });
  }
  for (const line of card.status) {
    const text = `${toneIcon[line.tone]} ${renderStatus({ ...line, text: escapeMrkdwn(line.text) }, mention)}`;
    const code = line.code ? `\n${codeBlock(line.code.length > BODY_CODE_LIMIT ? `${line.code.slice(0, BODY_CODE_LIMIT)}\n…` : line.code)}` : "";
    blocks.push({ type: "section", text: { type: "mrkdwn", text: `${text}${code}` } });
  }
  blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: escapeMrkdwn(card.reference) }] });
  const status = card.status.map((line) => renderStatus(line, mention)).join(" · ");
  return { text: status ? `${card.summary} — ${status}` : card.summary, blocks };
}

function button(actionId: string, text: string, value: string, style?: "primary" | "danger"): Block {
  return { type: "button", action_id: actionId, text: { type: "plain_text", text }, value, ...(style ? { style } : {}) };
}

/** Where a modal came from, so its submission can update the right card and tell the right person. */
export type ModalContext = { requestId: string; channel: string; messageTs: string };

/** A dialog whose submission decides the request in `context`. */
function decisionModal(callbackId: string, context: ModalContext, title: string, submit: string, blocks: Block[]): Block {
  return {
    type: "modal",
    callback_id: callbackId,
    private_metadata: JSON.stringify(context),
    title: { type: "plain_text", text: title },
    submit: { type: "plain_text", text: submit },
    close: { type: "plain_text", text: "Cancel" },
    blocks,
  };
}

const summarySection = (summary: string): Block => ({
  type: "section",
  text: { type: "mrkdwn", text: escapeMrkdwn(summary).slice(0, SECTION_LIMIT) },
});

export function rejectModal(context: ModalContext, summary: string): Block {
  return decisionModal(callbackIds.reject, context, "Reject request", "Reject", [
    summarySection(summary),
    {
      type: "input",
      block_id: "reason",
      optional: true,
      label: { type: "plain_text", text: "Reason (the agent reads it)" },
      element: { type: "plain_text_input", action_id: "value", multiline: true },
    },
  ]);
}

export function editModal(context: ModalContext, summary: string, fields: EditField[]): Block {
  return decisionModal(callbackIds.edit, context, "Edit, then allow", "Allow edited", [
    summarySection(summary),
    ...fields.map((field) => ({
      type: "input",
      block_id: field.id,
      optional: field.optional ?? false,
      label: { type: "plain_text", text: field.label },
      element: {
        type: "plain_text_input",
        action_id: "value",
        multiline: field.multiline,
        ...(field.value ? { initial_value: field.value } : {}),
      },
    })),
  ]);
}

/** The Answer dialog: per question a select of its choices (several where it allows), or a typed answer. */
export function answerModal(context: ModalContext, questions: QuestionInfo[]): Block {
  return decisionModal(
    callbackIds.answer,
    context,
    "Answer OpenCode",
    "Answer",
    questions.flatMap((question, index) => [
      {
        type: "input",
        block_id: `q${index}`,
        optional: true,
        label: { type: "plain_text", text: (question.header || `Question ${index + 1}`).slice(0, 2000) },
        hint: { type: "plain_text", text: question.question.slice(0, 2000) },
        element: {
          type: question.multiple ? "multi_static_select" : "static_select",
          action_id: "value",
          placeholder: { type: "plain_text", text: question.multiple ? "Choose one or more" : "Choose one" },
          options: question.options.slice(0, 100).map((option, i) => ({
            text: { type: "plain_text", text: option.label.slice(0, 75) },
            value: String(i),
          })),
        },
      },
      {
        type: "input",
        block_id: `q${index}_text`,
        optional: true,
        label: { type: "plain_text", text: "Or type your own answer" },
        element: { type: "plain_text_input", action_id: "value" },
      },
    ]),
  );
}

/** A read-only modal with the whole command, diff or arguments, in as many sections as it needs. */
export function fullBodyModal(card: Card): Block {
  const full = card.body?.full ?? "";
  const chunks: string[] = [];
  for (let i = 0; i < full.length && chunks.length < 99; i += SECTION_LIMIT - 10) chunks.push(full.slice(i, i + SECTION_LIMIT - 10));
  return {
    type: "modal",
    title: { type: "plain_text", text: "Full request" },
    close: { type: "plain_text", text: "Close" },
    blocks: chunks.map((chunk) => ({ type: "section", text: { type: "mrkdwn", text: codeBlock(chunk) } })),
  };
}

export function threadParent(session: { directory: string; sessionId: string; title: string }): { text: string; blocks: Block[] } {
  const text = `OpenCode session “${session.title}” in ${session.directory}`;
  return {
    text,
    blocks: [
      {
        type: "section",
        text: {
          type: "mrkdwn",
          text: `:robot_face: OpenCode session *${escapeMrkdwn(session.title)}*\nProject: \`${escapeMrkdwn(session.directory)}\`\nSession: \`${session.sessionId}\`\nIts permission requests appear in this thread.`,
        },
      },
    ],
  };
}
