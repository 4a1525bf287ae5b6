/**
 * An SSE subscriber of OpenCode's `/global/event`, independent of the bot's, that notes when each
 * event arrives: `at` (Date.now(), comparable with the fake Slack's call times) and `hr`
 * (performance.now(), for intervals measured entirely here).
 */
import { performance } from "node:perf_hooks";
import { createOpencodeClient, type GlobalEvent } from "@opencode-ai/sdk/v2";
import { waitFor } from "../test/support/wait-for.ts";

export type Stamped = { event: GlobalEvent; at: number; hr: number };
export type PermissionAsked = Extract<GlobalEvent["payload"], { type: "permission.asked" }>["properties"];
export type EventClock = Awaited<ReturnType<typeof startEventClock>>;

/** Subscribes and resolves once OpenCode has said `server.connected`; `stop()` ends the subscription. */
export async function startEventClock(baseUrl: string) {
  const connection = new AbortController();
  const seen: Stamped[] = [];
  // The SDK loses the abort signal on its way to fetch; hand it over here (as test/support/stack.ts does).
  const client = createOpencodeClient({
    baseUrl,
    fetch: (input: RequestInfo | URL, init?: RequestInit) => fetch(input, { ...init, signal: connection.signal }),
  });
  const { stream } = await client.global.event({ signal: connection.signal, sseMaxRetryAttempts: 1 });
  const reading = (async () => {
    for await (const event of stream) seen.push({ event, at: Date.now(), hr: performance.now() });
  })().catch((error: unknown) => {
    if (!connection.signal.aborted) throw error;
  });
  await waitFor(() => seen.some((s) => s.event.payload.type === "server.connected"), { what: "server.connected on the bench's own subscription" });

  const asked = (sessionIds: Set<string>) =>
    seen.flatMap((s) =>
      s.event.payload.type === "permission.asked" && sessionIds.has(s.event.payload.properties.sessionID)
        ? [{ request: s.event.payload.properties, at: s.at, hr: s.hr }]
        : [],
    );
  const replies = (requestId: string) =>
    seen.filter((s) => s.event.payload.type === "permission.replied" && s.event.payload.properties.requestID === requestId);

  return {
    /** The `permission.asked` events of these sessions, waiting until there are `count`. */
    async asked(sessionIds: string[], count: number, timeout = 30_000) {
      const wanted = new Set(sessionIds);
      return waitFor(() => {
        const found = asked(wanted);
        return found.length >= count ? found : undefined;
      }, { what: `${count} permission.asked for ${sessionIds.length} session(s)`, timeout });
    },
    /** Every `permission.replied` for a request seen so far. */
    replies,
    /** The first `permission.replied` for a request, waiting for it. */
    async replied(requestId: string, timeout = 15_000): Promise<Stamped> {
      return waitFor(() => replies(requestId)[0], { what: `permission.replied for ${requestId}`, timeout });
    },
    /** Waits for the session to go idle (its turn is over), so that nothing runs while a baseline is taken. */
    async idle(sessionId: string, timeout = 20_000) {
      await waitFor(
        () =>
          seen.some(({ event: { payload } }) =>
            payload.type === "session.idle"
              ? payload.properties.sessionID === sessionId
              : payload.type === "session.status" && payload.properties.sessionID === sessionId && payload.properties.status.type === "idle",
          ),
        { what: `session ${sessionId} to go idle`, timeout },
      );
    },
    async stop() {
      connection.abort();
      await reading;
    },
  };
}
