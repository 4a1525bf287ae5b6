import { buildCard } from "./card-text.ts";
import { applyEdit, editFields } from "./edit-form.ts";
import type { Form, FormField, FormKind, FormValues } from "./form.ts";
import { fit, platformNames, type PlatformLimits } from "./limits.ts";
import { parseAnswers, questionsOf } from "./question-form.ts";
import type { ChatPlatform, Choice, PermissionRecord } from "./types.ts";

/** Longest reason we ask for: the agent reads it, so a page is plenty. */
const REASON_MAX = 3000;

/** The form a choice opens, or the words saying why it cannot open here. */
export type FormOrRefusal = { form: Form } | { refusal: string };

/** The form behind `kind` for a request, shaped to the platform's limits. */
export function formFor(kind: FormKind, record: PermissionRecord, platform: ChatPlatform, limits: PlatformLimits): FormOrRefusal {
  const intro = buildCard(record, limits).summary;
  const form = (title: string, submit: string, fields: FormField[]): Form => ({
    kind,
    requestId: record.id,
    title: fit(title, limits.formTitle),
    submit,
    cancel: "Cancel",
    intro,
    fields: fields.map((field) => ({ ...field, label: fit(field.label, limits.fieldLabel), hint: field.hint && fit(field.hint, limits.fieldLabel) })),
  });
  const tooMany = (fields: FormField[]) =>
    fields.length > limits.formInputs
      ? { refusal: `This needs ${fields.length} inputs, more than ${platformNames[platform]} lets a dialog hold (${limits.formInputs}), so it cannot be done here. Answer it in OpenCode instead.` }
      : undefined;
  switch (kind) {
    case "reject":
      return {
        form: form("Reject request", "Reject", [
          { kind: "text", id: "reason", label: "Reason (the agent reads it)", multiline: true, optional: true, maxLength: Math.min(REASON_MAX, limits.formInput) },
        ]),
      };
    case "edit": {
      const edits = editFields(record);
      const tooLong = edits.find((field) => field.value.length > limits.formInput);
      if (tooLong) {
        return {
          refusal: `${tooLong.label} is longer than ${platformNames[platform]} lets a dialog hold (${limits.formInput} characters), so it cannot be edited here. Approve or reject it instead.`,
        };
      }
      const fields: FormField[] = edits.map((field) => ({
        kind: "text",
        id: field.id,
        label: field.label,
        value: field.value || undefined,
        multiline: field.multiline,
        optional: field.optional ?? false,
        maxLength: limits.formInput,
      }));
      return tooMany(fields) ?? { form: form("Edit, then allow", "Allow edited", fields) };
    }
    case "answer": {
      const fields: FormField[] = questionsOf(record).flatMap((question, index): FormField[] => [
        {
          kind: "choice",
          id: `q${index}`,
          label: question.header || `Question ${index + 1}`,
          hint: question.question,
          placeholder: question.multiple ? "Choose one or more" : "Choose one",
          optional: true,
          multiple: question.multiple ?? false,
          options: question.options.map((option, i) => ({ label: option.label, value: String(i) })),
        },
        { kind: "text", id: `q${index}_text`, label: "Or type your own answer", multiline: false, optional: true, maxLength: limits.formInput },
      ]);
      return tooMany(fields) ?? { form: form("Answer OpenCode", "Answer", fields) };
    }
  }
}

/** A decision read from a submitted form. */
export type FormDecision = { choice: Choice; reason?: string; editedArgs?: Record<string, unknown>; answers?: string[][] };

/** Reads a submitted form into a decision. Throws InvalidInput naming the field at fault. */
export function readForm(kind: FormKind, record: PermissionRecord, values: FormValues): FormDecision {
  const text = (id: string) => {
    const value = values[id];
    return typeof value === "string" ? value : undefined;
  };
  switch (kind) {
    case "reject":
      return { choice: "reject", reason: text("reason") };
    case "edit": {
      const edits = Object.fromEntries(editFields(record).map((field) => [field.id, text(field.id)]));
      return { choice: "edit", editedArgs: applyEdit(record, edits) };
    }
    case "answer": {
      const questions = questionsOf(record);
      const answers = parseAnswers(
        record,
        questions.map((question, index) => {
          const picked = values[`q${index}`];
          const chosen = (Array.isArray(picked) ? picked : picked ? [picked] : []).map((value) => question.options[Number(value)]?.label ?? "");
          return { chosen, typed: text(`q${index}_text`) };
        }),
      );
      return { choice: "answer", answers };
    }
  }
}
