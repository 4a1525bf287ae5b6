import { once } from "node:events";
import { createServer, type Server, type ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { OpencodeEventStream } from "../src/opencode/event-stream.ts";
import { freePort } from "./support/ports.ts";
import { waitFor } from "./support/wait-for.ts";

/** Just enough of `opencode serve` for the stream: health, and `server.connected` on /global/event. */
async function listen(port: number, options: { hangFirstStreams?: number } = {}): Promise<{ server: Server; streams: Set<ServerResponse>; hung: number }> {
  const streams = new Set<ServerResponse>();
  const state = { server: undefined as unknown as Server, streams, hung: 0 };
  const server = createServer((req, res) => {
    if (req.url === "/global/health") return void res.writeHead(200, { "content-type": "application/json" }).end('{"healthy":true}');
    if (req.url !== "/global/event") return void res.writeHead(404).end();
    // As a restarted OpenCode sometimes does while it loads: the connection accepted, never answered.
    if (state.hung < (options.hangFirstStreams ?? 0)) {
      state.hung += 1;
      streams.add(res);
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write(`data: ${JSON.stringify({ payload: { type: "server.connected", properties: {} } })}\n\n`);
    streams.add(res);
    req.on("close", () => streams.delete(res));
  });
  server.listen(port, "127.0.0.1");
  await once(server, "listening");
  state.server = server;
  return state;
}

async function close(opencode: { server: Server; streams: Set<ServerResponse> }): Promise<void> {
  for (const res of opencode.streams) res.destroy();
  opencode.server.closeAllConnections();
  await new Promise((resolve) => opencode.server.close(resolve));
}

const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet } as never;

describe("the OpenCode event stream", () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  /**
   * A stream on OpenCode with a backoff far longer than any wait here (only the health probe can end
   * it in time), OpenCode stopped once it is ready and, after a probe has failed, started again on
   * the same port with `restarted`. Resolves when the stream follows it, with how long that took.
   */
  async function restartUnder(restarted: Parameters<typeof listen>[1] = {}) {
    const port = await freePort();
    let opencode = await listen(port);
    let connects = 0;
    const stream = new OpencodeEventStream({
      server: { url: `http://127.0.0.1:${port}`, username: "opencode" },
      logger: quiet,
      onEvent() {},
      async onConnected() {
        connects += 1;
      },
      minBackoffMs: 20_000,
      maxBackoffMs: 20_000,
    });
    stream.start();
    cleanup.push(() => stream.stop());
    await waitFor(() => stream.state === "ready" && connects === 1, { what: "the first connection" });

    await close(opencode);
    await waitFor(() => stream.state === "reconnecting", { what: "the stream to notice OpenCode is gone" });
    // Down long enough for a probe to fail, then back on the same port.
    await new Promise((resolve) => setTimeout(resolve, 600));
    opencode = await listen(port, restarted);
    const back = Date.now();
    cleanup.push(() => close(opencode));
    await waitFor(() => stream.state === "ready" && connects === 2, { what: "the stream to follow the restarted OpenCode", timeout: 4_000 });
    return { opencode, connects, tookMs: Date.now() - back };
  }

  it("follows a restarted OpenCode as soon as it answers its health check, not when the backoff runs out", async () => {
    expect((await restartUnder()).connects).toBe(2);
  });

  it("a restarted OpenCode that never answers its first stream connection is followed within a second or two, not after the 5 s connect timeout", async () => {
    const { opencode, tookMs } = await restartUnder({ hangFirstStreams: 1 });
    expect(opencode.hung).toBe(1);
    expect(tookMs).toBeLessThan(2_500);
  });

  it("a long wait for a stopped OpenCode probes its health every 200 ms without piling listeners on one signal", async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => void warnings.push(warning);
    process.on("warning", onWarning);
    cleanup.push(async () => void process.off("warning", onWarning));
    // Nothing listens on the port: every connect and every probe fails, and the backoff outlasts the test.
    const stream = new OpencodeEventStream({
      server: { url: `http://127.0.0.1:${await freePort()}`, username: "opencode" },
      logger: quiet,
      onEvent() {},
      async onConnected() {},
      minBackoffMs: 20_000,
      maxBackoffMs: 20_000,
    });
    stream.start();
    cleanup.push(() => stream.stop());
    await waitFor(() => stream.state === "reconnecting", { what: "the stream to wait to reconnect" });
    // Long enough for more than ten probes: node warns at the eleventh listener on one signal.
    await new Promise((resolve) => setTimeout(resolve, 2_600));
    expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning").map((w) => w.message)).toEqual([]);
  });
});
