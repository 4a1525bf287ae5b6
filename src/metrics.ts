import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApprovalEvent } from "./core/approval-events.ts";
import type { Card, ThreadParent } from "./core/card.ts";
import type { ChatAdapter } from "./core/ports.ts";
import type { PermissionRecord } from "./core/types.ts";

const seconds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const decideBuckets = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600];

/**
 * `GET /metrics` in Prometheus's text format, one registry per bot: what is pending by platform,
 * how long deciding takes, ask→card and decision→reply, chat calls and 429s, each OpenCode stream's
 * state, connects and events, which streams this process holds the lease of, and each chat
 * platform's state (which process holds Discord's gateway).
 */
export function createMetrics(read: {
  pending(): Promise<PermissionRecord[]>;
  streams(): Record<string, string>;
  holdsLease(url: string): boolean;
  /** Each chat platform's state (ChatAdapter.status: Discord's "standby" where another process holds its gateway). */
  chats(): Record<string, string>;
}) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "chatops_process_" });
  const askedAt = new Map<string, number>();
  new Gauge({
    name: "chatops_pending_requests",
    help: "Requests waiting for a decision, by the platform their card is on (none: no card yet).",
    labelNames: ["platform"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const record of await read.pending()) {
        const platforms = record.cards.length > 0 ? record.cards.map((card) => card.platform) : ["none"];
        for (const platform of platforms) this.inc({ platform });
      }
    },
  });
  /** A gauge of 1 for each thing's current state, `states` giving the state by thing (labelled `label`). */
  const stateGauge = (name: string, help: string, label: string, states: () => Record<string, string>) =>
    new Gauge({
      name,
      help,
      labelNames: [label, "state"],
      registers: [registry],
      collect() {
        this.reset();
        for (const [thing, state] of Object.entries(states())) this.set({ [label]: thing, state }, 1);
      },
    });
  stateGauge("chatops_opencode_stream_state", "1 for each OpenCode server's current stream state (ready, connecting, reconnecting, standby, stopped).", "server", read.streams);
  new Gauge({
    name: "chatops_stream_lease_held",
    help: "1 where this process holds the server's stream lease (it follows that stream), else 0.",
    labelNames: ["server"],
    registers: [registry],
    collect() {
      this.reset();
      for (const server of Object.keys(read.streams())) this.set({ server }, read.holdsLease(server) ? 1 : 0);
    },
  });
  stateGauge("chatops_chat_state", "1 for each chat platform's current state (ready, connecting, standby: another process holds its connection, stopped).", "platform", read.chats);
  const decide = new Histogram({ name: "chatops_time_to_decide_seconds", help: "Asked → decided.", labelNames: ["decision"], buckets: decideBuckets, registers: [registry] });
  const askToCard = new Histogram({ name: "chatops_ask_to_card_seconds", help: "Asked (as the bot heard it) → card posted.", labelNames: ["platform"], buckets: seconds, registers: [registry] });
  const decisionToReply = new Histogram({ name: "chatops_decision_to_reply_seconds", help: "Decision taken (click read) → reply sent to OpenCode and committed.", buckets: seconds, registers: [registry] });
  const chatCalls = new Counter({ name: "chatops_chat_calls_total", help: "Calls to a chat platform, by what they did and how they ended.", labelNames: ["platform", "call", "outcome"], registers: [registry] });
  const rateLimited = new Counter({ name: "chatops_chat_rate_limited_total", help: "Chat API calls answered 429 (each retried after Retry-After).", labelNames: ["platform"], registers: [registry] });
  const events = new Counter({ name: "chatops_opencode_events_total", help: "Events read from OpenCode's streams (rate() gives events per second).", labelNames: ["server"], registers: [registry] });
  const connects = new Counter({ name: "chatops_opencode_connects_total", help: "Connections to OpenCode's streams, each followed by a resync (more than one: reconnects).", labelNames: ["server"], registers: [registry] });

  return {
    /** The approval events, for the time to decide and ask→card. */
    observe(event: ApprovalEvent): void {
      if (event.type === "approval.requested" && !askedAt.has(event.record.id)) askedAt.set(event.record.id, Date.now());
      if (event.type === "approval.closed") askedAt.delete(event.record.id);
      if (event.type !== "approval.decided") return;
      const { record } = event;
      askedAt.delete(record.id);
      if (!record.decidedAt) return;
      decide.observe({ decision: record.state }, (record.decidedAt.getTime() - record.askedAt.getTime()) / 1000);
      decisionToReply.observe((Date.now() - record.decidedAt.getTime()) / 1000);
    },
    event: (server: string) => events.inc({ server }),
    connected: (server: string) => connects.inc({ server }),
    rateLimited: (platform: string) => rateLimited.inc({ platform }),
    /** `adapter` with its posts and edits counted, and a card's post timed from its ask. */
    metered<A extends ChatAdapter>(adapter: A): A {
      const platform = adapter.platform;
      const count = <T>(call: string, run: () => Promise<T>): Promise<T> =>
        run().then(
          (value) => (chatCalls.inc({ platform, call, outcome: "ok" }), value),
          (error: unknown) => {
            chatCalls.inc({ platform, call, outcome: "error" });
            throw error;
          },
        );
      const observeCards = (sent: Card[]) => {
        for (const card of sent) {
          const asked = askedAt.get(card.requestId);
          if (asked !== undefined) askToCard.observe({ platform }, (Date.now() - asked) / 1000);
        }
      };
      return {
        ...adapter,
        openThread: (parent, channel) => count("open_thread", () => adapter.openThread(parent, channel)),
        postCard: async (thread, cards) => {
          const sent = lastCall(cards);
          const ref = await count("post_card", () => adapter.postCard(thread, sent.cards));
          observeCards(sent.last());
          return ref;
        },
        ...(adapter.openCardThread
          ? {
              openCardThread: async (parent: ThreadParent, cards: () => Card[]) => {
                const sent = lastCall(cards);
                const opened = await count("open_card_thread", () => adapter.openCardThread!(parent, sent.cards));
                observeCards(sent.last());
                return opened;
              },
            }
          : {}),
        updateCard: (ref, message) => count("update_card", () => adapter.updateCard(ref, message)),
        postProgress: (thread, view) => count("post_progress", () => adapter.postProgress(thread, view)),
        updateProgress: (ref, view) => count("update_progress", () => adapter.updateProgress(ref, view)),
        postAnswer: (thread, plan, kind) => count("post_answer", () => adapter.postAnswer(thread, plan, kind)),
        postDigest: (channel, digest) => count("post_digest", () => adapter.postDigest(channel, digest)),
      };
    },
    /** `GET /metrics`. */
    async route(_req: IncomingMessage, res: ServerResponse): Promise<void> {
      const body = await registry.metrics();
      res.writeHead(200, { "content-type": registry.contentType }).end(body);
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * `cards` as the adapter calls it (once per attempt: again after a 429), keeping what its last call
 * gave: the cards that went out.
 */
function lastCall(cards: () => Card[]): { cards: () => Card[]; last: () => Card[] } {
  let last: Card[] = [];
  return { cards: () => (last = cards()), last: () => last };
}
