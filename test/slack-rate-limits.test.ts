import { randomBytes } from "node:crypto";
import { WebClient } from "@slack/web-api";
import { afterEach, describe, expect, it } from "vitest";
import { createRateLimitedApi, type RateLimitedApi } from "../adapters/slack/rate-limited-api.ts";
import { createLogger } from "../src/logging.ts";
import { createRedactor } from "../src/core/redaction.ts";
import { createLimiterFactory } from "../src/rate-limits.ts";

const logger = createLogger("silent", createRedactor(() => []));
const CHANNEL = "C0BUSY";

/** An api on its own limiters (on Redis under a fresh prefix when `redisUrl` is given), and a clock of when calls ran. */
async function apiFor(redisUrl?: string, prefix = `test-${randomBytes(4).toString("hex")}`) {
  const limiters = await createLimiterFactory({ redisUrl, prefix });
  const api = createRateLimitedApi(new WebClient("xoxb-unused"), logger, limiters);
  return { api, limiters, prefix };
}

const started = Date.now();
const ranAt = (runs: number[]) => async () => void runs.push(Date.now() - started);

describe("the Slack limiter", () => {
  const open: Array<{ api: RateLimitedApi; limiters: Awaited<ReturnType<typeof createLimiterFactory>> }> = [];
  afterEach(async () => {
    for (const { api, limiters } of open.splice(0)) {
      await api.stop();
      await limiters.disconnect();
    }
  });

  it("does not make a channel's posts wait for its edits (edits have their own bucket)", async () => {
    const made = await apiFor();
    open.push(made);
    const edits: number[] = [];
    const posts: number[] = [];
    // A busy channel: 12 card edits, then 5 new cards.
    const editing = Array.from({ length: 12 }, (_, i) => made.api.call("chat.update", { edits: `${CHANNEL}:1.${i}` }, ranAt(edits)));
    const before = Date.now() - started;
    await Promise.all(Array.from({ length: 5 }, () => made.api.call("chat.postMessage", { posts: CHANNEL }, ranAt(posts))));
    await Promise.all(editing);
    expect(posts).toHaveLength(5);
    // The five posts are within the channel's burst: none waited for a refill.
    expect(Math.max(...posts) - before).toBeLessThan(900);
  });

  it("keeps posts to one channel to its burst, then one a second", async () => {
    const made = await apiFor();
    open.push(made);
    const posts: number[] = [];
    await Promise.all(Array.from({ length: 7 }, () => made.api.call("chat.postMessage", { posts: CHANNEL }, ranAt(posts))));
    const first = posts[0]!;
    expect(posts.slice(0, 5).every((at) => at - first < 500)).toBe(true);
    expect(posts[6]! - first).toBeGreaterThanOrEqual(1500);
  });

  it("runs two edits of one message in the order they were made", async () => {
    const made = await apiFor();
    open.push(made);
    const order: string[] = [];
    const slowFirst = made.api.call("chat.update", { edits: "C1:1.1" }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      order.push("first");
    });
    const second = made.api.call("chat.update", { edits: "C1:1.1" }, async () => void order.push("second"));
    await Promise.all([slowFirst, second]);
    expect(order).toEqual(["first", "second"]);
  });

  // Redis runs on the CI machine (.ci/run sets TEST_REDIS_URL); elsewhere only the local limiter is tested.
  describe.skipIf(!process.env.TEST_REDIS_URL)("with REDIS_URL", () => {
    it("shares one channel's bucket between two replicas", async () => {
      const one = await apiFor(process.env.TEST_REDIS_URL);
      const two = await apiFor(process.env.TEST_REDIS_URL, one.prefix);
      open.push(one, two);
      const posts: number[] = [];
      // 4 + 4 posts from two processes: together past the burst of 5, so the last ones wait for refills.
      await Promise.all(
        Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? one : two).api.call("chat.postMessage", { posts: CHANNEL }, ranAt(posts))),
      );
      posts.sort((a, b) => a - b);
      expect(posts).toHaveLength(8);
      expect(posts[7]! - posts[0]!).toBeGreaterThanOrEqual(2000);
    });
  });
});
