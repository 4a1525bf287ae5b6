import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOpencodeGateway, type OpencodeGateway } from "../src/opencode/opencode-api.ts";

// What the bot reads of OpenCode before a card can go out (a session's title, a tool call's input), and
// what the stream already told it: the reads it saves are counted on a stand-in server that answers as OpenCode 1.18 does.
describe("the OpenCode gateway's reads before a card", () => {
  let server: Server;
  let gateway: OpencodeGateway;
  const reads: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const path = new URL(req.url!, "http://x").pathname;
      reads.push(path);
      res.setHeader("content-type", "application/json");
      const message = path.match(/^\/session\/([^/]+)\/message\/([^/]+)$/);
      if (message) {
        const part = { id: "prt_1", sessionID: message[1], messageID: message[2], type: "tool", callID: "call_read", tool: "bash", state: { status: "running", input: { command: "echo read" }, time: { start: 1 } } };
        return res.end(JSON.stringify({ info: { id: message[2], sessionID: message[1], role: "assistant" }, parts: [part] }));
      }
      const session = path.match(/^\/session\/([^/]+)$/);
      if (session?.[1] === "ses_unknown") return (res.statusCode = 404), res.end(JSON.stringify({ name: "NotFoundError", data: { message: "not found" } }));
      if (session) return res.end(JSON.stringify({ id: session[1], title: `title of ${session[1]}`, directory: "/p", projectID: "p", version: "1", time: { created: 1, updated: 1 } }));
      res.statusCode = 404;
      res.end("{}");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    gateway = createOpencodeGateway({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, username: "opencode" });
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("reads a session's title once however many platforms ask at once, and takes a newer one from session.updated", async () => {
    reads.length = 0;
    expect(await Promise.all([gateway.sessionTitle("/p", "ses_a"), gateway.sessionTitle("/p", "ses_a")])).toEqual(["title of ses_a", "title of ses_a"]);
    expect(reads).toEqual(["/session/ses_a"]);
    gateway.noteSession({ id: "ses_a", title: "deploy docs" });
    gateway.noteSession({ id: "ses_b", title: "fix the build" });
    expect(await gateway.sessionTitle("/p", "ses_a")).toBe("deploy docs");
    expect(await gateway.sessionTitle("/p", "ses_b")).toBe("fix the build");
    expect(reads).toEqual(["/session/ses_a"]);
  });

  it("asks again for a session OpenCode did not know, rather than keeping the miss", async () => {
    reads.length = 0;
    expect(await gateway.sessionTitle("/p", "ses_unknown")).toBeUndefined();
    expect(await gateway.sessionTitle("/p", "ses_unknown")).toBeUndefined();
    expect(reads).toEqual(["/session/ses_unknown", "/session/ses_unknown"]);
  });

  it("takes a running tool call's input from its part event, and reads OpenCode for one it has not seen running", async () => {
    reads.length = 0;
    const ref = { sessionId: "ses_a", messageId: "msg_1", callId: "call_seen" };
    gateway.noteToolPart({ callID: "call_seen", tool: "bash", state: { status: "pending", input: {} } });
    gateway.noteToolPart({ callID: "call_seen", tool: "bash", state: { status: "running", input: { command: "echo seen" } } });
    expect(await gateway.toolCall("/p", ref)).toEqual({ tool: "bash", args: { command: "echo seen" } });
    expect(reads).toEqual([]);
    // Once it has ended, what OpenCode stores is asked for.
    gateway.noteToolPart({ callID: "call_seen", tool: "bash", state: { status: "completed", input: { command: "echo seen" } } });
    expect(await gateway.toolCall("/p", { ...ref, callId: "call_read" })).toEqual({ tool: "bash", args: { command: "echo read" } });
    expect(await gateway.toolCall("/p", ref)).toBeUndefined();
    expect(reads).toEqual(["/session/ses_a/message/msg_1", "/session/ses_a/message/msg_1"]);
  });
});
