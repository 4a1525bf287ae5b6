/**
 * Heap measurements of the process the bot runs in. The fakes share that process and keep a
 * transcript of everything (each call, callback, dispatch and ephemeral message, payloads included),
 * so before each measurement the run waits until chat traffic has stopped and empties those
 * transcripts: what is left to grow is the bot's.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { FakeDiscord } from "../support/fake-discord.ts";
import type { FakeSlack } from "../support/fake-slack.ts";
import { waitFor } from "../support/wait-for.ts";

export type HeapSample = { heapUsed: number; rss: number };

/** `global.gc`, exposed at run time when node was started without --expose-gc. */
function collector(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

/** Heap used and RSS after full collections (several: weak references and finalizers take more than one). */
export async function measureHeap(): Promise<HeapSample> {
  const gc = collector();
  for (let i = 0; i < 4; i += 1) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const { heapUsed, rss } = process.memoryUsage();
  return { heapUsed, rss };
}

/** Resolves once neither fake has received a call for `quietMs` (the bot's follow-ups to the last inputs are done). */
export async function untilChatIsQuiet(slack: FakeSlack, discord: FakeDiscord, quietMs = 750, timeout = 60_000): Promise<void> {
  let seen = -1;
  let since = Date.now();
  await waitFor(
    () => {
      const count = slack.calls.length + discord.calls.length + discord.callbacks.length;
      if (count !== seen) {
        seen = count;
        since = Date.now();
      }
      return Date.now() - since >= quietMs;
    },
    { what: `the bot to stop calling the fake Slack and Discord for ${quietMs} ms`, timeout, interval: 50 },
  );
}

/** Empties the fakes' transcripts (calls, answers, dispatches, interactions, ephemeral messages); only once chat is quiet. */
export function forgetTranscripts(slack: FakeSlack, discord: FakeDiscord): void {
  slack.calls.length = 0;
  slack.ephemerals.length = 0;
  slack.responses.length = 0;
  discord.calls.length = 0;
  discord.callbacks.length = 0;
  discord.dispatches.length = 0;
  discord.modals.length = 0;
  // Chat is quiet: no interaction is waiting for its answer.
  discord.interactions.clear();
  for (let i = discord.messages.length - 1; i >= 0; i -= 1) if (discord.messages[i]!.visibleTo !== undefined) discord.messages.splice(i, 1);
}

export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
