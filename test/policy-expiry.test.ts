import { describe, expect, it } from "vitest";
import { chatDriver, onePlatform, PLATFORMS, peopleOf } from "./support/chat-driver.ts";
import { policyFile } from "./support/policy-file.ts";
import { type Platform } from "./support/stack.ts";
import { sharedOpencode, stackPerTest } from "./support/stack-per-test.ts";
import { waitFor } from "./support/wait-for.ts";

/** Bob alone approves `echo slow*`, within 2 s; `echo late*` escalates to mallory first. */
function policyFor(platform: Platform): string {
  const on = (id: string) => (platform === "slack" ? id : `discord:${id}`);
  const { bob, mallory } = peopleOf(platform);
  return `
rules:
  - name: slow
    tool: bash
    command: ["echo slow*"]
    approvers: ["${on(bob.id)}"]
    expires: 2s
  - name: late
    tool: bash
    command: ["echo late*"]
    approvers: ["${on(bob.id)}"]
    expires: 2s
    on_expiry: escalate
    escalate_to: ["${on(mallory.id)}"]
`;
}

describe.each(PLATFORMS)("expiry on %s", (platform) => {
  const stack = stackPerTest(onePlatform(platform, { env: { POLICY_FILE: policyFile(policyFor(platform)) } }), sharedOpencode());
  const chat = () => chatDriver(stack, platform);
  const modelRead = (text: string) => waitFor(() => stack.llm.requests.some((r) => JSON.stringify(r.messages).includes(text)), { what: `the model to read “${text}”` });

  it("an undecided request is rejected when it expires, with a message the agent reads naming who could approve; the card says expired", async () => {
    const { bob } = chat().people;
    const session = await stack.prompt("RUN: echo slow > slow.txt", "slow");
    const [asked] = await stack.asked(session);
    const card = await chat().card(asked!.id);
    expect(card.text).toMatch(/rule “slow” · 1 approval · approvers: .* · rejected if undecided by \d\d:\d\d UTC/);
    await modelRead(`Not approved within 2 s; ask @${bob.name}.`);
    const closed = await chat().cardSays(asked!.id, new RegExp(`Expired: Not approved within 2 s; ask @${bob.name}\\.`));
    expect(closed.buttons).toEqual([]);
    expect((await stack.audit(asked!.id)).map((row) => [row.decision, row.decider.platform, row.decider.name])).toEqual([["expired", "policy", "slow"]]);
    await waitFor(() => stack.replies(asked!.id).length === 1, { what: "the one reply" });
  });

  it("on_expiry: escalate posts in the thread mentioning escalate_to, sends them a direct message, and rejects after the time once more", async () => {
    const { bob, mallory } = chat().people;
    const session = await stack.prompt("RUN: echo late > late.txt", "late");
    const [asked] = await stack.asked(session);
    await chat().card(asked!.id);
    const thread = platform === "slack"
      ? () => stack.slack.messages.filter((m) => m.thread_ts !== undefined && m.text.includes("was not decided within")).map((m) => m.text.replaceAll("&gt;", ">"))
      : () => stack.discord!.messages.filter((m) => m.content.includes("was not decided within")).map((m) => m.content);
    const [posted] = await waitFor(() => (thread().length > 0 ? thread() : undefined), { what: "the escalation in the thread" });
    expect(posted).toBe(`${chat().mention(mallory)}: \`echo late > late.txt\` (request ${asked!.id}, rule “late”) was not decided within 2 s. Please decide on its card; it is rejected if nobody does within 2 s more.`);
    const direct = platform === "slack"
      ? () => stack.slack.messages.filter((m) => m.channel === stack.slack.imOf(mallory.id)).map((m) => m.text.replaceAll("&gt;", ">"))
      : () => stack.discord!.messages.filter((m) => m.channelId === stack.discord!.dmOf(mallory.id)).map((m) => m.content);
    const [dm] = await waitFor(() => (direct().length > 0 ? direct() : undefined), { what: "the direct message to mallory" });
    expect(dm).toContain(`An OpenCode request waits for you: \`echo late > late.txt\` in ${stack.opencode.projectDir}`);
    expect((await stack.audit(asked!.id)).map((row) => row.decision)).toEqual(["escalated"]);

    await modelRead(`Not approved within 4 s; ask @${bob.name} or @${mallory.name}.`);
    await chat().cardSays(asked!.id, /Expired: Not approved within 4 s/);
    expect((await stack.audit(asked!.id)).map((row) => row.decision)).toEqual(["escalated", "expired"]);
    expect(thread()).toHaveLength(1);
  });

  it("the timer is in the database: a request that expires while the bot is down is rejected when it is back", async () => {
    const session = await stack.prompt("RUN: echo slow-restart > slow-restart.txt", "slow restart");
    const [asked] = await stack.asked(session);
    await chat().card(asked!.id);
    const expiresAt = (await stack.bot.store!.getRequest(asked!.id))!.expiresAt!.getTime();
    await stack.restartBot(() => waitFor(() => Date.now() > expiresAt + 500, { what: "the expiry to pass while the bot is down" }));
    await chat().cardSays(asked!.id, /Expired: Not approved within 2 s/);
    await modelRead("Not approved within 2 s");
    expect((await stack.audit(asked!.id)).map((row) => row.decision)).toEqual(["expired"]);
  });
});
