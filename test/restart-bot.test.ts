import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { describeEachDatabase } from "./support/database-variants.ts";
import { sharedOpencode, stackPerTest } from "./support/stack-per-test.ts";
import { alice, cardBlocks } from "./support/stack.ts";
import { cards, threads } from "../src/store/schema.ts";
import { eq, inArray } from "drizzle-orm";
import { createApprovalStore } from "../src/store/approval-store.ts";
import { discordCard, discordCardSays, isDiscordCard } from "./support/discord-cards.ts";
import { waitFor } from "./support/wait-for.ts";
import { decodeRef, encodeRef } from "../adapters/slack/refs.ts";

// The bot restarts here, OpenCode does not: one server for the file, a bot and a database per test.
const opencode = sharedOpencode();

describeEachDatabase("restarts, with the bot on %s", (database) => {
  const stack = stackPerTest({ process: true, database }, opencode);

  it("the bot killed with SIGKILL and started again on the same data: the old card still decides", async () => {
    const session = await stack.prompt("RUN: echo survived > survived.txt");
    const [asked] = await stack.asked(session);
    const card = await stack.card(asked!.id);

    await stack.killBot();
    await stack.startBotAgain();
    expect((await stack.click(alice, card, "Approve once")).status).toBe(200);
    await waitFor(() => existsSync(join(stack.opencode.projectDir, "survived.txt")), { what: "survived.txt", timeout: 20_000 });
    await stack.cardSays(asked!.id, /Approved once by <@U0ALICE>/);
    // Exactly one card for the request, although the restarted bot resynced it.
    expect(stack.slack.messages.filter((m) => JSON.stringify(m.history[0]?.blocks).includes(`Request ${asked!.id} · `))).toHaveLength(1);
    await waitFor(() => stack.replies(asked!.id).length === 1, { what: "the one permission.replied" });
  });

  it("killed between a decision's commit and its reply: the restarted bot sends the stored decision to OpenCode, once", async () => {
    const session = await stack.prompt("RUN: echo resent > resent.txt");
    const [asked] = await stack.asked(session);
    await stack.card(asked!.id);
    await stack.killBot();
    // What Alice's click had committed when the bot died: the decision and its audit row, and no reply yet.
    await stack.onData((database) =>
      createApprovalStore(database).decide({ requestId: asked!.id, state: "approved_once", decider: { platform: "slack", userId: alice.id, name: alice.name }, at: new Date() }),
    );
    await stack.startBotAgain();

    await waitFor(() => existsSync(join(stack.opencode.projectDir, "resent.txt")), { what: "resent.txt", timeout: 20_000 });
    await waitFor(() => stack.replies(asked!.id).length === 1, { what: "the one permission.replied" });
    await stack.cardSays(asked!.id, /Approved once by <@U0ALICE>/);
    // The reply is the decision's, not a new one: its one audit row stands, and no failure was written.
    const audit = await stack.audit(asked!.id);
    expect(audit.map((row) => row.decision)).toEqual(["approved_once"]);
    expect((await stack.bot.store!.getRequest(asked!.id))?.replyError).toBeNull();
  });

  it("killed between a decision's reply and its card's edit: the restarted bot draws the card as decided", async () => {
    const session = await stack.prompt("RUN: echo redrawn > redrawn.txt");
    const [asked] = await stack.asked(session);
    const card = await stack.card(asked!.id);
    await stack.killBot();
    // The premise: the card recorded, Alice's decision committed and sent to OpenCode, and then the bot died before its edit.
    await stack.onData(async (database) => {
      const store = createApprovalStore(database);
      const recorded = (await store.getRequest(asked!.id))?.cards.some((c) => c.platform === "slack");
      if (!recorded) await store.setCard(asked!.id, { platform: "slack", ref: encodeRef({ channel: card.channel, ts: card.ts }) });
      await store.decide({ requestId: asked!.id, state: "approved_once", decider: { platform: "slack", userId: alice.id, name: alice.name }, at: new Date() });
    });
    await stack.opencode.client.permission.reply({ requestID: asked!.id, reply: "once" }, { throwOnError: true });
    await waitFor(() => existsSync(join(stack.opencode.projectDir, "redrawn.txt")), { what: "redrawn.txt", timeout: 20_000 });
    expect(stack.slack.message(card.channel, card.ts)!.text).not.toMatch(/Approved/);

    await stack.startBotAgain();
    await stack.cardSays(asked!.id, /Approved once by <@U0ALICE>/);
    expect(stack.replies(asked!.id)).toHaveLength(1);
  });

  it("killed after Slack showed a card but before the bot stored it: the restarted bot adopts that card", async () => {
    // The thread's parent, carrying the card, is posted, but Slack's answer comes too late for the bot to store the thread or the card.
    const lateMs = 2_500;
    stack.slack.answerLate("chat.postMessage", 1, lateMs);
    const session = await stack.prompt("RUN: echo adopted > adopted.txt");
    const [asked] = await stack.asked(session);
    const card = await stack.card(asked!.id);
    await stack.killBot();
    // The premise: the bot died before Slack's answer for the card could reach it.
    expect(Date.now() - card.history[0]!.at).toBeLessThan(lateMs);
    await stack.startBotAgain();
    // The restarted bot's resync finds the request without a Slack card: it must adopt the one shown, not post another.
    const adopted = await waitFor(async () => (await stack.bot.store!.getRequest(asked!.id))?.cards.find((c) => c.platform === "slack"), {
      what: "the restarted bot to record a Slack card for the request",
    });
    expect(decodeRef(adopted.ref).ts).toBe(card.ts);

    await stack.click(alice, card, "Approve once");
    await waitFor(() => existsSync(join(stack.opencode.projectDir, "adopted.txt")), { what: "adopted.txt", timeout: 20_000 });
    await stack.cardSays(asked!.id, /Approved once by <@U0ALICE>/);
    expect(stack.slack.messages.filter((m) => JSON.stringify(m.history[0]?.blocks).includes(`Request ${asked!.id} · `))).toHaveLength(1);
  });

  it("cards in a thread that the store lost (an outage, a crash): the restarted bot adopts every one, and deciding one keeps the others on its message", async () => {
    // The parent is answered late, so that asks coming meanwhile gather on one message.
    stack.slack.answerLate("chat.postMessage", 1, 1_500);
    const session = await stack.prompt("RUN2: echo k1 > k1.txt ;; echo k2 > k2.txt ;; echo k3 > k3.txt ;; echo k4 > k4.txt", "lost cards");
    const asked = await stack.asked(session, 4);
    const shown = await Promise.all(asked.map((a) => stack.card(a.id, 30_000)));
    // The premise: some message carries several cards (on PGlite the four gather on the parent, on Postgres the last three on a reply).
    const shared = shown.find((m) => shown.filter((o) => o.ts === m.ts).length >= 2)!;
    expect(shared).toBeDefined();
    await stack.killBot();
    // What posts answered while Postgres was unreachable leave: the messages in Slack, neither the thread nor the cards stored.
    await stack.onData(async (database) => {
      await database.db.delete(cards).where(inArray(cards.requestId, asked.map((a) => a.id)));
      await database.db.delete(threads).where(eq(threads.sessionId, session));
    });
    await stack.startBotAgain();

    for (const [i, a] of asked.entries()) {
      const adopted = await waitFor(async () => (await stack.bot.store!.getRequest(a.id))?.cards.find((c) => c.platform === "slack"), {
        what: `the restarted bot to record the Slack card of ${a.id}`,
      });
      expect(decodeRef(adopted.ref).ts).toBe(shown[i]!.ts);
    }
    const onReply = asked.filter((_, i) => shown[i]!.ts === shared.ts);
    const current = () => stack.slack.message(shared.channel, shared.ts)!;
    const buttonsOf = (id: string) => JSON.stringify(cardBlocks(current(), id)).match(/"action_id":"approval:[a-z]+"/g) ?? [];
    await stack.click(alice, current(), "Approve once", onReply[0]!.id);
    await stack.cardSays(onReply[0]!.id, /Approved once by <@U0ALICE>/);
    for (const other of onReply.slice(1)) expect(buttonsOf(other.id), other.id).toHaveLength(4);
    for (const a of asked.filter((x) => x.id !== onReply[0]!.id)) {
      const card = shown[asked.indexOf(a)]!;
      await stack.click(alice, stack.slack.message(card.channel, card.ts)!, "Approve once", a.id);
      await stack.cardSays(a.id, /Approved once by <@U0ALICE>/);
    }
    await Promise.all(asked.map((a) => waitFor(() => stack.replies(a.id).length === 1, { what: `one reply to ${a.id}` })));
    // The session's two messages and no others: no second thread, no card posted again.
    const ofSession = stack.slack.messages.filter((m) => asked.some((a) => JSON.stringify(m.history.map((v) => v.blocks)).includes(` ${a.id} · session`)));
    expect(ofSession.map((m) => m.ts).sort()).toEqual([...new Set(shown.map((m) => m.ts))].sort());
    expect(stack.slack.messages.filter((m) => m.text.includes("lost cards"))).toHaveLength(1);
  });

  it("a card the store lost, whose request OpenCode answered while the bot was down: the restarted bot finds it and closes it", async () => {
    const session = await stack.prompt("RUN: echo closed-lost > closed-lost.txt", "closed while lost");
    const [asked] = await stack.asked(session);
    const card = await stack.card(asked!.id);
    await stack.killBot();
    // The card's and the thread's rows lost (posted during an outage), and the request answered in OpenCode meanwhile.
    await stack.onData(async (database) => {
      await database.db.delete(cards).where(eq(cards.requestId, asked!.id));
      await database.db.delete(threads).where(eq(threads.sessionId, session));
    });
    await stack.opencode.client.permission.reply({ requestID: asked!.id, reply: "once" }, { throwOnError: true });
    await waitFor(() => existsSync(join(stack.opencode.projectDir, "closed-lost.txt")), { what: "closed-lost.txt", timeout: 20_000 });
    await stack.startBotAgain();

    await waitFor(() => /answered or dropped while the bot was offline/.test(stack.slack.message(card.channel, card.ts)!.text), {
      what: "the restarted bot to close the card it had lost",
      timeout: 15_000,
    });
    expect(JSON.stringify(stack.slack.message(card.channel, card.ts)!.blocks)).not.toMatch(/"action_id":"approval:once"/);
  });
});

describe("restarts, with the card on Discord", () => {
  const frank = { id: "200000000000000006", username: "frank" };
  const stack = stackPerTest({ process: true, discord: { users: [frank] } }, opencode);

  it("the bot killed with SIGKILL and started again: the Discord card posted before still decides, once", async () => {
    // Long enough to be attached whole: the file goes up from the bot's own process, where Bolt's undici loads first.
    const command = `echo ${"x".repeat(3100)} > /dev/null && echo survived > discord-survived.txt`;
    const session = await stack.prompt(`RUN: ${command}`);
    const [asked] = await stack.asked(session);
    const discord = stack.discord!;
    const card = await discordCard(discord, asked!.id);
    expect(card.attachments.map((a) => a.text)).toEqual([command]);

    await stack.killBot();
    await stack.startBotAgain();
    await stack.discordUser!.clickButton({ user: frank.id, message: card, customId: `approval:once:${asked!.id}` });
    await waitFor(() => existsSync(join(stack.opencode.projectDir, "discord-survived.txt")), { what: "discord-survived.txt", timeout: 20_000 });
    await discordCardSays(discord, asked!.id, /Approved once by <@200000000000000006>/);
    expect(discord.messages.filter((m) => isDiscordCard(m, asked!.id))).toHaveLength(1);
    await waitFor(() => stack.replies(asked!.id).length === 1, { what: "the one permission.replied" });
  });
});
