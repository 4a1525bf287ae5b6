import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { alice, cardText } from "./support/stack.ts";
import { stackPerTest } from "./support/stack-per-test.ts";
import { discordCard, discordCardSays } from "./support/discord-cards.ts";
import { waitFor, waitForFile } from "./support/wait-for.ts";

// Slack and Discord in one bot process: a session started outside chat gets a thread and a card on
// each; the first decision on either wins, and both cards show it.
const carol = { id: "200000000000000003", username: "carol" };
const erin = { id: "200000000000000005", username: "erin" };

describe("Slack and Discord in one process", () => {
  // Carol is a Discord approver by user id; erin is not.
  const stack = stackPerTest({ discord: { users: [carol, erin] }, discordApprovers: carol.id });

  it("a card on each platform; a Discord user not listed is refused, a listed one decides, both cards say so, and a later Slack click changes nothing", async () => {
    const health = (await (await fetch(`http://127.0.0.1:${stack.bot.port}/healthz`)).json()) as { chat: Record<string, string> };
    expect(health.chat).toEqual({ slack: "ready", discord: "ready", web: "ready" });

    const session = await stack.prompt("RUN: echo both > both.txt", "two platforms");
    const [asked] = await stack.asked(session);
    const slackCard = await stack.card(asked!.id);
    const onDiscord = await discordCard(stack.discord!, asked!.id);
    // The session's first card is carried by its thread's starter.
    expect(onDiscord.content).toContain("two platforms");

    await stack.discordUser!.clickButton({ user: erin.id, message: onDiscord, customId: `approval:once:${asked!.id}` });
    const refused = await waitFor(() => stack.discord!.messages.find((m) => m.visibleTo === erin.id), { what: "an ephemeral note to erin" });
    expect(refused.content).toMatch(/^You are not an approver for this/);
    await stack.discordUser!.clickButton({ user: carol.id, message: onDiscord, customId: `approval:once:${asked!.id}` });
    await waitForFile(join(stack.opencode.projectDir, "both.txt"), "both\n");
    await discordCardSays(stack.discord!, asked!.id, /Approved once by <@200000000000000003>/);
    // On Slack a Discord decider is named, not mentioned.
    await stack.cardSays(asked!.id, /Approved once by carol/);

    // A Slack client still showing the card as first posted, buttons and all.
    await stack.user.clickButton({ user: alice, channel: slackCard.channel, messageTs: slackCard.ts, actionId: "approval:once", messageVersion: 0 });
    await waitFor(() => stack.slack.ephemerals.find((e) => e.user === alice.id), { what: "a note to alice" });
    expect(cardText(stack.slack.message(slackCard.channel, slackCard.ts)!)).toMatch(/Approved once by carol/);
    await waitFor(() => stack.replies(asked!.id).length === 1, { what: "the one permission.replied" });
    expect((await stack.audit(asked!.id)).map((row) => [row.decision, row.decider.platform, row.decider.userId])).toEqual([
      ["approved_once", "discord", carol.id],
    ]);
  });
});
