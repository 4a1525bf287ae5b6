import { describe, expect, it } from "vitest";
import { choiceApplies, planDecision, storedReply } from "../src/core/deciding.ts";
import { InvalidInput } from "../src/core/errors.ts";
import type { PermissionRecord } from "../src/core/types.ts";
import { question, record } from "./support/records.ts";

const alice = { platform: "slack" as const, userId: "U1", name: "alice" };
const at = new Date("2026-01-01T00:01:00Z");
const bash = record({ toolArgs: { command: "rm -rf build --force" } });

describe("the reply for a choice (planDecision, pure)", () => {
  it("once, always and reject reply the same to OpenCode, with a trimmed reason", () => {
    expect(planDecision(bash, { choice: "once", decider: alice }, at)).toEqual({
      input: { requestId: "per_1", state: "approved_once", decider: alice, reason: undefined, at },
      reply: { kind: "permission", reply: "once", message: undefined },
    });
    expect(planDecision(bash, { choice: "always", decider: alice }, at).reply).toEqual({ kind: "permission", reply: "always", message: undefined });
    const rejected = planDecision(bash, { choice: "reject", decider: alice, reason: "  use staging  " }, at);
    expect(rejected.input).toMatchObject({ state: "rejected", reason: "use staging" });
    expect(rejected.reply).toEqual({ kind: "permission", reply: "reject", message: "use staging" });
    expect(planDecision(bash, { choice: "reject", decider: alice, reason: "   " }, at).input.reason).toBeUndefined();
  });

  it("an edit without the plugin rejects with the exact call to make, and leaves a one-shot pre-approval", () => {
    const { input, reply } = planDecision(bash, { choice: "edit", decider: alice, editedArgs: { command: "rm -rf build" } }, at);
    expect(input).toMatchObject({ state: "edited", editedArgs: { command: "rm -rf build" } });
    expect(input.preapproval).toEqual({
      directory: "/p",
      sessionId: "ses_1",
      permission: "bash",
      call: { tool: "bash", args: { command: "rm -rf build" } },
      sourceRequestId: "per_1",
    });
    expect(reply).toMatchObject({ kind: "permission", reply: "reject" });
    expect(reply.kind === "permission" && reply.message).toContain("Run exactly this command instead, unchanged:\n```\nrm -rf build\n```");
  });

  it("a plugin-held call sends nothing to OpenCode: the plugin reads the decision", () => {
    const gated = record({ source: "plugin", toolArgs: { command: "ls" } });
    expect(planDecision(gated, { choice: "once", decider: alice }, at).reply).toEqual({ kind: "none" });
    const edited = planDecision(gated, { choice: "edit", decider: alice, editedArgs: { command: "ls -l" } }, at);
    expect(edited).toMatchObject({ input: { state: "edited", editedArgs: { command: "ls -l" } }, reply: { kind: "none" } });
    expect(edited.input.preapproval).toBeUndefined();
  });

  it("questions take answer and dismiss only, and permissions never do", () => {
    const asked = question([{ question: "Which colour?", options: ["red", "blue"] }]);
    expect(planDecision(asked, { choice: "answer", decider: alice, answers: [["blue"]] }, at)).toMatchObject({
      input: { state: "answered", editedArgs: { answers: [["blue"]] } },
      reply: { kind: "answer", answers: [["blue"]] },
    });
    expect(planDecision(asked, { choice: "dismiss", decider: alice }, at)).toMatchObject({ input: { state: "rejected" }, reply: { kind: "dismiss" } });
    expect(choiceApplies(asked, "once")).toBe(false);
    expect(choiceApplies(bash, "answer")).toBe(false);
    expect(() => planDecision(asked, { choice: "once", decider: alice }, at)).toThrow(InvalidInput);
    expect(() => planDecision(bash, { choice: "dismiss", decider: alice }, at)).toThrow(/does not apply to a permission request/);
  });
});

describe("a decision's reply sent again from what it stored (storedReply, pure)", () => {
  const decided = (state: PermissionRecord["state"], more: Partial<PermissionRecord> = {}) => record({ ...bash, ...more, state, decider: alice, decidedAt: at });
  const asked = question([{ question: "Deploy?", options: ["Yes", "No"] }]);

  it("is the reply the decision was made with", () => {
    expect(storedReply(decided("approved_once", { reason: "2 approvals: alice, bob" }))).toEqual({ kind: "permission", reply: "once", message: undefined });
    expect(storedReply(decided("approved_always"))).toEqual({ kind: "permission", reply: "always", message: undefined });
    expect(storedReply(decided("rejected", { reason: "use staging" }))).toEqual({ kind: "permission", reply: "reject", message: "use staging" });
    expect(storedReply(decided("expired", { reason: "Not approved within 5 minutes" }))).toEqual({ kind: "permission", reply: "reject", message: "Not approved within 5 minutes" });
    const edit = { choice: "edit" as const, decider: alice, editedArgs: { command: "rm -rf build" } };
    expect(storedReply(decided("edited", { editedArgs: edit.editedArgs }))).toEqual(planDecision(bash, edit, at).reply);
    expect(storedReply(record({ ...asked, state: "answered", editedArgs: { answers: [["Yes"]] } }))).toEqual({ kind: "answer", answers: [["Yes"]] });
    expect(storedReply(record({ ...asked, state: "rejected" }))).toEqual({ kind: "dismiss" });
  });

  it("is nothing for what OpenCode never hears of from the bot", () => {
    expect(storedReply(decided("answered_elsewhere"))).toEqual({ kind: "none" });
    expect(storedReply(decided("cancelled"))).toEqual({ kind: "none" });
    expect(storedReply(decided("approved_once", { source: "plugin" }))).toEqual({ kind: "none" });
  });
});
