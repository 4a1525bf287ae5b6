import { createServer } from "node:net";

/** A port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((ok, fail) => probe.once("error", fail).listen(0, "127.0.0.1", () => ok()));
  const address = probe.address();
  await new Promise<void>((ok) => probe.close(() => ok()));
  if (address === null || typeof address === "string") throw new Error("no free port");
  return address.port;
}

/**
 * A free port below the ephemeral range (32768 and up on Linux), for an address that must stay the
 * same while its listeners come and go (the bot's, which the plugin was told at OpenCode's start):
 * between two listeners a port from `freePort()` can be taken by anything that asks for port 0,
 * such as another test run on the same machine.
 */
export async function steadyPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const probe = createServer();
    const free = await new Promise<boolean>((ok) => probe.once("error", () => ok(false)).listen(port, () => ok(true)));
    if (!free) continue;
    await new Promise<void>((ok) => probe.close(() => ok()));
    return port;
  }
  throw new Error("no free port between 20000 and 32000");
}
