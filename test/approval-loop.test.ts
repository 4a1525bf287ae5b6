import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { alice, cardText } from "./support/stack.ts";
import { sharedOpencode, stackPerTest } from "./support/stack-per-test.ts";
import { waitFor, waitForFile } from "./support/wait-for.ts";

describe("the approval loop against the real OpenCode server", () => {
  // "Always" adds allow rules to the whole directory in OpenCode: a project of its own keeps them from other files.
  const stack = stackPerTest({}, sharedOpencode({ ownProject: true }));

  const file = (name: string) => join(stack.opencode.projectDir, name);

  it("Approve once: a card in the session's thread, one reply, the command ran, the card names the decider", async () => {
    const session = await stack.prompt("RUN: echo approved > approved.txt", "deploy docs");
    const [asked] = await stack.asked(session);
    const card = await stack.card(asked!.id);

    const parent = stack.slack.messages.find((m) => m.ts === card.thread_ts)!;
    expect(cardText(parent)).toContain("deploy docs");
    expect(cardText(parent)).toContain(stack.opencode.projectDir);
    const text = cardText(card);
    expect(text).toContain("echo approved &gt; approved.txt");
    expect(text).toContain("Always allows");
    expect(text).toContain(stack.opencode.projectDir);
    const buttons = JSON.stringify(card.blocks);
    for (const label of ["Approve once", "Always", "Reject", "Edit"]) expect(buttons).toContain(`"text":"${label}"`);

    expect((await stack.click(alice, card, "Approve once")).status).toBe(200);
    await waitForFile(file("approved.txt"), "approved\n");
    const updated = await stack.cardSays(asked!.id, /Approved once by <@U0ALICE> after \d+ s/);
    expect(JSON.stringify(updated.blocks)).not.toContain("approval:once");
    await waitFor(() => stack.replies(asked!.id).length === 1, { what: "the one permission.replied" });
  });

  it("Reject with a reason: the model reads the reason, the card quotes it", async () => {
    const session = await stack.prompt("RUN: rm -rf reject-me");
    const [asked] = await stack.asked(session);
    const card = await stack.card(asked!.id);
    await stack.click(alice, card, "Reject");
    const modal = await stack.modal(alice, "approval_reject");
    const submitted = await stack.user.submitView({ user: alice, viewId: modal.id, values: { reason: { value: "use the staging bucket" } } });
    expect(submitted.status).toBe(200);
    await stack.cardSays(asked!.id, /Rejected by <@U0ALICE> after \d+ s: “use the staging bucket”/);
    await waitFor(() => stack.llm.requests.some((r) => JSON.stringify(r.messages).includes("use the staging bucket")), {
      what: "the model to receive the rejection reason",
    });
    const audit = await stack.audit(asked!.id);
    expect(audit).toMatchObject([{ decision: "rejected", reason: "use the staging bucket", decider: { userId: alice.id, name: "alice" } }]);
  });

  it("Edit without the plugin: the agent makes the edited call, which is approved once and linked in the audit", async () => {
    const session = await stack.prompt("RUN: echo original > edit-original.txt");
    const [asked] = await stack.asked(session);
    const card = await stack.card(asked!.id);
    await stack.click(alice, card, "Edit");
    const modal = await stack.modal(alice, "approval_edit");
    expect(JSON.stringify(modal.view)).toContain("echo original > edit-original.txt");
    await stack.user.submitView({ user: alice, viewId: modal.id, values: { command: { value: "echo edited > edit-edited.txt" } } });

    await waitFor(() => existsSync(file("edit-edited.txt")), { what: "the edited command to run", timeout: 20_000 });
    expect(existsSync(file("edit-original.txt"))).toBe(false);
    await stack.cardSays(asked!.id, /Edited by <@U0ALICE>/);
    const [, followUp] = await stack.asked(session, 2);
    expect(followUp!.metadata.command).toBe("echo edited > edit-edited.txt");
    await stack.cardSays(followUp!.id, /Approved automatically: it is the edited call approved on request/);

    expect(await stack.audit(asked!.id)).toMatchObject([
      { decision: "edited", originalArgs: { command: "echo original > edit-original.txt" }, editedArgs: { command: "echo edited > edit-edited.txt" } },
    ]);
    expect(await stack.audit(followUp!.id)).toMatchObject([{ decision: "approved_once", linkedRequestId: asked!.id, decider: { platform: "bot" } }]);
    await waitFor(() => stack.replies(followUp!.id).length === 1, { what: "one reply to the follow-up request" });
  });

  it("a decision made in OpenCode itself closes the card", async () => {
    const session = await stack.prompt("RUN: echo from-tui > tui.txt");
    const [asked] = await stack.asked(session);
    await stack.card(asked!.id);
    await stack.opencode.client.permission.reply({ requestID: asked!.id, reply: "once" });
    await waitFor(() => existsSync(file("tui.txt")), { what: "tui.txt" });
    const closed = await stack.cardSays(asked!.id, /Approved once in OpenCode/);
    expect(JSON.stringify(closed.blocks)).not.toContain("approval:once");
  });

  it("rejecting one of two sibling requests closes the other as OpenCode's cascade", async () => {
    const session = await stack.prompt("RUN2: echo a > sibling-a.txt ;; echo b > sibling-b.txt");
    const [first, second] = await stack.asked(session, 2);
    const card = await stack.card(first!.id);
    await stack.card(second!.id);
    await stack.click(alice, card, "Reject");
    const modal = await stack.modal(alice, "approval_reject");
    await stack.user.submitView({ user: alice, viewId: modal.id, values: { reason: { value: "not both" } } });
    await stack.cardSays(first!.id, /Rejected by <@U0ALICE>/);
    await stack.cardSays(second!.id, /Rejected by OpenCode's cascade: alice rejected request/);
    expect(existsSync(file("sibling-a.txt")) || existsSync(file("sibling-b.txt"))).toBe(false);
  });

  it("an aborted session closes its pending card", async () => {
    const session = await stack.prompt("RUN: echo never > aborted.txt");
    const [asked] = await stack.asked(session);
    await stack.card(asked!.id);
    await stack.opencode.client.session.abort({ sessionID: session });
    await stack.cardSays(asked!.id, /Cancelled: the session was stopped/);
  });

  // Last: the rule it adds holds for the whole directory until OpenCode restarts.
  it("Always: OpenCode allows the next matching command without asking", async () => {
    const session = await stack.prompt("RUN: touch always-1.txt");
    const [asked] = await stack.asked(session);
    const card = await stack.card(asked!.id);
    expect(cardText(card)).toContain("touch *");
    await stack.click(alice, card, "Always");
    await waitFor(() => existsSync(file("always-1.txt")), { what: "always-1.txt" });
    await stack.cardSays(asked!.id, /Always approved by <@U0ALICE> .*touch \*/);

    const second = await stack.prompt("RUN: touch always-2.txt");
    await waitFor(() => existsSync(file("always-2.txt")), { what: "always-2.txt, run without asking" });
    expect(stack.events.some((e) => e.payload.type === "permission.asked" && e.payload.properties.sessionID === second)).toBe(false);
  });
});
