export interface WaitForOptions {
  /** Give up after this many milliseconds (default 10 000). */
  timeout?: number;
  /** Milliseconds between probes (default 25). */
  interval?: number;
  /** What is awaited, for the timeout message: "permission.asked for bash". */
  what: string;
}

type Falsy = undefined | null | false;

/**
 * Polls `probe` until it returns (or resolves to) a truthy value and returns that value.
 * A probe that throws counts as "not yet"; on timeout the error names `what` and carries the
 * last thrown error as `cause`.
 */
export async function waitFor<T>(
  probe: () => T | Falsy | Promise<T | Falsy>,
  opts: WaitForOptions,
): Promise<T> {
  const timeout = opts.timeout ?? 10_000;
  const interval = opts.interval ?? 25;
  const deadline = Date.now() + timeout;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, Math.min(interval, Math.max(0, deadline - Date.now()))));
  }
  const detail = lastError === undefined ? "" : ` (last probe error: ${describe(lastError)})`;
  throw new Error(`timed out after ${timeout}ms waiting for ${opts.what}${detail}`, { cause: lastError });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
