import type { EventEmitter } from "node:events";

/**
 * Resolves with the first non-undefined value of `probe()`, re-evaluated each time `emitter` emits
 * `event` (the fakes emit "change" after every state change), so nothing here polls or sleeps.
 * Rejects after `timeoutMs` with a message naming `what` was awaited.
 */
export function waitForState<T>(
  emitter: EventEmitter,
  event: string,
  probe: () => T | undefined,
  what: string,
  timeoutMs = 5_000,
): Promise<T> {
  const now = probe();
  if (now !== undefined) return Promise.resolve(now);
  return new Promise<T>((resolve, reject) => {
    const onChange = () => {
      let value: T | undefined;
      try {
        value = probe();
      } catch (error) {
        finish();
        reject(error);
        return;
      }
      if (value === undefined) return;
      finish();
      resolve(value);
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      emitter.off(event, onChange);
    };
    emitter.on(event, onChange);
  });
}
