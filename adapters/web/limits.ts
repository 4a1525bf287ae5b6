import type { PlatformLimits } from "../../src/core/limits.ts";

/** What the console shows: a browser has room, so the numbers only keep a page readable. */
export const webLimits: PlatformLimits = {
  cardBody: 4000,
  formInput: 100_000,
  formInputs: 50,
  formTitle: 120,
  fieldLabel: 500,
  buttonLabel: 80,
  quickOptions: 10,
  notice: 2000,
  message: 100_000,
  // The console lists each request on its own.
  cardsPerMessage: 1,
};
