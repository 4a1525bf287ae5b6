import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { alice, bob, cardText, mallory } from "./support/stack.ts";
import { stackPerTest } from "./support/stack-per-test.ts";
import { waitFor } from "./support/wait-for.ts";

describe("Slack interactions with approvers, signatures and concurrency", () => {
  // alice by id, bob through the S0LEADS user group; mallory is neither.
  const stack = stackPerTest({ approvers: `${alice.id},S0LEADS`, slack: { usergroups: { S0LEADS: [bob.id] } } });

  it("a click from a user outside SLACK_APPROVERS changes nothing and tells them so", async () => {
    const session = await stack.prompt("RUN: echo guarded > guarded.txt");
    const [asked] = await stack.asked(session);
    const card = await stack.card(asked!.id);
    const res = await stack.click(mallory, card, "Approve once");
    expect(res.status).toBe(200);
    const note = await waitFor(() => stack.slack.ephemerals.find((e) => e.user === mallory.id), { what: "an ephemeral for mallory" });
    expect(note.text).toContain("not an approver");
    await stack.click(mallory, card, "Reject");
    // The second refusal shows the bot has handled the click: only now can "no modal" mean anything.
    const refusals = () => stack.slack.ephemerals.filter((e) => e.user === mallory.id && e.text.includes("not an approver"));
    await waitFor(() => refusals().length === 2, { what: "a second 'not an approver' ephemeral for mallory, after Reject" });
    expect(stack.slack.views.some((v) => v.user === mallory.id)).toBe(false);
    expect(stack.slack.message(card.channel, card.ts)!.history).toHaveLength(1);
    expect(await stack.audit(asked!.id)).toEqual([]);

    // bob may decide through the user group.
    await stack.click(bob, card, "Approve once");
    await stack.cardSays(asked!.id, /Approved once by <@U0BOB>/);
    await waitFor(() => existsSync(join(stack.opencode.projectDir, "guarded.txt")), { what: "guarded.txt" });
  });

  it("a forged or stale signature gets 401 and changes nothing", async () => {
    const session = await stack.prompt("RUN: echo forged > forged.txt");
    const [asked] = await stack.asked(session);
    const card = await stack.card(asked!.id);
    const forged = await stack.user.clickButton({
      user: alice,
      channel: card.channel,
      messageTs: card.ts,
      actionId: "approval:once",
      signingSecretOverride: "not-the-secret",
    });
    expect(forged.status).toBe(401);
    const stale = await stack.user.clickButton({
      user: alice,
      channel: card.channel,
      messageTs: card.ts,
      actionId: "approval:once",
      timestampOverride: Math.floor(Date.now() / 1000) - 10 * 60,
    });
    expect(stale.status).toBe(401);
    expect(stack.slack.message(card.channel, card.ts)!.history).toHaveLength(1);
    expect(await stack.audit(asked!.id)).toEqual([]);
    expect(stack.replies(asked!.id)).toHaveLength(0);
    await stack.opencode.client.permission.reply({ requestID: asked!.id, reply: "reject" });
  });

  it("the Edit dialog for another tool takes JSON and keeps invalid JSON in the dialog", async () => {
    stack.llm.setScript((req) => {
      const last = req.messages.at(-1);
      if (last?.role === "tool") return { text: "fetched" };
      if (req.tools?.length) return { toolCalls: [{ name: "webfetch", arguments: { url: "http://127.0.0.1:9/original", format: "text" } }] };
      return { text: "title" };
    });
    try {
      const session = await stack.prompt("fetch something");
      const [asked] = await stack.asked(session);
      const card = await stack.card(asked!.id);
      expect(cardText(card)).toContain("webfetch");
      await stack.click(alice, card, "Edit");
      const modal = await stack.modal(alice, "approval_edit");
      expect(JSON.stringify(modal.view)).toContain("http://127.0.0.1:9/original");
      const invalid = await stack.user.submitView({ user: alice, viewId: modal.id, values: { json: { value: "{not json" } } });
      expect(invalid.body).toMatchObject({ response_action: "errors", errors: { json: expect.stringContaining("Not valid JSON") } });
      expect(stack.slack.view(modal.id)!.open).toBe(true);
      expect(await stack.audit(asked!.id)).toEqual([]);
      expect(stack.replies(asked!.id)).toHaveLength(0);

      const valid = await stack.user.submitView({
        user: alice,
        viewId: modal.id,
        values: { json: { value: '{"url":"http://127.0.0.1:9/edited","format":"text"}' } },
      });
      expect(valid.status).toBe(200);
      await stack.cardSays(asked!.id, /Edited by <@U0ALICE>/);
      expect(await stack.audit(asked!.id)).toMatchObject([{ decision: "edited", editedArgs: { url: "http://127.0.0.1:9/edited" } }]);
    } finally {
      stack.llm.setScript((await import("./support/fake-llm.ts")).defaultScript);
    }
  });

  it("a long diff is cut on the card, and Show all opens the whole of it", async () => {
    const content = Array.from({ length: 200 }, (_, i) => `line ${i} of a long file`).join("\n");
    const session = await stack.prompt(`WRITE long.txt: ${content}`);
    const [asked] = await stack.asked(session);
    const card = await stack.card(asked!.id);
    expect(cardText(card)).toContain("line 0 of a long file");
    expect(cardText(card)).not.toContain("line 199 of a long file");
    const showAll = JSON.stringify(card.blocks).match(/"text":"(Show all \(\d+ characters\))"/);
    expect(showAll).not.toBeNull();
    await stack.user.clickButton({ user: mallory, channel: card.channel, messageTs: card.ts, actionId: "approval:view" });
    const modal = await waitFor(() => stack.slack.views.find((v) => v.user === mallory.id), { what: "the full-request modal" });
    expect(JSON.stringify(modal.view)).toContain("line 199 of a long file");
    await stack.opencode.client.permission.reply({ requestID: asked!.id, reply: "reject" });
  });
});
