import type { PlatformLimits } from "../../src/core/limits.ts";

/** A platform with Discord's documented numbers, for the core's unit tests (the Discord adapter declares its own). */
export const discordLike: PlatformLimits = {
  cardBody: 3900,
  formInput: 4000,
  formInputs: 5,
  formTitle: 45,
  fieldLabel: 45,
  buttonLabel: 80,
  quickOptions: 5,
  notice: 2000,
  message: 2000,
  cardsPerMessage: 1,
};

/** A small platform, to see every limit bite. */
export const tiny: PlatformLimits = {
  cardBody: 10,
  formInput: 20,
  formInputs: 2,
  formTitle: 8,
  fieldLabel: 6,
  buttonLabel: 4,
  quickOptions: 2,
  notice: 100,
  message: 50,
  cardsPerMessage: 1,
};
