import type { Card, CardMessage, ThreadParent } from "./card.ts";
import type { ChatMessage } from "./chat-messages.ts";
import type { Command } from "./commands.ts";
import type { Digest } from "./digest.ts";
import type { SuggestInput } from "./suggestions.ts";
import type { Form, FormKind, FormValues, TextView } from "./form.ts";
import type { PlatformLimits } from "./limits.ts";
import type { AnswerPlan, ProgressView } from "./progress.ts";
import type { ChatPlatform, ChatRef } from "./types.ts";

/**
 * A chat platform as the core sees it. One factory per platform builds it (`createSlackAdapter`).
 * References it returns are opaque: the core stores them and hands them back, never reads them.
 */
export interface ChatAdapter {
  readonly platform: ChatPlatform;
  /** The platform's limits; the core builds cards and forms within them. */
  readonly limits: PlatformLimits;
  /** Shows every request, whichever platform its session was started from (the console); else only those of its own sessions and of sessions started outside chat. */
  readonly showsEverySession?: boolean;
  /** Connects (Socket Mode, gateway) or mounts its routes; resolves when it can post. Clicks go to `decisions`, `/opencode` to `commands`. */
  start(decisions: DecisionPort, commands?: CommandPort): Promise<void>;
  stop(): Promise<void>;
  /** Whether the platform's connection is up now ("ready"), or held by another process ("standby"), for /healthz. */
  status(): ChatStatus;
  /**
   * Posts the parent message of a session's thread, in `channel` (a channel reference this adapter
   * gave with a command) or else the configured channel; returns the thread later cards go into.
   */
  openThread(parent: ThreadParent, channel?: ChatRef): Promise<ChatRef>;
  /**
   * Posts a card message into a thread; returns the reference `updateCard` takes. `cards` is called
   * once, when the message goes out (after any wait for the platform's rate limits), so that the
   * session's requests that came meanwhile go out in the same message; it returns at most
   * `limits.cardsPerMessage` cards.
   */
  postCard(thread: ChatRef, cards: () => Card[]): Promise<ChatRef>;
  /**
   * Posts a session's thread parent carrying its first cards (`cards` called as for `postCard`):
   * one post instead of two. Returns the thread and the parent's reference as a card message.
   * Optional: without it the parent is posted alone and the cards in its thread.
   */
  openCardThread?(parent: ThreadParent, cards: () => Card[]): Promise<{ thread: ChatRef; message: ChatRef }>;
  /** Replaces a posted card message's content in place (the parent too, for one posted by `openCardThread`). */
  updateCard(message: ChatRef, content: CardMessage): Promise<void>;
  /** Posts a turn's status message (with a Stop button while `view.stop`) into a session's thread. */
  postProgress(thread: ChatRef, view: ProgressView): Promise<ChatRef>;
  /** Replaces a status message's content in place. */
  updateProgress(message: ChatRef, view: ProgressView): Promise<void>;
  /** Posts a cost digest into a channel: its text, and its chart as an image in the same message or its first reply. */
  postDigest(channel: ChatRef, digest: Digest): Promise<void>;
  /** A link that opens the thread, where the platform has one. */
  threadLink(thread: ChatRef): Promise<string | undefined>;
  /** Posts a turn's answer (or its error) into the thread: each message in order, then the file if any. */
  postAnswer(thread: ChatRef, plan: AnswerPlan, kind: "answer" | "error"): Promise<void>;
  /**
   * Finds a card already in the thread whose reference line is `reference`: one posted just before a
   * crash, before its address was stored. Optional: without it such a card is posted again.
   */
  findCard?(thread: ChatRef, reference: string): Promise<ChatRef | undefined>;
  /**
   * Finds a thread parent of the last hour in the channel carrying a card whose reference line
   * contains `marker` (a session's: see sessionMarker): one posted by `openCardThread` before its
   * thread could be stored (a crash, an outage). Optional: without it the session's cards are
   * posted again, in a new thread.
   */
  findCardThread?(marker: string): Promise<{ thread: ChatRef; message: ChatRef } | undefined>;
  /**
   * The reference lines of the cards message `ref` shows now, read from the platform, in their
   * order: for a message the store does not know every card of. Optional: without it such a
   * message is drawn with the cards the store knows.
   */
  cardReferences?(ref: ChatRef): Promise<string[]>;
  /** Whether `userId` belongs to the group `group` named in an approver list (a Slack user group). Optional. */
  isMember?(group: string, userId: string): Promise<boolean>;
  /** The name people know an approver-list entry by (`@alice`, `@oncall`), for messages the agent reads. Optional. */
  nameOf?(entry: string): Promise<string | undefined>;
  /**
   * An expiry escalated: posts `words.thread` in the thread, `{people}` replaced by mentions of
   * `people` (approver-list entries of this platform: users, groups, roles), and sends each person
   * (a group's or role's members) `words.direct` as a direct message. Optional: without it nothing is posted.
   */
  escalate?(thread: ChatRef, people: string[], words: { thread: string; direct: string }): Promise<void>;
}

/** A chat platform's connection: up, (re)connecting, or stopped. */
/** "standby": another bot process on the database holds the connection; this one posts, and hears nothing. */
export type ChatStatus = "ready" | "connecting" | "standby" | "stopped";

/** Who clicked or submitted, as the platform says. `roles` come with the interaction where the platform sends them. */
export type Actor = { platform: ChatPlatform; userId: string; name: string; roles?: string[] };

/** A button on a card: a choice, a question's one-click option (by index), or "show the whole body". */
export type CardAction = "once" | "always" | "reject" | "edit" | "answer" | "dismiss" | "view" | { option: number };

export type Click = {
  actor: Actor;
  requestId: string;
  action: CardAction;
  /** The card that was clicked; updated too should it not be the one on record (a duplicate after a crash). */
  via?: ChatRef;
};

export type Submission = { actor: Actor; requestId: string; form: FormKind; values: FormValues; via?: ChatRef };

/**
 * What the core answers a click or a submission with; the adapter renders it. Only `decide` writes,
 * and only when the adapter calls `commit()`; it resolves to what to tell the person privately, or
 * undefined when the updated card says it all.
 */
export type Answer =
  | { kind: "notice"; text: string }
  | { kind: "form"; form: Form }
  | { kind: "view"; view: TextView }
  | { kind: "invalid"; field: string; message: string }
  | { kind: "decide"; commit(): Promise<string | undefined> };

/**
 * The one way in for decisions, called by every adapter with platform-neutral input.
 *
 * The acknowledgement contract: a platform wants each interaction answered within 3 seconds. An
 * adapter acknowledges the interaction (Slack `ack()`, Discord `deferUpdate`) before it calls
 * `commit()`, which does the database writes and the reply to OpenCode. `click` and `submit` read
 * one request and check who acts, nothing more, so an adapter whose platform needs the answer
 * itself to open the form or show a field's error (a Discord modal, Slack's inline errors) may call
 * them first and still answer in time. Who may decide is checked here, never in an adapter.
 */
export interface DecisionPort {
  click(click: Click): Promise<Answer>;
  submit(submission: Submission): Promise<Answer>;
  /** Words for an interaction whose handling failed unexpectedly (logged by the adapter). */
  readonly failedNotice: string;
}

/** A `/opencode` command as typed: by whom, in which channel (and thread, when typed in one). */
export type Invocation = { actor: Actor; channel: ChatRef; thread?: ChatRef; command: Command };

/** What the caller alone is told; the command's other effects (a thread, a session) show where they happen. */
export type CommandReply = { text: string };

/**
 * The one way in for `/opencode` commands, from every adapter. A platform wants the command
 * acknowledged within 3 seconds: an adapter acknowledges first (Slack `ack()`, Discord `deferReply`)
 * and shows the reply when `run` resolves. A failure is answered with `failedNotice` and logged.
 */
export interface CommandPort {
  run(invocation: Invocation): Promise<CommandReply>;
  /** The Stop button of a session's status message; resolves to what to tell the clicker, if anything. */
  stop(input: { actor: Actor; sessionId: string }): Promise<CommandReply | undefined>;
  /** Values for an option being typed (Discord's autocomplete). */
  suggest(input: SuggestInput): Promise<string[]>;
  /** A person's message in a thread or mentioning the bot (see chat-messages.ts); resolves to what to tell the author privately, if anything. */
  message(message: ChatMessage): Promise<CommandReply | undefined>;
  readonly failedNotice: string;
}

/** A file sent with a prompt: its bytes as a data: URL. */
export type PromptFile = { filename: string; mime: string; url: string };

/** Starting and steering sessions on one OpenCode server. Implemented in src/opencode over the SDK. */
export interface SessionApi {
  /** The agents a prompt may name (primary, not hidden), by name. */
  agents(directory: string): Promise<string[]>;
  /** Every model the server offers, as `provider/model`. */
  models(directory: string): Promise<string[]>;
  /** Creates a session in `directory`; returns its id. */
  createSession(directory: string, title: string): Promise<string>;
  /** Sends a prompt; OpenCode queues it while the session is busy. Throws OpencodeUnavailable when it was not taken. */
  sendPrompt(input: { directory: string; sessionId: string; text: string; agent?: string; model?: string; files?: PromptFile[] }): Promise<void>;
  abort(directory: string, sessionId: string): Promise<void>;
  /** Whether OpenCode still has the session (false once it is deleted, or its data lost). */
  sessionExists(directory: string, sessionId: string): Promise<boolean>;
  /** What the session has cost so far, in US dollars (its assistant messages' costs). */
  sessionCost(directory: string, sessionId: string): Promise<number>;
  /** The sessions of a directory that are working now. */
  busySessions(directory: string): Promise<Set<string>>;
  /** The session's last assistant message: its text, and its error if it failed. Undefined when it has none. */
  lastAnswer(directory: string, sessionId: string): Promise<{ text: string; error?: TurnError } | undefined>;
}

/** One OpenCode server as `/opencode status` shows it. */
export type ServerOverview = {
  url: string;
  reachable: boolean;
  version?: string;
  /** Its event stream: connecting, ready, reconnecting, stopped. */
  stream: string;
  approvals: number;
  questions: number;
  working: number;
  error?: string;
};

/** Why a turn did not finish: stopped by someone, or failed (a provider error, …). */
export type TurnError = { kind: "stopped" | "failed"; message: string };

export type PermissionReply = "once" | "always" | "reject";

/** The OpenCode server as the core sees it. Implemented in src/opencode over the SDK, with a timeout on every call. */
export interface OpencodeApi {
  /** Sends the one reply; throws NotFound when OpenCode no longer has the request, OpencodeUnavailable otherwise. */
  replyPermission(input: { directory: string; requestId: string; reply: PermissionReply; message?: string }): Promise<void>;
  /** Answers a question: one list of chosen (or typed) labels per question. Throws like replyPermission. */
  replyQuestion(input: { directory: string; requestId: string; answers: string[][] }): Promise<void>;
  /** Dismisses a question; the agent's run stops. Throws like replyPermission. */
  rejectQuestion(input: { directory: string; requestId: string }): Promise<void>;
  /** The session's title, or undefined when OpenCode does not know the session. */
  sessionTitle(directory: string, sessionId: string): Promise<string | undefined>;
  /** The tool call behind a permission request: its tool name and input as the model wrote them. */
  toolCall(
    directory: string,
    ref: { sessionId: string; messageId: string; callId: string },
  ): Promise<{ tool: string; args: Record<string, unknown> } | undefined>;
}
