import type { ProgressView } from "../../src/core/progress.ts";
import { STOP_LABEL } from "../../src/core/progress.ts";
import { escapeMrkdwn } from "./render.ts";

type Block = Record<string, unknown>;

/** The Stop button's action_id; its value is the session id. */
export const STOP_ACTION = "session:stop";

const toneIcon: Record<ProgressView["tone"], string> = { working: "⏳", waiting: "✋", done: "✅", error: "❌" };

/** A turn's status message: its lines in one section, and the Stop button while the turn runs. */
export function renderProgress(view: ProgressView): { text: string; blocks: Block[] } {
  const [first = "", ...rest] = view.lines.map(escapeMrkdwn);
  const blocks: Block[] = [{ type: "section", text: { type: "mrkdwn", text: [`${toneIcon[view.tone]} *${first}*`, ...rest].join("\n") } }];
  if (view.stop) {
    blocks.push({
      type: "actions",
      block_id: "session",
      elements: [{ type: "button", action_id: STOP_ACTION, text: { type: "plain_text", text: STOP_LABEL }, style: "danger", value: view.sessionId }],
    });
  }
  return { text: view.summary, blocks };
}
