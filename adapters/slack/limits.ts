import type { PlatformLimits } from "../../src/core/limits.ts";

/** Slack's own numbers (Block Kit reference), in one place. */
export const slackBlocks = {
  /** A section's text. */
  sectionText: 3000,
  /** Each of a section's fields. */
  sectionField: 2000,
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
  // A card takes up to ~9 of a message's 50 blocks (more with several status lines), the parent one.
  cardsPerMessage: 4,
};

/**
 * Slack's rate limits as the bot keeps to them (api.slack.com/apis/rate-limits). Posting is limited
 * per channel (about one message a second, short bursts allowed); chat.update is a Tier 3 method
 * (50+ a minute per workspace), limited apart from posting, so editing cards never delays a post.
 */
export const slackRates = {
  postPerChannel: { burst: 5, refillMs: 1000 },
  update: { burst: 20, refillMs: 1200 },
  /** Every other call: the per-method tiers are 20–100+ a minute; this only keeps bursts in bounds. */
  other: { burst: 20, refillMs: 500 },
} as const;
