import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "./core/logger.ts";

export type Route = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** The bot's one HTTP port: `GET /healthz`, Slack's `POST /slack/events`, and whatever else is mounted. */
export function createHttpServer(routes: Record<string, Route>, logger: Logger): Server {
  return createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const key = `${req.method} ${path}`;
    const route = routes[key];
    if (!route) {
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "not_found", path }));
      return;
    }
    Promise.resolve(route(req, res)).catch((error: unknown) => {
      logger.error({ err: error, route: key }, "HTTP handler failed");
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "internal_error" }));
    });
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}
