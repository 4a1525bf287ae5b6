/**
 * Sessions "started from chat", written into a bot's data before it starts: each with its thread's
 * parent posted in the fake Slack (so that cards can go into it) and its row in owned_sessions and
 * threads, as `/opencode <prompt>` leaves them. The bot relinks them when it connects.
 */
import { encodeRef } from "../adapters/slack/refs.ts";
import { openDatabase } from "../src/store/database.ts";
import { createOwnedSessionStore } from "../src/store/session-store.ts";
import type { FakeSlack } from "../test/support/fake-slack.ts";
import { alice, CHANNEL } from "../test/support/stack.ts";

/** Seeds `count` sessions `ses_bench<i>` on `serverUrl` in `directory`; returns their ids. */
export async function seedOwnedSessions(options: { dataDir: string; databaseUrl?: string; slack: FakeSlack; serverUrl: string; directory: string; count: number }): Promise<string[]> {
  const database = await openDatabase({ url: options.databaseUrl, dataDir: options.dataDir });
  try {
    const sessions = createOwnedSessionStore(database);
    const ids = Array.from({ length: options.count }, (_, i) => `ses_bench${String(i).padStart(5, "0")}`);
    for (const sessionId of ids) {
      const title = `bench ${sessionId}`;
      const response = await fetch(`${options.slack.apiUrl}chat.postMessage`, {
        method: "POST",
        headers: { authorization: `Bearer ${options.slack.botToken}`, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ channel: CHANNEL, text: `:robot_face: ${title}` }),
      });
      const posted = (await response.json()) as { ok: boolean; ts?: string; error?: string };
      if (!posted.ok || !posted.ts) throw new Error(`seeding the thread of ${sessionId} failed: ${posted.error ?? response.status}`);
      await sessions.saveOwned({
        sessionId,
        serverUrl: options.serverUrl,
        directory: options.directory,
        projectName: "bench",
        platform: "slack",
        channel: CHANNEL,
        thread: encodeRef({ channel: CHANNEL, ts: posted.ts }),
        user: { id: alice.id, name: alice.name },
        prompt: "stream a long answer",
        title,
      });
    }
    return ids;
  } finally {
    await database.close();
  }
}
