import { describe, expect, it } from "vitest";
import { discordCardSays } from "./support/discord-cards.ts";
import { onePlatform, peopleOf } from "./support/chat-driver.ts";
import { alice, CHANNEL, cardBlocks } from "./support/stack.ts";
import { sharedOpencode, stackPerTest } from "./support/stack-per-test.ts";
import { waitFor } from "./support/wait-for.ts";

const SESSIONS = 8;

/** `RUN2`: two bash calls in one turn, so OpenCode asks both at once. */
const burst = (s: number) => `RUN2: echo burst-${s}-a > /dev/null ;; echo burst-${s}-b > /dev/null`;

// Posts are what Slack limits (about one a second per channel): a new session's parent carries its
// first cards, and a session's requests that come while its message waits to go out join it.
describe("card messages on Slack", () => {
  const stack = stackPerTest(onePlatform("slack"), sharedOpencode());

  it(`a burst of ${SESSIONS * 2} requests in ${SESSIONS} new sessions: one post per session at most twice, every card once, each decided on its own`, async () => {
    const posts = () => stack.slack.calls.filter((c) => c.method === "chat.postMessage" && c.body.channel === CHANNEL && c.status === 200);
    const before = posts().length;
    const sessions = await Promise.all(Array.from({ length: SESSIONS }, (_, s) => stack.prompt(burst(s), `burst ${s}`)));
    const asked = (await Promise.all(sessions.map((session) => stack.asked(session, 2)))).flat();
    const cards = await Promise.all(asked.map((a) => stack.card(a.id, 30_000)));

    // Every request on exactly one message, in its session's thread.
    for (const a of asked) {
      expect(stack.slack.messages.filter((m) => JSON.stringify(m.history[0]?.blocks ?? []).includes(` ${a.id} · session`)), a.id).toHaveLength(1);
    }
    const messages = new Set(cards.map((m) => m.ts));
    const spent = posts().length - before;
    expect(spent).toBe(messages.size);
    // Without gathering, a parent and two cards per session (24 posts); with it, at most two per
    // session: Slack's bucket lets the first five posts go at once, so those sessions' second
    // requests may need a post of their own, and the queued sessions' go out with their first.
    expect(spent).toBeLessThanOrEqual(2 * SESSIONS);
    for (const session of sessions) {
      const own = cards.filter((_, i) => asked[i]!.sessionID === session);
      const parent = own.find((m) => !m.thread_ts || m.thread_ts === m.ts);
      expect(parent, `the parent of ${session} carries its first card`).toBeDefined();
      expect(own.every((m) => m.ts === parent!.ts || m.thread_ts === parent!.ts)).toBe(true);
    }
    // The queued sessions' two requests went out together.
    const shared = cards.filter((m, i) => cards.findIndex((o) => o.ts === m.ts) !== i);
    expect(shared.length).toBeGreaterThan(0);

    // A message holding two cards: each decided on its own, the other keeps its buttons until then.
    const together = shared[0]!;
    const [first, second] = asked.filter((_, i) => cards[i]!.ts === together.ts);
    const current = () => stack.slack.message(together.channel, together.ts)!;
    await stack.click(alice, current(), "Approve once", first!.id);
    await stack.cardSays(first!.id, /Approved once by/);
    const buttonsOf = (id: string) => JSON.stringify(cardBlocks(current(), id)).match(/"action_id":"approval:[a-z]+"/g) ?? [];
    expect(buttonsOf(first!.id)).toEqual([]);
    expect(buttonsOf(second!.id)).toHaveLength(4);
    expect(JSON.stringify(current().blocks)).toContain("burst");
    await stack.click(alice, current(), "Reject", second!.id).then(async () => {
      const modal = await stack.modal(alice, "approval_reject");
      await stack.user.submitView({ user: alice, viewId: modal.id, values: { reason: { value: "not now" } } });
    });
    await stack.cardSays(second!.id, /Rejected by .*not now/);
    await stack.cardSays(first!.id, /Approved once by/);
    for (const a of asked.filter((x) => x.id !== first!.id && x.id !== second!.id)) {
      await stack.opencode.client.permission.reply({ requestID: a.id, reply: "once" });
    }
    await Promise.all(asked.map((a) => waitFor(() => stack.replies(a.id).length === 1, { what: `one reply to ${a.id}` })));
  });

  it("clicks that come while a message's edit waits for Slack share the next edit: the cards of a message decided in two edits, each shown as decided", async () => {
    // The parent is answered late, so that asks coming meanwhile gather on one message.
    stack.slack.answerLate("chat.postMessage", 1, 1_500);
    const session = await stack.prompt("RUN2: echo four-a > /dev/null ;; echo four-b > /dev/null ;; echo four-c > /dev/null ;; echo four-d > /dev/null", "four at once");
    const asked = await stack.asked(session, 4);
    const cards = await Promise.all(asked.map((a) => stack.card(a.id, 30_000)));
    // The premise: a message carries three or four of them (the parent all four, or a reply the last three).
    const message = cards.find((m) => cards.filter((o) => o.ts === m.ts).length >= 3)!;
    expect(message).toBeDefined();
    const onMessage = asked.filter((_, i) => cards[i]!.ts === message.ts);
    const edits = () => stack.slack.calls.filter((c) => c.method === "chat.update" && c.body.ts === message.ts).length;
    // The first edit takes effect at once but is answered late: the other clicks come while it waits.
    stack.slack.answerLate("chat.update", 1, 1_500);
    await stack.click(alice, message, "Approve once", onMessage[0]!.id);
    await waitFor(() => stack.replies(onMessage[0]!.id).length === 1, { what: "the first reply" });
    await Promise.all(onMessage.slice(1).map((a) => stack.click(alice, message, "Approve once", a.id)));
    for (const a of onMessage) await stack.cardSays(a.id, /Approved once by/);
    await Promise.all(onMessage.map((a) => waitFor(() => stack.replies(a.id).length === 1, { what: `one reply to ${a.id}` })));
    for (const a of asked.filter((x) => !onMessage.includes(x))) await stack.opencode.client.permission.reply({ requestID: a.id, reply: "once" });
    // A stopping bot lets its edits under way finish: every edit it meant to make is counted.
    await stack.restartBot();
    expect(edits()).toBe(2);
  });

  it("a session's next card does not wait for its last card's edit, which may wait long for Slack", async () => {
    const session = await stack.prompt("RUN: echo first > /dev/null", "one edit slow");
    const [first] = await stack.asked(session);
    await stack.card(first!.id);
    // The edit closing the first card (answered in OpenCode) takes effect at once but is answered 5 s late.
    stack.slack.answerLate("chat.update", 1, 5_000);
    await stack.opencode.client.permission.reply({ requestID: first!.id, reply: "once" }, { throwOnError: true });
    await waitFor(() => stack.events.some((e) => e.payload.type === "session.idle" && e.payload.properties.sessionID === session), { what: "the first turn over" });
    const repliedAt = Date.now();
    await stack.opencode.client.session.promptAsync(
      { sessionID: session, parts: [{ type: "text", text: "RUN: echo second > /dev/null" }], model: { providerID: "fake", modelID: "fake-model" } },
      { throwOnError: true },
    );
    const [, second] = await stack.asked(session, 2);
    const card = await stack.card(second!.id);
    expect(card.history[0]!.at - repliedAt).toBeLessThan(4_000);
    await stack.cardSays(first!.id, /[Aa]pproved/);
    await stack.opencode.client.permission.reply({ requestID: second!.id, reply: "once" }, { throwOnError: true });
  });
});

describe("card messages on Discord", () => {
  const stack = stackPerTest(onePlatform("discord"), sharedOpencode());

  it("a new session's thread starter carries its first card, clicked and edited in the channel", async () => {
    const discord = stack.discord!;
    const { alice: lead } = peopleOf("discord");
    const session = await stack.prompt(burst(99), "starter card");
    const [one, two] = await stack.asked(session, 2);
    const starter = await waitFor(() => discord.messages.find((m) => m.threadId && JSON.stringify(m.embeds).includes(" · session")), { what: "a starter carrying a card" });
    expect(starter.content).toContain("starter card");
    const carried = [one!, two!].find((a) => JSON.stringify(starter.embeds).includes(` ${a.id} · session`))!;
    const other = [one!, two!].find((a) => a !== carried)!;
    const inThread = await waitFor(() => discord.messages.find((m) => m.channelId === starter.threadId && JSON.stringify(m.embeds).includes(` ${other.id} · session`)), { what: "the second card in the thread" });
    expect(inThread.id).not.toBe(starter.id);

    const click = await stack.discordUser!.clickButton({ user: lead.id, message: starter, customId: `approval:once:${carried.id}` });
    await click.callback();
    await discordCardSays(discord, carried.id, /Approved once by/);
    expect(starter.content).toContain("starter card");
    await waitFor(() => stack.replies(carried.id).length === 1, { what: "the reply to the starter's card" });
    await stack.opencode.client.permission.reply({ requestID: other.id, reply: "once" });
  });
});
