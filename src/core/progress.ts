/**
 * The words of a session's progress: the status message of a turn (one per turn, edited in place)
 * and the final answer, split to a platform's message size. Pure: the tracker (session-progress.ts)
 * keeps the state, the adapters render the views.
 */

export type TurnState = "working" | "approval" | "question" | "idle" | "stopped" | "error";

/** What OpenCode's events say of a session's progress, in the core's terms (src/opencode/progress-events.ts maps them). */
export type ProgressEvent =
  | { type: "busy"; sessionId: string }
  /** OpenCode retries the model call after an error (attempt 1, 2, …). */
  | { type: "retry"; sessionId: string; attempt: number; message: string }
  | { type: "idle"; sessionId: string }
  | { type: "usage"; sessionId: string; messageId: string; tokens: number; cost: number }
  | { type: "tool"; sessionId: string; name: string; title?: string; file?: string }
  | { type: "files"; sessionId: string; files: string[] }
  | { type: "waiting"; sessionId: string; on: "approval" | "question" }
  | { type: "resumed"; sessionId: string }
  | { type: "error"; sessionId: string; error: { kind: "stopped" | "failed"; message: string } };

/** What is known of one turn (a prompt until the session is idle again). */
export type Turn = {
  state: TurnState;
  /** The tool running now, or the last one that ran. */
  tool?: { name: string; title?: string };
  files: string[];
  tokens: number;
  cost: number;
  startedAt: Date;
  endedAt?: Date;
  error?: string;
  /** Who pressed Stop (or typed /opencode stop), by name. */
  stoppedBy?: string;
  /** The model call is being retried after an error. */
  retry?: { attempt: number; message: string };
};

/** A turn's status message as every platform shows it; `stop` offers the Stop button. */
export type ProgressView = {
  sessionId: string;
  /** One line for notifications. */
  summary: string;
  tone: "working" | "waiting" | "done" | "error";
  lines: string[];
  stop: boolean;
};

export const STOP_LABEL = "Stop";

const stateWords: Record<TurnState, string> = {
  working: "Working",
  approval: "Waiting for approval",
  question: "Waiting for an answer",
  idle: "Done",
  stopped: "Stopped",
  error: "Failed",
};

/** The status message of a turn. */
export function progressView(sessionId: string, turn: Turn, now: Date): ProgressView {
  const seconds = Math.round(((turn.endedAt ?? now).getTime() - turn.startedAt.getTime()) / 1000);
  const live = turn.state !== "idle" && turn.state !== "error" && turn.state !== "stopped";
  const head = `${stateWords[turn.state]}${turn.state === "stopped" && turn.stoppedBy ? ` by ${turn.stoppedBy}` : ""} · ${seconds} s`;
  const lines = [turn.error ? `${head}: ${turn.error}` : head];
  if (live && turn.retry) lines.push(`Retrying (attempt ${turn.retry.attempt}): ${turn.retry.message}`);
  if (turn.tool) lines.push(`${live ? "Tool" : "Last tool"}: ${turn.tool.name}${turn.tool.title ? ` · ${turn.tool.title}` : ""}`);
  if (turn.files.length > 0) lines.push(`Files changed: ${listFiles(turn.files)}`);
  lines.push(`Tokens: ${turn.tokens.toLocaleString("en-US")} · cost ${money(turn.cost)}`);
  const tone = turn.state === "error" ? "error" : turn.state === "idle" || turn.state === "stopped" ? "done" : turn.state === "working" ? "working" : "waiting";
  return { sessionId, summary: lines[0]!, tone, lines, stop: live };
}

function listFiles(files: string[]): string {
  const shown = files.slice(0, 10).join(", ");
  return files.length > 10 ? `${shown} and ${files.length - 10} more` : shown;
}

/** US dollars: to the cent from $1, to four significant digits below ($0.04312); zero is $0. */
export function money(dollars: number): string {
  if (dollars === 0) return "$0";
  if (dollars >= 1) return `$${dollars.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  return `$${dollars.toLocaleString("en-US", { maximumSignificantDigits: 4 })}`;
}

/** How an answer goes into a thread: messages of at most `max` characters, or a file with its beginning. */
export type AnswerPlan = { messages: string[]; file?: { name: string; text: string } };

/** At most this many messages; a longer answer is attached as a file. */
export const ANSWER_MESSAGES = 10;

/**
 * Splits an answer only where the size requires, preferring a line break, then a space; more than
 * ANSWER_MESSAGES messages become one file, with the beginning posted.
 */
export function planAnswer(text: string, max: number, fileName: string): AnswerPlan {
  const chunks = split(text, max);
  if (chunks.length <= ANSWER_MESSAGES) return { messages: chunks };
  const note = `\n\n… the whole answer (${text.length.toLocaleString("en-US")} characters) is attached as ${fileName}.`;
  return { messages: [`${split(text, max - note.length)[0]!}${note}`], file: { name: fileName, text } };
}

function split(text: string, max: number): string[] {
  const chunks: string[] = [];
  let rest = text;
  while (rest.length > max) {
    const window = rest.slice(0, max);
    const cut = Math.max(window.lastIndexOf("\n"), window.lastIndexOf(" "));
    const at = cut > max / 2 ? cut + 1 : max;
    chunks.push(rest.slice(0, at));
    rest = rest.slice(at);
  }
  if (rest.length > 0 || chunks.length === 0) chunks.push(rest);
  return chunks;
}
