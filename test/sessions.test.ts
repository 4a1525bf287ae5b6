import { describe, expect, it } from "vitest";
import { chatDriver, onePlatform, PLATFORMS, sessionStartedWith, startAsAlice } from "./support/chat-driver.ts";
import { sharedOpencode, stackPerTest } from "./support/stack-per-test.ts";
import { waitFor } from "./support/wait-for.ts";

// `/opencode sessions` and `/opencode status` on each platform, against the real OpenCode server.
describe.each(PLATFORMS)("seeing sessions on %s", (platform) => {
  const opencode = sharedOpencode();
  const stack = stackPerTest(onePlatform(platform), opencode);
  const chat = () => chatDriver(stack, platform);

  it("sessions lists each with its state, owner, cost and thread; status names the server, its stream and what is pending", async () => {
    const { alice } = chat().people;
    const done = await startAsAlice(stack, platform, "SAY: all done");
    const doneThread = await chat().thread(done);
    await waitFor(() => doneThread.answers().includes("all done"), { what: "the first session's answer" });
    const since = Date.now();
    expect(await chat().command(alice, "run", { prompt: "RUN: echo waits > waits.txt" })).toMatch(/^Started/);
    const waiting = await sessionStartedWith(stack, "RUN: echo waits > waits.txt", since);
    await chat().card((await stack.asked(waiting))[0]!.id);

    const link = platform === "slack" ? "https://fake-workspace\\.slack\\.com/archives/C0APPROVALS/p\\d+" : "https://discord\\.com/channels/\\d+/\\d+";
    const listed = await chat().command(alice, "sessions");
    const lines = listed.split("\n");
    expect(lines[0]).toBe("Sessions (newest first):");
    expect(lines[1]).toMatch(new RegExp(`^• “RUN: echo waits > waits.txt” · \`web\` · waiting for approval · alice · \\$0 · ${link}$`));
    expect(lines[2]).toMatch(new RegExp(`^• “SAY: all done” · \`web\` · idle · alice · \\$0\\.0045 · ${link}$`));
    expect(await chat().command(alice, "sessions", { project: "web" })).toBe(listed.replace("Sessions (newest first):", "Sessions in `web` (newest first):"));
    expect(await chat().command(alice, "sessions", { project: "api" })).toBe("No sessions in `api` yet.");

    expect(await chat().command(alice, "status")).toMatch(
      new RegExp(`^OpenCode servers \\(1\\):\\n• ${stack.opencode.url.replaceAll(".", "\\.")} · reachable, OpenCode \\d+\\.\\d+\\.\\d+ · stream ready · 1 approval and 0 questions pending · 1 session working$`),
    );
  });
});
