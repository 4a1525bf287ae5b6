import type { QuestionInfo } from "@opencode-ai/sdk/v2";
import { InvalidInput } from "./errors.ts";
import type { PermissionRecord } from "./types.ts";

/** The questions a question record carries (kept in its metadata). */
export function questionsOf(record: PermissionRecord): QuestionInfo[] {
  const questions = record.metadata.questions;
  return Array.isArray(questions) ? (questions as QuestionInfo[]) : [];
}

/** Choices that can be answered with one click: one question, single choice, at most `max` options. */
export function quickOptions(record: PermissionRecord, max: number): string[] | undefined {
  const questions = questionsOf(record);
  const only = questions[0];
  if (questions.length !== 1 || !only || only.multiple || only.options.length === 0) return undefined;
  if (only.options.length > max) return undefined;
  return only.options.map((option) => option.label);
}

/** The answer OpenCode expects for a one-click choice. */
export function answerForOption(record: PermissionRecord, index: number, max: number): string[][] {
  const label = quickOptions(record, max)?.[index];
  if (label === undefined) throw new InvalidInput(`no choice ${index} on this question`);
  return [[label]];
}

/**
 * Answers from the Answer dialog: per question, the chosen labels or else the typed answer.
 * Throws InvalidInput naming the first unanswered question's field (`q<i>`).
 */
export function parseAnswers(record: PermissionRecord, values: Array<{ chosen: string[]; typed?: string }>): string[][] {
  return questionsOf(record).map((question, index) => {
    const value = values[index];
    const typed = value?.typed?.trim();
    if (typed) return [typed];
    const chosen = (value?.chosen ?? []).filter((label) => question.options.some((option) => option.label === label));
    if (chosen.length === 0) throw new InvalidInput("Choose an answer or type one", `q${index}`);
    return question.multiple ? chosen : chosen.slice(0, 1);
  });
}
