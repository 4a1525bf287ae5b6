import { describe, expect, it } from "vitest";
import { buildCard, fullBodyView, threadParent } from "../src/core/card-text.ts";
import { slackLimits } from "../adapters/slack/limits.ts";
import { discordLike, tiny } from "./support/limits.ts";
import { question, record } from "./support/records.ts";

const alice = { platform: "slack" as const, userId: "U1", name: "alice" };
const asked = new Date("2026-01-01T00:00:00Z");
const decided = new Date("2026-01-01T00:00:14Z");

describe("card text (buildCard, pure)", () => {
  it("a pending bash card: title, fields, the command, the four choices and a reference", () => {
    const card = buildCard(record({ metadata: { command: "echo hi" }, always: ["echo *"] }), slackLimits, asked);
    expect(card).toMatchObject({
      title: "OpenCode wants to run a command",
      summary: "OpenCode wants to run a command: echo hi",
      body: { kind: "command", text: "echo hi", truncated: false },
      actions: ["once", "always", "reject", "edit"],
      reference: "Request per_1 · session ses_1",
      status: [],
    });
    expect(card.fields).toContainEqual({ label: "Always allows", value: "echo *" });
    expect(card.body?.more).toBeUndefined();
  });

  it("cuts the body at the platform's limit and names the whole length on the Show all button", () => {
    const long = "x".repeat(3000);
    const onSlack = buildCard(record({ metadata: { command: long } }), slackLimits, asked);
    expect(onSlack.body).toMatchObject({ truncated: true, full: long, more: "Show all (3000 characters)" });
    expect(onSlack.body!.text).toBe(`${"x".repeat(2500)}\n…`);
    expect(buildCard(record({ metadata: { command: long } }), discordLike, asked).body).toMatchObject({ truncated: false, text: long });
    expect(fullBodyView(onSlack)).toEqual({ title: "Full request", close: "Close", text: long });
  });

  it("status lines name the decider, how long it waited, and a reply OpenCode did not take", () => {
    const once = buildCard(record({ state: "approved_once", decider: alice, decidedAt: decided, askedAt: asked }), slackLimits);
    expect(once.actions).toEqual([]);
    expect(once.status).toEqual([{ text: "Approved once by {by} after 14 s", by: alice, tone: "ok" }]);
    const failed = buildCard(record({ state: "rejected", decider: alice, decidedAt: decided, reason: "no", replyError: "gone" }), slackLimits);
    expect(failed.status.map((line) => line.text)).toEqual([
      "Rejected by {by} after 14 s: “no”",
      "OpenCode did not take this reply: gone. Nothing was run on this decision.",
    ]);
  });

  it("an edit says what changed, within the body limit, and whether it was exact (the plugin) or asked of the agent", () => {
    const base = { state: "edited" as const, decider: alice, decidedAt: decided, toolArgs: { command: "rm -rf build --force" }, editedArgs: { command: "rm -rf build" } };
    const exact = buildCard(record({ ...base, source: "plugin" }), slackLimits);
    expect(exact.status[0]!.text).toBe("Edited and approved by {by} after 14 s");
    expect(exact.status[1]).toMatchObject({ text: "What changed:", code: "command: rm -rf build --force → rm -rf build" });
    expect(buildCard(record(base), slackLimits).status[0]!.text).toContain("the agent was asked to make the edited call instead");
    expect(buildCard(record(base), tiny).status[1]!.code).toBe("command: r\n…");
  });

  it("a question card offers its choices as buttons that fit the platform", () => {
    const asking = question([{ question: "Which colour?", options: ["red", "turquoise"] }]);
    expect(buildCard(asking, slackLimits)).toMatchObject({ title: "OpenCode asks a question", options: ["red", "turquoise"], actions: ["answer", "dismiss"] });
    expect(buildCard(asking, tiny).options).toEqual(["red", "tur…"]);
    const many = question([{ question: "Pick", options: ["a", "b", "c"] }]);
    expect(buildCard(many, tiny).options).toBeUndefined();
  });

  it("a session's thread parent names the session, the project and the session id", () => {
    expect(threadParent({ directory: "/p", sessionId: "ses_1", title: "deploy docs" })).toEqual({
      sessionId: "ses_1",
      summary: "OpenCode session “deploy docs” in /p",
      heading: "OpenCode session",
      name: "deploy docs",
      fields: [
        { label: "Project", value: "/p" },
        { label: "Session", value: "ses_1" },
      ],
      note: "Its permission requests appear in this thread.",
    });
  });
});
