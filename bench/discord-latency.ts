/**
 * The same sequential samples on Discord alone: OpenCode asks → the card reaches the fake Discord's
 * REST API (through the thread's starter and the thread), an "Approve once" click over the fake
 * gateway READING_MS after the card → OpenCode says replied. Between samples, one direct REST post of the same card, as
 * discord.js sends it, as the Discord-call baseline.
 */
import { performance } from "node:perf_hooks";
import { discordCard, discordCardSays } from "../test/support/discord-cards.ts";
import type { FakeDiscord, FakeMessage } from "../test/support/fake-discord.ts";
import { discordFakeDefaults, discordPeople, type Stack, type StackOptions } from "../test/support/stack.ts";
import type { EventClock } from "./event-clock.ts";
import { READING_MS } from "./latency.ts";

/** The direct posts go to a channel of their own, so they are never taken for the bot's cards. */
const BASELINE_CHANNEL = "900000000000000001";

/** A stack on Discord alone, with the baseline's channel beside the bot's. */
export const discordBenchStack: StackOptions = {
  platforms: ["discord"],
  discord: { ...discordFakeDefaults, channels: [{ id: BASELINE_CHANNEL, name: "bench-baseline" }] },
};

export type DiscordSample = { requestId: string; askToCardMs: number; askToStarterMs: number; clickToReplyMs: number; directPostMs: number };

export async function sampleDiscordLatencies(stack: Stack, clock: EventClock, n: number, log: (line: string) => void): Promise<DiscordSample[]> {
  const discord = stack.discord!;
  const people = stack.discordUser!;
  await postDirectly(discord, { content: "warm-up", embeds: [], components: [] });
  const samples: DiscordSample[] = [];
  for (let i = 1; i <= n; i++) {
    const sessionId = await stack.prompt(`RUN: echo bench-${i} > /dev/null`, `bench sample ${i}`);
    const [asked] = await clock.asked([sessionId], 1);
    const requestId = asked!.request.id;
    const card = await discordCard(discord, requestId, 15_000);
    // In a thread, the thread's starter shares its id; a card posted in the bot's channel starts its thread itself.
    const starter = discord.message(card.channelId) ?? (card.channelId === discord.channelId ? card : undefined);
    if (!starter) throw new Error(`card ${requestId} is not in a thread the bot opened`);

    await new Promise((resolve) => setTimeout(resolve, READING_MS)); // as on Slack (latency.ts)
    const clicked = performance.now();
    await people.clickButton({ user: discordPeople.alice.id, message: card, customId: `approval:once:${requestId}` });
    const replied = await clock.replied(requestId);

    await discordCardSays(discord, requestId, /Approved once by <@/);
    await clock.idle(sessionId);
    const directPostMs = await postDirectly(discord, { content: card.history[0]!.content, embeds: card.history[0]!.embeds, components: card.history[0]!.components });

    const sample = {
      requestId,
      askToCardMs: firstSeen(card) - asked!.at,
      askToStarterMs: firstSeen(starter) - asked!.at,
      clickToReplyMs: replied.hr - clicked,
      directPostMs,
    };
    samples.push(sample);
    log(`  sample ${String(i).padStart(2)}: ask→card ${sample.askToCardMs} ms, click→reply ${sample.clickToReplyMs.toFixed(1)} ms, direct post ${directPostMs.toFixed(1)} ms`);
  }
  return samples;
}

/** When the fake received the message (its first version). */
const firstSeen = (m: FakeMessage) => m.history[0]!.at;

/** One `POST /channels/{id}/messages` straight to the fake, JSON with the bot token as discord.js sends it: fetch → response. */
async function postDirectly(discord: FakeDiscord, message: { content: string; embeds: unknown[]; components: unknown[] }): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${discord.apiUrl}/v10/channels/${BASELINE_CHANNEL}/messages`, {
    method: "POST",
    headers: { authorization: `Bot ${discord.token}`, "content-type": "application/json" },
    body: JSON.stringify(message),
  });
  await response.arrayBuffer();
  const roundTripMs = performance.now() - started;
  if (!response.ok) throw new Error(`direct Discord post failed: HTTP ${response.status}`);
  return roundTripMs;
}
