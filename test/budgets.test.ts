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

  it("crossing 80 % and 100 % of the daily budget is posted once each in the digest channel", async () => {
    const { alice } = chat().people;
    const sessionId = await startAsAlice(stack, platform, "SAY: one");
    const thread = await chat().thread(sessionId);
    const answered = (text: string) => waitFor(() => thread.answers().includes(text), { what: `the answer “${text}”`, timeout: 15_000 });
    const recorded = (count: number) => waitFor(async () => (await stack.ledger()).filter((e) => e.sessionId === sessionId).length >= count, { what: `${count} ledger rows` });
    await answered("one");
    await recorded(1);
    expect(warnings(stack, platform)).toEqual([]);
    for (const [i, text] of ["two", "three", "four"].entries()) {
      await chat().say(alice, `SAY: ${text}`, { sessionId });
      await answered(text);
      await recorded(i + 2);
    }
    const today = new Date().toISOString().slice(0, 10);
    await waitFor(() => warnings(stack, platform).length >= 2, { what: "two warnings" });
    expect(warnings(stack, platform)).toEqual([
      `Budget: \`web\` has spent $0.009 today (${today}), 90% of its daily budget of $0.01.`,
      `Budget: \`web\` has spent $0.0135 today (${today}), its whole daily budget of $0.01.`,
    ]);
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
