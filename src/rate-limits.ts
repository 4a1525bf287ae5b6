import Bottleneck from "bottleneck";

/** A token bucket: `burst` calls at once, then one more every `refillMs`. */
export type Rate = { burst: number; refillMs: number };

export type LimiterFactory = {
  /** One bucket, shared by every process on the same Redis under the same `id`. */
  bucket(id: string, rate: Rate, concurrency?: number): Bottleneck;
  /** A bucket per key (a channel), shared the same way. */
  buckets(id: string, rate: Rate, concurrency?: number): Bottleneck.Group;
  /** Whether the buckets live in Redis (REDIS_URL) or in this process. */
  readonly shared: boolean;
  disconnect(): Promise<void>;
};

/**
 * Chat rate limits, kept in this process, or in Redis when `redisUrl` is set so that every replica
 * draws from the same buckets (bottleneck's clustering). The platform's limits are per workspace or
 * bot, not per process, so replicas that each kept their own would together exceed them.
 */
export async function createLimiterFactory(options: { redisUrl?: string; prefix: string }): Promise<LimiterFactory> {
  // ioredis is loaded only with REDIS_URL (~50 ms to import).
  const Redis = options.redisUrl ? (await import("ioredis")).Redis : undefined;
  const made: Array<Bottleneck | Bottleneck.Group> = [];
  const settings = (id: string, rate: Rate, concurrency: number): Bottleneck.ConstructorOptions => ({
    id: `${options.prefix}:${id}`,
    maxConcurrent: concurrency,
    reservoir: rate.burst,
    reservoirIncreaseAmount: 1,
    reservoirIncreaseInterval: rate.refillMs,
    reservoirIncreaseMaximum: rate.burst,
    ...(options.redisUrl && Redis
      ? {
          datastore: "ioredis" as const,
          Redis,
          clientOptions: redisOptions(options.redisUrl),
          // Refills happen on the heartbeat; bottleneck's Redis default (5 s) would refill in 5 s steps.
          heartbeatInterval: 250,
          // A bucket left idle for 10 min is dropped from Redis (it starts full again).
          timeout: 600_000,
        }
      : {}),
  });
  return {
    shared: options.redisUrl !== undefined,
    bucket(id, rate, concurrency = 1) {
      const limiter = new Bottleneck(settings(id, rate, concurrency));
      made.push(limiter);
      return limiter;
    },
    buckets(id, rate, concurrency = 1) {
      const group = new Bottleneck.Group(settings(id, rate, concurrency));
      made.push(group);
      return group;
    },
    async disconnect() {
      await Promise.all(made.map((limiter) => limiter.disconnect()));
    },
  };
}

function redisOptions(url: string) {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 6379),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.pathname.length > 1 ? { db: Number(parsed.pathname.slice(1)) } : {}),
    ...(parsed.protocol === "rediss:" ? { tls: {} } : {}),
  };
}
