import { describe, expect, it } from "vitest";
import { slackLimits } from "../adapters/slack/limits.ts";
import { decodeRef, encodeRef } from "../adapters/slack/refs.ts";
import { formValues, renderCard, renderForm, renderThreadParent, renderView } from "../adapters/slack/render.ts";
import { buildCard, threadParent } from "../src/core/card-text.ts";
import { formFor } from "../src/core/request-forms.ts";
import { question, record } from "./support/records.ts";

describe("Slack rendering of the core's forms, and Slack references", () => {
  it("a card whose tool name and Always patterns run past Block Kit's limits is cut to them, never inside an escape", () => {
    // Slack refuses a whole message for one text over its limit (section text 3,000, each field 2,000).
    // And a command of 2,400 `<`, within the core's body limit, is ~9,600 characters escaped.
    const long = record({ toolName: "t&".repeat(2_000), always: Array.from({ length: 400 }, (_, i) => `cat <file${i}> *`), metadata: { command: "<".repeat(2_400) } });
    const blocks = renderCard(buildCard(long, slackLimits)).blocks as Array<{ text?: { text: string }; fields?: Array<{ text: string }> }>;
    const texts = blocks.flatMap((block) => [...(block.text ? [{ text: block.text.text, max: 3_000 }] : []), ...(block.fields ?? []).map((field) => ({ text: field.text, max: 2_000 }))]);
    expect(texts.some(({ text }) => text.startsWith("```&lt;&lt;"))).toBe(true);
    for (const { text, max } of texts) {
      expect(text.length).toBeLessThanOrEqual(max);
      expect(text).not.toMatch(/&(?!amp;|lt;|gt;)/);
    }
    const fields = blocks[1]!.fields!.map((field) => field.text);
    expect(fields[0]).toMatch(/^\*Tool\*\n(t&amp;)+t?…$/);
    expect(fields.find((field) => field.startsWith("*Always allows*"))).toMatch(/^\*Always allows\*\ncat &lt;file0&gt; \*, .*…$/s);
    const parent = renderThreadParent(threadParent({ directory: "/p", sessionId: "ses_1", title: "fix <this> & ".repeat(400) })).blocks as Array<{ text: { text: string } }>;
    expect(parent[0]!.text.text.length).toBeLessThanOrEqual(3_000);
    expect(parent[0]!.text.text).toMatch(/^:robot_face: OpenCode session \*fix &lt;this&gt; &amp; .*…$/s);
  });

  it("a Show all view of code dense with < > & keeps every character, each section within Slack's limit", () => {
    const text = "if (a < b && c > d) { return `x`; }\n".repeat(300);
    const view = renderView({ title: "Full text", close: "Close", text }) as { blocks: Array<{ text: { text: string } }> };
    expect(view.blocks.length).toBeGreaterThan(4);
    for (const block of view.blocks) expect(block.text.text.length).toBeLessThanOrEqual(3_000);
    const unescape = (t: string) => t.slice(3, -3).replaceAll("`\u200b``", "```").replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&amp;", "&");
    expect(view.blocks.map((block) => unescape(block.text.text)).join("")).toBe(text);
  });

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
