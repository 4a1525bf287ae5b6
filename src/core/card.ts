import type { Choice, Decider } from "./types.ts";

/** The words on the buttons. Deployments and docs depend on them: keep them stable. */
export const choiceLabels: Record<Choice, string> = {
  once: "Approve once",
  always: "Always",
  reject: "Reject",
  edit: "Edit",
  answer: "Answer…",
  dismiss: "Dismiss",
};

/** A piece of text a platform renders with its own mention syntax for `by` (several people: joined with commas). */
export type StatusLine = {
  text: string;
  by?: Decider | Decider[];
  tone: "ok" | "rejected" | "closed" | "warning";
  /** Preformatted text shown under the line (a diff), already cut to the platform's body limit. */
  code?: string;
};

/** Platform-neutral content of an approval card; each adapter renders it (Block Kit, Discord components). */
export type Card = {
  requestId: string;
  /** One line for notifications and clients that cannot show rich content. */
  summary: string;
  title: string;
  fields: Array<{ label: string; value: string }>;
  /**
   * The command, the diff or the arguments, cut to the platform's `cardBody`; when cut, `more` is the
   * label of the button that shows all of it.
   */
  body?: { kind: "command" | "diff" | "json" | "text"; text: string; truncated: boolean; full: string; more?: string };
  /** A question's choices, answerable with one click (only for one single-choice question); labels fit a button. */
  options?: string[];
  /** Small print naming the request and session, so a card can be found in the audit trail. */
  reference: string;
  /** Present while the request is pending. */
  actions: Choice[];
  /** Present once decided or closed; several lines are shown in order. */
  status: StatusLine[];
};

/**
 * What one card message shows: one request's card, or several of one session's, gathered while they
 * waited for the platform to let the message go; in the thread's parent, the parent above them.
 */
export type CardMessage = { parent?: ThreadParent; cards: Card[] };

/** The first message of a session's thread. */
export type ThreadParent = {
  sessionId: string;
  /** For a session started from chat, the first line instead of heading and name ("{by} started: …"). */
  lead?: StatusLine;
  /** One line for notifications. */
  summary: string;
  /** "OpenCode session", shown before the session's `name`. */
  heading: string;
  name: string;
  fields: Array<{ label: string; value: string }>;
  note: string;
};

/** Replaces each `{by}` in a status line with the platform's mention of the decider (or deciders). */
export function renderStatus(line: StatusLine, mention: (decider: Decider) => string): string {
  if (!line.by) return line.text;
  const people = Array.isArray(line.by) ? line.by : [line.by];
  return line.text.replaceAll("{by}", people.map(mention).join(", "));
}
