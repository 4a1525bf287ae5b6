import type { ChatPlatform, ChatRef } from "./types.ts";

/**
 * A session started from chat: who started it, where, in which project. Its thread holds its cards,
 * its progress and its answers; a reply there is its next prompt.
 */
export type OwnedSession = {
  sessionId: string;
  serverUrl: string;
  directory: string;
  projectName: string;
  platform: ChatPlatform;
  /** Where the command was typed, and the thread opened there. */
  channel: ChatRef;
  thread: ChatRef;
  user: { id: string; name: string };
  prompt: string;
  agent?: string;
  model?: string;
  /** The message showing the current turn's progress, once posted. */
  statusRef?: ChatRef;
  state: "active" | "gone";
  createdAt: Date;
};

/** Persistence of sessions started from chat. Implemented in src/store over Drizzle. */
export interface OwnedSessionStore {
  /** Stores the session and its thread (in `threads` too, where its cards will go) in one transaction. */
  saveOwned(session: Omit<OwnedSession, "createdAt" | "state" | "statusRef"> & { title: string }): Promise<void>;
  ownedSession(sessionId: string): Promise<OwnedSession | undefined>;
  ownedByThread(platform: ChatPlatform, thread: ChatRef): Promise<OwnedSession | undefined>;
  /** The newest sessions first, of one project where given. */
  recentOwned(limit: number, projectName?: string): Promise<OwnedSession[]>;
  activeOwned(): Promise<OwnedSession[]>;
  setStatusRef(sessionId: string, ref: ChatRef | undefined): Promise<void>;
  markGone(sessionId: string): Promise<void>;
  /**
   * Records that the bot acts on a chat message (state `claimed`); false when it was recorded before
   * (a redelivery, or the same message as another event).
   */
  claimMessage(platform: ChatPlatform, message: ChatRef, context: { thread?: ChatRef; userName: string }): Promise<boolean>;
  /** What became of a claimed message: OpenCode took it, its author was told it was not, or told after a restart. */
  settleMessage(platform: ChatPlatform, message: ChatRef, state: "sent" | "failed" | "told"): Promise<void>;
  /** Messages claimed before `before` and never settled: the bot stopped while acting on them. */
  unsettledMessages(before: Date): Promise<Array<{ platform: ChatPlatform; message: ChatRef; thread?: ChatRef; userName: string }>>;
}
