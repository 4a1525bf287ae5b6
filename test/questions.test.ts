import { describe, expect, it } from "vitest";
import { alice, cardText, mallory } from "./support/stack.ts";
import { stackPerTest } from "./support/stack-per-test.ts";
import { waitFor } from "./support/wait-for.ts";

describe("questions from the agent", () => {
  const stack = stackPerTest({ approvers: alice.id });

  const questionAsked = (sessionId: string) =>
    waitFor(
      () =>
        stack.events.flatMap((e) =>
          e.payload.type === "question.asked" && e.payload.properties.sessionID === sessionId ? [e.payload.properties] : [],
        )[0],
      { what: `question.asked for ${sessionId}`, timeout: 20_000 },
    );

  const modelReceived = (text: string) =>
    waitFor(() => stack.llm.requests.some((r) => JSON.stringify(r.messages).includes(text)), { what: `the model to receive ${text}` });

  it("a question's choice answered with one click reaches the model", async () => {
    const session = await stack.prompt("ASK: Which colour? ;; red | blue");
    const asked = await questionAsked(session);
    const card = await stack.card(asked.id);
    expect(cardText(card)).toContain("Which colour?");

    await stack.user.clickButton({ user: mallory, channel: card.channel, messageTs: card.ts, actionId: "question:option:1" });
    await waitFor(() => stack.slack.ephemerals.find((e) => e.user === mallory.id && /not an approver/.test(e.text)), { what: "mallory told off" });

    await stack.user.clickButton({ user: alice, channel: card.channel, messageTs: card.ts, actionId: "question:option:1" });
    await stack.cardSays(asked.id, /Answered by <@U0ALICE> after \d+ s: “blue”/);
    await modelReceived('\\"Which colour?\\"=\\"blue\\"');
    expect((await stack.audit(asked.id))[0]).toMatchObject({ decision: "answered", editedArgs: { answers: [["blue"]] } });
  });

  it("the Answer dialog takes a typed answer, and refuses an empty one", async () => {
    const session = await stack.prompt("ASK: Which region? ;; eu | us");
    const asked = await questionAsked(session);
    const card = await stack.card(asked.id);
    await stack.user.clickButton({ user: alice, channel: card.channel, messageTs: card.ts, actionId: "approval:answer" });
    const modal = await stack.modal(alice, "question_answer");
    const empty = await stack.user.submitView({ user: alice, viewId: modal.id });
    expect(empty.body).toMatchObject({ response_action: "errors", errors: { q0: expect.stringContaining("Choose an answer") } });
    await stack.user.submitView({ user: alice, viewId: modal.id, values: { q0_text: { value: "ap-south" } } });
    await stack.cardSays(asked.id, /Answered by <@U0ALICE> after \d+ s: “ap-south”/);
    await modelReceived('\\"Which region?\\"=\\"ap-south\\"');
  });

  it("the Answer dialog's select, and a question answered in OpenCode itself closes its card", async () => {
    const session = await stack.prompt("ASK: Ship it? ;; yes | no");
    const asked = await questionAsked(session);
    const card = await stack.card(asked.id);
    await stack.user.clickButton({ user: alice, channel: card.channel, messageTs: card.ts, actionId: "approval:answer" });
    const modal = await stack.modal(alice, "question_answer");
    await stack.user.submitView({ user: alice, viewId: modal.id, values: { q0: { value: "0" } } });
    await stack.cardSays(asked.id, /Answered by <@U0ALICE> after \d+ s: “yes”/);

    const other = await stack.prompt("ASK: Deploy now? ;; now | later");
    const second = await questionAsked(other);
    await stack.card(second.id);
    await stack.opencode.client.question.reply({ requestID: second.id, answers: [["later"]] });
    await stack.cardSays(second.id, /Answered in OpenCode .*“later”/);
  });
});
