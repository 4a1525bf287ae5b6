import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SHARED_OPENCODE_PASSWORD } from "./support/opencode-pool.ts";
import { alice } from "./support/stack.ts";
import { stackPerTest } from "./support/stack-per-test.ts";
import { waitFor } from "./support/wait-for.ts";

describe("OpenCode behind OPENCODE_SERVER_PASSWORD", () => {
  // The workers' shared servers run behind this password, so every bot on them authenticates.
  const stack = stackPerTest({ opencodePassword: SHARED_OPENCODE_PASSWORD });

  it("the bot authenticates with HTTP Basic for events, reads and replies", async () => {
    const anonymous = await fetch(`${stack.opencode.url}/permission`);
    expect(anonymous.status).toBe(401);
    const session = await stack.prompt("RUN: echo authed > authed.txt");
    const [asked] = await stack.asked(session);
    const card = await stack.card(asked!.id);
    await stack.click(alice, card, "Approve once");
    await waitFor(() => existsSync(join(stack.opencode.projectDir, "authed.txt")), { what: "authed.txt" });
    await stack.cardSays(asked!.id, /Approved once by <@U0ALICE>/);
  });

  it("Slack answering 429 makes the card wait for Retry-After, not fail", async () => {
    stack.slack.rateLimit("chat.postMessage", 2, 1);
    const session = await stack.prompt("RUN: echo limited > limited.txt");
    const [asked] = await stack.asked(session);
    const card = await stack.card(asked!.id, 20_000);
    expect(stack.slack.calls.filter((c) => c.method === "chat.postMessage" && c.status === 429)).toHaveLength(2);
    // The retried post carries the card once, not once per attempt.
    expect(JSON.stringify(card.blocks).split(`Request ${asked!.id} · `)).toHaveLength(2);
    await stack.opencode.client.permission.reply({ requestID: asked!.id, reply: "reject" });
  });
});
