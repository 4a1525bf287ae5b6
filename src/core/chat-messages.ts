import type { OwnedSessionStore } from "./owned-sessions.ts";
import type { Actor, ChatAdapter, PromptFile, SessionApi } from "./ports.ts";
import type { PermissionRecord } from "./types.ts";
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
  const { platform } = message.actor;
  if (!(await deps.sessions.claimMessage(platform, message.message, { thread: message.thread, userName: message.actor.name }))) return undefined;
  const settle = (state: "sent" | "failed") => deps.sessions.settleMessage(platform, message.message, state);
  if (!owned) {
    const start = message.text.trim() === "" ? { started: false, text: "Mention me with what to do, e.g. “@opencode fix the failing test”." } : await startSession(deps, message.actor, message.channel, { name: "run", prompt: message.text.trim() });
    await settle(start.started ? "sent" : "failed");
    return start.text;
  }
  if (owned.state === "gone") {
    await settle("failed");
    return "OpenCode no longer has this session, so your message was not sent. Start a new one with /opencode.";
  }
  const files = await message.files();
  if (message.text.trim() === "" && files.length === 0) return void (await settle("sent"));
  const over = await deps.overBudget?.(owned.projectName);
  if (over && deps.holdPrompt) {
    await deps.holdPrompt({ directory: owned.directory, sessionId: owned.sessionId, prompt: message.text, reason: over, by: message.actor.name, files });
    await settle("sent");
    return `Your message waits for an approver's OK in the thread: ${over}.`;
  }
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
    await settle("failed");
    return `OpenCode did not take your message, so it was not sent: ${(error as Error).message}`;
  }
  await settle("sent");
  return undefined;
}

/**
 * A held prompt was decided: approved once, it goes to its session now (as it would have); rejected,
 * it stays unsent and its card says so.
 */
export async function releaseHeld(deps: { sessions: OwnedSessionStore; sessionApiFor(serverUrl: string): SessionApi; adapters: ChatAdapter[] }, record: PermissionRecord): Promise<void> {
  if (record.state !== "approved_once") return;
  const owned = await deps.sessions.ownedSession(record.sessionId);
  if (!owned) return;
  const prompt = typeof record.metadata.prompt === "string" ? record.metadata.prompt : "";
  const files = Array.isArray(record.metadata.files) ? (record.metadata.files as PromptFile[]) : [];
  try {
    await deps.sessionApiFor(owned.serverUrl).sendPrompt({
      directory: owned.directory,
      sessionId: owned.sessionId,
      text: prompt.trim() === "" ? "See the attached files." : prompt,
      ...(owned.agent ? { agent: owned.agent } : {}),
      ...(owned.model ? { model: owned.model } : {}),
      files,
    });
  } catch (error) {
    const note = `The prompt approved over budget could not be sent: ${(error as Error).message}`;
    await deps.adapters.find((a) => a.platform === owned.platform)?.postAnswer(owned.thread, { messages: [note] }, "error");
  }
}

/** A message claimed this long ago and never settled was being handled by a bot that stopped. */
export const UNSETTLED_AFTER_MS = 60_000;

/**
 * After a restart: each message the bot had taken but not settled (it stopped between taking it and
 * OpenCode's answer) is named in its thread, so its author knows to send it again if need be.
 */
export async function tellUnsettled(deps: { sessions: OwnedSessionStore; adapters: ChatAdapter[] }, now = new Date()): Promise<number> {
  const unsettled = await deps.sessions.unsettledMessages(new Date(now.getTime() - UNSETTLED_AFTER_MS));
  for (const entry of unsettled) {
    const adapter = deps.adapters.find((candidate) => candidate.platform === entry.platform);
    if (adapter && entry.thread) {
      const note = `The bot restarted while it was sending a message from ${entry.userName} to OpenCode, which may not have it: if the session does not answer it, send it again.`;
      await adapter.postAnswer(entry.thread, { messages: [note] }, "error");
    }
    await deps.sessions.settleMessage(entry.platform, entry.message, "told");
  }
  return unsettled.length;
}
