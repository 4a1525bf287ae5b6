import { setTimeout as delay } from "node:timers/promises";
import type { Logger } from "./logger.ts";

/** A lease held until released, or `lost` (this process lost its database connection). */
export type HeldLease = { lost: Promise<void>; release(): Promise<void> };
/** Leases that one process at a time holds of several on one database (the database's `tryLease`). */
export type Leases = { tryLease(name: string): Promise<HeldLease | undefined> };
/** "standby": another process holds the lease; this one asks again every `retryMs`. */
export type LeaseState = "asking" | "held" | "standby";

/** How often a process without the lease asks for it (the takeover time when its holder dies). */
const LEASE_RETRY_MS = 1000;

/**
 * Holds lease `name` whenever this process can, for what only one process may do at a time:
 * `onHeld` starts it each time the lease is taken, `onLost` ends it when the lease is lost or on
 * `stop()`, before the lease is given back. `started` resolves after the first ask (and its
 * `onHeld`); when that first `onHeld` fails it rejects, the lease given back and nothing asked again,
 * so a single process fails to start as it would without a lease. A later `onHeld` that fails is
 * logged, and the lease given back and asked for again.
 */
export function holdLease(deps: { leases: Leases; name: string; logger: Logger; onHeld(): Promise<void>; onLost(): Promise<void>; retryMs?: number }) {
  const { name, logger } = deps;
  const stopping = new AbortController();
  const stopped = new Promise<void>((resolve) => stopping.signal.addEventListener("abort", () => resolve(), { once: true }));
  const wait = () => delay(deps.retryMs ?? LEASE_RETRY_MS, undefined, { signal: stopping.signal }).catch(() => undefined);
  let state: LeaseState = "asking";
  let settle!: (error?: unknown) => void;
  const started = new Promise<void>((resolve, reject) => (settle = (error) => (error === undefined ? resolve() : reject(error))));

  async function run(): Promise<void> {
    let first = true;
    const firstDone = (error?: unknown) => {
      if (first) settle(error);
      first = false;
    };
    while (!stopping.signal.aborted) {
      const lease = await deps.leases.tryLease(name).catch((error: unknown) => {
        logger.warn({ err: error, lease: name }, "could not ask for the lease; trying again");
        return undefined;
      });
      if (lease && stopping.signal.aborted) await lease.release();
      if (stopping.signal.aborted) break;
      if (!lease) {
        state = "standby";
        firstDone();
        await wait();
        continue;
      }
      state = "held";
      try {
        await deps.onHeld();
      } catch (error) {
        state = "standby";
        await lease.release();
        if (first) return firstDone(error);
        logger.error({ err: error, lease: name }, "could not start what the lease is for; giving the lease back and asking again");
        await wait();
        continue;
      }
      firstDone();
      const lost = await Promise.race([lease.lost.then(() => true), stopped.then(() => false)]);
      if (lost) logger.warn({ lease: name }, "the lease was lost (database connection); what it is for stops until it is held again");
      state = "standby";
      await deps.onLost().catch((error: unknown) => logger.error({ err: error, lease: name }, "could not stop what the lease is for"));
      await lease.release();
    }
    firstDone();
  }

  const loop = run();
  return {
    started,
    state: (): LeaseState => state,
    /** Ends what the lease is for (if held), gives the lease back and stops asking. */
    async stop() {
      stopping.abort();
      await loop;
    },
  };
}
