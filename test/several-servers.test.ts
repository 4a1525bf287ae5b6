import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatDriver, onePlatform, sessionsStartedWith } from "./support/chat-driver.ts";
import { startOpencodeFixture, type OpencodeFixture } from "./support/opencode-fixture.ts";
import { SHARED_OPENCODE_PASSWORD } from "./support/opencode-pool.ts";
import { stackPerTest } from "./support/stack-per-test.ts";
import { waitFor, waitForFile } from "./support/wait-for.ts";

// A project on a second OpenCode server (same credentials as OPENCODE_URL's): the bot follows that
// server's event stream too, replies there, and /healthz reports each server.
describe("a project on another OpenCode server", () => {
  let second: OpencodeFixture;
  beforeAll(async () => {
    second = await startOpencodeFixture({ ownServer: true, opencodePassword: SHARED_OPENCODE_PASSWORD });
  });
  afterAll(async () => {
    await second?.stop();
  });
  const stack = stackPerTest(onePlatform("slack"));
  const chat = () => chatDriver(stack, "slack");

  it("is added on that server, followed, its cards decide it there, and /healthz names both servers", async () => {
    const { alice } = chat().people;
    const url = second.opencode.url;
    expect(await chat().command(alice, "project add", { name: "other", path: second.opencode.projectDir, url })).toBe(
      `Project \`other\` added: ${second.opencode.projectDir} on ${url} (git branch master).`,
    );
    const health = await waitFor(
      async () => {
        const body = (await (await fetch(`http://127.0.0.1:${stack.bot.port}/healthz`)).json()) as { opencode: string; opencodeServers: Record<string, string> };
        return body.opencodeServers[url] === "ready" ? body : undefined;
      },
      { what: "/healthz to report the second server ready" },
    );
    expect(health.opencodeServers).toEqual({ [stack.opencode.url]: "ready", [url]: "ready" });

    const since = Date.now();
    expect(await chat().command(alice, "run", { prompt: "RUN: echo elsewhere > elsewhere.txt", project: "other" })).toMatch(/^Started/);
    const sessionId = await waitFor(async () => ((await second.opencode.client.session.list()).data ?? []).find((s) => s.time.created >= since)?.id, {
      what: "the session on the second server",
    });
    const [asked] = await second.asked(sessionId);
    await chat().click(alice, asked!.id, "Approve once");
    await waitForFile(join(second.opencode.projectDir, "elsewhere.txt"), "elsewhere\n");
    await waitFor(() => second.replies(asked!.id).length === 1, { what: "the one reply, on the second server" });
    expect(await sessionsStartedWith(stack, "RUN: echo elsewhere > elsewhere.txt", since)).toEqual([]);
  });
});
