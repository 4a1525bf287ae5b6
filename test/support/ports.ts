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
