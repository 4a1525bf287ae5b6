import type { Card } from "./card.ts";
import type { CardRef, SessionThread } from "./types.ts";

/** A chat platform as the core sees it. One factory per platform builds it (`createSlackAdapter`). */
export interface ChatAdapter {
  /** Connects (Socket Mode, gateway) or mounts its routes; resolves when it can post. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Posts the parent message of a session's thread; returns where later cards go. */
  openThread(session: { directory: string; sessionId: string; title: string }): Promise<Pick<SessionThread, "channel" | "threadTs">>;
  /** Posts a card into a thread; returns the reference `updateCard` takes. */
  postCard(thread: Pick<SessionThread, "channel" | "threadTs">, card: Card): Promise<CardRef>;
  /** Replaces a posted card's content in place. */
  updateCard(ref: CardRef, card: Card): Promise<void>;
  /**
   * Finds a card already in the thread whose reference line is `reference`: one posted just before a
   * crash, before its address was stored. Optional: without it such a card is posted again.
   */
  findCard?(thread: Pick<SessionThread, "channel" | "threadTs">, reference: string): Promise<CardRef | undefined>;
}

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
