import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chatDriver, onePlatform, PLATFORMS, startAsAlice } from "./support/chat-driver.ts";
import { longText } from "./support/fake-llm.ts";
import { sharedOpencode, stackPerTest } from "./support/stack-per-test.ts";
import { waitFor, waitForFile } from "./support/wait-for.ts";

// A session started from chat shows its progress in one status message per turn, edited in place,
// and posts its answer (or its error) in the thread, on each platform.
describe.each(PLATFORMS)("progress of work started from chat on %s", (platform) => {
  const opencode = sharedOpencode();
  const stack = stackPerTest(onePlatform(platform), opencode);
  const chat = () => chatDriver(stack, platform);

  const start = (prompt: string) => startAsAlice(stack, platform, prompt);

  it("one status message for the turn: waiting for approval with a Stop button, then done with the tool, tokens and cost; the answer in the thread", async () => {
    const { alice } = chat().people;
    const sessionId = await start("RUN: echo progress > progress.txt");
    const thread = await chat().thread(sessionId);
    const asked = (await stack.asked(sessionId))[0]!;
    await waitFor(() => thread.status()[0]?.text.includes("Waiting for approval"), { what: "the status to say it waits for approval" });
    expect(thread.status()[0]!.buttons).toEqual(["Stop"]);

    await chat().click(alice, asked.id, "Approve once");
    await waitForFile(join(stack.opencode.projectDir, "progress.txt"), "progress\n");
    await waitFor(() => thread.answers().length > 0, { what: "the answer in the thread", timeout: 15_000 });
    expect(thread.answers()).toEqual(["done: (no output)"]);
    const [status, ...more] = thread.status();
    expect(more).toEqual([]);
    expect(status!.text).toMatch(/Done · \d+ s/);
    expect(status!.text).toContain("Last tool: bash · echo progress > progress.txt");
    // Two model calls of 1,100 tokens at $3 in / $15 out per million: $0.0045 each.
    expect(status!.text).toContain("Tokens: 2,200 · cost $0.009");
    expect(status!.buttons).toEqual([]);
    // At most one edit a second.
    const gaps = status!.at.slice(1).map((at, i) => at - status!.at[i]!);
    expect(gaps.every((gap) => gap >= 900)).toBe(true);
  });

  it("Stop: refused to someone who is neither the starter nor an approver; the starter stops it, the card closes as cancelled", async () => {
    const { alice, mallory } = chat().people;
    const sessionId = await start("RUN: echo never > stopped.txt");
    const asked = (await stack.asked(sessionId))[0]!;
    await chat().card(asked.id);
    await chat().clickStop(mallory, sessionId);
    expect(await chat().noticeTo(mallory, /may stop it/)).toBe("Only alice, who started this session, an approver or an admin may stop it, so it goes on.");
    await chat().clickStop(alice, sessionId);
    await chat().cardSays(asked.id, /Cancelled: the session was stopped/);
    const thread = await chat().thread(sessionId);
    await waitFor(() => thread.status()[0]?.text.includes("Stopped by alice"), { what: "the status to say alice stopped it" });
    expect(thread.status()[0]!.buttons).toEqual([]);
    expect(thread.answers()).toEqual([]);
  });

  it("an error from the model is posted as an error, never as done", async () => {
    const sessionId = await start("FAIL: the prompt is not allowed here");
    const thread = await chat().thread(sessionId);
    await waitFor(() => thread.answers().length > 0, { what: "the error in the thread", timeout: 20_000 });
    expect(thread.answers()).toEqual([expect.stringMatching(/^The turn failed: .*the prompt is not allowed here/)]);
    expect(thread.status()[0]!.text).toMatch(/Failed · \d+ s: .*the prompt is not allowed here/);
  });

  it("a long answer streamed in 10,000 deltas: a handful of status edits, at most one a second; the answer whole, split only where the platform needs", async () => {
    const size = platform === "discord" ? 4_500 : 45_000;
    const sessionId = await start(`LONG: ${size} IN 10000`);
    const thread = await chat().thread(sessionId);
    await waitFor(() => thread.status()[0]?.text.includes("Done"), { what: "the turn to end", timeout: 30_000 });
    await waitFor(() => thread.answers().join("") === longText(size), { what: "the whole answer in the thread" });
    const limit = platform === "discord" ? 2_000 : 40_000;
    expect(thread.answers().length).toBe(Math.ceil(size / limit));
    expect(thread.answers().every((message) => message.length <= limit)).toBe(true);
    const [status] = thread.status();
    expect(status!.edits).toBeLessThanOrEqual(5);
    expect(status!.at.slice(1).every((at, i) => at - status!.at[i]! >= 900)).toBe(true);
  });

  it("an answer longer than ten messages is attached as a file, its beginning posted", async () => {
    // Ten messages are 20,000 characters on Discord and 400,000 on Slack.
    const size = platform === "discord" ? 25_000 : 410_000;
    const sessionId = await start(`LONG: ${size} IN 200`);
    const thread = await chat().thread(sessionId);
    await waitFor(() => thread.files().length > 0, { what: "the answer's file", timeout: 30_000 });
    expect(thread.files()).toEqual([{ name: `answer-${sessionId}.md`, text: longText(size) }]);
    const [beginning, ...more] = thread.answers();
    expect(more).toEqual([]);
    expect(longText(size).startsWith(beginning!.slice(0, beginning!.indexOf("\n\n… the whole answer")))).toBe(true);
    expect(beginning).toContain(`… the whole answer (${size.toLocaleString("en-US")} characters) is attached as answer-${sessionId}.md.`);
  });

  it("the status lists the files the turn changed", async () => {
    const { alice } = chat().people;
    const sessionId = await start("WRITE notes/todo.md: write the docs");
    const [asked] = await stack.asked(sessionId);
    await chat().click(alice, asked!.id, "Approve once");
    await waitForFile(join(stack.opencode.projectDir, "notes/todo.md"), "write the docs");
    const thread = await chat().thread(sessionId);
    await waitFor(() => thread.status()[0]?.text.includes("Done"), { what: "the turn to end", timeout: 15_000 });
    expect(thread.status()[0]!.text).toContain("Files changed: notes/todo.md");
  });
});

describe("Stop on Discord, typed", () => {
  const stack = stackPerTest(onePlatform("discord"));
  const chat = () => chatDriver(stack, "discord");

  it("/opencode stop in a session's thread stops it; outside one it says where to type it", async () => {
    const { alice } = chat().people;
    const sessionId = await startAsAlice(stack, "discord", "RUN: echo never > typed-stop.txt");
    const [asked] = await stack.asked(sessionId);
    await chat().card(asked!.id);
    expect(await chat().command(alice, "stop")).toBe("Type `/opencode stop` in the thread of a session started from chat.");
    const starter = stack.discord!.messages.find((m) => m.content.includes(sessionId) && m.threadId)!;
    expect(await chat().command(alice, "stop", {}, { channel: starter.threadId })).toBe("Stopped: the session's pending requests are cancelled.");
    await chat().cardSays(asked!.id, /Cancelled: the session was stopped/);
  });
});
