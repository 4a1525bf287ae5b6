/**
 * `npm run bench`: latencies of the approval loop against the real `opencode serve`, each printed
 * beside a baseline measured in the same run, and written to bench/results/latest.json. It asserts
 * no timings; it exits non-zero only when something did not work.
 */
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import { startOpencodeFixture, type OpencodeFixture } from "../test/support/opencode-fixture.ts";
import { startStack, type Stack } from "../test/support/stack.ts";
import { replyDirectly, runBurst } from "./burst.ts";
import { discordBenchStack, sampleDiscordLatencies } from "./discord-latency.ts";
import { startEventClock, type EventClock } from "./event-clock.ts";
import { BASELINE_CHANNEL, checkOneReplyEach, sampleLatencies } from "./latency.ts";
import { formatRows, formatRss, row, toJson, writeJson } from "./report.ts";
import { postDirectly } from "./slack-calls.ts";
import { summarize } from "./stats.ts";

const SAMPLES = 20;
const BURST_SESSIONS = 10;
const ROOT = resolve(import.meta.dirname, "..");
const RESULTS = join(ROOT, "bench/results/latest.json");
const opencodeAiVersion = (JSON.parse(readFileSync(join(ROOT, "node_modules/opencode-ai/package.json"), "utf8")) as { version: string }).version;

const log = (line = "") => console.log(line);
const elapsed = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

/** Everything measured on one running stack; the caller stops it. */
async function measure(stack: Stack, clock: EventClock) {
  await postDirectly(stack.slack, BASELINE_CHANNEL, { text: "warm-up", blocks: [] });
  log(`\n${SAMPLES} sequential samples, each a fresh session, paced so the bot's Slack limiter does not queue them:`);
  const samples = await sampleLatencies(stack, clock, SAMPLES, log);
  log(`\nburst: ${BURST_SESSIONS} sessions × 2 requests at once …`);
  const burst = await runBurst(stack, clock, BURST_SESSIONS);
  log(`then the SDK replies to those ${burst.requests} pending requests one by one (the click→reply baseline) …`);
  const sdkReplies = await replyDirectly(stack, clock, burst.asked);
  return { samples, burst, sdkReplies };
}

async function main(): Promise<number> {
  const began = Date.now();
  const rss = { before: process.memoryUsage().rss, started: 0, after: 0, peak: 0 };
  const sampler = setInterval(() => (rss.peak = Math.max(rss.peak, process.memoryUsage().rss)), 100);
  log(`opencode-chatops bench · opencode-ai ${opencodeAiVersion} · node ${process.version} · ${cpus().length} CPUs`);
  let fixture: OpencodeFixture | undefined;
  let stack: Stack | undefined;
  let clock: EventClock | undefined;
  let serverVersion: string | undefined;
  let measured: Awaited<ReturnType<typeof measure>>;
  let discordSamples: Awaited<ReturnType<typeof sampleDiscordLatencies>>;
  try {
    fixture = await startOpencodeFixture();
    stack = await startStack({}, fixture);
    clock = await startEventClock(stack.opencode.url);
    serverVersion = (await stack.opencode.client.global.health()).data?.version;
    rss.started = process.memoryUsage().rss;
    log(`stack up in ${elapsed(began)} (OpenCode server ${serverVersion ?? "?"} at ${stack.opencode.url})`);
    measured = await measure(stack, clock);
    await stack.stop();
    stack = undefined;

    log(`\nDiscord alone: ${SAMPLES} sequential samples, each a fresh session, over the fake gateway and REST API:`);
    stack = await startStack(discordBenchStack, fixture);
    discordSamples = await sampleDiscordLatencies(stack, clock, SAMPLES, log);
    rss.after = process.memoryUsage().rss;
  } finally {
    clearInterval(sampler);
    await clock?.stop();
    await stack?.stop();
    await fixture?.stop();
  }
  const { samples, burst, sdkReplies } = measured;

  const askToCard = samples.map((s) => s.askToCardMs);
  const directPost = samples.map((s) => s.direct.roundTripMs);
  const rows = [
    row("ask→card (fresh session)", askToCard, { label: "direct chat.postMessage", samples: directPost }),
    row("  of which ask→thread parent", samples.map((s) => s.askToParentMs), { label: "direct chat.postMessage", samples: directPost }),
    row("  of which parent→card", samples.map((s) => s.parentToCardMs), { label: "direct chat.postMessage", samples: directPost }),
    row("click→reply", samples.map((s) => s.clickToReplyMs), { label: "SDK permission.reply", samples: sdkReplies }),
    row("ask→card under the burst", burst.askToCardMs, { label: "ask→card unqueued", samples: askToCard }),
    row("Discord ask→card (fresh session)", discordSamples.map((s) => s.askToCardMs), { label: "direct REST post", samples: discordSamples.map((s) => s.directPostMs) }),
    row("  of which ask→thread starter", discordSamples.map((s) => s.askToStarterMs), { label: "direct REST post", samples: discordSamples.map((s) => s.directPostMs) }),
    row("Discord click→reply", discordSamples.map((s) => s.clickToReplyMs), { label: "SDK permission.reply", samples: sdkReplies }),
  ];
  const floorS = Math.max(0, burst.channelPosts - 5);
  log(`\nresults (ms; p95 of 20 is the 19th smallest):\n${formatRows(rows)}`);
  log(
    `baselines: a direct chat.postMessage of the same card, fetch → response (to the fake's receipt: p50 ${summarize(samples.map((s) => s.direct.toReceiptMs)).p50} ms); ` +
      `an SDK permission.reply → permission.replied at the same subscriber; on Discord a direct POST /channels/{id}/messages of the same card, fetch → response`,
  );
  log(
    `burst: ${burst.requests} requests in ${burst.sessions} sessions, all ${burst.requests} cards posted ${(burst.firstAskToLastCardMs / 1000).toFixed(1)} s after the first ask = ${burst.cardsPerSecond.toFixed(2)} cards/s. ` +
      `By design: the bot queues per channel (5 posts at once, then 1/s, Slack's per-channel limit), and this burst needs ${burst.channelPosts} posts (thread parents + cards), so ≥ ~${floorS} s.`,
  );
  log(formatRss(rss));

  const problems = checkOneReplyEach(clock!, [...samples.map((s) => s.requestId), ...burst.asked.map((a) => a.requestId), ...discordSamples.map((s) => s.requestId)]);
  await writeJson(RESULTS, {
    date: new Date().toISOString(),
    opencodeAiVersion,
    opencodeServerVersion: serverVersion,
    node: process.version,
    cpus: cpus().length,
    units: "ms",
    latencies: rows.map(toJson),
    burst: { ...burst, askToCard: summarize(burst.askToCardMs), limiterFloorS: floorS },
    samples,
    discordSamples,
    sdkReplyMs: sdkReplies,
    harnessRssBytes: { ...rss, note: "one process: bench, in-process bot, fake Slack, fake LLM; OpenCode not counted" },
    totalRuntimeS: (Date.now() - began) / 1000,
    problems,
  });
  log(`\nwrote ${RESULTS}; total ${elapsed(began)}`);
  if (problems.length === 0) return 0;
  log(`\nFAILED:\n  ${problems.join("\n  ")}`);
  return 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error("bench failed:", error);
    process.exit(1);
  },
);
