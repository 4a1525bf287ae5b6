import type { ChatPlatform } from "./types.ts";

/**
 * What one chat platform can show. Each adapter declares its platform's numbers in one table
 * (`adapters/<platform>/limits.ts`), and the core shapes cards, forms and notices to fit them.
 */
export type PlatformLimits = {
  /** Longest command, diff or argument text shown inline on a card; the rest is one click away. */
  cardBody: number;
  /** Most characters one form input holds, its pre-filled value included. */
  formInput: number;
  /** Most inputs one form holds. */
  formInputs: number;
  /** Longest form title. */
  formTitle: number;
  /** Longest label (and hint) of a form input. */
  fieldLabel: number;
  /** Longest button label. */
  buttonLabel: number;
  /** Most one-click choices a question card shows as buttons. */
  quickOptions: number;
  /** Longest private notice to one person. */
  notice: number;
  /** Longest message of text posted in a thread (an answer is split to it). */
  message: number;
  /** Most cards one message holds (one session's requests gathered while waiting to be posted). */
  cardsPerMessage: number;
};

/** The platforms' names as people read them in a notice. */
export const platformNames: Record<ChatPlatform, string> = { slack: "Slack", discord: "Discord", web: "the console" };

/** `text` cut to `max` characters, with an ellipsis when it was longer. */
export function fit(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}
