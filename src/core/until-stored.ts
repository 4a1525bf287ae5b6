import type { Logger } from "./logger.ts";

const FIRST_WAIT_MS = 500;
const LONGEST_WAIT_MS = 15_000;

/**
 * Runs `write` until it succeeds, for what chat already shows and the store must come to hold (a
 * card posted while the database was down: left unrecorded, a decision meanwhile would never reach
 * it). Waits 0.5 s, doubling up to 15 s, between tries, logging the first failure and the recovery.
 * Once `stopped()` says so it tries no more and throws the last error. Its timers keep no process alive.
 */
export async function untilStored<T>(write: () => Promise<T>, how: { what: string; logger: Logger; stopped: () => boolean; context?: object }): Promise<T> {
  let wait = FIRST_WAIT_MS;
  for (let tries = 1; ; tries++) {
    try {
      const written = await write();
      if (tries > 1) how.logger.info({ ...how.context, tries }, `${how.what}: stored now`);
      return written;
    } catch (error) {
      if (how.stopped()) throw error;
      if (tries === 1) how.logger.warn({ ...how.context, err: error }, `${how.what}: the store failed; trying again until it does`);
      await new Promise((resolve) => setTimeout(resolve, wait).unref());
      wait = Math.min(wait * 2, LONGEST_WAIT_MS);
    }
  }
}
