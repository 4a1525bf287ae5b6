import { performance } from "node:perf_hooks";
import type { FakeCall, FakeSlack, Json } from "../test/support/fake-slack.ts";
import { waitFor } from "../test/support/wait-for.ts";

/** The bot's successful `chat.postMessage` of the card for a request (its blocks name `Request <id> `). */
export function cardCall(slack: FakeSlack, requestId: string): FakeCall | undefined {
  return slack.calls.find(
    (c) => c.method === "chat.postMessage" && c.response.ok === true && JSON.stringify(c.body.blocks ?? []).includes(`Request ${requestId} `),
  );
}

export function waitForCardCall(slack: FakeSlack, requestId: string, timeout = 15_000): Promise<FakeCall> {
  return waitFor(() => cardCall(slack, requestId), { what: `the card for ${requestId} to be posted`, timeout });
}

/** The successful `chat.postMessage` that created the message `ts` (a card's thread parent). */
export function postOf(slack: FakeSlack, channel: string, ts: string): FakeCall | undefined {
  return slack.calls.find((c) => c.method === "chat.postMessage" && c.response.ok === true && c.response.channel === channel && c.response.ts === ts);
}

export type DirectPost = { roundTripMs: number; toReceiptMs: number };

/**
 * One `chat.postMessage` straight to the fake Slack, as the bot's WebClient sends it (form-encoded,
 * nested fields as JSON, Bearer bot token): what a single Slack call costs from this process.
 */
export async function postDirectly(slack: FakeSlack, channel: string, message: { text: string; blocks: Json[] }): Promise<DirectPost> {
  const before = slack.calls.length;
  const sentAt = Date.now();
  const started = performance.now();
  const response = await fetch(`${slack.apiUrl}chat.postMessage`, {
    method: "POST",
    headers: { authorization: `Bearer ${slack.botToken}`, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ channel, text: message.text, blocks: JSON.stringify(message.blocks), unfurl_links: "false" }),
  });
  const body = (await response.json()) as { ok?: boolean; error?: string };
  const roundTripMs = performance.now() - started;
  if (!response.ok || body.ok !== true) throw new Error(`direct chat.postMessage failed: HTTP ${response.status} ${body.error ?? ""}`);
  const received = slack.calls.slice(before).find((c) => c.method === "chat.postMessage" && c.body.channel === channel);
  if (!received) throw new Error("direct chat.postMessage: the fake Slack recorded no call");
  return { roundTripMs, toReceiptMs: received.at - sentAt };
}
