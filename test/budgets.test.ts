import { describe, expect, it } from "vitest";
import { parseBudgets } from "../src/core/budgets.ts";
import { chatDriver, onePlatform, PLATFORMS, startAsAlice } from "./support/chat-driver.ts";
import { discordPeople, type Platform, type Stack } from "./support/stack.ts";
import { sharedOpencode, stackPerTest } from "./support/stack-per-test.ts";
import { waitFor } from "./support/wait-for.ts";

/** The budget warnings posted in the digest channel so far. */
function warnings(stack: Stack, platform: Platform): string[] {
  const all = platform === "slack" ? stack.slack.messages.filter((m) => m.channel === "C0DIGEST").map((m) => m.text) : stack.discord!.messages.filter((m) => m.channelId === discordPeople.workChannel).map((m) => m.content);
  return all.filter((text) => text.startsWith("Budget:")).map((text) => text.replaceAll("&lt;", "<").replaceAll("&gt;", ">"));
}

// A daily budget of one cent for `web`: each answer of the priced model costs $0.0045.
describe.each(PLATFORMS)("budgets on %s", (platform) => {
  const env = { COST_BUDGETS: "web:daily=0.01", DIGEST_TZ: "UTC", ...(platform === "slack" ? { DIGEST_CHANNEL: "C0DIGEST" } : { DISCORD_DIGEST_CHANNEL: discordPeople.workChannel }) };
  const stack = stackPerTest(onePlatform(platform, { env }), sharedOpencode());
  const chat = () => chatDriver(stack, platform);

  it("crossing 80 % and 100 % of the daily budget is posted once each; past it, a prompt from chat waits for an approver's OK", async () => {
    const { alice, bob, mallory } = chat().people;
    const sessionId = await startAsAlice(stack, platform, "SAY: one");
    const thread = await chat().thread(sessionId);
    const answered = (text: string) => waitFor(() => thread.answers().includes(text), { what: `the answer “${text}”`, timeout: 15_000 });
    const recorded = (count: number) => waitFor(async () => (await stack.ledger()).filter((e) => e.sessionId === sessionId).length >= count, { what: `${count} ledger rows` });
    await answered("one");
    await recorded(1);
    expect(warnings(stack, platform)).toEqual([]);
    for (const [i, text] of ["two", "three"].entries()) {
      await chat().say(alice, `SAY: ${text}`, { sessionId });
      await answered(text);
      await recorded(i + 2);
    }
    const today = new Date().toISOString().slice(0, 10);
    await waitFor(() => warnings(stack, platform).length >= 2, { what: "two warnings" });
    const posted = [
      `Budget: \`web\` has spent $0.009 today (${today}), 90% of its daily budget of $0.01.`,
      `Budget: \`web\` has spent $0.0135 today (${today}), its whole daily budget of $0.01.`,
    ];
    expect(warnings(stack, platform)).toEqual(posted);

    // Over budget: the next prompt is held on a card whose reason is the budget; only an approver lets it go.
    await chat().say(mallory, "SAY: four", { sessionId });
    const over = `\`web\` has spent $0.0135 today (${today}), its whole daily budget of $0.01`;
    expect(await chat().noticeTo(mallory, /waits for an approver/)).toBe(`Your message waits for an approver's OK in the thread: ${over}.`);
    const held = await waitFor(async () => (await stack.bot.store!.pendingRequests({ sessionId })).find((r) => r.source === "budget"), { what: "the held prompt" });
    const card = await chat().card(held.id);
    expect(card.text).toContain("Over budget: this prompt waits for an approver");
    expect(card.text).toContain(over);
    expect(card.text).toContain("SAY: four");
    expect(card.buttons).toEqual(["Approve once", "Reject"]);
    await chat().click(mallory, held.id, "Approve once");
    expect(await chat().noticeTo(mallory, /not an approver/)).toMatch(/^You are not an approver for this/);
    expect(thread.answers()).not.toContain("four");
    await chat().click(bob, held.id, "Approve once");
    await chat().cardSays(held.id, new RegExp(`Approved once by ${chat().mention(bob)}`));
    await answered("four");
    await recorded(4);
    expect(warnings(stack, platform)).toEqual(posted);
  });
});

describe("COST_BUDGETS", () => {
  it("reads project budgets and refuses an entry it cannot read, naming it", () => {
    expect(parseBudgets("web:daily=5:monthly=100, api:monthly=50")).toEqual([
      { project: "web", daily: 5, monthly: 100 },
      { project: "api", monthly: 50 },
    ]);
    expect(() => parseBudgets("web:weekly=5")).toThrow("“web:weekly=5” is not <project>:daily=<dollars>[:monthly=<dollars>]");
  });
});
