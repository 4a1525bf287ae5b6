/**
 * Events per second through the bot at one core: the bot process (`taskset -c 0`) follows a fake
 * OpenCode (fake-opencode.ts) whose /global/event carries what many sessions started from chat
 * send while they stream their answers: per session a busy status and its text part begun
 * (`message.part.updated`, and its `sync` copy, as OpenCode 1.18.33 sends every state event
 * twice), then text deltas (`message.part.delta`) round-robin across the sessions, then the parts
 * finished. The events are written as fast as the bot's socket takes them; the last is a
 * `permission.asked`, whose first effect (the bot reading its tool call, GET
 * /session/:id/message/:messageID) marks the moment the bot has consumed the whole stream.
 */
import { waitFor } from "../test/support/wait-for.ts";
import { frame, permissionAsked } from "./fake-opencode.ts";
import { DIRECTORY, TOOL_CALL, withSeededBot } from "./seeded-bot.ts";

export type EventRateResult = {
  events: number;
  sessions: number;
  bytes: number;
  /** First byte written → the last event's effect. */
  elapsedMs: number;
  eventsPerSecond: number;
  /** The bot's user + system CPU time over the same span, and events per second of it. */
  botCpuMs: number;
  eventsPerCpuSecond: number;
  cpus: string;
  /** What the bot's GET /metrics counted (chatops_opencode_events_total, chatops_opencode_connects_total), if it answers. */
  botCounted?: { events: number; connects: number };
};

/** The stream, as SSE frames batched into chunks of about `batch` events. */
function workload(sessionIds: string[], deltasPerSession: number, batch = 200): { chunks: string[]; events: number; bytes: number } {
  const frames: string[] = [];
  const now = Date.now();
  const ids = (s: string) => ({ message: `msg_${s.slice(4)}a`, part: `prt_${s.slice(4)}t` });
  const textPart = (s: string, text: string, end?: number) => ({
    id: ids(s).part,
    sessionID: s,
    messageID: ids(s).message,
    type: "text",
    text,
    time: { start: now, ...(end ? { end } : {}) },
  });
  const partUpdated = (s: string, text: string, seq: number, end?: number) => {
    const id = `evt_${s.slice(4)}u${seq}`;
    const properties = { sessionID: s, part: textPart(s, text, end), time: now };
    frames.push(frame(DIRECTORY, { id, type: "message.part.updated", properties }));
    frames.push(frame(DIRECTORY, { type: "sync", syncEvent: { id, type: "message.part.updated.1", seq, aggregateID: s, data: properties }, id }));
  };
  for (const s of sessionIds) {
    frames.push(frame(DIRECTORY, { id: `evt_${s.slice(4)}b`, type: "session.status", properties: { sessionID: s, status: { type: "busy" } } }));
    partUpdated(s, "", 1);
  }
  for (let d = 0; d < deltasPerSession; d++) {
    const delta = `line ${d}: the quick brown fox jumps over the lazy dog\n`;
    for (const s of sessionIds) {
      const properties = { sessionID: s, messageID: ids(s).message, partID: ids(s).part, field: "text", delta };
      frames.push(frame(DIRECTORY, { id: `evt_${s.slice(4)}d${d}`, type: "message.part.delta", properties }));
    }
  }
  for (const s of sessionIds) partUpdated(s, "the whole answer", 2, now + 1);
  const chunks: string[] = [];
  for (let i = 0; i < frames.length; i += batch) chunks.push(frames.slice(i, i + batch).join(""));
  return { chunks, events: frames.length, bytes: chunks.reduce((sum, c) => sum + Buffer.byteLength(c), 0) };
}

export async function measureEventRate(options: { sessions: number; deltasPerSession: number; cpus: string }): Promise<EventRateResult> {
  return withSeededBot({ sessions: options.sessions, cpus: options.cpus, stopGraceMs: 3000 }, async ({ fake, bot, sessionIds }) => {
    // Connected and relinked: let the resync's last calls settle before the stream starts.
    await new Promise((r) => setTimeout(r, 500));
    const { chunks, events, bytes } = workload(sessionIds, options.deltasPerSession);
    const marker = { id: "per_benchmarker", sessionID: sessionIds[0]!, messageID: "msg_benchmarker", callID: "call_benchmarker" };
    fake.toolCall(marker.messageID, { sessionID: marker.sessionID, callID: marker.callID, command: "echo marker" });
    const last = frame(DIRECTORY, permissionAsked(marker, "echo marker"));

    const cpuBefore = bot.cpuMs();
    const startedWall = Date.now();
    for (const chunk of chunks) await fake.send(chunk);
    await fake.send(last);
    await waitFor(() => fake.hits(TOOL_CALL).count >= 1, { what: `the bot to take the last of ${events + 1} events`, timeout: 120_000, interval: 5 });
    const elapsedMs = fake.hits(TOOL_CALL).lastAt - startedWall;
    const botCpuMs = bot.cpuMs() - cpuBefore;
    const total = events + 1;
    const botCounted = await countedByBot(bot.port);
    return {
      events: total,
      sessions: options.sessions,
      bytes,
      elapsedMs,
      eventsPerSecond: total / (elapsedMs / 1000),
      botCpuMs,
      eventsPerCpuSecond: total / (botCpuMs / 1000),
      cpus: options.cpus,
      ...(botCounted ? { botCounted } : {}),
    };
  });
}

/** The bot's own count of events and connects, from its /metrics (undefined where it has none). */
async function countedByBot(port: number): Promise<{ events: number; connects: number } | undefined> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
  if (!res?.ok) return undefined;
  const text = await res.text();
  const sum = (name: string) =>
    text
      .split("\n")
      .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
      .reduce((total, line) => total + Number(line.split(" ").at(-1)), 0);
  return { events: sum("chatops_opencode_events_total"), connects: sum("chatops_opencode_connects_total") };
}
