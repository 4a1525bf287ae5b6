import Bottleneck from "bottleneck";
import { ErrorCode, type WebClient } from "@slack/web-api";
import type { Logger } from "../../src/core/logger.ts";
import type { LimiterFactory } from "../../src/rate-limits.ts";
import { slackRates } from "./limits.ts";

/** Retries allowed for one call that Slack answered 429 (each waits Slack's Retry-After). */
const MAX_RATE_LIMIT_RETRIES = 5;
/** Calls in flight at once, whatever their method. */
const MAX_CONCURRENT = 8;

/**
 * What a call touches: the channel it posts in, or the message it edits; "now" for answers to a
 * person that cannot wait (a modal must open within 3 s of the click; Tier 4 methods).
 */
export type CallTarget = { posts: string } | { edits: string } | "now" | undefined;

/**
 * Every Slack Web API call of the bot goes through here, within Slack's limits (`slackRates`): posts
 * queue per channel, edits in their own bucket, one edit of a message at a time and in order; a 429
 * is retried after Slack's Retry-After. With REDIS_URL the buckets are shared by every replica.
 */
export function createRateLimitedApi(client: WebClient, logger: Logger, limiters: LimiterFactory, onRateLimited?: () => void) {
  const concurrency = new Bottleneck({ maxConcurrent: MAX_CONCURRENT });
  const posts = limiters.buckets("slack:post", slackRates.postPerChannel);
  const edits = limiters.bucket("slack:update", slackRates.update, MAX_CONCURRENT);
  const others = limiters.bucket("slack:other", slackRates.other, MAX_CONCURRENT);
  // Two edits of one message must land in the order they were made; this process makes them.
  const perMessage = new Bottleneck.Group({ maxConcurrent: 1 });
  let stopped = false;
  const onFailed = (error: unknown, job: Bottleneck.EventInfoRetryable) => {
    const rateLimited = (error as { code?: string }).code === ErrorCode.RateLimitedError;
    if (rateLimited) onRateLimited?.();
    if (!rateLimited || job.retryCount >= MAX_RATE_LIMIT_RETRIES) return undefined;
    const retryAfterMs = ((error as { retryAfter?: number }).retryAfter ?? 1) * 1000;
    logger.warn({ retryAfterMs, job: job.options.id }, "Slack rate limit; retrying after Retry-After");
    return retryAfterMs;
  };
  concurrency.on("failed", onFailed);
  // A post runs in its channel's bucket alone (one at a time per channel already), its 429 retried
  // there: every limiter a call passes costs it milliseconds of bottleneck's own scheduling.
  posts.on("created", (limiter) => void limiter.on("failed", onFailed));

  return {
    client,
    /** Runs `call` within the limits that `target` names (none: the general bucket). */
    call<T>(method: string, target: CallTarget, call: () => Promise<T>): Promise<T> {
      const id = `${method}-${Math.random().toString(36).slice(2, 8)}`;
      const job = () => concurrency.schedule({ id }, call);
      if (target === "now") return job();
      if (target && "posts" in target) {
        const post = () => (stopped ? Promise.reject(new Error("the Slack adapter has stopped")) : call());
        return posts.key(target.posts).schedule({ id }, post);
      }
      if (target && "edits" in target) return perMessage.key(target.edits).schedule(() => edits.schedule(job));
      return others.schedule(job);
    },
    async stop() {
      stopped = true;
      await concurrency.stop({ dropWaitingJobs: false });
    },
  };
}

export type RateLimitedApi = ReturnType<typeof createRateLimitedApi>;
