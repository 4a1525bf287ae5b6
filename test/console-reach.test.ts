import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { networkInterfaces } from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import { hashPassword } from "../adapters/web/auth.ts";
import { createWebAdapter } from "../adapters/web/web-adapter.ts";
import { createHttpServer } from "../src/http-server.ts";

/** The machine's own address other than loopback, if it has one: a client connecting to it is not "on this machine" by address. */
const outside = Object.values(networkInterfaces()).flat().find((i) => i && i.family === "IPv4" && !i.internal)?.address;
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

/** The console's routes on a port of their own, as the bot mounts them. */
async function consoleOn(openTo?: string): Promise<number> {
  const web = createWebAdapter({
    passwordHash: await hashPassword("pw"),
    secret: "s3cret",
    pending: async () => [],
    audit: async () => [],
    chain: async () => ({ rows: 0, unchained: 0 }),
    directoryOf: async () => undefined,
    sessions: async () => [],
    costs: async () => ({ text: "" }),
    ...(openTo ? { openTo } : {}),
    logger: silent,
  });
  const server = createHttpServer(web.routes, silent);
  server.listen(0, "0.0.0.0");
  await once(server, "listening");
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

// Skipped where the machine has no address but loopback (then every client is local).
describe.skipIf(!outside)("who reaches the console", () => {
  it("a client from another address is refused unless CONSOLE_HOST opens it; on this machine the login page answers", async () => {
    const closed = await consoleOn();
    expect((await fetch(`http://127.0.0.1:${closed}/login`)).status).toBe(200);
    const refused = await fetch(`http://${outside}:${closed}/login`);
    expect(refused.status).toBe(403);
    expect((await fetch(`http://${outside}:${closed}/`, { headers: { accept: "text/html" }, redirect: "manual" })).status).toBe(403);
    const open = await consoleOn("0.0.0.0");
    expect((await fetch(`http://${outside}:${open}/login`)).status).toBe(200);
  });
});
