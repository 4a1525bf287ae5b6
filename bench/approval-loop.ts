/**
 * The approval loop's latencies, in-process bot on PGlite, each beside a baseline measured on the
 * same stack: sequential Slack samples (latency.ts), a burst (burst.ts) and then the SDK's replies
 * to it, and sequential Discord samples (discord-latency.ts). Prints the table and returns its rows.
 */
import type { OpencodeFixture } from "../test/support/opencode-fixture.ts";
import { startStack, type Stack } from "../test/support/stack.ts";
import { replyDirectly, runBurst } from "./burst.ts";
import { discordBenchStack, sampleDiscordLatencies } from "./discord-latency.ts";
import type { EventClock } from "./event-clock.ts";
import { BASELINE_CHANNEL, sampleLatencies } from "./latency.ts";
import { formatRows, formatRss, row, toJson } from "./report.ts";
import { postDirectly } from "./slack-calls.ts";
import { summarize } from "./stats.ts";

export type ApprovalLoopSizes = { samples: number; burstSessions: number };

/** Runs the three on stacks of their own on `fixture`; `requestIds` are every request answered, for the one-reply check. */
export async function measureApprovalLoop(fixture: OpencodeFixture, clock: EventClock, sizes: ApprovalLoopSizes, log: (line?: string) => void) {
  const rss = { before: process.memoryUsage().rss, started: 0, after: 0, peak: 0 };
  const sampler = setInterval(() => (rss.peak = Math.max(rss.peak, process.memoryUsage().rss)), 100);
  let stack: Stack | undefined;
  try {
    stack = await startStack({}, fixture);
    rss.started = process.memoryUsage().rss;
    await postDirectly(stack.slack, BASELINE_CHANNEL, { text: "warm-up", blocks: [] });
    log(`${sizes.samples} sequential samples, each a fresh session, paced so the bot's Slack limiter does not queue them:`);
    const samples = await sampleLatencies(stack, clock, sizes.samples, log);
    log(`burst: ${sizes.burstSessions} sessions × 2 requests at once …`);
    const burst = await runBurst(stack, clock, sizes.burstSessions);
    log(`then the SDK replies to those ${burst.requests} pending requests one by one (the click→reply baseline) …`);
    const sdkReplies = await replyDirectly(stack, clock, burst.asked);
    await stack.stop();
    stack = undefined;

    log(`Discord alone: ${sizes.samples} sequential samples, each a fresh session, over the fake gateway and REST API:`);
    stack = await startStack(discordBenchStack, fixture);
    const discordSamples = await sampleDiscordLatencies(stack, clock, sizes.samples, log);
    rss.after = process.memoryUsage().rss;

    const askToCard = samples.map((s) => s.askToCardMs);
    const directPost = { label: "direct chat.postMessage", samples: samples.map((s) => s.direct.roundTripMs) };
    const sdkReply = { label: "SDK permission.reply", samples: sdkReplies };
    const discordPost = { label: "direct REST post", samples: discordSamples.map((s) => s.directPostMs) };
    const rows = [
      row("ask→card (fresh session)", askToCard, directPost),
      row("  of which ask→thread parent", samples.map((s) => s.askToParentMs), directPost),
      row("  of which parent→card", samples.map((s) => s.parentToCardMs), directPost),
      row("click→reply", samples.map((s) => s.clickToReplyMs), sdkReply),
      row("ask→card under the burst", burst.askToCardMs, { label: "ask→card unqueued", samples: askToCard }),
      row("Discord ask→card (fresh session)", discordSamples.map((s) => s.askToCardMs), discordPost),
      row("  of which ask→thread starter", discordSamples.map((s) => s.askToStarterMs), discordPost),
      row("Discord click→reply", discordSamples.map((s) => s.clickToReplyMs), sdkReply),
    ];
    const floorS = Math.max(0, burst.channelPosts - 5);
    log(`\nresults (ms; nearest-rank percentiles: p95 of 20 is the 19th smallest):\n${formatRows(rows)}`);
    log(
      `baselines: a direct chat.postMessage of the same card, fetch → response (to the fake's receipt: p50 ${summarize(samples.map((s) => s.direct.toReceiptMs)).p50} ms); ` +
        `an SDK permission.reply → permission.replied at the same subscriber; on Discord a direct POST /channels/{id}/messages of the same card, fetch → response`,
    );
    log(
      `burst: ${burst.requests} requests in ${burst.sessions} sessions, all ${burst.requests} cards posted ${(burst.firstAskToLastCardMs / 1000).toFixed(1)} s after the first ask = ${burst.cardsPerSecond.toFixed(2)} cards/s. ` +
        `By design: the bot queues per channel (5 posts at once, then 1/s, Slack's per-channel limit), and this burst needs ${burst.channelPosts} posts (thread parents + cards), so ≥ ~${floorS} s.`,
    );
    log(formatRss(rss));
    return {
      requestIds: [...samples.map((s) => s.requestId), ...burst.asked.map((a) => a.requestId), ...discordSamples.map((s) => s.requestId)],
      json: {
        latencies: rows.map(toJson),
        burst: { ...burst, askToCard: summarize(burst.askToCardMs), limiterFloorS: floorS },
        samples,
        discordSamples,
        sdkReplyMs: sdkReplies,
        harnessRssBytes: { ...rss, note: "one process: bench, in-process bot, fake Slack, fake LLM; OpenCode not counted" },
      },
    };
  } finally {
    clearInterval(sampler);
    await stack?.stop();
  }
}
