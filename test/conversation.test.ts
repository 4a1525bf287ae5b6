import { describe, expect, it } from "vitest";
import { chatDriver, onePlatform, PLATFORMS, sessionStartedWith, sessionsStartedWith, startAsAlice } from "./support/chat-driver.ts";
import { sharedOpencode, stackPerTest } from "./support/stack-per-test.ts";
import { waitFor } from "./support/wait-for.ts";

// A session's thread is a conversation: a person's reply there is the next prompt (queued by OpenCode
// while the session is busy), files included; a mention elsewhere starts a session. On each platform.
describe.each(PLATFORMS)("the thread as a conversation on %s", (platform) => {
  const opencode = sharedOpencode();
  const stack = stackPerTest(onePlatform(platform), opencode);
  const chat = () => chatDriver(stack, platform);

  const start = (prompt: string) => startAsAlice(stack, platform, prompt);

  it("a reply in the thread, from anyone in the channel, is the session's next prompt, with its files", async () => {
    const { mallory } = chat().people;
    const sessionId = await start("SAY: first answer");
    const thread = await chat().thread(sessionId);
    await waitFor(() => thread.answers().includes("first answer"), { what: "the first answer" });

    await chat().say(mallory, "SAY: second answer", { sessionId, files: [{ name: "notes.txt", content: "the notes say hello" }] });
    await waitFor(() => thread.answers().includes("second answer"), { what: "the second answer", timeout: 20_000 });
    expect(thread.answers()).toEqual(["first answer", "second answer"]);
    expect(thread.status()).toHaveLength(2);
    const asked = stack.llm.requests.find((r) => JSON.stringify(r.messages).includes("SAY: second answer"));
    expect(JSON.stringify(asked?.messages)).toContain("the notes say hello");
  });

  it("a reply while the session waits for approval is queued, and runs once the first turn is over", async () => {
    const { alice, bob } = chat().people;
    const sessionId = await start("RUN: echo first > queued.txt");
    const [asked] = await stack.asked(sessionId);
    await chat().card(asked!.id);
    await chat().say(bob, "SAY: after the command", { sessionId });
    await chat().click(alice, asked!.id, "Approve once");
    const thread = await chat().thread(sessionId);
    await waitFor(() => thread.answers().includes("after the command"), { what: "the queued prompt's answer", timeout: 20_000 });
  });

  it("a mention in a channel starts a session in its default project, once", async () => {
    const { bob } = chat().people;
    const since = Date.now();
    await chat().command(bob, "project add", { name: "web", path: stack.opencode.projectDir });
    await chat().say(bob, "@bot SAY: from a mention");
    const sessionId = await sessionStartedWith(stack, "SAY: from a mention", since);
    const thread = await chat().thread(sessionId);
    await waitFor(() => thread.answers().includes("from a mention"), { what: "the mention's answer", timeout: 20_000 });
    expect(await sessionsStartedWith(stack, "SAY: from a mention", since)).toHaveLength(1);
  });
});

describe("Slack's deliveries of one mention", () => {
  const stack = stackPerTest(onePlatform("slack"));
  const chat = () => chatDriver(stack, "slack");

  it("app_mention and message for one mention, and Slack's retry of it, start one session", async () => {
    const { alice } = chat().people;
    const since = Date.now();
    await chat().command(alice, "project add", { name: "web", path: stack.opencode.projectDir });
    const { eventIds } = await chat().say(alice, "@bot SAY: only once");
    expect(eventIds).toHaveLength(2);
    await stack.user.redeliver(eventIds[1]!, { retryNum: 1, reason: "http_timeout" });
    const sessionId = await sessionStartedWith(stack, "SAY: only once", since);
    const thread = await chat().thread(sessionId);
    await waitFor(() => thread.answers().includes("only once"), { what: "the answer", timeout: 20_000 });
    expect(await sessionsStartedWith(stack, "SAY: only once", since)).toHaveLength(1);
    expect(stack.slack.messages.filter((m) => !m.thread_ts && m.text.includes("started: SAY: only once"))).toHaveLength(1);
  });

  it("the bot's own messages coming back as events, and a person's edit, are never prompts", async () => {
    const { alice, bob } = chat().people;
    stack.slack.echoBotMessages = true;
    const sessionId = await startAsAlice(stack, "slack", "SAY: echoed back");
    const thread = await chat().thread(sessionId);
    await waitFor(() => thread.answers().includes("echoed back"), { what: "the first answer" });
    await chat().say(bob, "SAY: typo", { sessionId });
    await waitFor(() => thread.answers().includes("typo"), { what: "the answer to bob's reply" });
    const typo = stack.slack.messages.find((m) => m.user === bob.id && m.text === "SAY: typo")!;
    await stack.user.editMessage({ user: bob, channel: typo.channel, ts: typo.ts, text: "SAY: edited" });
    // Something to wait for after the edit: a real reply, answered.
    await chat().say(alice, "SAY: sentinel", { sessionId });
    await waitFor(() => thread.answers().includes("sentinel"), { what: "the sentinel's answer" });
    const prompts = stack.llm.requests.flatMap((r) => (r.messages.at(-1)?.role === "user" ? [JSON.stringify(r.messages.at(-1))] : []));
    expect(prompts.some((p) => p.includes("SAY: edited"))).toBe(false);
    expect(prompts.filter((p) => p.includes("echoed back") || p.includes("Done ·"))).toEqual([expect.stringContaining("SAY: echoed back")]);
    expect(thread.answers()).toEqual(["echoed back", "typo", "sentinel"]);
  });
});
