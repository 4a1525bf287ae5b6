/**
 * At most one call per key per interval, always with the latest state: a burst of changes (thousands
 * of streamed tokens) costs one update now and one when the interval is over. `flush` runs what is
 * waiting at once (the turn is over).
 */
export class Coalescer {
  private readonly entries = new Map<string, { last: number; timer?: NodeJS.Timeout; pending?: () => Promise<void>; running?: Promise<void> }>();

  constructor(
    private readonly intervalMs: number,
    private readonly onError: (key: string, error: unknown) => void,
  ) {}

  /** Runs `update` now if the key's last run is an interval ago, else once the interval is over (replacing any waiting one). */
  schedule(key: string, update: () => Promise<void>): void {
    const entry = this.entries.get(key) ?? { last: 0 };
    this.entries.set(key, entry);
    entry.pending = update;
    if (entry.timer || entry.running) return;
    const wait = entry.last + this.intervalMs - Date.now();
    if (wait <= 0) return void this.run(key);
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      void this.run(key);
    }, wait);
  }

  /** Counts a call made outside (the message's first post, once done) as the key's last run. */
  touch(key: string): void {
    const entry = this.entries.get(key) ?? { last: 0 };
    entry.last = Date.now();
    this.entries.set(key, entry);
  }

  /** Resolves once the key's waiting update has run (still no sooner than the interval allows). */
  async flush(key: string): Promise<void> {
    for (let entry = this.entries.get(key); entry && (entry.pending || entry.running || entry.timer); entry = this.entries.get(key)) {
      if (entry.running) await entry.running;
      else await new Promise((resolve) => setTimeout(resolve, Math.max(1, entry!.last + this.intervalMs - Date.now())));
      if (entry.pending && !entry.timer && !entry.running) this.schedule(key, entry.pending);
    }
  }

  private async run(key: string): Promise<void> {
    const entry = this.entries.get(key);
    const update = entry?.pending;
    if (!entry || !update) return;
    entry.pending = undefined;
    entry.running = update().catch((error: unknown) => this.onError(key, error));
    await entry.running;
    // Counted from when the call is done: a call that waited in a rate limiter's queue is not followed closely by the next.
    entry.last = Date.now();
    entry.running = undefined;
    // Changes that came while it ran wait for the rest of the interval.
    if (entry.pending) this.schedule(key, entry.pending);
  }
}
