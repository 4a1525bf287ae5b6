/**
 * A TCP proxy in front of Postgres, so that the bot's database can be made unreachable on demand:
 * `cut()` destroys every open connection and stops listening (new connections are refused),
 * `restore()` listens again on the same port.
 */
import { createConnection, createServer, type Socket } from "node:net";
import { steadyPort } from "../../test/support/ports.ts";

export type PgProxy = Awaited<ReturnType<typeof startPgProxy>>;

/** Proxies 127.0.0.1:<a steady port> to `target`'s host and port; `url` is `target` through the proxy. */
export async function startPgProxy(target: string) {
  const upstream = new URL(target);
  const port = await steadyPort();
  const open = new Set<Socket>();
  let connections = 0;

  const server = createServer((client) => {
    connections++;
    const server = createConnection({ host: upstream.hostname, port: Number(upstream.port || 5432) });
    for (const socket of [client, server]) {
      open.add(socket);
      socket.on("close", () => open.delete(socket));
      socket.on("error", () => undefined);
    }
    client.pipe(server).on("error", () => client.destroy());
    server.pipe(client).on("error", () => server.destroy());
    client.on("close", () => server.destroy());
    server.on("close", () => client.destroy());
  });
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  await listen();

  const url = new URL(target);
  url.hostname = "127.0.0.1";
  url.port = String(port);
  let cutAt: number | undefined;

  return {
    url: url.toString(),
    /** Connections accepted so far. */
    connections: () => connections,
    get down() {
      return cutAt !== undefined;
    },
    /** Postgres unreachable: every connection through the proxy destroyed, new ones refused. */
    async cut() {
      cutAt = Date.now();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of open) socket.destroy();
      await closed;
    },
    /** Reachable again, on the same port. */
    async restore() {
      await listen();
      cutAt = undefined;
    },
    async stop() {
      for (const socket of open) socket.destroy();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
