import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { testDatabaseKinds } from "./support/databases.ts";
import { alice, startStack, type Stack } from "./support/stack.ts";
import { waitFor } from "./support/wait-for.ts";

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe.each(testDatabaseKinds())("restarts, with the bot on %s", (database) => {
  it("the bot killed with SIGKILL and started again on the same data: the old card still decides", async () => {
    stack = await startStack({ process: true, database });
    const session = await stack.prompt("RUN: echo survived > survived.txt");
    const [asked] = await stack.asked(session);
    const card = await stack.card(asked!.id);

    await stack.killBot();
    await stack.startBotAgain();
    expect((await stack.click(alice, card, "Approve once")).status).toBe(200);
    await waitFor(() => existsSync(join(stack!.opencode.projectDir, "survived.txt")), { what: "survived.txt", timeout: 20_000 });
    await stack.cardSays(asked!.id, /Approved once by <@U0ALICE>/);
    // Exactly one card for the request, although the restarted bot resynced it.
    expect(stack.slack.messages.filter((m) => JSON.stringify(m.history[0]?.blocks).includes(`Request ${asked!.id} · `))).toHaveLength(1);
    await waitFor(() => stack!.replies(asked!.id).length === 1, { what: "the one permission.replied" });
  });

  it("killed after Slack showed a card but before the bot stored it: the restarted bot adopts that card", async () => {
    stack = await startStack({ process: true, database });
    // The card is posted, but Slack's answer comes too late for the bot to store where it is.
    stack.slack.answerLate("chat.postMessage", 2, 5_000);
    const session = await stack.prompt("RUN: echo adopted > adopted.txt");
    const [asked] = await stack.asked(session);
    const card = await stack.card(asked!.id);
    await stack.killBot();
    await stack.startBotAgain();

    await stack.click(alice, card, "Approve once");
    await waitFor(() => existsSync(join(stack!.opencode.projectDir, "adopted.txt")), { what: "adopted.txt", timeout: 20_000 });
    await stack.cardSays(asked!.id, /Approved once by <@U0ALICE>/);
    expect(stack.slack.messages.filter((m) => JSON.stringify(m.history[0]?.blocks).includes(`Request ${asked!.id} · `))).toHaveLength(1);
  });
});

describe("OpenCode restarts", () => {
  it("OpenCode killed and restarted: stale cards close and the bot reconnects by itself", async () => {
    stack = await startStack();
    const session = await stack.prompt("RUN: echo stale > stale.txt");
    const [asked] = await stack.asked(session);
    await stack.card(asked!.id);

    await stack.opencode.restart();
    await stack.cardSays(asked!.id, /Expired: OpenCode restarted/, 30_000);

    const again = await stack.prompt("RUN: echo fresh > fresh.txt");
    // Asked of OpenCode's list rather than of the test's own event watcher: only the bot's view is under test.
    const fresh = await waitFor(
      async () => (await stack!.opencode.client.permission.list()).data?.find((p) => p.sessionID === again),
      { what: "OpenCode to ask for the fresh command", timeout: 20_000 },
    );
    const card = await stack.card(fresh.id, 15_000);
    await stack.click(alice, card, "Approve once");
    await waitFor(() => existsSync(join(stack!.opencode.projectDir, "fresh.txt")), { what: "fresh.txt" });
  });

  it("OpenCode down when the click comes: the decision is recorded, the reply failure too, and the card says so", async () => {
    stack = await startStack();
    const session = await stack.prompt("RUN: echo unreachable > unreachable.txt");
    const [asked] = await stack.asked(session);
    const card = await stack.card(asked!.id);

    await stack.opencode.kill();
    await stack.click(alice, card, "Approve once");
    await stack.cardSays(asked!.id, /OpenCode did not take this reply: OpenCode did not answer/);
    const note = await waitFor(() => stack!.slack.ephemerals.find((e) => e.user === alice.id), { what: "a note to alice" });
    expect(note.text).toMatch(/recorded, but OpenCode did not take the reply/);
    expect((await stack.audit(asked!.id)).map((a) => a.decision)).toEqual(["approved_once", "reply_failed"]);
  });
});
