import { ButtonStyle, ComponentType } from "discord.js";
import { describe, expect, it } from "vitest";
import { parseButtonId } from "../adapters/discord/interactions.ts";
import { discordLimits, discordNumbers } from "../adapters/discord/limits.ts";
import { decodeRef, encodeRef } from "../adapters/discord/refs.ts";
import { bodyFileName, formValues, parseFormId, renderCard, renderForm, renderThreadParent } from "../adapters/discord/render.ts";
import { buildCard, threadParent } from "../src/core/card-text.ts";
import { formFor } from "../src/core/request-forms.ts";
import { question, record } from "./support/records.ts";

const alice = { platform: "discord" as const, userId: "111111111111111111", name: "alice" };
const asked = new Date("2026-01-01T00:00:00Z");

describe("Discord rendering of the core's cards and forms, and Discord references", () => {
  it("a message reference round-trips, and anything else is refused", () => {
    const ref = encodeRef({ channel: "222222222222222222", message: "333333333333333333" });
    expect(decodeRef(ref)).toEqual({ channel: "222222222222222222", message: "333333333333333333" });
    expect(() => decodeRef("C1:1.2")).toThrow(/not a Discord message reference/);
  });

  it("a pending card: one embed with the command in a code block, the patterns, the reference, and the four buttons", () => {
    const card = buildCard(record({ metadata: { command: "echo hi > a.txt" }, patterns: ["echo hi > a.txt"], always: ["echo *"] }), discordLimits, asked);
    const payload = renderCard(card);
    const embed = payload.embeds[0]!;
    expect(embed.title).toBe("OpenCode wants to run a command");
    expect(embed.description).toContain("```\necho hi > a.txt\n```");
    expect(embed.fields).toContainEqual({ name: "Always allows", value: "echo \\*" });
    expect(embed.footer?.text).toBe("Request per_1 · session ses_1");
    const buttons = payload.components.flatMap((row) => row.components);
    expect(buttons.map((button) => button.label)).toEqual(["Approve once", "Always", "Reject", "Edit"]);
    expect(buttons.map((button) => button.custom_id)).toEqual(["approval:once:per_1", "approval:always:per_1", "approval:reject:per_1", "approval:edit:per_1"]);
    expect(buttons[0]).toMatchObject({ type: ComponentType.Button, style: ButtonStyle.Success });
    expect(payload.files).toBeUndefined();
    expect(buttons.every((button) => button.custom_id.length <= discordNumbers.customId)).toBe(true);
  });

  it("a long body is cut on the card and attached whole as a file (not again on an edit)", () => {
    const long = "y".repeat(5000);
    const card = buildCard(record({ metadata: { command: long } }), discordLimits, asked);
    const payload = renderCard(card);
    expect(payload.embeds[0]!.description!.length).toBeLessThanOrEqual(discordNumbers.embedDescription);
    expect(payload.embeds[0]!.description).toContain(`attached as ${bodyFileName("per_1")}`);
    expect(payload.files).toEqual([{ attachment: Buffer.from(long), name: "per_1.txt" }]);
    expect(renderCard(card, { withFiles: false }).files).toBeUndefined();
  });

  it("a decided card names the decider as a Discord mention and has no buttons left", () => {
    const card = buildCard(record({ state: "approved_once", decider: alice, decidedAt: new Date("2026-01-01T00:00:09Z") }), discordLimits, asked);
    const payload = renderCard(card);
    expect(payload.embeds[0]!.description).toContain("Approved once by <@111111111111111111> after 9 s");
    expect(payload.components).toEqual([]);
    expect(payload.allowedMentions).toEqual({ parse: [] });
  });

  it("a question's choices are one-click buttons whose ids parse back to the option", () => {
    const card = buildCard(question([{ question: "Which?", options: ["red", "blue"] }]), discordLimits, asked);
    const [options] = renderCard(card).components;
    expect(options!.components.map((button) => [button.label, button.custom_id])).toEqual([
      ["red", "question:option:0:que_1"],
      ["blue", "question:option:1:que_1"],
    ]);
    expect(parseButtonId("question:option:1:que_1")).toEqual({ action: { option: 1 }, requestId: "que_1" });
    expect(parseButtonId("approval:reject:per_1")).toEqual({ action: "reject", requestId: "per_1" });
    expect(parseButtonId("something:else")).toBeUndefined();
  });

  it("the thread's starter names the project and the session; the thread is named after the session", () => {
    const rendered = renderThreadParent(threadParent({ directory: "/srv/app", sessionId: "ses_1", title: "deploy docs" }));
    expect(rendered.payload.content).toContain("deploy docs");
    expect(rendered.payload.content).toContain("/srv/app");
    expect(rendered.threadName).toBe("deploy docs");
  });

  it("a form becomes a modal within Discord's limits (title, five components, labels) whose fields read back", () => {
    const edit = formFor("edit", record({ permission: "edit", toolName: "edit", toolArgs: { filePath: "/p/a.txt", oldString: "a", newString: "b" } }), "discord", discordLimits);
    if (!("form" in edit)) throw new Error(edit.refusal);
    const modal = renderForm(edit.form) as unknown as { custom_id: string; title: string; components: Array<Record<string, any>> };
    expect(modal.custom_id).toBe("form:edit:per_1");
    expect(parseFormId(modal.custom_id)).toEqual({ form: "edit", requestId: "per_1" });
    expect(modal.title.length).toBeLessThanOrEqual(discordNumbers.modalTitle);
    expect(modal.components.length).toBeLessThanOrEqual(discordNumbers.modalInputs);
    expect(modal.components[0]).toMatchObject({ type: ComponentType.TextDisplay });
    const inputs = modal.components.slice(1);
    expect(inputs.map((label) => label.component.custom_id)).toEqual(["filePath", "oldString", "newString"]);
    expect(inputs.every((label) => label.type === ComponentType.Label && label.label.length <= discordNumbers.inputLabel)).toBe(true);
    expect(inputs[2]!.component).toMatchObject({ type: ComponentType.TextInput, value: "b", max_length: 4000 });
    expect(formValues([{ customId: "newString", value: "c" }, { customId: "q0", values: ["1"] }])).toEqual({ newString: "c", q0: ["1"] });

    const answer = formFor("answer", question([{ question: "Which?", options: ["red", "blue"], multiple: true }]), "discord", discordLimits);
    if (!("form" in answer)) throw new Error(answer.refusal);
    const select = (renderForm(answer.form) as unknown as { components: Array<Record<string, any>> }).components[1]!.component;
    expect(select).toMatchObject({ type: ComponentType.StringSelect, max_values: 2, options: [{ value: "0" }, { value: "1" }] });
  });

  it("a value longer than a Discord input is not offered for editing, and the refusal says why", () => {
    const long = "z".repeat(4001);
    const refused = formFor("edit", record({ toolArgs: { command: long } }), "discord", discordLimits);
    expect("refusal" in refused && refused.refusal).toMatch(/Discord/);
  });
});
