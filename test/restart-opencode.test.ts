import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { alice } from "./support/stack.ts";
import { stackPerTest } from "./support/stack-per-test.ts";
import { waitFor } from "./support/wait-for.ts";

// A server of its own, which the tests restart and then kill, in this order; a fresh bot for each.
describe("OpenCode restarts", () => {
  const stack = stackPerTest({ ownServer: true });

  it("OpenCode killed and restarted: stale cards close and the bot reconnects by itself", async () => {
    const session = await stack.prompt("RUN: echo stale > stale.txt");
    const [asked] = await stack.asked(session);
    await stack.card(asked!.id);

    await stack.opencode.restart();
    // What the bot relies on: a restarted OpenCode keeps its sessions and drops every pending request.
    expect((await stack.opencode.client.permission.list({}, { throwOnError: true })).data).toEqual([]);
    expect((await stack.opencode.client.session.list({}, { throwOnError: true })).data.map((s) => s.id)).toContain(session);
    await stack.cardSays(asked!.id, /Expired: OpenCode restarted/, 30_000);

    const again = await stack.prompt("RUN: echo fresh > fresh.txt");
    // Asked of OpenCode's list rather than of the test's own event watcher: only the bot's view is under test.
    const fresh = await waitFor(
      async () => (await stack.opencode.client.permission.list()).data?.find((p) => p.sessionID === again),
      { what: "OpenCode to ask for the fresh command", timeout: 20_000 },
    );
    const card = await stack.card(fresh.id, 15_000);
    await stack.click(alice, card, "Approve once");
    await waitFor(() => existsSync(join(stack.opencode.projectDir, "fresh.txt")), { what: "fresh.txt" });

    // Across the stream's reconnect (and the backfill after it), each message is in the ledger once, and the totals are OpenCode's.
    const costOf = async (sessionId: string) => {
      const messages = (await stack.opencode.client.session.messages({ sessionID: sessionId })).data ?? [];
      return messages.reduce((sum, m) => sum + (m.info.role === "assistant" && m.info.time.completed ? m.info.cost : 0), 0);
    };
    await waitFor(async () => (await stack.ledger()).filter((e) => e.sessionId === again).length >= 2, { what: "the fresh session's two messages in the ledger", timeout: 15_000 });
    const ledger = await stack.ledger();
    expect(new Set(ledger.map((e) => e.messageId)).size).toBe(ledger.length);
    for (const sessionId of [session, again]) {
      expect(ledger.filter((e) => e.sessionId === sessionId).reduce((sum, e) => sum + e.cost, 0)).toBeCloseTo(await costOf(sessionId), 10);
    }
  });

  // Last: it leaves the server dead.
  it("OpenCode down when the click comes: the decision is recorded, the reply failure too, and the card says so", async () => {
    const session = await stack.prompt("RUN: echo unreachable > unreachable.txt");
    const [asked] = await stack.asked(session);
    const card = await stack.card(asked!.id);

    await stack.opencode.kill();
    await stack.click(alice, card, "Approve once");
    await stack.cardSays(asked!.id, /OpenCode did not take this reply: OpenCode did not answer/);
    const note = await waitFor(() => stack.slack.ephemerals.find((e) => e.user === alice.id), { what: "a note to alice" });
    expect(note.text).toMatch(/recorded, but OpenCode did not take the reply/);
    expect((await stack.audit(asked!.id)).map((a) => a.decision)).toEqual(["approved_once", "reply_failed"]);
  });
});
