import type { PlatformLimits } from "../../src/core/limits.ts";

/** Slack's own numbers (Block Kit reference), in one place. */
export const slackBlocks = {
  /** A section's text. */
  sectionText: 3000,
  /** Blocks in a modal. */
  modalBlocks: 100,
  /** A plain_text_input's value and max_length. */
  inputText: 3000,
  /** A modal's title. */
  modalTitle: 24,
  /** A button's text. */
  buttonText: 75,
  /** An input's label and hint. */
  labelText: 2000,
  /** An option's text in a select, and options in one select. */
  optionText: 75,
  selectOptions: 100,
  /** A message's top-level text (chat.postMessage truncates beyond it). */
  messageText: 40_000,
} as const;

/** What the core may ask of Slack: cards, forms and notices within Block Kit's limits. */
export const slackLimits: PlatformLimits = {
  // Room for the code fence and the escaping of & < > within one section.
  cardBody: 2500,
  formInput: slackBlocks.inputText,
  // Every modal starts with one section saying what it is about.
  formInputs: slackBlocks.modalBlocks - 1,
  formTitle: slackBlocks.modalTitle,
  fieldLabel: slackBlocks.labelText,
  buttonLabel: slackBlocks.buttonText,
  quickOptions: 5,
  notice: slackBlocks.sectionText,
  message: slackBlocks.messageText,
};
