import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chatDriver, onePlatform, PLATFORMS, startAsAlice } from "./support/chat-driver.ts";
import { inboundMessages } from "../src/store/schema.ts";
import { createOwnedSessionStore } from "../src/store/session-store.ts";
import { sharedOpencode, stackPerTest } from "./support/stack-per-test.ts";
import { waitFor, waitForFile } from "./support/wait-for.ts";

// Sessions started from chat across a bot restart, on each platform: re-linked to their thread, one
// thread and one status message per turn, a session OpenCode lost said so in its thread.
describe.each(PLATFORMS)("sessions started from chat across a restart on %s", (platform) => {
  const opencode = sharedOpencode();
  const stack = stackPerTest(onePlatform(platform), opencode);
  const chat = () => chatDriver(stack, platform);

  it("a turn under way goes on in its status message after the restart; its card still decides; no second thread", async () => {
    const { alice } = chat().people;
    const sessionId = await startAsAlice(stack, platform, "RUN: echo later > later.txt");
    const [asked] = await stack.asked(sessionId);
    const thread = await chat().thread(sessionId);
    await waitFor(() => thread.status()[0]?.text.includes("Waiting for approval"), { what: "the status to wait for approval" });
    await stack.restartBot();
    await chat().click(alice, asked!.id, "Approve once");
    await waitForFile(join(stack.opencode.projectDir, "later.txt"), "later\n");
    await waitFor(() => thread.answers().includes("done: (no output)"), { what: "the answer after the restart", timeout: 15_000 });
    await waitFor(() => thread.status()[0]?.text.includes("Done"), { what: "the same status message to say done" });
    expect(thread.status()).toHaveLength(1);
    const threads = platform === "slack" ? stack.slack.messages.filter((m) => !m.thread_ts && m.text.includes("started: RUN: echo later")) : stack.discord!.threads;
    expect(threads).toHaveLength(1);
  });

  it("a turn that ended while the bot was down gets its end and its answer once the bot is back", async () => {
    const sessionId = await startAsAlice(stack, platform, "RUN: echo meanwhile > meanwhile.txt");
    const [asked] = await stack.asked(sessionId);
    const thread = await chat().thread(sessionId);
    await chat().card(asked!.id);
    await stack.bot.stop();
    await stack.opencode.client.permission.reply({ requestID: asked!.id, reply: "once" });
    await waitForFile(join(stack.opencode.projectDir, "meanwhile.txt"), "meanwhile\n");
    await waitFor(async () => (await stack.opencode.client.session.status()).data?.[sessionId] === undefined, { what: "the session to go idle" });
    await stack.startBotAgain();
    await waitFor(() => thread.answers().includes("done: (no output)"), { what: "the answer posted after the restart", timeout: 15_000 });
    expect(thread.status()).toHaveLength(1);
    expect(thread.status()[0]!.text).toContain("Done");
  });

  it("a session OpenCode no longer has is said so in its thread, and a reply there is told it went nowhere", async () => {
    const { bob } = chat().people;
    const sessionId = await startAsAlice(stack, platform, "SAY: soon gone");
    const thread = await chat().thread(sessionId);
    await waitFor(() => thread.answers().includes("soon gone"), { what: "the answer" });
    await stack.bot.stop();
    await stack.opencode.client.session.delete({ sessionID: sessionId });
    await stack.startBotAgain();
    await waitFor(() => thread.answers().some((a) => a.startsWith("OpenCode no longer has this session")), { what: "the thread to be told", timeout: 15_000 });
    await chat().say(bob, "SAY: anyone there?", { sessionId });
    expect(await chat().noticeTo(bob, /no longer has this session/)).toMatch(/^OpenCode no longer has this session, so your message was not sent/);
  });

  it("a message the bot took but had not sent when it stopped is named in its thread after the restart", async () => {
    const sessionId = await startAsAlice(stack, platform, "SAY: before the crash");
    const thread = await chat().thread(sessionId);
    await waitFor(() => thread.answers().includes("before the crash"), { what: "the answer" });
    await stack.bot.stop();
    // As a bot killed between taking a message and OpenCode's answer leaves it: claimed, never settled.
    await stack.onData(async (database) => {
      const owned = await createOwnedSessionStore(database).ownedSession(sessionId);
      await database.db.insert(inboundMessages).values({ platform, messageRef: `${owned!.thread}-reply`, state: "claimed", threadRef: owned!.thread, userName: "bob", receivedAt: new Date(Date.now() - 120_000) });
    });
    await stack.startBotAgain();
    await waitFor(() => thread.answers().some((a) => a.includes("a message from bob")), { what: "the thread to name bob's message", timeout: 15_000 });
    expect(thread.answers().at(-1)).toBe("The bot restarted while it was sending a message from bob to OpenCode, which may not have it: if the session does not answer it, send it again.");
  });
});
