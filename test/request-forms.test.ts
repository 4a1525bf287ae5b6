import { describe, expect, it } from "vitest";
import { slackLimits } from "../adapters/slack/limits.ts";
import { InvalidInput } from "../src/core/errors.ts";
import { formFor, readForm } from "../src/core/request-forms.ts";
import { discordLike, tiny } from "./support/limits.ts";
import { question, record } from "./support/records.ts";

const write = record({ permission: "edit", toolName: "write", toolArgs: { filePath: "/p/a.txt", content: "old" } });

describe("forms within a platform's limits (request-forms, pure)", () => {
  it("the reject form asks for an optional reason, no longer than the platform takes", () => {
    const opened = formFor("reject", record({ metadata: { command: "ls" } }), "slack", slackLimits);
    expect(opened).toEqual({
      form: {
        kind: "reject",
        requestId: "per_1",
        title: "Reject request",
        submit: "Reject",
        cancel: "Cancel",
        intro: "OpenCode wants to run a command: ls",
        fields: [{ kind: "text", id: "reason", label: "Reason (the agent reads it)", hint: undefined, multiline: true, optional: true, maxLength: 3000 }],
      },
    });
  });

  it("the edit form is pre-filled per tool, and titles and labels are cut to fit", () => {
    const opened = formFor("edit", write, "discord", discordLike);
    if (!("form" in opened)) throw new Error(opened.refusal);
    expect(opened.form.fields.map((field) => [field.id, field.kind === "text" && field.value, field.kind === "text" && field.maxLength])).toEqual([
      ["filePath", "/p/a.txt", 4000],
      ["content", "old", 4000],
    ]);
    const small = formFor("reject", write, "slack", tiny);
    if (!("form" in small)) throw new Error(small.refusal);
    expect(small.form.title).toBe("Reject …");
    expect(small.form.fields[0]!.label).toBe("Reaso…");
  });

  it("refuses, in words naming the platform, an edit whose value does not fit an input", () => {
    const long = record({ permission: "edit", toolName: "write", toolArgs: { filePath: "/p/a", content: "y".repeat(3500) } });
    expect(formFor("edit", long, "slack", slackLimits)).toEqual({
      refusal: "Content is longer than Slack lets a dialog hold (3000 characters), so it cannot be edited here. Approve or reject it instead.",
    });
    expect("form" in formFor("edit", long, "discord", discordLike)).toBe(true);
  });

  it("the answer form has a choice and a typed answer per question, and refuses more inputs than the platform holds", () => {
    const three = question([
      { question: "A?", options: ["1", "2"] },
      { question: "B?", options: ["3"], multiple: true },
      { question: "C?", options: ["4"] },
    ]);
    const onSlack = formFor("answer", three, "slack", slackLimits);
    if (!("form" in onSlack)) throw new Error(onSlack.refusal);
    expect(onSlack.form.fields.map((field) => `${field.kind}:${field.id}`)).toEqual(["choice:q0", "text:q0_text", "choice:q1", "text:q1_text", "choice:q2", "text:q2_text"]);
    expect(onSlack.form.fields[2]).toMatchObject({ multiple: true, placeholder: "Choose one or more", options: [{ label: "3", value: "0" }] });
    expect(formFor("answer", three, "discord", discordLike)).toEqual({
      refusal: "This needs 6 inputs, more than Discord lets a dialog hold (5), so it cannot be done here. Answer it in OpenCode instead.",
    });
  });

  it("reads submissions back into decisions, and names the field at fault", () => {
    expect(readForm("reject", write, { reason: "not now" })).toEqual({ choice: "reject", reason: "not now" });
    expect(readForm("edit", write, { filePath: "/p/a.txt", content: "new" })).toEqual({ choice: "edit", editedArgs: { filePath: "/p/a.txt", content: "new" } });
    const asking = question([{ question: "Which?", options: ["red", "blue"], multiple: true }]);
    expect(readForm("answer", asking, { q0: ["1", "0"] })).toEqual({ choice: "answer", answers: [["blue", "red"]] });
    expect(readForm("answer", asking, { q0: [], q0_text: " green " })).toEqual({ choice: "answer", answers: [["green"]] });
    try {
      readForm("answer", asking, {});
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidInput);
      expect((error as InvalidInput).field).toBe("q0");
    }
    expect(() => readForm("edit", write, { filePath: " ", content: "x" })).toThrow(/File path cannot be empty/);
  });
});
