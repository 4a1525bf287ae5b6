import type { PlatformLimits } from "../../src/core/limits.ts";

/** Discord's own numbers (API reference: messages, embeds, components, modals), in one place. */
export const discordNumbers = {
  /** A message's content. */
  content: 2000,
  /** An embed's description, its fields' names and values, and all its text together. */
  embedDescription: 4096,
  embedFieldName: 256,
  embedFieldValue: 1024,
  embedFields: 25,
  embedTotal: 6000,
  /** Buttons per action row, rows per message; a button's label; any custom_id. */
  rowButtons: 5,
  rows: 5,
  buttonLabel: 80,
  customId: 100,
  /** A modal's title, its inputs, an input's label and value; a select's options and an option's label. */
  modalTitle: 45,
  modalInputs: 5,
  inputLabel: 45,
  inputDescription: 100,
  inputValue: 4000,
  selectOptions: 25,
  optionLabel: 100,
  /** A thread's name. */
  threadName: 100,
} as const;

/** What the core may ask of Discord: cards, forms and notices within those numbers. */
export const discordLimits: PlatformLimits = {
  // The body goes in the embed's description in a code fence, beside the status lines.
  cardBody: 3000,
  formInput: discordNumbers.inputValue,
  // One of the modal's five components says what the form is about.
  formInputs: discordNumbers.modalInputs - 1,
  formTitle: discordNumbers.modalTitle,
  fieldLabel: discordNumbers.inputLabel,
  buttonLabel: discordNumbers.buttonLabel,
  quickOptions: discordNumbers.rowButtons,
  notice: discordNumbers.content,
  message: discordNumbers.content,
  // Two cards' bodies (3,000 each) with their status lines would pass the 6,000 characters all of a message's embeds may hold.
  cardsPerMessage: 1,
};
