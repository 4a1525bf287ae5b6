import type { GlobalEvent } from "@opencode-ai/sdk/v2";
import { setTimeout as delay } from "node:timers/promises";
import type { ApprovalEngine } from "../core/approval-engine.ts";
import type { Logger } from "../core/logger.ts";
import type { OpencodeApi, ServerOverview } from "../core/ports.ts";
import { QUESTION } from "../core/types.ts";
import type { ProjectStore } from "../core/projects.ts";
import type { ApprovalStore } from "../core/store-port.ts";
import type { Lease } from "../store/database.ts";
import { createOpencodeConnector } from "./connector.ts";
import { createOpencodeGateway, type OpencodeGateway, type OpencodeServer } from "./opencode-api.ts";

type Connector = ReturnType<typeof createOpencodeConnector>;
/** One followed server: its lease here, and its connector while the lease is held. */
type Followed = { lease: "asking" | "held" | "standby"; connector?: Connector; loop?: Promise<void> };

/** How often a process without a server's lease asks for it (the takeover time when its holder dies). */
const LEASE_RETRY_MS = 1000;

/**
 * Every OpenCode server the bot talks to: OPENCODE_URL and each server a project names, one gateway
 * and one event stream (connector) each, all feeding the one engine. A directory belongs to the
 * server whose events named it, else to the server of the project it is, else to OPENCODE_URL; the
 * engine's replies go there, and each connector re-reads only its own directories.
 */
export function createOpencodeServers(deps: {
  base: OpencodeServer;
  projects: ProjectStore;
  store: ApprovalStore;
  /** The log of one server's stream. */
  loggerFor(url: string): Logger;
  silenceMs?: number;
  onProgress?: (url: string, directory: string, payload: GlobalEvent["payload"]) => void;
  /** Each (re)connect to a server, as it happens. */
  onConnect?: (url: string) => void;
  /** After each (re)connect to a server and its re-read, with the directories that are that server's. */
  onConnected?: (url: string, directories: string[]) => Promise<void>;
  /** One lease per server, so that of several bot processes on one database exactly one follows each stream. */
  leases: { tryLease(name: string): Promise<Lease | undefined> };
}) {
  const gateways = new Map<string, OpencodeGateway>();
  const followed = new Map<string, Followed>();
  const stopping = new AbortController();
  const stopped = new Promise<void>((resolve) => stopping.signal.addEventListener("abort", () => resolve(), { once: true }));
  /** Directory → server, from the events each stream carried. */
  const seen = new Map<string, string>();
  let engine: ApprovalEngine | undefined;
  let started = false;

  function gatewayFor(url: string): OpencodeGateway {
    let found = gateways.get(url);
    if (!found) gateways.set(url, (found = createOpencodeGateway({ ...deps.base, url })));
    return found;
  }

  /** The server of each directory, the projects read once for all of them. */
  async function serversOf(directories: string[]): Promise<Map<string, string>> {
    const projects = await deps.projects.listProjects();
    return new Map(
      directories.map((directory) => [directory, seen.get(directory) ?? projects.find((p) => p.directory === directory && p.serverUrl)?.serverUrl ?? deps.base.url]),
    );
  }

  // A directory whose events a stream carried is that server's (as in serversOf): no projects to read.
  const serverOf = async (directory: string): Promise<string> => seen.get(directory) ?? (await serversOf([directory])).get(directory)!;

  /** The engine's OpenCode: each call goes to the server of the request's directory. */
  const api: OpencodeApi = {
    replyPermission: async (input) => (await gatewayOf(input.directory)).replyPermission(input),
    replyQuestion: async (input) => (await gatewayOf(input.directory)).replyQuestion(input),
    rejectQuestion: async (input) => (await gatewayOf(input.directory)).rejectQuestion(input),
    sessionTitle: async (directory, sessionId) => (await gatewayOf(directory)).sessionTitle(directory, sessionId),
    toolCall: async (directory, ref) => (await gatewayOf(directory)).toolCall(directory, ref),
  };
  const gatewayOf = async (directory: string) => gatewayFor(await serverOf(directory));

  /** The directories the bot knows (requests, threads, projects) that are `url`'s. */
  async function directoriesOf(url: string): Promise<string[]> {
    return directoriesByServer().then((byServer) => byServer.get(url) ?? []);
  }

  /** Every directory the bot knows (requests, threads, costs, projects, events), grouped by server. */
  async function directoriesByServer(): Promise<Map<string, string[]>> {
    const known = [...new Set([...(await deps.store.knownDirectories()), ...(await deps.projects.listProjects()).map((p) => p.directory), ...seen.keys()])];
    const byServer = new Map<string, string[]>();
    for (const [directory, url] of await serversOf(known)) byServer.set(url, [...(byServer.get(url) ?? []), directory]);
    return byServer;
  }

  /** A new connector for `url`'s stream (made afresh each time this process takes the lease). */
  function connectorFor(url: string): Connector {
    if (!engine) throw new Error("attach the engine before following a server");
    return createOpencodeConnector({
      server: { ...deps.base, url },
      gateway: gatewayFor(url),
      engine,
      store: deps.store,
      logger: deps.loggerFor(url),
      silenceMs: deps.silenceMs,
      onEvent: (directory) => void seen.set(directory, url),
      onProgress: (directory, payload) => deps.onProgress?.(url, directory, payload),
      ownedAmong: async (directories) => [...(await serversOf(directories))].filter(([, server]) => server === url).map(([directory]) => directory),
      onConnect: () => deps.onConnect?.(url),
      onConnectedResync: async () => deps.onConnected?.(url, await directoriesOf(url)),
      moreDirectories: async () => (await deps.projects.listProjects()).filter((p) => (p.serverUrl ?? deps.base.url) === url).map((p) => p.directory),
    });
  }

  /**
   * Starts following `url` (once), if the servers are started: whenever this process holds the
   * server's lease, its stream is followed here; otherwise another process follows it, and this
   * one tries again every LEASE_RETRY_MS to take over when that one dies.
   */
  function follow(url: string): Followed {
    const existing = followed.get(url);
    if (existing) return existing;
    const entry: Followed = { lease: "asking" };
    followed.set(url, entry);
    if (started) entry.loop = holdLease(url, entry);
    return entry;
  }

  async function holdLease(url: string, entry: Followed): Promise<void> {
    const logger = deps.loggerFor(url);
    while (!stopping.signal.aborted) {
      const lease = await deps.leases.tryLease(`opencode-stream:${url}`).catch((error: unknown) => {
        logger.warn({ err: error }, "could not ask for the stream's lease; trying again");
        return undefined;
      });
      if (lease && stopping.signal.aborted) await lease.release();
      if (stopping.signal.aborted) break;
      if (!lease) {
        entry.lease = "standby";
        await delay(LEASE_RETRY_MS, undefined, { signal: stopping.signal }).catch(() => undefined);
        continue;
      }
      const connector = (entry.connector = connectorFor(url));
      entry.lease = "held";
      logger.info({ url }, "this process holds the stream's lease: following it");
      connector.start();
      const lost = await Promise.race([lease.lost.then(() => true), stopped.then(() => false)]);
      if (lost) logger.warn({ url }, "the stream's lease was lost (database connection); following it stops until the lease is held again");
      entry.lease = "standby";
      await connector.stop();
      entry.connector = undefined;
      await lease.release();
    }
  }

  return {
    api,
    gatewayFor,
    /** The engine the streams feed; set once, before start. */
    attach(approvalEngine: ApprovalEngine) {
      engine = approvalEngine;
    },
    /** Follows OPENCODE_URL and every server a project names. */
    async start() {
      follow(deps.base.url);
      for (const project of await deps.projects.listProjects()) if (project.serverUrl) follow(project.serverUrl);
      started = true;
      for (const [url, entry] of followed) entry.loop ??= holdLease(url, entry);
    },
    /** A project naming a server not followed yet (just added): its stream starts now. */
    follow: (url: string) => void follow(url),
    async stop() {
      stopping.abort();
      await Promise.all([...followed.values()].map((entry) => entry.loop));
    },
    async resyncNow() {
      await Promise.all([...followed.values()].map((entry) => entry.connector?.resyncNow()));
    },
    /** Every followed server: reachable, its version, its stream, what is pending and working in its directories. */
    async overview(): Promise<ServerOverview[]> {
      const pending = await deps.store.pendingRequests();
      const byServer = await directoriesByServer();
      const serverOfPending = await serversOf([...new Set(pending.map((r) => r.directory))]);
      return Promise.all(
        [...followed].map(async ([url, entry]): Promise<ServerOverview> => {
          const stream = streamState(entry);
          const mine = byServer.get(url) ?? [];
          const waiting = pending.filter((r) => serverOfPending.get(r.directory) === url);
          const counts = { approvals: waiting.filter((r) => r.permission !== QUESTION).length, questions: waiting.filter((r) => r.permission === QUESTION).length };
          try {
            const gateway = gatewayFor(url);
            const version = await gateway.version();
            const busy = await Promise.all(mine.map((directory) => gateway.busySessions(directory).then((set) => set.size)));
            return { url, reachable: true, version, stream, ...counts, working: busy.reduce((a, b) => a + b, 0) };
          } catch (error) {
            return { url, reachable: false, stream, ...counts, working: 0, error: (error as Error).message };
          }
        }),
      );
    },
    /** Each server's stream state, by URL ("standby": another process holds its lease and follows it). */
    states: (): Record<string, string> => Object.fromEntries([...followed].map(([url, entry]) => [url, streamState(entry)])),
    /** OPENCODE_URL's stream state. */
    get baseState() {
      const entry = followed.get(deps.base.url);
      return entry ? streamState(entry) : "connecting";
    },
    /** Whether this process follows `url`'s stream now. */
    holdsLease: (url: string) => followed.get(url)?.lease === "held",
  };
}

function streamState(entry: Followed): string {
  return entry.connector?.state ?? (entry.lease === "standby" ? "standby" : "connecting");
}

export type OpencodeServers = ReturnType<typeof createOpencodeServers>;
