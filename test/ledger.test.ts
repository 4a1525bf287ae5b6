import { describe, expect, it } from "vitest";
import { chatDriver, onePlatform, PLATFORMS, startAsAlice } from "./support/chat-driver.ts";
import type { Stack } from "./support/stack.ts";
import { sharedOpencode, stackPerTest } from "./support/stack-per-test.ts";
import { waitFor } from "./support/wait-for.ts";

// The cost ledger against the real OpenCode server and its priced fake model ($3 in, $15 out per
// million tokens; 1,000 in and 100 out per call: $0.0045 a message).

/** OpenCode's own total for a session: the sum of its assistant messages' costs, and their count. */
async function opencodeTotal(stack: Stack, sessionId: string): Promise<{ cost: number; messages: number }> {
  const messages = (await stack.opencode.client.session.messages({ sessionID: sessionId })).data ?? [];
  const assistant = messages.filter((m) => m.info.role === "assistant" && m.info.time.completed !== undefined);
  return { cost: assistant.reduce((sum, m) => sum + (m.info.role === "assistant" ? m.info.cost : 0), 0), messages: assistant.length };
}

async function ledgerOf(stack: Stack, sessionId: string) {
  return (await stack.ledger()).filter((entry) => entry.sessionId === sessionId);
}

/** Waits until the ledger holds `count` messages of the session. */
const ledgerHas = (stack: Stack, sessionId: string, count: number) =>
  waitFor(async () => ((await ledgerOf(stack, sessionId)).length >= count ? ledgerOf(stack, sessionId) : undefined), { what: `${count} ledger rows for ${sessionId}`, timeout: 15_000 });

describe.each(PLATFORMS)("the cost ledger, with work started on %s", (platform) => {
  const stack = stackPerTest(onePlatform(platform), sharedOpencode());
  const chat = () => chatDriver(stack, platform);

  it("each message recorded once with its tokens and attribution; the totals equal OpenCode's", async () => {
    const { alice } = chat().people;
    const sessionId = await startAsAlice(stack, platform, "RUN: echo costs > /dev/null");
    const [asked] = await stack.asked(sessionId);
    await chat().click(alice, asked!.id, "Approve once");
    const thread = await chat().thread(sessionId);
    await waitFor(() => thread.answers().length > 0, { what: "the turn to end", timeout: 15_000 });
    const rows = await ledgerHas(stack, sessionId, 2);
    const total = await opencodeTotal(stack, sessionId);
    expect(rows).toHaveLength(total.messages);
    expect(rows.reduce((sum, row) => sum + row.cost, 0)).toBeCloseTo(total.cost, 10);
    expect(rows[0]).toMatchObject({
      serverUrl: stack.opencode.url,
      directory: stack.opencode.projectDir,
      projectName: "web",
      providerId: "fake",
      modelId: "fake-model",
      agent: "build",
      user: { platform, id: alice.id, name: alice.name },
      cost: 0.0045,
      tokens: { input: 1000, output: 100, reasoning: 0, cacheRead: 0, cacheWrite: 0 },
    });
  });
});

describe("the cost ledger across reconnects and restarts", () => {
  const stack = stackPerTest(onePlatform("slack"), sharedOpencode());
  const chat = () => chatDriver(stack, "slack");

  it("outside chat; a bot restart counts nothing twice; a message completed while the bot was down is counted once it is back", async () => {
    const { alice } = chat().people;
    await chat().command(alice, "project add", { name: "web", path: stack.opencode.projectDir });
    const outside = await stack.prompt("SAY: outside chat");
    const [row] = await ledgerHas(stack, outside, 1);
    expect(row!.user).toBeUndefined();
    expect(row!.projectName).toBe("web");

    await stack.restartBot();
    const again = await stack.prompt("SAY: after the restart");
    await ledgerHas(stack, again, 1);
    expect(await ledgerOf(stack, outside)).toHaveLength(1);

    await stack.bot.stop();
    const meanwhile = await stack.prompt("SAY: while the bot was down");
    await waitFor(async () => (await opencodeTotal(stack, meanwhile)).messages === 1, { what: "the message to complete in OpenCode" });
    await stack.startBotAgain();
    await ledgerHas(stack, meanwhile, 1);
    const all = await stack.ledger();
    expect(new Set(all.map((entry) => entry.messageId)).size).toBe(all.length);
    for (const sessionId of [outside, again, meanwhile]) {
      expect((await ledgerOf(stack, sessionId)).reduce((sum, r) => sum + r.cost, 0)).toBeCloseTo((await opencodeTotal(stack, sessionId)).cost, 10);
    }
  });
});
