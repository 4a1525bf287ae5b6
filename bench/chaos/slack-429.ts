/**
 * A storm of Slack 429s: for `stormSeconds` every Web API call answers `ratelimited` with
 * `Retry-After: retryAfter`, while cards and thread parents are being posted and cards updated.
 * The verdict then insists on the posts: every request has its card, each session's cards sit in
 * its one thread in the order OpenCode asked, and no answered request's card still offers buttons.
 */
import { waitFor } from "../../test/support/wait-for.ts";
import type { ChaosContext, ChaosOutcome } from "./drive.ts";
import { pause } from "./seeded-random.ts";

const HOUR = 3600_000;

export function slack429Chaos(options: { stormSeconds: number; retryAfter: number; requests: number }) {
  return async (ctx: ChaosContext): Promise<ChaosOutcome> => {
    const { rig, tally, random } = ctx;
    const moment = Math.floor((0.3 + 0.3 * random()) * options.requests);
    await waitFor(() => ctx.stopped() || tally.asked() >= moment, { what: `${moment} requests asked, for the storm`, timeout: 6 * HOUR, interval: 100 });
    if (ctx.stopped()) return { extra: {} };
    const callsBefore = rig.slack.calls.length;
    rig.slack.rateLimitFor(options.stormSeconds * 1000, options.retryAfter);
    ctx.log(`  429 storm at ${tally.asked()} asked: ${options.stormSeconds} s, Retry-After ${options.retryAfter}`);
    await pause(options.stormSeconds * 1000);
    const during = rig.slack.calls.slice(callsBefore).filter((c) => c.status === 429);
    const methods = [...new Set(during.map((c) => c.method))].sort();
    ctx.log(`  storm over: ${during.length} calls answered 429 (${methods.join(", ")})`);
    return { extra: { "calls answered 429": during.length } };
  };
}
