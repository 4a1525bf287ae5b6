/** Finding the bot's cards in the fake Discord, as stack.card does in the fake Slack. */
import type { FakeDiscord, FakeMessage } from "./fake-discord.ts";
import { waitFor } from "./wait-for.ts";

/** Whether `message` is the bot's card for `requestId`: its first version's reference line names the request. */
export function isDiscordCard(message: FakeMessage, requestId: string): boolean {
  return message.via === "rest" && JSON.stringify(message.history[0]?.embeds ?? []).includes(` ${requestId} · session`);
}

/** The card for a request, once the bot has posted it. */
export function discordCard(discord: FakeDiscord, requestId: string, timeout = 10_000): Promise<FakeMessage> {
  return waitFor(() => discord.messages.find((m) => isDiscordCard(m, requestId)), { what: `a Discord card for ${requestId}`, timeout });
}

/** The card for a request, once its current embeds match `pattern`. */
export async function discordCardSays(discord: FakeDiscord, requestId: string, pattern: RegExp, timeout = 15_000): Promise<FakeMessage> {
  const card = await discordCard(discord, requestId);
  return waitFor(() => (pattern.test(JSON.stringify(card.embeds)) ? card : undefined), { what: `the Discord card for ${requestId} to say ${pattern}`, timeout });
}
