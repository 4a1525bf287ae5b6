import type { Logger } from "./logger.ts";
import type { OwnedSessionStore } from "./owned-sessions.ts";
import type { ProjectStore } from "./projects.ts";
import type { ChatPlatform } from "./types.ts";

/** A completed assistant message as OpenCode reports it: its final cost and tokens. */
export type CompletedMessage = {
  messageId: string;
  sessionId: string;
  directory: string;
  providerId: string;
  modelId: string;
  agent?: string;
  cost: number;
  tokens: { input: number; output: number; reasoning: number; cacheRead: number; cacheWrite: number };
  completedAt: Date;
};

/** A ledger row: the message and what it is attributed to (no `user` for a session started outside chat). */
export type LedgerEntry = CompletedMessage & {
  serverUrl: string;
  projectName?: string;
  user?: { platform: ChatPlatform; id: string; name: string };
};

/** Persistence of the ledger. Implemented in src/store over Drizzle. */
export interface LedgerStore {
  /** Adds the entry unless its message id is there already; true when this call added it. */
  record(entry: LedgerEntry): Promise<boolean>;
  /** Entries completed in [from, to), oldest first; of one project where given. */
  entries(range: { from: Date; to: Date }, projectName?: string): Promise<LedgerEntry[]>;
  /** The cost of the entries completed in [from, to) of one project, summed by the database. */
  costOf(range: { from: Date; to: Date }, projectName: string): Promise<number>;
  /** The newest completion recorded for a server, if any. */
  lastCompletedAt(serverUrl: string): Promise<Date | undefined>;
}

/** Where a server's past messages are read, for the backfill. */
export interface CostSource {
  /** Sessions of a directory updated at or after `since`. */
  sessionsUpdatedSince(directory: string, since: Date): Promise<string[]>;
  /** A session's completed assistant messages. */
  completedMessages(directory: string, sessionId: string): Promise<CompletedMessage[]>;
}

/** How far back a first backfill looks, and how much before the newest recorded message a later one starts. */
const FIRST_BACKFILL_MS = 24 * 3_600_000;
const BACKFILL_OVERLAP_MS = 10 * 60_000;

/**
 * The cost ledger: every completed assistant message recorded once, attributed to its server,
 * project, session, model, agent and the chat user who owns the session (or none: outside chat).
 */
export function createLedger(deps: {
  store: LedgerStore;
  sessions: OwnedSessionStore;
  projects: ProjectStore;
  sourceFor(serverUrl: string): CostSource;
  logger: Logger;
  now?: () => Date;
}) {
  const now = deps.now ?? (() => new Date());

  async function attribute(serverUrl: string, message: CompletedMessage): Promise<LedgerEntry> {
    const owned = await deps.sessions.ownedSession(message.sessionId);
    const project = owned ? owned.projectName : (await deps.projects.listProjects()).find((p) => p.directory === message.directory && (p.serverUrl ?? serverUrl) === serverUrl)?.name;
    return {
      ...message,
      serverUrl,
      ...(project ? { projectName: project } : {}),
      ...(owned ? { user: { platform: owned.platform, id: owned.user.id, name: owned.user.name } } : {}),
    };
  }

  return {
    /** A message OpenCode just reported completed (live): recorded unless it is already; resolves to the entry when this call added it. */
    async completed(serverUrl: string, message: CompletedMessage): Promise<LedgerEntry | undefined> {
      const entry = await attribute(serverUrl, message);
      return (await deps.store.record(entry)) ? entry : undefined;
    },

    /**
     * After a (re)connect or a start: the messages completed while the stream was down, read from
     * OpenCode for the sessions updated since the newest recorded one (with some overlap; a first
     * backfill looks a day back). Resolves to how many were added.
     */
    async backfill(serverUrl: string, directories: string[]): Promise<number> {
      const last = await deps.store.lastCompletedAt(serverUrl);
      const since = last ? new Date(last.getTime() - BACKFILL_OVERLAP_MS) : new Date(now().getTime() - FIRST_BACKFILL_MS);
      const source = deps.sourceFor(serverUrl);
      let added = 0;
      for (const directory of directories) {
        for (const sessionId of await source.sessionsUpdatedSince(directory, since)) {
          for (const message of await source.completedMessages(directory, sessionId)) {
            if (await deps.store.record(await attribute(serverUrl, message))) added++;
          }
        }
      }
      if (added > 0) deps.logger.info({ serverUrl, added }, "backfilled the cost ledger");
      return added;
    },
  };
}

export type Ledger = ReturnType<typeof createLedger>;
