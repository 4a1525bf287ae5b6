/**
 * A stand-in for `opencode serve` that the bench drives faster than the real one can: `GET
 * /global/event` as OpenCode sends it (SSE `data:` lines of `{directory, project, payload}`,
 * `server.connected` first, shapes recorded from opencode-ai 1.18.33), and just enough of the API
 * for the bot to connect, resync and take requests: nothing pending, every session exists, and
 * the tool call behind each permission request it was sent. Counts the API requests by route.
 */
import { once } from "node:events";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { GlobalEvent } from "@opencode-ai/sdk/v2";
import { waitFor } from "../test/support/wait-for.ts";

export const FAKE_PROJECT_ID = "fb64b443f0b9d3f3f16afc0075cd1f62e085f81f";

export type FakeOpencode = Awaited<ReturnType<typeof startFakeOpencode>>;

/** One SSE frame of an event of `directory`, as `/global/event` sends it. */
export function frame(directory: string, payload: unknown): string {
  return `data: ${JSON.stringify({ directory, project: FAKE_PROJECT_ID, payload })}\n\n`;
}

export async function startFakeOpencode(directory: string) {
  const streams = new Set<ServerResponse>();
  const hits = new Map<string, { count: number; lastAt: number }>();
  /** messageID → the tool call a permission.asked named, for GET /session/:id/message/:messageID. */
  const toolCalls = new Map<string, { sessionID: string; callID: string; command: string }>();

  const json = (res: ServerResponse, body: unknown, status = 200) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  const session = (id: string) => ({
    id,
    slug: "bench",
    version: "1.18.33",
    projectID: FAKE_PROJECT_ID,
    directory,
    title: `bench ${id}`,
    time: { created: Date.now(), updated: Date.now() },
  });

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://fake");
    const parts = url.pathname.split("/").filter(Boolean);
    const route = url.pathname.replace(/\/ses_[^/]+/g, "/:session").replace(/\/msg_[^/]+/g, "/:message").replace(/\/per_[^/]+/g, "/:request");
    const key = `${req.method} ${route}`;
    const hit = hits.get(key) ?? { count: 0, lastAt: 0 };
    hit.count += 1;
    hit.lastAt = Date.now();
    hits.set(key, hit);
    if (key === "GET /global/event") {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
      res.write(`data: ${JSON.stringify({ payload: { type: "server.connected", properties: {} } })}\n\n`);
      streams.add(res);
      req.on("close", () => streams.delete(res));
      return;
    }
    if (key === "GET /global/health") return json(res, { healthy: true, version: "1.18.33" });
    if (key === "GET /permission" || key === "GET /question" || key === "GET /session") return json(res, []);
    if (key === "GET /session/status") return json(res, {});
    if (key === "GET /session/:session") return json(res, session(parts[1]!));
    if (key === "GET /session/:session/message") return json(res, []);
    if (key === "GET /session/:session/message/:message") {
      const call = toolCalls.get(parts[3]!);
      const info = { id: parts[3], sessionID: parts[1], role: "assistant", time: { created: Date.now() } };
      const tool = call && {
        id: `prt_${call.callID}`,
        sessionID: call.sessionID,
        messageID: parts[3],
        type: "tool",
        tool: "bash",
        callID: call.callID,
        state: { status: "running", input: { command: call.command }, time: { start: Date.now() } },
      };
      return json(res, { info, parts: tool ? [tool] : [] });
    }
    if (key === "POST /permission/:request/reply") return json(res, true);
    json(res, { name: "NotFoundError", data: { message: `fake OpenCode: no ${key}` } }, 404);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    directory,
    /** Requests answered on `METHOD /route` (ids replaced by :session, :message, :request), and when the last came. */
    hits: (key: string) => hits.get(key) ?? { count: 0, lastAt: 0 },
    /** Waits for a subscriber of /global/event. */
    async subscribed(timeout = 30_000) {
      await waitFor(() => streams.size > 0, { what: "the bot to subscribe to the fake OpenCode's /global/event", timeout });
    },
    /** Notes the tool call behind a permission request, for the bot's read of it. */
    toolCall(messageID: string, call: { sessionID: string; callID: string; command: string }) {
      toolCalls.set(messageID, call);
    },
    /** Writes to every subscriber, waiting whenever one's socket buffer is full (the bot not keeping up). */
    async send(chunk: string): Promise<void> {
      for (const res of streams) if (!res.write(chunk)) await once(res, "drain");
    },
    async close() {
      for (const res of streams) res.end();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** A `permission.asked` for a bash call, as OpenCode 1.18.33 sends it. */
export function permissionAsked(ids: { id: string; sessionID: string; messageID: string; callID: string }, command: string): GlobalEvent["payload"] {
  return {
    id: `evt_${ids.id}`,
    type: "permission.asked",
    properties: {
      id: ids.id,
      sessionID: ids.sessionID,
      permission: "bash",
      patterns: [command],
      metadata: { command },
      always: [`${command.split(" ")[0]} *`],
      tool: { messageID: ids.messageID, callID: ids.callID },
    },
  };
}
