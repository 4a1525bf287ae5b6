import { ButtonStyle, ComponentType, escapeMarkdown } from "discord.js";
import { fit } from "../../src/core/limits.ts";
import type { ProgressView } from "../../src/core/progress.ts";
import { STOP_LABEL } from "../../src/core/progress.ts";
import { discordNumbers } from "./limits.ts";

/** The Stop button's custom_id is this and the session id. */
export const stopPrefix = "session:stop:";

const toneIcon: Record<ProgressView["tone"], string> = { working: "⏳", waiting: "✋", done: "✅", error: "❌" };

/** A turn's status message: its lines as content, and the Stop button while the turn runs. */
export function renderProgress(view: ProgressView) {
  const [first = "", ...rest] = view.lines.map((line) => escapeMarkdown(line));
  const content = fit([`${toneIcon[view.tone]} **${first}**`, ...rest].join("\n"), discordNumbers.content);
  const stop = { type: ComponentType.Button, style: ButtonStyle.Danger, label: STOP_LABEL, custom_id: `${stopPrefix}${view.sessionId}` } as const;
  return {
    content,
    components: view.stop ? [{ type: ComponentType.ActionRow, components: [stop] }] : [],
    allowedMentions: { parse: [] as [] },
  };
}
