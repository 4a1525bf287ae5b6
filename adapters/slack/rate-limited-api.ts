import Bottleneck from "bottleneck";
import { ErrorCode, type WebClient } from "@slack/web-api";
import type { Logger } from "../../src/core/logger.ts";

/** Retries allowed for one call that Slack answered 429 (each waits Slack's Retry-After). */
const MAX_RATE_LIMIT_RETRIES = 5;

/**
 * Every Slack Web API call of the bot goes through here: a global limiter and one per channel
 * (Slack allows about one message a second per channel, with short bursts), so a burst queues
 * instead of failing; a 429 is retried after Slack's Retry-After.
 */
export function createRateLimitedApi(client: WebClient, logger: Logger) {
  const global = new Bottleneck({ maxConcurrent: 8 });
  const perChannel = new Bottleneck.Group({
    maxConcurrent: 1,
    reservoir: 5,
    reservoirIncreaseAmount: 1,
    reservoirIncreaseInterval: 1000,
    reservoirIncreaseMaximum: 5,
  });
  const onFailed = (error: unknown, job: Bottleneck.EventInfoRetryable) => {
    const rateLimited = (error as { code?: string }).code === ErrorCode.RateLimitedError;
    if (!rateLimited || job.retryCount >= MAX_RATE_LIMIT_RETRIES) return undefined;
    const retryAfterMs = ((error as { retryAfter?: number }).retryAfter ?? 1) * 1000;
    logger.warn({ retryAfterMs, job: job.options.id }, "Slack rate limit; retrying after Retry-After");
    return retryAfterMs;
  };
  global.on("failed", onFailed);

  return {
    client,
    /** Runs `call` within the limits; `channel` adds the per-channel limit (posting and updating messages). */
    call<T>(method: string, channel: string | undefined, call: () => Promise<T>): Promise<T> {
      const job = () => global.schedule({ id: `${method}-${Math.random().toString(36).slice(2, 8)}` }, call);
      return channel ? perChannel.key(channel).schedule(job) : job();
    },
    async stop() {
      await global.stop({ dropWaitingJobs: false });
    },
  };
}

export type RateLimitedApi = ReturnType<typeof createRateLimitedApi>;
