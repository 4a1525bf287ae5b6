import type { OwnedSessionStore } from "./owned-sessions.ts";
import type { Actor, PromptFile, SessionApi } from "./ports.ts";
import { startSession, type StartSessionDeps } from "./start-session.ts";
import type { ChatRef } from "./types.ts";

/** A person's message the adapter saw: in a thread, or mentioning the bot. Bots' messages and edits never come here. */
export type ChatMessage = {
  actor: Actor;
  channel: ChatRef;
  /** The thread it was posted in, as the adapter encodes threads it opened. */
  thread?: ChatRef;
  /** The message itself, to act on it once however often the platform delivers it. */
  message: ChatRef;
  /** The text with the bot's mention taken out. */
  text: string;
  mentioned: boolean;
  /** Its attachments as file parts; read only when the message becomes a prompt. */
  files(): Promise<PromptFile[]>;
};

export type ChatMessageDeps = StartSessionDeps & { sessions: OwnedSessionStore; sessionApiFor(serverUrl: string): SessionApi };

/**
 * A message in a session's thread is that session's next prompt (OpenCode queues it while the
 * session is busy); a mention elsewhere starts a session in the channel's default project. Anything
 * else is not for the bot. Resolves to what to tell the author privately, if anything.
 */
export async function onChatMessage(deps: ChatMessageDeps, message: ChatMessage): Promise<string | undefined> {
  const owned = message.thread ? await deps.sessions.ownedByThread(message.actor.platform, message.thread) : undefined;
  if (!owned && !message.mentioned) return undefined;
  if (!(await deps.sessions.claimMessage(message.actor.platform, message.message))) return undefined;
  if (!owned) {
    if (message.text.trim() === "") return "Mention me with what to do, e.g. “@opencode fix the failing test”.";
    return startSession(deps, message.actor, message.channel, { name: "run", prompt: message.text.trim() });
  }
  if (owned.state === "gone") return "OpenCode no longer has this session, so your message was not sent. Start a new one with /opencode.";
  const files = await message.files();
  if (message.text.trim() === "" && files.length === 0) return undefined;
  try {
    await deps.sessionApiFor(owned.serverUrl).sendPrompt({
      directory: owned.directory,
      sessionId: owned.sessionId,
      text: message.text.trim() === "" ? "See the attached files." : message.text,
      ...(owned.agent ? { agent: owned.agent } : {}),
      ...(owned.model ? { model: owned.model } : {}),
      files,
    });
  } catch (error) {
    return `OpenCode did not take your message, so it was not sent: ${(error as Error).message}`;
  }
  return undefined;
}
