import { randomBytes, randomUUID } from "node:crypto";
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";

/** Envelope types Slack uses on a Socket Mode connection for the payloads this project handles. */
export type SocketEnvelopeType = "interactive" | "slash_commands" | "events_api";

/** What the app sends back for an envelope: `{ envelope_id, payload? }`. */
export type SocketAck = { envelope_id: string; payload?: Record<string, unknown> };

/**
 * `retryAttempt`/`retryReason` go on events_api envelopes only: Slack sends 0 and "" on a first
 * delivery (SocketModeClient hands them to Bolt as `context.retryNum`/`retryReason`).
 */
export type SocketSendOptions = { timeoutMs?: number; acceptsResponsePayload?: boolean; retryAttempt?: number; retryReason?: string };

export type SocketModeHub = {
  /** A fresh single-use URL for apps.connections.open, like `wss://wss-primary.slack.com/link/?ticket=…`. */
  issueUrl(): string;
  /** Open connections, oldest first. */
  readonly sockets: readonly WebSocket[];
  /** Every ack received, in order. */
  readonly acks: readonly SocketAck[];
  /** Sends one envelope to the newest connection and resolves with the app's ack for it. */
  send(type: SocketEnvelopeType, payload: Record<string, unknown>, opts?: SocketSendOptions): Promise<SocketAck>;
  /** Sends `{type: "disconnect", reason}` as Slack does before recycling a connection. */
  disconnect(reason?: "refresh_requested" | "warning" | "link_disabled"): void;
  close(): Promise<void>;
};

/**
 * Serves Socket Mode on `server` (path `/link/`): the upgrade needs a ticket minted by `issueUrl()`,
 * then the client gets `hello`, envelopes, and its acks are matched back by `envelope_id`.
 */
export function attachSocketMode(
  server: Server,
  opts: { appId: string; baseUrl: () => string; onChange: () => void },
): SocketModeHub {
  const wss = new WebSocketServer({ noServer: true });
  const tickets = new Set<string>();
  const sockets: WebSocket[] = [];
  const acks: SocketAck[] = [];
  const pending = new Map<string, (ack: SocketAck) => void>();

  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? "/", "http://fake");
    const ticket = url.searchParams.get("ticket") ?? "";
    if (url.pathname !== "/link/" || !tickets.delete(ticket)) {
      socket.end("HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws));
  });

  function onConnection(ws: WebSocket): void {
    sockets.push(ws);
    ws.on("message", (data) => onAck(data.toString()));
    ws.on("close", () => {
      sockets.splice(sockets.indexOf(ws), 1);
      opts.onChange();
    });
    ws.send(
      JSON.stringify({
        type: "hello",
        num_connections: sockets.length,
        debug_info: { host: "applink-fake-1", build_number: 1, approximate_connection_time: 18060 },
        connection_info: { app_id: opts.appId },
      }),
    );
    opts.onChange();
  }

  function onAck(text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof message !== "object" || message === null || !("envelope_id" in message)) return;
    const ack = message as SocketAck;
    acks.push(ack);
    pending.get(ack.envelope_id)?.(ack);
    pending.delete(ack.envelope_id);
    opts.onChange();
  }

  return {
    issueUrl() {
      const ticket = randomUUID();
      tickets.add(ticket);
      return `${opts.baseUrl()}/link/?ticket=${ticket}&app_id=${opts.appId}`;
    },
    sockets,
    acks,
    send(type, payload, { timeoutMs = 5_000, acceptsResponsePayload = type !== "events_api", retryAttempt = 0, retryReason = "" } = {}) {
      const ws = sockets.at(-1);
      if (!ws) return Promise.reject(new Error("fake Slack: no Socket Mode client is connected"));
      const envelope_id = `${randomUUID()}`;
      const envelope: Record<string, unknown> = { envelope_id, type, payload, accepts_response_payload: acceptsResponsePayload };
      if (type === "events_api") Object.assign(envelope, { retry_attempt: retryAttempt, retry_reason: retryReason });
      return new Promise<SocketAck>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(envelope_id);
          reject(new Error(`fake Slack: no ack for ${type} envelope ${envelope_id} within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(envelope_id, (ack) => {
          clearTimeout(timer);
          resolve(ack);
        });
        ws.send(JSON.stringify(envelope));
      });
    },
    disconnect(reason = "refresh_requested") {
      const debug_info = { host: `applink-fake-${randomBytes(2).toString("hex")}` };
      for (const ws of sockets) ws.send(JSON.stringify({ type: "disconnect", reason, debug_info }));
    },
    async close() {
      // Finish close handshakes (Bolt's stop() starts one without awaiting it) before cutting sockets.
      const closing = [...sockets].map(
        (ws) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => ws.terminate(), 1_000);
            ws.once("close", () => {
              clearTimeout(timer);
              resolve();
            });
            if (ws.readyState === ws.OPEN) ws.close(1001, "fake Slack shutting down");
          }),
      );
      await Promise.all(closing);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
