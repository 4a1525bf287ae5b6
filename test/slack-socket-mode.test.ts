import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { alice } from "./support/stack.ts";
import { stackPerTest } from "./support/stack-per-test.ts";
import { waitFor } from "./support/wait-for.ts";

describe("Slack Socket Mode (SLACK_APP_TOKEN set)", () => {
  const stack = stackPerTest({ socketMode: true });

  it("connects over the socket, takes clicks and modal submissions from it, and serves no /slack/events", async () => {
    await waitFor(() => stack.slack.socket.sockets.length > 0, { what: "the bot's Socket Mode connection" });
    const session = await stack.prompt("RUN: echo socket > socket.txt");
    const [asked] = await stack.asked(session);
    const card = await stack.card(asked!.id);
    await stack.click(alice, card, "Approve once");
    await waitFor(() => existsSync(join(stack.opencode.projectDir, "socket.txt")), { what: "socket.txt" });
    await stack.cardSays(asked!.id, /Approved once by <@U0ALICE>/);

    const second = await stack.prompt("RUN: rm -rf socket-reject");
    const [other] = await stack.asked(second);
    await stack.click(alice, await stack.card(other!.id), "Reject");
    const modal = await stack.modal(alice, "approval_reject");
    await stack.user.submitView({ user: alice, viewId: modal.id, values: { reason: { value: "over the socket" } } });
    await stack.cardSays(other!.id, /Rejected by <@U0ALICE> after \d+ s: “over the socket”/);

    const res = await fetch(`http://127.0.0.1:${stack.bot.port}/slack/events`, { method: "POST", body: "{}" });
    expect(res.status).toBe(404);
  });
});
