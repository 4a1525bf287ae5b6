import { describe, expect, it } from "vitest";
import { chatDriver, onePlatform, PLATFORMS, startAsAlice } from "./support/chat-driver.ts";
import { SEEDED_WEEK_BREAKDOWN, seedCosts } from "./support/seed-costs.ts";
import { sharedOpencode, stackPerTest } from "./support/stack-per-test.ts";
import { waitFor } from "./support/wait-for.ts";

// `/opencode costs` on each platform: the seeded week's numbers (test/support/seed-costs.ts), one
// project's, today's with a real session's thread linked, and a period it cannot read.
describe.each(PLATFORMS)("/opencode costs on %s", (platform) => {
  // A project of its own: the ledger reads the costs of every session of its projects' directories
  // from OpenCode, and the worker's shared project holds the priced sessions of the tests before.
  const stack = stackPerTest(onePlatform(platform, { env: { DIGEST_TZ: "UTC" } }), sharedOpencode({ ownProject: true }));
  const chat = () => chatDriver(stack, platform);

  it("a range of days, every project and one; a period it cannot read is refused with the forms it takes", async () => {
    const { bob } = chat().people;
    await seedCosts({ ledgerStore: stack.bot.ledgerStore!, store: stack.bot.store! });
    expect((await chat().command(bob, "costs", { period: "2026-11-23..2026-11-29" })).split("\n")).toEqual([
      "Costs · 2026-11-23 to 2026-11-29 · every project",
      "Total $0.0315 · 8,250 tokens",
      ...SEEDED_WEEK_BREAKDOWN,
    ]);
    const web = (await chat().command(bob, "costs", { period: "2026-11-23..2026-11-29", project: "web" })).split("\n");
    expect(web.slice(0, 2)).toEqual(["Costs · 2026-11-23 to 2026-11-29 · project web", "Total $0.0225 · 5,500 tokens"]);
    expect(await chat().command(bob, "costs", { period: "2026-11-30..2026-11-01" })).toBe("“2026-11-30..2026-11-01” is not a range of days: the first day comes first.");
    expect(await chat().command(bob, "costs", { period: "2026-11-01..2026-13-99" })).toBe("2026-13-99 is not a day (YYYY-MM-DD).");
  });

  it("today: a session started from chat, its cost and a link to its thread", async () => {
    const { alice } = chat().people;
    const sessionId = await startAsAlice(stack, platform, "SAY: priced");
    const thread = await chat().thread(sessionId);
    await waitFor(() => thread.answers().includes("priced"), { what: "the answer" });
    await waitFor(async () => (await stack.ledger()).some((e) => e.sessionId === sessionId), { what: "the ledger row" });
    const lines = (await chat().command(alice, "costs")).split("\n");
    expect(lines[0]).toMatch(/^Costs · today \(\d{4}-\d{2}-\d{2}\) · every project$/);
    expect(lines[1]).toBe("Total $0.0045 · 1,100 tokens");
    const link = platform === "slack" ? "https://fake-workspace\\.slack\\.com/archives/\\S+" : "https://discord\\.com/channels/\\d+/\\d+";
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^• “SAY: priced” \\(web, alice\\) \\$0\\.0045 · 1,100 tokens · ${link}$`)));
  });
});
