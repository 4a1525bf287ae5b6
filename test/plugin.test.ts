import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sharedOpencode, stackPerTest } from "./support/stack-per-test.ts";
import { alice, cardText, type Stack } from "./support/stack.ts";
import { discordCardSays } from "./support/discord-cards.ts";
import { waitFor, waitForFile } from "./support/wait-for.ts";

const cardsFor = (stack: Stack, sessionId: string) =>
  stack.slack.messages.filter((m) => JSON.stringify(m.history[0]?.blocks ?? []).includes(`session ${sessionId}`));

const modelReceived = (stack: Stack, text: string) =>
  waitFor(() => stack.llm.requests.some((r) => JSON.stringify(r.messages).includes(text)), { what: `the model to receive “${text}”`, timeout: 20_000 });

/** The gate card of a session: the plugin's record is named after the session and the model's call id. */
const gateCard = (stack: Stack, sessionId: string) =>
  waitFor(() => cardsFor(stack, sessionId).find((m) => JSON.stringify(m.history[0]?.blocks).includes("exact edit available")), {
    what: `the gate card of ${sessionId}`,
    timeout: 20_000,
  });

const requestIdOf = (card: { history: Array<{ blocks: unknown[] }> }) => /Request (gate_\S+) ·/.exec(JSON.stringify(card.history[0]!.blocks))![1]!;

// One OpenCode with the plugin for the file, and each test its own bot on the port the plugin calls.
// Every test decides the calls it makes, so none is left retrying against the next test's bot.
const opencode = sharedOpencode({ plugin: true });

describe("the opencode-chatops plugin against the real OpenCode server", () => {
  const stack = stackPerTest({ plugin: true }, opencode);
  const file = (name: string) => join(stack.opencode.projectDir, name);

  it("an edited bash command is exactly the one that runs, with one card for the call", async () => {
    const session = await stack.prompt("RUN: echo original --force > plugin-original.txt");
    const card = await gateCard(stack, session);
    expect(cardText(card)).toContain("echo original --force &gt; plugin-original.txt");
    await stack.click(alice, card, "Edit");
    const modal = await stack.modal(alice, "approval_edit");
    await stack.user.submitView({ user: alice, viewId: modal.id, values: { command: { value: "echo edited > plugin-edited.txt" } } });

    await waitForFile(file("plugin-edited.txt"), "edited\n", { timeout: 20_000 });
    expect(existsSync(file("plugin-original.txt"))).toBe(false);
    const id = requestIdOf(card);
    const updated = await stack.cardSays(id, /Edited and approved by <@U0ALICE>/);
    expect(cardText(updated)).toContain("command: echo original --force &gt; plugin-original.txt → echo edited &gt; plugin-edited.txt");

    // OpenCode's own permission.asked for the same call was answered and linked, without a second card.
    const [native] = await stack.asked(session);
    expect(native!.metadata.command).toBe("echo edited > plugin-edited.txt");
    await waitFor(() => stack.replies(native!.id).length === 1, { what: "the native request answered" });
    expect(cardsFor(stack, session)).toHaveLength(1);
    expect(await stack.audit(id)).toMatchObject([
      { decision: "edited", originalArgs: { command: "echo original --force > plugin-original.txt" }, editedArgs: { command: "echo edited > plugin-edited.txt" } },
    ]);
    expect(await stack.audit(native!.id)).toMatchObject([{ decision: "approved_once", linkedRequestId: id }]);
  });

  it("an edited write writes the edited content", async () => {
    const session = await stack.prompt("WRITE notes/plan.txt: the original plan");
    const card = await gateCard(stack, session);
    expect(cardText(card)).toContain("the original plan");
    await stack.click(alice, card, "Edit");
    const modal = await stack.modal(alice, "approval_edit");
    await stack.user.submitView({ user: alice, viewId: modal.id, values: { content: { value: "the approved plan\n" } } });
    await waitForFile(file("notes/plan.txt"), "the approved plan\n", { timeout: 20_000 });
    const audit = await stack.audit(requestIdOf(card));
    expect(audit[0]).toMatchObject({ decision: "edited", originalArgs: { content: "the original plan" }, editedArgs: { content: "the approved plan\n" } });
  });

  it("a rejection's reason reaches the model and nothing runs", async () => {
    // Something for the command to destroy, so that "nothing runs" can be seen.
    mkdirSync(file("plugin-precious"));
    writeFileSync(file("plugin-precious/keep.txt"), "precious\n");
    const session = await stack.prompt("RUN: rm -rf plugin-precious");
    const card = await gateCard(stack, session);
    await stack.click(alice, card, "Reject");
    const modal = await stack.modal(alice, "approval_reject");
    await stack.user.submitView({ user: alice, viewId: modal.id, values: { reason: { value: "keep the precious dir" } } });
    await modelReceived(stack, "alice rejected this call with the following feedback: keep the precious dir");
    expect(readFileSync(file("plugin-precious/keep.txt"), "utf8")).toBe("precious\n");
    expect(stack.events.some((e) => e.payload.type === "permission.asked" && e.payload.properties.sessionID === session)).toBe(false);
  });

  it("an edit call's dialog offers path, old and new string, and the edited new string is what lands", async () => {
    const target = file("edit-me.txt");
    const seed = await stack.prompt("WRITE edit-me.txt: colour = red\n");
    await stack.click(alice, await gateCard(stack, seed), "Approve once");
    await waitFor(() => existsSync(target), { what: "edit-me.txt" });

    stack.llm.setScript((req) => {
      const toolResults = req.messages.filter((m) => m.role === "tool").length;
      if (!req.tools?.length) return { text: "edit test" };
      if (toolResults === 0) return { toolCalls: [{ name: "read", arguments: { filePath: target } }] };
      if (toolResults === 1) return { toolCalls: [{ name: "edit", arguments: { filePath: target, oldString: "red", newString: "blue" } }] };
      return { text: "edited" };
    });
    try {
      const session = await stack.prompt("change the colour");
      const card = await gateCard(stack, session);
      expect(cardText(card)).toMatch(/-red\n\+blue/);
      await stack.click(alice, card, "Edit");
      const modal = await stack.modal(alice, "approval_edit");
      const fields = JSON.stringify(modal.view);
      for (const label of ["File path", "Old string", "New string"]) expect(fields).toContain(label);
      await stack.user.submitView({ user: alice, viewId: modal.id, values: { newString: { value: "green" } } });
      await waitFor(() => readFileSync(target, "utf8") === "colour = green\n", { what: "the edited new string in the file", timeout: 20_000 });
      await stack.cardSays(requestIdOf(card), /Edited and approved by <@U0ALICE>[\s\S]*newString: blue → green/);
    } finally {
      stack.llm.setScript((await import("./support/fake-llm.ts")).defaultScript);
    }
  });

  // Also the positive control for "the bot down" below: the same kind of command writes its file when allowed.
  it("Approve once lets the call run as asked", async () => {
    const session = await stack.prompt("RUN: echo as-asked > plugin-once.txt");
    const card = await gateCard(stack, session);
    await stack.click(alice, card, "Approve once");
    await waitFor(() => existsSync(file("plugin-once.txt")), { what: "plugin-once.txt", timeout: 20_000 });
    await stack.cardSays(requestIdOf(card), /Approved once by <@U0ALICE>/);
    expect(cardsFor(stack, session)).toHaveLength(1);
  });
});

describe("the plugin when the bot goes away", () => {
  const stack = stackPerTest({ plugin: true, process: true }, opencode);

  it("the bot killed while the plugin waits, and started again: the same card decides the call", async () => {
    const session = await stack.prompt("RUN: echo after-restart > plugin-restart.txt");
    const card = await gateCard(stack, session);
    await stack.killBot();
    await stack.startBotAgain();
    await stack.click(alice, card, "Approve once");
    await waitFor(() => existsSync(join(stack.opencode.projectDir, "plugin-restart.txt")), { what: "the call to run", timeout: 30_000 });
    expect(cardsFor(stack, session)).toHaveLength(1);
  });

});

describe("the plugin when the bot is down", () => {
  const stack = stackPerTest({ plugin: true }, opencode);

  it("fail closed: nothing runs and the model is told", async () => {
    await stack.bot.stop();
    // "Approve once lets the call run as asked" shows that this kind of command writes its file when allowed.
    const session = await stack.prompt("RUN: echo unguarded > plugin-down.txt");
    await modelReceived(stack, "opencode-chatops is unreachable; nothing was run");
    // Asked only now that the model has been told, when the call would have run if it were going to.
    expect(existsSync(join(stack.opencode.projectDir, "plugin-down.txt"))).toBe(false);
    expect(stack.events.some((e) => e.payload.type === "permission.asked" && e.payload.properties.sessionID === session)).toBe(false);
  });
});

describe("the plugin's exact edits decided on Discord", () => {
  const dana = { id: "200000000000000004", username: "dana" };
  const stack = stackPerTest({ plugin: true, discord: { users: [dana] } }, opencode);

  it("an edited bash command from a Discord modal is exactly the one that runs, and the audit names the Discord user", async () => {
    const session = await stack.prompt("RUN: echo original > plugin-discord-original.txt");
    const discord = stack.discord!;
    const card = await waitFor(
      () => discord.messages.find((m) => m.via === "rest" && JSON.stringify(m.history[0]?.embeds ?? []).includes(`session ${session}`) && JSON.stringify(m.embeds).includes("exact edit available")),
      { what: `the Discord gate card of ${session}`, timeout: 20_000 },
    );
    const requestId = /Request (gate_\S+) ·/.exec(JSON.stringify(card.embeds))![1]!;
    const click = await stack.discordUser!.clickButton({ user: dana.id, message: card, customId: `approval:edit:${requestId}` });
    expect((await click.callback()).type).toBe(9);
    await stack.discordUser!.submitModal({ user: dana.id, customId: `form:edit:${requestId}`, values: { command: "echo edited > plugin-discord-edited.txt" } });

    await waitForFile(join(stack.opencode.projectDir, "plugin-discord-edited.txt"), "edited\n", { timeout: 20_000 });
    expect(existsSync(join(stack.opencode.projectDir, "plugin-discord-original.txt"))).toBe(false);
    await discordCardSays(discord, requestId, /Edited and approved by <@200000000000000004>/);
    const audit = await stack.audit(requestId);
    expect(audit[0]).toMatchObject({ decision: "edited", decider: { platform: "discord", userId: dana.id, name: "dana" } });
    expect(audit[0]!.editedArgs).toMatchObject({ command: "echo edited > plugin-discord-edited.txt" });
  });
});
