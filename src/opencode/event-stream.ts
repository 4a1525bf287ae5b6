import { createOpencodeClient, type GlobalEvent } from "@opencode-ai/sdk/v2";
import type { Logger } from "../core/logger.ts";
import { authHeaders, type OpencodeServer } from "./opencode-api.ts";

export type StreamState = "connecting" | "ready" | "reconnecting" | "stopped";

export type StreamOptions = {
  server: OpencodeServer;
  logger: Logger;
  /** Each event from `GET /global/event`; errors are logged, never end the stream. */
  onEvent(event: GlobalEvent): void | Promise<void>;
  /**
   * After every `server.connected`: the moment to re-read what is pending. `outage` says whether
   * OpenCode could not be reached at all since the last good connection (it most likely restarted).
   * A rejection drops the connection so that the next one resyncs again.
   */
  onConnected(info: { first: boolean; outage: boolean }): Promise<void>;
  /** OpenCode sends `server.heartbeat` every 10 s; silence this long means the connection is dead. */
  silenceMs?: number;
  /**
   * A starting OpenCode accepts connections before it can answer them, and such a request may hang
   * for minutes: without `server.connected` this soon, the attempt is dropped and retried.
   */
  connectTimeoutMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** A connection that stayed up this long resets the backoff. */
  healthyAfterMs?: number;
};

/** While reconnecting, how often OpenCode's health is asked, and how long one ask may take. */
const PROBE_EVERY_MS = 200;
const PROBE_TIMEOUT_MS = 500;
/** How long a connect after a wait may take to say `server.connected` (OpenCode does in milliseconds) before one more at once. */
const QUICK_CONNECT_MS = 1_000;

/** Waits `ms`, or until `signal` aborts; either way its listener on `signal` goes (one signal outlives many waits). */
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });

/**
 * Our own reconnect loop around OpenCode's event stream (the SDK's never resets its counter and stops
 * for good on a clean close): connecting → ready → reconnecting → … → stopped, capped jittered backoff.
 */
export class OpencodeEventStream {
  private current: StreamState = "connecting";
  private stopped = false;
  private connection?: AbortController;
  private wake?: () => void;
  private loop?: Promise<void>;
  private readonly client;

  constructor(private readonly options: StreamOptions) {
    // The SDK drops the abort signal on its way to fetch (seen with 1.19.3: a hung connect outlived
    // its abort by seconds), so the current connection's signal is handed to fetch here.
    this.client = createOpencodeClient({
      baseUrl: options.server.url,
      headers: authHeaders(options.server),
      fetch: (input: RequestInfo | URL, init?: RequestInit) => fetch(input, { ...init, signal: this.connection?.signal }),
    });
  }

  get state(): StreamState {
    return this.current;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.current = "stopped";
    this.connection?.abort();
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { logger } = this.options;
    const minBackoff = this.options.minBackoffMs ?? 500;
    const maxBackoff = this.options.maxBackoffMs ?? 15_000;
    const healthyAfter = this.options.healthyAfterMs ?? 10_000;
    let failures = 0;
    let first = true;
    let outage = false;
    let quick = false;
    while (!this.stopped) {
      // A restarting OpenCode may accept a connection and never answer it (its first /global/event
      // while it loads): an attempt after a wait gets QUICK_CONNECT_MS, and when it hangs that long
      // the next goes at once with the whole connect timeout (a slow OpenCode is still followed).
      const result = await this.connectOnce(first, outage, quick ? QUICK_CONNECT_MS : undefined);
      if (this.stopped) break;
      if (quick && result.hung) {
        quick = false;
        logger.debug({ err: result.error }, "OpenCode accepted the event stream but did not answer; connecting once more at once");
        continue;
      }
      if (result.readyFor >= healthyAfter) failures = 0;
      if (result.readyFor > 0) {
        first = false;
        outage = false;
      } else {
        outage = true;
      }
      failures += 1;
      const delay = Math.min(maxBackoff, minBackoff * 2 ** (failures - 1)) * (0.5 + Math.random() / 2);
      this.current = "reconnecting";
      // One warning when a good connection is lost; the retries after it are routine.
      const log = result.readyFor > 0 || failures === 1 ? logger.warn.bind(logger) : logger.debug.bind(logger);
      log({ err: result.error, attempt: failures, retryInMs: Math.round(delay) }, "OpenCode event stream lost; reconnecting");
      await this.waitToRetry(delay);
      quick = true;
    }
    this.current = "stopped";
  }

  /**
   * Waits `delay`, or less: GET /global/health is asked meanwhile every PROBE_EVERY_MS (cheap, and
   * given up on quickly, as a starting OpenCode may hold it), and its first answer after one that
   * failed ends the wait, so a restarted OpenCode is followed again within a fraction of a second of
   * answering, however long the backoff had grown. An OpenCode that answers throughout (its stream
   * failing for another reason) gets the whole backoff.
   */
  private async waitToRetry(delay: number): Promise<void> {
    const health = `${this.options.server.url.replace(/\/+$/, "")}/global/health`;
    const done = new AbortController();
    let wasDown = false;
    const probing = (async () => {
      while (!done.signal.aborted) {
        await sleep(PROBE_EVERY_MS, done.signal);
        if (done.signal.aborted) return;
        const answered = await fetch(health, { headers: authHeaders(this.options.server), signal: AbortSignal.any([done.signal, AbortSignal.timeout(PROBE_TIMEOUT_MS)]) }).then(
          async (res) => (await res.body?.cancel(), res.ok),
          () => false,
        );
        if (answered && wasDown) return this.wake?.();
        wasDown ||= !answered;
      }
    })();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delay);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    done.abort();
    await probing;
  }

  /** One connection, until it ends; returns how long it was ready (0 = never got `server.connected`). */
  /** `hung`: OpenCode took the connection but said nothing within the connect timeout. */
  private async connectOnce(first: boolean, outage: boolean, timeoutMs?: number): Promise<{ readyFor: number; hung: boolean; error?: unknown }> {
    const controller = new AbortController();
    this.connection = controller;
    const silenceMs = this.options.silenceMs ?? 30_000;
    const connectTimeoutMs = timeoutMs ?? this.options.connectTimeoutMs ?? 5_000;
    let lastSeen = Date.now();
    let readyAt = 0;
    let hung = false;
    let error: unknown;
    let resyncing: Promise<void> | undefined;
    const watchdog = setInterval(() => {
      const limit = readyAt ? silenceMs : connectTimeoutMs;
      if (Date.now() - lastSeen > limit) {
        error = new Error(readyAt ? `no event or heartbeat for ${silenceMs} ms` : `OpenCode did not answer within ${connectTimeoutMs} ms`);
        hung = !readyAt;
        controller.abort();
      }
    }, Math.min(250, silenceMs / 3));
    try {
      const { stream } = await this.client.global.event({
        signal: controller.signal,
        sseMaxRetryAttempts: 1,
        onSseError: (cause: unknown) => {
          error ??= cause;
        },
      });
      for await (const event of stream) {
        lastSeen = Date.now();
        if (event.payload.type === "server.connected") {
          readyAt = Date.now();
          this.current = "ready";
          this.options.logger.info({ first, outage }, "connected to OpenCode's event stream");
          resyncing = this.options.onConnected({ first, outage }).catch((cause: unknown) => {
            if (this.stopped) return; // stopping: what it read no longer matters
            this.options.logger.error({ err: cause }, "resync after connect failed; reconnecting to try again");
            error = cause;
            controller.abort();
          });
          continue;
        }
        this.dispatch(event);
      }
    } catch (cause) {
      error ??= cause;
    } finally {
      clearInterval(watchdog);
      // A resync under way finishes before the next connection, or before stop() returns and the database closes.
      await resyncing;
    }
    return { readyFor: readyAt ? Date.now() - readyAt : 0, hung, error: error ?? new Error("OpenCode closed the event stream") };
  }

  private dispatch(event: GlobalEvent): void {
    try {
      void Promise.resolve(this.options.onEvent(event)).catch((cause: unknown) =>
        this.options.logger.error({ err: cause, type: event.payload.type }, "handling an OpenCode event failed"),
      );
    } catch (cause) {
      this.options.logger.error({ err: cause, type: event.payload.type }, "handling an OpenCode event failed");
    }
  }
}
