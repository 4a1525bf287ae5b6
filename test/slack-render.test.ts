import { describe, expect, it } from "vitest";
import { slackLimits } from "../adapters/slack/limits.ts";
import { decodeRef, encodeRef } from "../adapters/slack/refs.ts";
import { formValues, renderForm } from "../adapters/slack/render.ts";
import { formFor } from "../src/core/request-forms.ts";
import { question, record } from "./support/records.ts";

describe("Slack rendering of the core's forms, and Slack references", () => {
  it("a message reference round-trips, and anything else is refused", () => {
    expect(decodeRef(encodeRef({ channel: "C1", ts: "1700000000.000100" }))).toEqual({ channel: "C1", ts: "1700000000.000100" });
    expect(() => decodeRef("no-colon")).toThrow(/not a Slack message reference/);
  });

  it("a form becomes a modal whose inputs carry the core's ids and limits, and its state reads back", () => {
    const opened = formFor("answer", question([{ question: "Which?", header: "Colour", options: ["red", "blue"], multiple: true }]), "slack", slackLimits);
    if (!("form" in opened)) throw new Error(opened.refusal);
    const modal = renderForm(opened.form, { requestId: "que_1", channel: "C1", messageTs: "1.2" }) as { callback_id: string; blocks: Array<Record<string, any>> };
    expect(modal.callback_id).toBe("question_answer");
    expect(modal.blocks.map((block) => block.block_id ?? block.type)).toEqual(["section", "q0", "q0_text"]);
    expect(modal.blocks[1]!.element).toMatchObject({ type: "multi_static_select", options: [{ value: "0" }, { value: "1" }] });
    expect(modal.blocks[2]!.element).toMatchObject({ type: "plain_text_input", max_length: 3000 });
    expect(
      formValues({
        q0: { value: { type: "multi_static_select", selected_options: [{ value: "1" }] } },
        q0_text: { value: { type: "plain_text_input", value: null } },
      }),
    ).toEqual({ q0: ["1"], q0_text: undefined });
    expect(formValues({ q0: { value: { type: "static_select", selected_option: null } } })).toEqual({ q0: [] });

    const edit = formFor("edit", record({ toolArgs: { command: "ls" } }), "slack", slackLimits);
    if (!("form" in edit)) throw new Error(edit.refusal);
    const editModal = renderForm(edit.form, { requestId: "per_1", channel: "C1", messageTs: "1.2" }) as { blocks: Array<Record<string, any>> };
    expect(editModal.blocks[1]).toMatchObject({ block_id: "command", optional: false, element: { initial_value: "ls", multiline: true } });
  });
});
