import { describe, expect, it } from "vitest";
import { applyEdit, editFields, fallbackMessage, matchesPreapproval, preapprovalFor } from "../src/core/edit-form.ts";
import { InvalidInput } from "../src/core/errors.ts";
import { record } from "./support/records.ts";

describe("edit form", () => {
  it("pre-fills bash from the tool input and keeps keys the dialog does not show", () => {
    const bash = record({ toolArgs: { command: "rm -rf build --force", description: "Clean", timeout: 5000 } });
    expect(editFields(bash).map((f) => [f.id, f.value])).toEqual([
      ["command", "rm -rf build --force"],
      ["description", "Clean"],
    ]);
    expect(applyEdit(bash, { command: "rm -rf build", description: "Clean" })).toEqual({
      command: "rm -rf build",
      description: "Clean",
      timeout: 5000,
    });
  });

  it("falls back to the metadata's command when OpenCode gave no tool input", () => {
    expect(editFields(record({ metadata: { command: "ls" } }))[0]?.value).toBe("ls");
  });

  it("refuses an empty command and invalid JSON, naming the field", () => {
    expect(() => applyEdit(record({ toolArgs: { command: "ls" } }), { command: "  " })).toThrow(InvalidInput);
    const other = record({ permission: "webfetch", toolName: "webfetch", toolArgs: { url: "https://x" } });
    expect(editFields(other).map((f) => f.id)).toEqual(["json"]);
    try {
      applyEdit(other, { json: "{nope" });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidInput);
      expect((error as InvalidInput).field).toBe("json");
    }
    expect(() => applyEdit(other, { json: "[1]" })).toThrow(/JSON object/);
    expect(applyEdit(other, { json: '{"url":"https://y"}' })).toEqual({ url: "https://y" });
  });

  it("write and edit show path and content fields", () => {
    const write = record({ permission: "edit", toolName: "write", toolArgs: { filePath: "/p/a.txt", content: "x" } });
    expect(editFields(write).map((f) => f.id)).toEqual(["filePath", "content"]);
    const edit = record({ permission: "edit", toolName: "edit", toolArgs: { filePath: "/p/a.txt", oldString: "a", newString: "b" } });
    expect(editFields(edit).map((f) => f.id)).toEqual(["filePath", "oldString", "newString"]);
  });

  it("a pre-approval matches exactly the edited call in the same tool", () => {
    const asked = record({ toolArgs: { command: "rm -rf build --force" } });
    const pre = preapprovalFor(asked, { command: "rm -rf build" });
    expect(matchesPreapproval(pre, record({ toolArgs: { command: "rm -rf build", description: "other words" } }))).toBe(true);
    expect(matchesPreapproval(pre, record({ toolArgs: { command: "rm -rf build " } }))).toBe(false);
    expect(matchesPreapproval(pre, record({ toolName: "write", toolArgs: { command: "rm -rf build" } }))).toBe(false);
    const write = record({ permission: "edit", toolName: "write", toolArgs: { filePath: "/p/a", content: "old" } });
    const writePre = preapprovalFor(write, { content: "new", filePath: "/p/a" });
    expect(matchesPreapproval(writePre, record({ permission: "edit", toolName: "write", toolArgs: { filePath: "/p/a", content: "new" } }))).toBe(true);
    expect(matchesPreapproval(writePre, record({ permission: "edit", toolName: "write", toolArgs: { filePath: "/p/a", content: "new!" } }))).toBe(false);
  });

  it("tells the agent the exact command to run", () => {
    expect(fallbackMessage("bash", { command: "echo a" })).toContain("Run exactly this command instead, unchanged:\n```\necho a\n```");
  });
});
