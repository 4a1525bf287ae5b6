import type { GlobalEvent } from "@opencode-ai/sdk/v2";
import type { ApprovalEngine } from "../core/approval-engine.ts";
import type { Logger } from "../core/logger.ts";
import type { ApprovalStore } from "../core/store-port.ts";
import { OpencodeEventStream } from "./event-stream.ts";
import type { OpencodeGateway, OpencodeServer } from "./opencode-api.ts";

/** The first resync after an ask that could not be taken, and the longest wait between such resyncs. */
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 30_000;

/**
 * Feeds OpenCode's events to the approval engine and, after every (re)connect, re-reads the pending
 * permissions and questions in each directory the bot knows, because SSE has no replay.
 */
export function createOpencodeConnector(deps: {
  server: OpencodeServer;
  gateway: OpencodeGateway;
  engine: ApprovalEngine;
  store: ApprovalStore;
  logger: Logger;
  silenceMs?: number;
  /** While connected, re-read what is pending this often anyway: a safety net for an event that never came. */
  resyncEveryMs?: number;
  /** Every event, for the progress of sessions started from chat. */
  onProgress?: (directory: string, payload: GlobalEvent["payload"]) => void;
  /** Every event's directory, as it comes (which server a directory is on). */
  onEvent?: (directory: string) => void;
  /** Which of the directories the store knows are this server's; by default all are. */
  ownedAmong?: (directories: string[]) => Promise<string[]>;
  /** Directories to re-read besides those seen in events and stored (this server's projects). */
  moreDirectories?: () => Promise<string[]>;
  /** Each (re)connect, as it happens (before its re-read). */
  onConnect?: () => void;
  /** After each (re)connect's re-read: what else should look again at this server (sessions started from chat). */
  onConnectedResync?: () => Promise<void>;
}) {
  const { gateway, engine, store, logger } = deps;
  const directories = new Set<string>();

  function route(event: GlobalEvent): Promise<void> | undefined {
    const { directory, payload } = event;
    if (directory) deps.onEvent?.(directory);
    deps.onProgress?.(directory, payload);
    switch (payload.type) {
      case "permission.asked":
        directories.add(directory);
        return engine.handleAsked(directory, payload.properties).catch(retryLater);
      case "permission.replied":
        return engine.handleReplied(payload.properties);
      case "question.asked":
        directories.add(directory);
        return engine.handleQuestionAsked(directory, payload.properties).catch(retryLater);
      case "question.replied":
      case "question.rejected":
        return engine.handleQuestionClosed(payload.properties);
      case "session.status":
        if (payload.properties.status.type !== "idle") return undefined;
        return engine.handleSessionIdle(directory, payload.properties.sessionID);
      case "session.idle":
        return engine.handleSessionIdle(directory, payload.properties.sessionID);
      case "session.created":
      case "session.updated":
        gateway.noteSession(payload.properties.info);
        return undefined;
      case "message.part.updated":
        if (payload.properties.part.type === "tool") gateway.noteToolPart(payload.properties.part);
        return undefined;
      default:
        return undefined;
    }
  }

  async function resync(info: { first: boolean; outage: boolean; periodic?: boolean }): Promise<void> {
    const stored = [...(await store.knownDirectories()), ...((await deps.moreDirectories?.()) ?? [])];
    const owned = deps.ownedAmong ? await deps.ownedAmong(stored) : stored;
    const known = new Set([...directories, ...owned]);
    const goneReason = info.periodic
      ? "OpenCode no longer has this request, and no event said why"
      : info.first
        ? "OpenCode no longer had this request when the bot started (answered or dropped while the bot was offline)"
        : info.outage
          ? "OpenCode restarted, which drops every pending request"
          : "OpenCode no longer had this request after the bot reconnected (answered or dropped meanwhile)";
    for (const directory of known) {
      const listedAt = new Date();
      const [permissions, questions, busy] = await Promise.all([
        gateway.listPermissions(directory),
        gateway.listQuestions(directory),
        gateway.busySessions(directory),
      ]);
      await engine.reconcile({ directory, permissions, questions, busy, listedAt, goneReason });
    }
    logger.info({ directories: known.size }, "resynced pending permission requests");
  }

  const stream = new OpencodeEventStream({
    server: deps.server,
    logger,
    silenceMs: deps.silenceMs,
    onEvent: route,
    onConnected: async (info) => {
      deps.onConnect?.();
      await resync(info);
      await deps.onConnectedResync?.().catch((error: unknown) => logger.warn({ err: error }, "re-linking the sessions started from chat failed"));
    },
  });

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<boolean> | undefined;
  /** A resync now, unless one is under way (then that one); resolves to whether it went through. */
  const periodic = () => {
    if (stream.state !== "ready" || running) return running;
    running = resync({ first: false, outage: false, periodic: true })
      .then(() => true)
      .catch((error: unknown) => {
        logger.warn({ err: error }, "periodic resync failed; the next one tries again");
        return false;
      })
      .finally(() => (running = undefined));
    return running;
  };

  // An ask the bot could not take (its database failed) is still pending in OpenCode, which says it
  // once: a resync reads it again, soon and then less often while it fails, well before the periodic one.
  const retry: { timer?: NodeJS.Timeout; waitMs: number } = { waitMs: RETRY_FIRST_MS };
  let stopped = false;
  function retryLater(error: unknown): void {
    logger.error({ err: error }, "could not take a request OpenCode asked; a resync reads it again");
    if (retry.timer || stopped) return;
    retry.timer = setTimeout(async () => {
      retry.timer = undefined;
      const done = await periodic();
      retry.waitMs = done ? RETRY_FIRST_MS : Math.min(retry.waitMs * 2, RETRY_MAX_MS);
      if (done === false) retryLater(new Error("the resync after a failed ask failed too"));
    }, retry.waitMs);
    retry.timer.unref();
  }

  return {
    start() {
      stream.start();
      timer = setInterval(periodic, deps.resyncEveryMs ?? 60_000);
      timer.unref();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      clearTimeout(retry.timer);
      await stream.stop();
      await running;
    },
    /** Re-reads what is pending now (a chat platform reconnected, and may have missed card updates). */
    async resyncNow(): Promise<void> {
      await periodic();
    },
    get state() {
      return stream.state;
    },
  };
}
