import { describe, expect, it } from "vitest";
import { sharedOpencode, stackPerTest } from "./support/stack-per-test.ts";
import { alice } from "./support/stack.ts";
import { waitFor } from "./support/wait-for.ts";

const TOKEN = "replica-gate-token-0123456789";
const health = async (port: number) => (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { opencode: string };
const cardsOf = (messages: Array<{ history: Array<{ blocks: unknown[] }> }>, requestId: string) =>
  messages.filter((m) => JSON.stringify(m.history[0]?.blocks ?? []).includes(`Request ${requestId} · `));

// Several processes share a database only on Postgres (PGlite's files admit one process).
describe.skipIf(!process.env.TEST_DATABASE_URL)("two bot processes on one Postgres", () => {
  const opencode = sharedOpencode();
  const stack = stackPerTest({ process: true, database: "postgres", env: { CHATOPS_TOKEN: TOKEN } }, opencode);

  it("one follows the stream; a click on the other decides once; the other takes over when the first is killed", async () => {
    const replica = await stack.startReplica();
    expect((await health(stack.bot.port)).opencode).toBe("ready");
    expect((await health(replica.port)).opencode).toBe("standby");

    const session = await stack.prompt("RUN: echo one > /dev/null");
    const [asked] = await stack.asked(session);
    const card = await stack.card(asked!.id);
    // Clicked at the replica that does not follow the stream: it decides, replies and edits the card.
    expect((await stack.userAt(replica.port).clickButton({ user: alice, channel: card.channel, messageTs: card.ts, actionId: "approval:once" })).status).toBe(200);
    await stack.cardSays(asked!.id, /Approved once by <@U0ALICE>/);
    await waitFor(() => stack.replies(asked!.id).length === 1, { what: "the one permission.replied" });
    expect(cardsOf(stack.slack.messages, asked!.id)).toHaveLength(1);

    // The holder dies; the replica takes the lease over (its database connection closed with the process).
    await stack.killBot();
    const killedAt = Date.now();
    await waitFor(async () => (await health(replica.port)).opencode === "ready", { what: "the replica to follow the stream", timeout: 10_000 });
    const takeoverMs = Date.now() - killedAt;
    expect(takeoverMs).toBeLessThan(5_000);

    const next = await stack.prompt("RUN: echo two > /dev/null");
    const [second] = await stack.asked(next);
    const secondCard = await stack.card(second!.id, 15_000);
    await stack.userAt(replica.port).clickButton({ user: alice, channel: secondCard.channel, messageTs: secondCard.ts, actionId: "approval:once" });
    await waitFor(() => stack.replies(second!.id).length === 1, { what: "the reply from the replica" });
    expect(cardsOf(stack.slack.messages, second!.id)).toHaveLength(1);
  });

  it("a plugin's long poll waiting in one process hears a decision made in the other at once", async () => {
    const replica = await stack.startReplica();
    const session = await stack.prompt("RUN: echo warm > /dev/null");
    const [asked] = await stack.asked(session);
    await stack.card(asked!.id);
    const gate = (wait?: number) =>
      fetch(`http://127.0.0.1:${replica.port}/opencode/gate`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ directory: stack.opencode.projectDir, sessionID: session, callID: "call-replica-1", tool: "bash", args: { command: "echo held" }, ...(wait ? { wait } : {}) }),
      }).then(async (res) => ({ status: res.status, body: (await res.json()) as { status: string; requestId: string } }));
    const first = await gate();
    expect(first.body.status).toBe("pending");
    const card = await stack.card(first.body.requestId, 15_000);
    const polling = gate(20_000).then((answer) => ({ ...answer, at: Date.now() }));
    // Clicked at the process that does not hold the poll.
    await stack.click(alice, card, "Approve once");
    const clickedAt = Date.now();
    const answer = await polling;
    expect(answer.body.status).toBe("allow");
    // Far sooner than the poll's safety re-read (5 s): the decision's NOTIFY woke it.
    expect(answer.at - clickedAt).toBeLessThan(2_500);
  });
});
