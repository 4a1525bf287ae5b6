import { existsSync, readFileSync } from "node:fs";

export interface WaitForOptions {
  /** Give up after this many milliseconds (default 10 000), or sooner when the test's limit comes first. */
  timeout?: number;
  /** Milliseconds between probes (default 25). */
  interval?: number;
  /** What is awaited, for the timeout message: "permission.asked for bash". */
  what: string;
}

type Falsy = undefined | null | false;

/** Time kept back from the test's limit, for the failure to be reported before vitest's own timeout. */
const MARGIN_MS = 1_500;
let testDeadline: number | undefined;

/** Sets when the running test hits its limit (test/support/test-deadline.ts, before each test); undefined: no test. */
export function setTestDeadline(at: number | undefined): void {
  testDeadline = at;
}

/** `ms`, or less if the running test would hit its limit first (never below 1). */
export function timeLeft(ms: number): number {
  if (testDeadline === undefined) return ms;
  return Math.max(1, Math.min(ms, testDeadline - MARGIN_MS - Date.now()));
}

/**
 * Polls `probe` until it returns (or resolves to) a truthy value and returns that value.
 * A probe that throws counts as "not yet"; on timeout the error names `what` and carries the
 * last thrown error as `cause`. It gives up before the running test's limit, so that a slow run
 * says what it was waiting for instead of "Test timed out".
 */
export async function waitFor<T>(
  probe: () => T | Falsy | Promise<T | Falsy>,
  opts: WaitForOptions,
): Promise<T> {
  const asked = opts.timeout ?? 10_000;
  const timeout = timeLeft(asked);
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
  const cut = timeout < asked ? ` (cut from ${asked}ms: the test's limit was near)` : "";
  throw new Error(`timed out after ${timeout}ms${cut} waiting for ${opts.what}${detail}`, { cause: lastError });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Waits until the file at `path` holds exactly `expected` (a shell's `echo x > f` creates the file
 * before it writes to it); on timeout the error says what the file held.
 */
export async function waitForFile(path: string, expected: string, opts: { timeout?: number } = {}): Promise<void> {
  let held = "(no file)";
  await waitFor(
    () => {
      held = existsSync(path) ? JSON.stringify(readFileSync(path, "utf8")) : "(no file)";
      return held === JSON.stringify(expected);
    },
    { what: `${path} to hold ${JSON.stringify(expected)}`, ...opts },
  ).catch((error: Error) => {
    throw new Error(`${error.message}; it holds ${held}`);
  });
}
