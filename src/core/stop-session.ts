import { OpencodeUnavailable } from "./errors.ts";
import type { OwnedSession, OwnedSessionStore } from "./owned-sessions.ts";
import type { Actor, SessionApi } from "./ports.ts";
import type { ChatRef } from "./types.ts";

export type StopSessionDeps = {
  sessions: OwnedSessionStore;
  sessionApiFor(serverUrl: string): SessionApi;
  /** The approver check (anyone, where no list is set). */
  mayDecide(actor: Actor): Promise<boolean>;
  admins?: string[];
  /** Tells the session's status message who stopped it. */
  stoppedBy?(sessionId: string, name: string): void;
};

/**
 * Stops a session started from chat (the Stop button, or `/opencode stop` in its thread): for the one
 * who started it, the approvers and the admins. OpenCode then closes its pending cards as cancelled.
 * Resolves to what the person is told.
 */
export async function stopSession(deps: StopSessionDeps, actor: Actor, target: { sessionId: string } | { thread: ChatRef | undefined }): Promise<string> {
  const session =
    "sessionId" in target ? await deps.sessions.ownedSession(target.sessionId) : target.thread ? await deps.sessions.ownedByThread(actor.platform, target.thread) : undefined;
  if (!session) return "sessionId" in target ? "That session is not one started from chat." : "Type `/opencode stop` in the thread of a session started from chat.";
  if (!(await mayStop(deps, actor, session))) return `Only ${session.user.name}, who started this session, an approver or an admin may stop it, so it goes on.`;
  deps.stoppedBy?.(session.sessionId, actor.name);
  try {
    await deps.sessionApiFor(session.serverUrl).abort(session.directory, session.sessionId);
  } catch (error) {
    if (error instanceof OpencodeUnavailable) return `OpenCode did not stop the session: ${error.message}`;
    throw error;
  }
  return "Stopped: the session's pending requests are cancelled.";
}

async function mayStop(deps: StopSessionDeps, actor: Actor, session: OwnedSession): Promise<boolean> {
  if (actor.platform === session.platform && actor.userId === session.user.id) return true;
  if (deps.admins?.includes(actor.userId)) return true;
  return deps.mayDecide(actor);
}
