/**
 * The bot process's memory with 1,000 pending requests in 200 live sessions: a fake OpenCode
 * (fake-opencode.ts) says each of 200 sessions started from chat (seeded, threads in the fake
 * Slack) is busy and asks 5 bash permissions, 1,000 `permission.asked` in all; VmRSS and VmHWM
 * (peak) are read from /proc once the bot is quiet, and VmRSS again `settleMs` later.
 *
 * Twice: with the web console alone, where every request is recorded and listed within seconds
 * (the figure held against the target; the console's pending page is counted to check all 1,000
 * wait), and with Slack too, as deployed. There the posts wait in the per-channel limiter (1
 * post/s after the first 5; each busy session's status message comes before its cards), so the
 * bot does not go quiet for many minutes: its RSS is read `slackWaitMs` after the last event, with
 * how many requests it had taken and how many cards it had posted by then.
 */
import { CONSOLE_PASSWORD } from "../test/support/stack.ts";
import { waitFor } from "../test/support/wait-for.ts";
import type { BotProcess } from "./bot-process.ts";
import { frame, permissionAsked, type FakeOpencode } from "./fake-opencode.ts";
import { DIRECTORY, TOOL_CALL, withSeededBot } from "./seeded-bot.ts";

export type MemoryRun = {
  platforms: string;
  /** Ready, sessions relinked, nothing pending. */
  idleRssBytes: number;
  /** With the requests sent and the process quiet (console alone), or `slackWaitMs` after (with Slack). */
  rssBytes: number;
  peakRssBytes: number;
  /** Requests whose tool call the bot had read (the step before recording them) at that point. */
  taken: number;
  /** Requests the console listed as pending then. */
  pendingListed: number;
  /** permission.asked sent → every tool call read (console alone). */
  intakeMs?: number;
  /** Cards the fake Slack had received by then (with Slack). */
  cardsPosted?: number;
  /** What the bot's /metrics said then: V8's heap in use and allotted, and memory outside it (PGlite's WebAssembly memory among it). */
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  /**
   * The console alone: VmRSS and the heap `settleMs` later, the requests still pending and the bot
   * idle. Right after a burst V8's heap still holds its garbage (the heap snapshot of such a bot
   * held ~40 MB live of ~100 MB in use); V8 collects it once allocation stays low, in ~20–30 s here.
   */
  settled?: { afterMs: number; rssBytes: number; heapUsedBytes: number; heapTotalBytes: number };
};

/** The bot's own view of its memory, from the prom-client default metrics on its /metrics. */
async function heapOf(port: number): Promise<Pick<MemoryRun, "heapUsedBytes" | "heapTotalBytes" | "externalBytes">> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const metric = (name: string) => Number(new RegExp(`^\\w*${name} (\\S+)$`, "m").exec(text)?.[1] ?? NaN);
  return { heapUsedBytes: metric("nodejs_heap_size_used_bytes"), heapTotalBytes: metric("nodejs_heap_size_total_bytes"), externalBytes: metric("nodejs_external_memory_bytes") };
}

export type MemoryResult = {
  sessions: number;
  requests: number;
  consoleOnly: MemoryRun;
  withSlack: MemoryRun;
  /** The console alone with the bot on Postgres (TEST_DATABASE_URL set): no PGlite in the process. */
  consoleOnlyPostgres?: MemoryRun;
};

/** Waits until the process used less than `maxMs` of CPU in a `windowMs` window. */
async function quiet(bot: BotProcess, windowMs = 1000, maxMs = 100, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const before = bot.cpuMs();
    await new Promise((r) => setTimeout(r, windowMs));
    if (bot.cpuMs() - before < maxMs) return;
  }
  throw new Error(`the bot did not go quiet within ${timeoutMs} ms`);
}

/** Logs in to the console and counts the distinct request ids its pending page shows. */
async function pendingOnConsole(port: number): Promise<number> {
  const login = await fetch(`http://127.0.0.1:${port}/login`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ password: CONSOLE_PASSWORD }),
    redirect: "manual",
  });
  const cookie = login.headers.get("set-cookie")?.split(";")[0];
  if (!cookie) throw new Error(`the console login answered ${login.status} without a cookie`);
  const page = await (await fetch(`http://127.0.0.1:${port}/`, { headers: { cookie } })).text();
  return new Set(page.match(/per_bench\w+/g) ?? []).size;
}

/** The stream: each session busy, then `perSession` rounds of one permission.asked per session. */
function asks(fake: FakeOpencode, sessionIds: string[], perSession: number): string {
  let stream = "";
  for (const s of sessionIds) stream += frame(DIRECTORY, { id: `evt_${s.slice(4)}b`, type: "session.status", properties: { sessionID: s, status: { type: "busy" } } });
  for (let k = 0; k < perSession; k++) {
    for (const s of sessionIds) {
      const n = `${s.slice("ses_bench".length)}x${k}`;
      const ids = { id: `per_bench${n}`, sessionID: s, messageID: `msg_bench${n}`, callID: `call_${n}` };
      const command = `echo ${n} > /dev/null`;
      fake.toolCall(ids.messageID, { sessionID: s, callID: ids.callID, command });
      stream += frame(DIRECTORY, permissionAsked(ids, command));
    }
  }
  return stream;
}

type RunOptions = { sessions: number; perSession: number; withSlack: boolean; slackWaitMs: number; settleMs: number; database?: "pglite" | "postgres" };

async function run(options: RunOptions): Promise<MemoryRun> {
  // With Slack its queue would take a quarter of an hour to drain: little grace at the end.
  const seeded = { sessions: options.sessions, withSlack: options.withSlack, stopGraceMs: 1000, ...(options.database ? { database: options.database } : {}) };
  return withSeededBot(seeded, async ({ fake, slack, bot, sessionIds }) => {
    await quiet(bot);
    const idleRssBytes = bot.memory().rss;
    const requests = options.sessions * options.perSession;
    const postsBefore = slack.calls.length;
    const sentAt = Date.now();
    await fake.send(asks(fake, sessionIds, options.perSession));
    let intakeMs: number | undefined;
    if (options.withSlack) await new Promise((r) => setTimeout(r, options.slackWaitMs));
    else {
      await waitFor(() => fake.hits(TOOL_CALL).count >= requests, { what: `the bot to read the tool calls of ${requests} requests`, timeout: 120_000 });
      intakeMs = fake.hits(TOOL_CALL).lastAt - sentAt;
      await quiet(bot);
    }
    const { rss, peak } = bot.memory();
    const taken = fake.hits(TOOL_CALL).count;
    const cardsPosted = slack.calls.slice(postsBefore).filter((c) => c.method === "chat.postMessage" && JSON.stringify(c.body.blocks ?? []).includes("per_bench")).length;
    const pendingListed = await pendingOnConsole(bot.port);
    const heap = await heapOf(bot.port);
    let settled: MemoryRun["settled"];
    if (!options.withSlack) {
      await new Promise((r) => setTimeout(r, options.settleMs));
      const later = await heapOf(bot.port);
      settled = { afterMs: options.settleMs, rssBytes: bot.memory().rss, heapUsedBytes: later.heapUsedBytes, heapTotalBytes: later.heapTotalBytes };
    }
    return {
      platforms: `${options.withSlack ? "slack + web" : "web console alone"}${options.database === "postgres" ? ", on Postgres" : ""}`,
      idleRssBytes,
      rssBytes: rss,
      peakRssBytes: peak,
      taken,
      pendingListed,
      ...heap,
      ...(intakeMs !== undefined ? { intakeMs } : {}),
      ...(settled ? { settled } : {}),
      ...(options.withSlack ? { cardsPosted } : {}),
    };
  });
}

export async function measureMemory(options: { sessions: number; perSession: number; slackWaitMs: number; settleMs: number }): Promise<MemoryResult> {
  const consoleOnly = await run({ ...options, withSlack: false });
  const withSlack = await run({ ...options, withSlack: true });
  const consoleOnlyPostgres = process.env.TEST_DATABASE_URL ? await run({ ...options, withSlack: false, database: "postgres" }) : undefined;
  return { sessions: options.sessions, requests: options.sessions * options.perSession, consoleOnly, withSlack, ...(consoleOnlyPostgres ? { consoleOnlyPostgres } : {}) };
}
