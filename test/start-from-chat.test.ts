import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chatDriver, onePlatform, PLATFORMS } from "./support/chat-driver.ts";
import { sharedOpencode, stackPerTest } from "./support/stack-per-test.ts";
import { waitFor, waitForFile } from "./support/wait-for.ts";

// `/opencode run` on each platform against the real OpenCode server: a thread in the channel where
// it was typed, a session owned by whoever typed it, its cards in that thread.
describe.each(PLATFORMS)("work started from chat on %s", (platform) => {
  const opencode = sharedOpencode();
  const stack = stackPerTest(onePlatform(platform), opencode);
  const chat = () => chatDriver(stack, platform);
  const file = (name: string) => join(stack.opencode.projectDir, name);

  /** The permission.asked whose command is `command`, once OpenCode has asked it. */
  const askedFor = (command: string) =>
    waitFor(
      () =>
        stack.events.flatMap((e) => (e.payload.type === "permission.asked" && e.payload.properties.metadata.command === command ? [e.payload.properties] : []))[0],
      { what: `OpenCode to ask for ${command}`, timeout: 20_000 },
    );

  it("run: a thread where it was typed naming who started what, the session's card in it, approved there", async () => {
    const { alice } = chat().people;
    expect(await chat().command(alice, "project add", { name: "web", path: stack.opencode.projectDir })).toMatch(/^Project `web` added/);

    const answer = await chat().command(alice, "run", { prompt: "RUN: echo started > started.txt", agent: "build", model: "fake/fake-model" }, { channel: chat().workChannel });
    expect(answer).toBe("Started “RUN: echo started > started.txt” in `web`: its progress, approvals and answer are in the thread.");
    const asked = await askedFor("echo started > started.txt");
    const card = await chat().card(asked.id);
    expect(card.threadChannel).toBe(chat().workChannel);
    expect(card.thread).toContain(`${chat().mention(alice)} started: RUN: echo started > started.txt · web · build · fake/fake-model`);
    expect(card.thread).toContain(asked.sessionID);

    await chat().click(alice, asked.id, "Approve once");
    await waitForFile(file("started.txt"), "started\n");
    const title = (await stack.opencode.client.session.get({ sessionID: asked.sessionID })).data?.title;
    expect(title).toBe("RUN: echo started > started.txt");
  });

  it("an unknown project, agent or model is refused with the valid ones, read from OpenCode; nothing starts", async () => {
    const { alice } = chat().people;
    const say = (options: Record<string, string>) => chat().command(alice, "run", options);
    expect(await say({ prompt: "RUN: echo nope" })).toMatch(/^No projects yet/);
    await chat().command(alice, "project add", { name: "web", path: stack.opencode.projectDir });
    await chat().command(alice, "project add", { name: "web2", path: stack.opencode.projectDir });
    expect(await say({ prompt: "RUN: echo nope" })).toBe("Which project? Name one of `web`, `web2` in the command, or make one this channel's default with `/opencode project default <name>`.");
    expect(await say({ prompt: "RUN: echo nope", project: "api" })).toBe("There is no project named `api`. Projects: `web`, `web2`.");
    expect(await say({ prompt: "RUN: echo nope", project: "web", agent: "writer" })).toMatch(/^There is no agent `writer` in `web`\. Agents: .*`build`.*`plan`/);
    expect(await say({ prompt: "RUN: echo nope", project: "web", model: "fake/nope" })).toMatch(/^There is no model `fake\/nope` on http:\/\/127\.0\.0\.1:\d+\. Models: .*`fake\/fake-model`/);
    const sessions = await stack.opencode.client.session.list();
    expect((sessions.data ?? []).filter((s) => s.title.includes("echo nope"))).toEqual([]);
  });
});

describe("work started from chat, in Slack's own words", () => {
  const stack = stackPerTest(onePlatform("slack"));
  const chat = () => chatDriver(stack, "slack");

  it("`/opencode <prompt>` starts in the only project; `/opencode run` without a prompt gets the usage line", async () => {
    const { alice } = chat().people;
    await chat().command(alice, "project add", { name: "web", path: stack.opencode.projectDir });
    expect(await chat().command(alice, "run")).toBe("Give a prompt. Usage: /opencode run [--project <name>] [--agent <agent>] [--model <provider>/<model>] <prompt>");
    const before = stack.slack.messages.length;
    const response = await stack.user.slashCommand({ user: alice, channel: chat().channel, text: "RUN: echo short > short.txt" });
    expect(response.status).toBe(200);
    await waitFor(() => stack.slack.messages.slice(before).find((m) => m.text.includes("started: RUN: echo short > short.txt")), { what: "the thread parent" });
  });
});

describe("work started from chat, in Discord's own ways", () => {
  const stack = stackPerTest(onePlatform("discord"));
  const chat = () => chatDriver(stack, "discord");

  it("autocomplete offers the projects, and the agents and models of the project chosen, read from OpenCode", async () => {
    const { alice } = chat().people;
    await chat().command(alice, "project add", { name: "web", path: stack.opencode.projectDir });
    await chat().command(alice, "project add", { name: "docs", path: stack.opencode.projectDir });
    const choices = async (focused: string, options: Record<string, string>) => {
      const handle = await stack.discordUser!.autocomplete({ user: alice.id, name: "opencode", subcommand: "run", options, focused });
      const answer = await handle.callback();
      expect(answer.type).toBe(8);
      return ((answer.data as { choices: Array<{ name: string; value: string }> }).choices ?? []).map((choice) => choice.value);
    };
    expect(await choices("project", { project: "w" })).toEqual(["web"]);
    expect(await choices("project", { project: "" })).toEqual(["docs", "web"]);
    expect(await choices("agent", { project: "web", agent: "b" })).toEqual(["build"]);
    expect(await choices("model", { project: "web", model: "fake/" })).toEqual(["fake/fake-model"]);
  });
});
