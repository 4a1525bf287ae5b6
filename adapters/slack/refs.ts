import type { ChatRef } from "../../src/core/types.ts";

/** A Slack message (a card, or a thread's parent) by channel and timestamp. */
export type SlackMessage = { channel: string; ts: string };

/** The opaque reference the core keeps for a Slack message: "<channel>:<ts>" (migration 0004 writes the same). */
export function encodeRef(message: SlackMessage): ChatRef {
  return `${message.channel}:${message.ts}`;
}

/** The message behind a reference made by `encodeRef`; throws on anything else. */
export function decodeRef(ref: ChatRef): SlackMessage {
  const colon = ref.indexOf(":");
  if (colon <= 0 || colon === ref.length - 1) throw new Error(`not a Slack message reference: ${ref}`);
  return { channel: ref.slice(0, colon), ts: ref.slice(colon + 1) };
}
