import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chatDriver, onePlatform, PLATFORMS, peopleOf, startAsAlice } from "./support/chat-driver.ts";
import { policyFile } from "./support/policy-file.ts";
import { discordPeople, type Platform } from "./support/stack.ts";
import { sharedOpencode, stackPerTest } from "./support/stack-per-test.ts";
import { waitFor, waitForFile } from "./support/wait-for.ts";

/** Two approvals from alice, bob and mallory, never by whoever started the session. */
function policyFor(platform: Platform): string {
  const { alice, bob, mallory } = peopleOf(platform);
  const approvers = platform === "slack" ? [alice.id, bob.id, mallory.id] : [`discord:role:${discordPeople.leads.id}`, `discord:${bob.id}`, `discord:${mallory.id}`];
  return `
rules:
  - name: two-keys
    tool: bash
    command: ["echo two*"]
    approvers: ${JSON.stringify(approvers)}
    approvals: 2
    self_approval: false
`;
}

describe.each(PLATFORMS)("two approvals on %s", (platform) => {
  const stack = stackPerTest(onePlatform(platform, { env: { POLICY_FILE: policyFile(policyFor(platform)) } }), sharedOpencode());
  const chat = () => chatDriver(stack, platform);
  const file = (name: string) => join(stack.opencode.projectDir, name);

  it("the session's starter cannot approve; a repeat click counts once; a second approver completes it and only then OpenCode is answered, once", async () => {
    const { alice, bob, mallory } = chat().people;
    const sessionId = await startAsAlice(stack, platform, "RUN: echo two > two.txt");
    const [asked] = await stack.asked(sessionId);
    const card = await chat().card(asked!.id);
    expect(card.text).toContain(`rule “two-keys” · 2 approvals from different people · approvers: `);
    expect(card.text).toContain(`not by ${alice.name}, who started the session`);

    await chat().click(alice, asked!.id, "Approve once");
    expect(await chat().noticeTo(alice, /cannot approve/)).toBe(
      "You started this session, so you cannot approve its requests (the policy's rule “two-keys” says self_approval: false). Another approver must; you may still reject it.",
    );
    await chat().click(bob, asked!.id, "Approve once");
    const half = await chat().cardSays(asked!.id, new RegExp(`1 of 2 approvals: ${chat().mention(bob)}`));
    expect(half.buttons).toEqual(["Approve once", "Always", "Reject", "Edit"]);
    await chat().click(bob, asked!.id, "Approve once");
    expect(await chat().noticeTo(bob, /already approved/)).toBe("You have already approved this (1 of 2 approvals); it needs 1 more from other approvers.");
    expect(stack.replies(asked!.id)).toEqual([]);
    expect(existsSync(file("two.txt"))).toBe(false);

    await chat().click(mallory, asked!.id, "Approve once");
    await waitForFile(file("two.txt"), "two\n");
    await chat().cardSays(asked!.id, new RegExp(`Approved once by ${chat().mention(bob)}, ${chat().mention(mallory)}`));
    await waitFor(() => stack.replies(asked!.id).length === 1, { what: "the one permission.replied" });
    expect((await stack.audit(asked!.id)).map((row) => [row.decision, row.decider.name, row.reason])).toEqual([
      ["approval:once", bob.name, "1 of 2 approvals"],
      ["approval:once", mallory.name, "2 of 2 approvals"],
      ["approved_once", mallory.name, `2 approvals: ${bob.name}, ${mallory.name}`],
    ]);
  });

  it("an edit is the editor's approval of the edited call, which still needs another; the starter may reject", async () => {
    const { alice, bob, mallory } = chat().people;
    const sessionId = await startAsAlice(stack, platform, "RUN: echo two-original > two-original.txt");
    const [asked] = await stack.asked(sessionId);
    await chat().fillForm(bob, asked!.id, "Edit", { command: "echo edited > two-edited.txt" });
    const half = await chat().cardSays(asked!.id, /1 of 2 approvals/);
    expect(half.text).toContain(`${bob.name} edited the call; the approvals count for the edited call:`);
    expect(half.text).toContain("echo edited > two-edited.txt");
    await chat().click(mallory, asked!.id, "Approve once");
    await waitForFile(file("two-edited.txt"), "edited\n", { timeout: 20_000 });
    expect(existsSync(file("two-original.txt"))).toBe(false);
    await chat().cardSays(asked!.id, new RegExp(`Edited by ${chat().mention(bob)}, ${chat().mention(mallory)}`));

    // The next such request: one approval, then the starter's reject rejects it, and the agent reads why.
    await chat().say(alice, "RUN: echo two-more > two-more.txt", { sessionId });
    const [, , third] = await stack.asked(sessionId, 3);
    await chat().click(bob, third!.id, "Approve once");
    await chat().cardSays(third!.id, /1 of 2 approvals/);
    await chat().fillForm(alice, third!.id, "Reject", { reason: "not this one" });
    await chat().cardSays(third!.id, new RegExp(`Rejected by ${chat().mention(alice)}`));
    await waitFor(() => stack.llm.requests.some((r) => JSON.stringify(r.messages).includes("not this one")), { what: "the model to read the reason" });
    expect(existsSync(file("two-more.txt"))).toBe(false);
  });
});
