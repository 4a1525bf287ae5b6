import type { ChatRef } from "../../src/core/types.ts";

/** A Discord message by channel (a thread is a channel) and message id. */
export type DiscordMessage = { channel: string; message: string };

/** The opaque reference the core keeps for a Discord message: "<channel id>/<message id>". */
export function encodeRef(message: DiscordMessage): ChatRef {
  return `${message.channel}/${message.message}`;
}

/** The message behind a reference made by `encodeRef`; throws on anything else. */
export function decodeRef(ref: ChatRef): DiscordMessage {
  const match = /^(\d+)\/(\d+)$/.exec(ref);
  if (!match) throw new Error(`not a Discord message reference: ${ref}`);
  return { channel: match[1]!, message: match[2]! };
}
