import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chatDriver, onePlatform, PLATFORMS } from "./support/chat-driver.ts";
import { sharedOpencode, stackPerTest } from "./support/stack-per-test.ts";
import { waitFor, waitForFile } from "./support/wait-for.ts";

// The approval loop, one table for both platforms: each case runs on Slack alone and on Discord
// alone, through the real bot, the platform's fake and the real OpenCode server.
describe.each(PLATFORMS)("the approval loop on %s", (platform) => {
  // "Always" adds allow rules to the whole directory in OpenCode: a project of its own keeps them from other files.
  const opencode = sharedOpencode({ ownProject: true });
  const chat = () => chatDriver(stack, platform);
  const stack = stackPerTest(onePlatform(platform), opencode);
  const file = (name: string) => join(stack.opencode.projectDir, name);

  it("Approve once: a thread naming the project and session, a card with the four buttons, one reply, the card names the decider", async () => {
    const { alice } = chat().people;
    const session = await stack.prompt("RUN: echo approved > approved.txt", "deploy docs");
    const [asked] = await stack.asked(session);
    const card = await chat().card(asked!.id);

    expect(card.thread).toContain("deploy docs");
    expect(card.thread).toContain(stack.opencode.projectDir);
    expect(card.text).toContain("echo approved > approved.txt");
    expect(card.text).toContain("Always allows");
    expect(card.text).toContain(stack.opencode.projectDir);
    expect(card.buttons).toEqual(["Approve once", "Always", "Reject", "Edit"]);

    await chat().click(alice, asked!.id, "Approve once");
    await waitForFile(file("approved.txt"), "approved\n");
    const decided = await chat().cardSays(asked!.id, new RegExp(`Approved once by ${chat().mention(alice)} after \\d+ s`));
    expect(decided.buttons).toEqual([]);
    await waitFor(() => stack.replies(asked!.id).length === 1, { what: "the one permission.replied" });
    expect(await stack.audit(asked!.id)).toMatchObject([{ decision: "approved_once", decider: { platform, userId: alice.id, name: alice.name } }]);
  });

  it("Reject with a reason: the model reads the reason, the card quotes it, the audit keeps it", async () => {
    const { alice } = chat().people;
    const session = await stack.prompt("RUN: rm -rf reject-me");
    const [asked] = await stack.asked(session);
    await chat().fillForm(alice, asked!.id, "Reject", { reason: "use the staging bucket" });
    await chat().cardSays(asked!.id, new RegExp(`Rejected by ${chat().mention(alice)} after \\d+ s: “use the staging bucket”`));
    await waitFor(() => stack.llm.requests.some((r) => JSON.stringify(r.messages).includes("use the staging bucket")), {
      what: "the model to receive the rejection reason",
    });
    expect(await stack.audit(asked!.id)).toMatchObject([{ decision: "rejected", reason: "use the staging bucket", decider: { platform, userId: alice.id, name: alice.name } }]);
  });

  it("Edit without the plugin: the dialog holds the command, the agent makes the edited call, approved once and linked in the audit", async () => {
    const { bob } = chat().people;
    const session = await stack.prompt("RUN: echo original > edit-original.txt");
    const [asked] = await stack.asked(session);
    const shown = await chat().fillForm(bob, asked!.id, "Edit", { command: "echo edited > edit-edited.txt" });
    expect(shown).toContain("echo original > edit-original.txt");

    await waitForFile(file("edit-edited.txt"), "edited\n", { timeout: 20_000 });
    expect(existsSync(file("edit-original.txt"))).toBe(false);
    await chat().cardSays(asked!.id, new RegExp(`Edited by ${chat().mention(bob)}`));
    const [, followUp] = await stack.asked(session, 2);
    expect(followUp!.metadata.command).toBe("echo edited > edit-edited.txt");
    await chat().cardSays(followUp!.id, /Approved automatically: it is the edited call approved on request/);
    expect(await stack.audit(asked!.id)).toMatchObject([
      { decision: "edited", originalArgs: { command: "echo original > edit-original.txt" }, editedArgs: { command: "echo edited > edit-edited.txt" } },
    ]);
    expect(await stack.audit(followUp!.id)).toMatchObject([{ decision: "approved_once", linkedRequestId: asked!.id, decider: { platform: "bot" } }]);
    await waitFor(() => stack.replies(followUp!.id).length === 1, { what: "one reply to the follow-up request" });
  });

  it("someone who is not an approver is told so, only they see it, and nothing is sent; an approver still decides", async () => {
    const { alice, mallory } = chat().people;
    const session = await stack.prompt("RUN: echo guarded > guarded.txt");
    const [asked] = await stack.asked(session);
    await chat().click(mallory, asked!.id, "Approve once");
    expect(await chat().noticeTo(mallory, /not an approver/)).toMatch(/^You are not an approver for this/);
    expect(await stack.audit(asked!.id)).toEqual([]);
    expect(stack.replies(asked!.id)).toEqual([]);
    await chat().click(alice, asked!.id, "Approve once");
    await waitForFile(file("guarded.txt"), "guarded\n");
    await chat().cardSays(asked!.id, new RegExp(`Approved once by ${chat().mention(alice)}`));
  });

  it("20 concurrent clicks by two approvers: exactly one reply to OpenCode, one audit row, and the 19 others told it was already decided", async () => {
    const { alice, bob } = chat().people;
    const session = await stack.prompt("RUN: echo once > concurrent.txt");
    const [asked] = await stack.asked(session);
    await chat().card(asked!.id);
    await Promise.all(Array.from({ length: 20 }, (_, i) => chat().click(i % 2 ? bob : alice, asked!.id, "Approve once")));
    await waitForFile(file("concurrent.txt"), "once\n");
    await waitFor(() => stack.replies(asked!.id).length === 1, { what: "the one permission.replied" });
    await chat().cardSays(asked!.id, /Approved once by/);
    const told = () => [alice, bob].flatMap((person) => chat().notices(person, /already decided/)).length;
    await waitFor(() => told() === 19, { what: "19 'already decided' notes" });
    expect(stack.replies(asked!.id)).toHaveLength(1);
    expect(await stack.audit(asked!.id)).toHaveLength(1);
  });

  it("a decision made in OpenCode itself closes the card", async () => {
    const session = await stack.prompt("RUN: echo from-tui > tui.txt");
    const [asked] = await stack.asked(session);
    await chat().card(asked!.id);
    await stack.opencode.client.permission.reply({ requestID: asked!.id, reply: "once" });
    await waitForFile(file("tui.txt"), "from-tui\n");
    expect((await chat().cardSays(asked!.id, /Approved once in OpenCode/)).buttons).toEqual([]);
  });

  it("rejecting one of two sibling requests closes the other as OpenCode's cascade; an aborted session closes its card", async () => {
    const { alice } = chat().people;
    const session = await stack.prompt("RUN2: echo a > sibling-a.txt ;; echo b > sibling-b.txt");
    const [first, second] = await stack.asked(session, 2);
    await chat().card(second!.id);
    await chat().fillForm(alice, first!.id, "Reject", { reason: "not both" });
    await chat().cardSays(first!.id, new RegExp(`Rejected by ${chat().mention(alice)}`));
    await chat().cardSays(second!.id, /Rejected by OpenCode's cascade: alice rejected request/);
    expect(existsSync(file("sibling-a.txt")) || existsSync(file("sibling-b.txt"))).toBe(false);

    const aborted = await stack.prompt("RUN: echo never > aborted.txt");
    const [asked] = await stack.asked(aborted);
    await chat().card(asked!.id);
    await stack.opencode.client.session.abort({ sessionID: aborted });
    expect((await chat().cardSays(asked!.id, /Cancelled: the session was stopped/)).buttons).toEqual([]);
  });

  it("the bot restarted on the same data: the card posted before still decides, and no second card appears", async () => {
    const { alice } = chat().people;
    const session = await stack.prompt("RUN: echo survived > survived.txt");
    const [asked] = await stack.asked(session);
    const before = await chat().card(asked!.id);
    await stack.restartBot();
    await chat().click(alice, asked!.id, "Approve once");
    await waitForFile(file("survived.txt"), "survived\n");
    await chat().cardSays(asked!.id, new RegExp(`Approved once by ${chat().mention(alice)}`));
    const cards = platform === "slack" ? stack.slack.messages.filter((m) => JSON.stringify(m.blocks).includes(` ${asked!.id} · session`)) : stack.discord!.messages.filter((m) => JSON.stringify(m.embeds).includes(` ${asked!.id} · session`));
    expect(cards).toHaveLength(1);
    expect(before.buttons).toContain("Approve once");
  });

  // Last: the rule it adds holds for the whole directory until OpenCode restarts.
  it("Always: the card says what it allows, and OpenCode runs the next matching command without asking", async () => {
    const { alice } = chat().people;
    const session = await stack.prompt("RUN: touch always-1.txt");
    const [asked] = await stack.asked(session);
    expect((await chat().card(asked!.id)).text).toContain("touch *");
    await chat().click(alice, asked!.id, "Always");
    await waitFor(() => existsSync(file("always-1.txt")), { what: "always-1.txt" });
    await chat().cardSays(asked!.id, new RegExp(`Always approved by ${chat().mention(alice)} .*touch \\*`));

    const second = await stack.prompt("RUN: touch always-2.txt");
    await waitFor(() => existsSync(file("always-2.txt")), { what: "always-2.txt, run without asking" });
    expect(stack.events.some((e) => e.payload.type === "permission.asked" && e.payload.properties.sessionID === second)).toBe(false);
  });
});
