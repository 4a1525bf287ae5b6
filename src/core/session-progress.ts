import { Coalescer } from "./coalescer.ts";
import { KeyedQueue } from "./keyed-queue.ts";
import type { Logger } from "./logger.ts";
import type { OwnedSession, OwnedSessionStore } from "./owned-sessions.ts";
import type { ChatAdapter, SessionApi } from "./ports.ts";
import { planAnswer, progressView, type ProgressEvent, type Turn } from "./progress.ts";
import type { ChatRef } from "./types.ts";

/** Status messages are edited at most this often (per message). */
export const PROGRESS_INTERVAL_MS = 1_000;

type Tracked = {
  session: OwnedSession;
  turn: Turn;
  usage: Map<string, { tokens: number; cost: number }>;
  status?: Promise<ChatRef | undefined>;
  /** When the status message's post was done (0 for one posted before a restart). */
  postedAt: number;
  /** Posts the status message if the turn is still quiet after a while (see begin). */
  timer?: NodeJS.Timeout;
  /**
   * Whether the turn has shown an event of its own (a message, a tool, an error). OpenCode's busy
   * spells of its own bookkeeping show none, and get no status message and no answer.
   */
  active: boolean;
  begunAt: number;
};

/** A turn that shows nothing for this long still gets its status message ("Working"). */
const QUIET_TURN_MS = 1_500;

/**
 * The live progress of sessions started from chat: one status message per turn in the session's
 * thread, edited in place at most once a second whatever OpenCode streams, and the final answer (or
 * the error) posted when the turn ends. Events of one session are handled in order.
 */
export function createSessionProgress(deps: {
  sessions: OwnedSessionStore;
  adapters: ChatAdapter[];
  sessionApiFor(serverUrl: string): SessionApi;
  logger: Logger;
  now?: () => Date;
  intervalMs?: number;
}) {
  const { sessions, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const queue = new KeyedQueue();
  const owned = new Map<string, OwnedSession | undefined>();
  const turns = new Map<string, Tracked>();
  const interval = deps.intervalMs ?? PROGRESS_INTERVAL_MS;
  const updates = new Coalescer(interval, (sessionId, error) =>
    logger.warn({ err: error, sessionId }, "could not update the status message"),
  );

  async function ownedSession(sessionId: string): Promise<OwnedSession | undefined> {
    if (owned.has(sessionId)) return owned.get(sessionId);
    const found = await sessions.ownedSession(sessionId);
    owned.set(sessionId, found);
    return found;
  }

  const adapterOf = (session: OwnedSession) => deps.adapters.find((adapter) => adapter.platform === session.platform);

  function begin(session: OwnedSession): Tracked {
    const tracked: Tracked = { session, turn: { state: "working", files: [], tokens: 0, cost: 0, startedAt: now() }, usage: new Map(), postedAt: 0, active: false, begunAt: Date.now() };
    turns.set(session.sessionId, tracked);
    updates.touch(session.sessionId);
    // A status message on record is a turn that began before a restart: it goes on in that message.
    // Else it is posted once the turn shows something, or stays busy a while: OpenCode's brief busy
    // spells after a turn (its own bookkeeping) get none.
    if (session.statusRef) tracked.status = Promise.resolve(session.statusRef);
    else {
      tracked.timer = setTimeout(() => void queue.run(session.sessionId, async () => void (turns.get(session.sessionId) === tracked && tracked.active && ensurePosted(tracked))), QUIET_TURN_MS);
      tracked.timer.unref();
    }
    return tracked;
  }

  /** Posts the turn's status message unless it is posted (or being posted) already. */
  function ensurePosted(tracked: Tracked): void {
    clearTimeout(tracked.timer);
    tracked.status ??= post(tracked.session, tracked);
  }

  function post(session: OwnedSession, tracked: Tracked): Promise<ChatRef | undefined> {
    const adapter = adapterOf(session);
    if (!adapter) return Promise.resolve(undefined);
    return adapter
      .postProgress(session.thread, progressView(session.sessionId, tracked.turn, now()))
      .then(async (ref) => {
        updates.touch(session.sessionId);
        tracked.postedAt = Date.now();
        owned.set(session.sessionId, { ...session, statusRef: ref });
        await sessions.setStatusRef(session.sessionId, ref);
        return ref;
      })
      .catch((error: unknown) => {
        logger.error({ err: error, sessionId: session.sessionId }, "could not post the status message");
        return undefined;
      });
  }

  function refresh(tracked: Tracked): void {
    const { session } = tracked;
    if (!tracked.status) return;
    updates.schedule(session.sessionId, async () => {
      const ref = await tracked.status;
      // An update that waited for a slow post (a rate limiter's queue) still comes a second after it.
      const early = tracked.postedAt + interval - Date.now();
      if (early > 0) await new Promise((resolve) => setTimeout(resolve, early));
      if (ref) await adapterOf(session)?.updateProgress(ref, progressView(session.sessionId, tracked.turn, now()));
    });
  }

  async function end(tracked: Tracked): Promise<void> {
    const { session, turn } = tracked;
    turns.delete(session.sessionId);
    const answer = await deps
      .sessionApiFor(session.serverUrl)
      .lastAnswer(session.directory, session.sessionId)
      .catch((error: unknown) => {
        logger.warn({ err: error, sessionId: session.sessionId }, "could not read the turn's answer");
        return undefined;
      });
    // OpenCode says why a turn failed (session.error) before it goes idle; the message's own error may come after.
    const error = turn.stoppedBy ? { kind: "stopped" as const, message: "stopped" } : turn.error ? { kind: "failed" as const, message: turn.error } : answer?.error;
    turn.endedAt = now();
    turn.retry = undefined;
    turn.state = error?.kind === "stopped" ? "stopped" : error ? "error" : "idle";
    turn.error = error?.kind === "failed" ? error.message : undefined;
    clearTimeout(tracked.timer);
    if (tracked.status) refresh(tracked);
    // A turn that never showed its status gets it now, already final, if it has anything to say.
    else if (turn.state !== "idle" || (tracked.active && answer?.text)) ensurePosted(tracked);
    await tracked.status;
    await updates.flush(session.sessionId);
    const adapter = adapterOf(session);
    if (adapter && turn.state === "error") await adapter.postAnswer(session.thread, { messages: [`The turn failed: ${turn.error}`] }, "error");
    else if (adapter && turn.state === "idle" && answer?.text && (tracked.active || tracked.session.statusRef)) {
      await adapter.postAnswer(session.thread, planAnswer(answer.text, adapter.limits.message, `answer-${session.sessionId}.md`), "answer");
    }
    // Cleared once the turn's end is shown: a status message still on record at start is a turn the bot did not see end.
    const { statusRef: _ended, ...rest } = owned.get(session.sessionId) ?? session;
    owned.set(session.sessionId, rest);
    await sessions.setStatusRef(session.sessionId, undefined);
  }

  /**
   * After a (re)connect to a server: its sessions started from chat are followed again. One OpenCode
   * no longer has is marked gone and its thread told; one whose turn ended while the bot was away
   * gets that turn's end (status and answer); one still working goes on in its status message.
   */
  async function relink(serverUrl: string): Promise<void> {
    for (const session of await sessions.activeOwned()) {
      if (session.serverUrl !== serverUrl) continue;
      await queue.run(session.sessionId, () => relinkOne(session));
    }
  }

  async function relinkOne(listed: OwnedSession): Promise<void> {
    // Events may have reached the session since the list was read (a click right after the start,
    // a turn that went on and ended): what they left stands, not the list's older copy.
    const session = owned.get(listed.sessionId) ?? listed;
    owned.set(session.sessionId, session);
    const api = deps.sessionApiFor(session.serverUrl);
    if (!(await api.sessionExists(session.directory, session.sessionId))) {
      await sessions.markGone(session.sessionId);
      owned.set(session.sessionId, { ...session, state: "gone" });
      const note = "OpenCode no longer has this session (it was deleted, or the server lost its data), so messages here go nowhere. Start a new one with /opencode.";
      await adapterOf(session)?.postAnswer(session.thread, { messages: [note] }, "error");
      return;
    }
    if (turns.has(session.sessionId) || !session.statusRef) return;
    const tracked = begin(session);
    const busy = await api.busySessions(session.directory);
    if (busy.has(session.sessionId)) refresh(tracked);
    else await end(tracked);
  }

  async function apply(event: ProgressEvent): Promise<void> {
    const session = await ownedSession(event.sessionId);
    if (!session) return;
    let tracked = turns.get(event.sessionId);
    if (event.type === "idle") {
      if (tracked) await end(tracked);
      return;
    }
    // A turn begins when OpenCode says the session is busy; what comes after its end (a late error) is
    // not a new turn. One with a status message on record is a turn going on across a restart: its
    // events may come before the relink (a click right after the start), and they are its own.
    if (!tracked && event.type !== "busy" && !session.statusRef) return;
    tracked ??= begin(session);
    const { turn } = tracked;
    switch (event.type) {
      case "busy":
        if (turn.retry === undefined) return;
        turn.retry = undefined;
        break;
      case "retry":
        turn.retry = { attempt: event.attempt, message: event.message };
        break;
      case "usage": {
        tracked.usage.set(event.messageId, { tokens: event.tokens, cost: event.cost });
        turn.tokens = [...tracked.usage.values()].reduce((sum, u) => sum + u.tokens, 0);
        turn.cost = [...tracked.usage.values()].reduce((sum, u) => sum + u.cost, 0);
        break;
      }
      case "tool":
        turn.tool = { name: event.name, ...(event.title ? { title: event.title } : {}) };
        if (event.file && !turn.files.includes(event.file)) turn.files.push(event.file);
        break;
      case "files":
        for (const file of event.files) if (!turn.files.includes(file)) turn.files.push(file);
        break;
      case "waiting":
        turn.state = event.on;
        break;
      case "resumed":
        turn.state = "working";
        break;
      case "error":
        if (event.error.kind === "failed") turn.error = event.error.message;
        break;
    }
    tracked.active = true;
    // A message just begun (no tokens yet) is not yet something to show, unless the turn has been quiet a while.
    if (event.type !== "usage" || turn.tokens > 0 || Date.now() - tracked.begunAt >= QUIET_TURN_MS) ensurePosted(tracked);
    refresh(tracked);
  }

  return {
    /** An event of any session; only those started from chat are followed. */
    handle(event: ProgressEvent): Promise<void> {
      return queue.run(event.sessionId, () => apply(event)).catch((error: unknown) => {
        logger.error({ err: error, sessionId: event.sessionId }, "following a session's progress failed");
      });
    },

    relink,

    /** A session just started from chat: follow it from its first event. */
    adopt(session: OwnedSession): void {
      owned.set(session.sessionId, session);
    },

    /** Someone stopped the session: its status message says who. */
    stoppedBy(sessionId: string, name: string): void {
      const tracked = turns.get(sessionId);
      if (tracked) tracked.turn.stoppedBy = name;
    },

    /** Resolves when every event handed over so far has been handled. */
    idle: () => queue.idle(),
  };
}

export type SessionProgress = ReturnType<typeof createSessionProgress>;
