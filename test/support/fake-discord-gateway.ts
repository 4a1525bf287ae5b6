import { randomBytes } from "node:crypto";
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";

type Json = Record<string, unknown>;

/** Gateway intent bits (Discord's "Gateway Intents" table) that this project's bots use or must not use. */
export const Intents = { Guilds: 1 << 0, GuildMembers: 1 << 1, GuildPresences: 1 << 8, GuildMessages: 1 << 9, MessageContent: 1 << 15 } as const;
/** The intents an application must have switched on in the developer portal, else IDENTIFY closes with 4014. */
export type PrivilegedIntent = "GuildMembers" | "GuildPresences" | "MessageContent";

export type GatewayIdentify = { token: string; intents: number; properties: unknown; shard?: unknown; compress?: unknown; at: number };
/** One WebSocket connection: the path it came to (`/gateway`, or `/resume` from READY's resume_gateway_url). */
export type GatewayConnection = { path: string; query: string; at: number; sessionId?: string; resumed?: boolean; closedWith?: number };
/** A dispatch (op 0) as sent to one session; `d` is what that session was sent. */
export type GatewayDispatch = { sessionId: string; s: number; t: string; d: unknown; at: number };
/** Dispatch data, or a function of the receiving session's intents (undefined: not sent to that session). */
export type DispatchData = Json | ((intents: number) => Json | undefined);

type Session = { id: string; intents: number; seq: number; backlog: GatewayDispatch[]; socket?: WebSocket };

export type GatewayHubOptions = {
  token: string;
  heartbeatIntervalMs: number;
  privilegedIntents: readonly PrivilegedIntent[];
  resumeUrl: string;
  /** READY's `d` for a new session, and the GUILD_CREATE payloads sent right after it. */
  readyPayloads(sessionId: string): { ready: Json; guilds: Json[] };
  onChange(): void;
};

export type GatewayHub = ReturnType<typeof attachGateway>;

const OPEN = 1;

/**
 * Serves Discord's gateway (v10, JSON text frames) on `server` at `/gateway` and `/resume`: HELLO,
 * IDENTIFY → READY + GUILD_CREATE, heartbeats, RESUME with replay of what the session missed, and
 * dispatches filtered by each session's intents. zlib-stream transport compression is refused at the
 * upgrade (HTTP 400, and a line in `problems`): discord.js asks for it only when zlib-sync is installed.
 */
export function attachGateway(server: Server, opts: GatewayHubOptions) {
  const wss = new WebSocketServer({ noServer: true });
  const sessions = new Map<string, Session>();
  const sockets = new Set<WebSocket>();
  const connections: GatewayConnection[] = [];
  const identifies: GatewayIdentify[] = [];
  const dispatches: GatewayDispatch[] = [];
  const problems: string[] = [];
  let heartbeats = 0;
  let peakSockets = 0;

  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? "/", "http://fake");
    const refuse = (status: string, why: string) => {
      problems.push(`${url.pathname}${url.search}: ${why}`);
      socket.end(`HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${why}`);
      opts.onChange();
    };
    if (url.pathname !== "/gateway" && url.pathname !== "/resume") return refuse("404 Not Found", "not a gateway path");
    if (url.searchParams.has("compress")) return refuse("400 Bad Request", "fake Discord: compress=zlib-stream is not supported (is zlib-sync installed?)");
    if ((url.searchParams.get("encoding") ?? "json") !== "json") return refuse("400 Bad Request", "fake Discord: only encoding=json");
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, { path: url.pathname, query: url.search, at: Date.now() }));
  });

  function onConnection(ws: WebSocket, conn: GatewayConnection): void {
    sockets.add(ws);
    peakSockets = Math.max(peakSockets, sockets.size);
    connections.push(conn);
    let session: Session | undefined;
    const send = (payload: Json) => ws.readyState === OPEN && ws.send(JSON.stringify(payload));
    // Recorded as sent: discord.js may act on the code before this side sees the close complete.
    const close = (code: number, reason: string) => {
      conn.closedWith = code;
      ws.close(code, reason);
    };
    ws.on("message", (raw) => {
      let msg: { op?: unknown; d?: unknown };
      try {
        msg = JSON.parse(raw.toString()) as typeof msg;
      } catch {
        return close(4002, "Error while decoding payload.");
      }
      const d = (msg.d ?? {}) as Json;
      if (msg.op === 1) {
        heartbeats += 1;
        send({ op: 11, d: null, s: null, t: null });
      } else if (msg.op === 2) {
        if (session) return close(4005, "Already authenticated.");
        if (d.token !== opts.token) return close(4004, "Authentication failed.");
        const intents = typeof d.intents === "number" ? d.intents : 0;
        identifies.push({ token: String(d.token), intents, properties: d.properties, shard: d.shard, compress: d.compress, at: Date.now() });
        const refused = (["GuildMembers", "GuildPresences", "MessageContent"] as const).filter((p) => intents & Intents[p] && !opts.privilegedIntents.includes(p));
        if (refused.length) return close(4014, "Disallowed intent(s).");
        session = { id: randomBytes(16).toString("hex"), intents, seq: 0, backlog: [], socket: ws };
        sessions.set(session.id, session);
        conn.sessionId = session.id;
        const { ready, guilds } = opts.readyPayloads(session.id);
        deliver(session, "READY", { ...ready, session_id: session.id, resume_gateway_url: opts.resumeUrl });
        if (intents & Intents.Guilds) for (const guild of guilds) deliver(session, "GUILD_CREATE", guild);
      } else if (msg.op === 6) {
        const found = sessions.get(String(d.session_id));
        if (!found || d.token !== opts.token) return void send({ op: 9, d: false, s: null, t: null });
        if (found.socket && found.socket !== ws) found.socket.close(4000, "Resumed elsewhere.");
        session = found;
        session.socket = ws;
        conn.sessionId = session.id;
        conn.resumed = true;
        const seq = typeof d.seq === "number" ? d.seq : 0;
        for (const missed of session.backlog) if (missed.s > seq) send({ op: 0, s: missed.s, t: missed.t, d: missed.d });
        deliver(session, "RESUMED", { _trace: ["fake-discord-gateway"] });
      } else if (!session) {
        close(4003, "Not authenticated.");
      } else if (msg.op !== 3 && msg.op !== 4 && msg.op !== 8) {
        close(4001, "Unknown opcode.");
      }
      opts.onChange();
    });
    ws.on("close", (code) => {
      sockets.delete(ws);
      conn.closedWith ??= code;
      if (session?.socket === ws) session.socket = undefined;
      // A client that closes with 1000/1001 ends its session; any other close keeps it resumable.
      if (session && (code === 1000 || code === 1001)) sessions.delete(session.id);
      opts.onChange();
    });
    send({ op: 10, d: { heartbeat_interval: opts.heartbeatIntervalMs, _trace: ["fake-discord-gateway"] }, s: null, t: null });
    opts.onChange();
  }

  /** Numbers the dispatch for `session`, keeps it for a later RESUME, and sends it if connected. */
  function deliver(session: Session, t: string, d: unknown): void {
    const entry: GatewayDispatch = { sessionId: session.id, s: ++session.seq, t, d, at: Date.now() };
    session.backlog.push(entry);
    if (session.backlog.length > 1_000) session.backlog.shift();
    dispatches.push(entry);
    if (session.socket?.readyState === OPEN) session.socket.send(JSON.stringify({ op: 0, s: entry.s, t, d }));
  }

  return {
    connections,
    identifies,
    dispatches,
    problems,
    get heartbeats() {
      return heartbeats;
    },
    /** Open sockets right now. */
    get openSockets() {
      return sockets.size;
    },
    /** The most sockets ever open at once (bot processes sharing one gateway lease: 1). */
    get peakSockets() {
      return peakSockets;
    },
    /** Sends event `t` to every live session that has `intent` (if given); disconnected ones get it on RESUME. */
    dispatch(t: string, data: DispatchData, intent?: number): void {
      for (const session of sessions.values()) {
        if (intent !== undefined && !(session.intents & intent)) continue;
        const d = typeof data === "function" ? data(session.intents) : data;
        if (d !== undefined) deliver(session, t, d);
      }
      opts.onChange();
    },
    /** Drops every connection (close `code`, or "destroy" for a dead TCP socket); sessions stay resumable. */
    drop(how: number | "destroy" = 4000): void {
      for (const ws of sockets) {
        if (how === "destroy") ws.terminate();
        else ws.close(how, "fake Discord dropped the connection");
      }
    },
    /** Sends op 7 RECONNECT, as Discord does before moving a session to another server. */
    requestReconnect(): void {
      for (const ws of sockets) ws.send(JSON.stringify({ op: 7, d: null, s: null, t: null }));
    },
    /** Sends op 9 INVALID_SESSION (resumable or not) to every connection. */
    invalidateSessions(resumable = false): void {
      for (const ws of sockets) ws.send(JSON.stringify({ op: 9, d: resumable, s: null, t: null }));
      if (!resumable) sessions.clear();
    },
    async close(): Promise<void> {
      for (const ws of sockets) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
