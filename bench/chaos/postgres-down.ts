/**
 * Postgres unreachable for `downSeconds` (the proxy in front of it cut) while requests come and
 * clicks happen. Checks beyond the common ones: every click while it was down was answered (the
 * clicker told), and after it came back the bot answered /healthz again and decided again by itself.
 */
import { waitFor } from "../../test/support/wait-for.ts";
import type { ChaosContext, ChaosOutcome } from "./drive.ts";
import { pause } from "./seeded-random.ts";

const HOUR = 3600_000;

export function postgresDownChaos(options: { downSeconds: number; requests: number }) {
  return async (ctx: ChaosContext): Promise<ChaosOutcome> => {
    const { rig, tally, random } = ctx;
    const proxy = rig.proxy;
    if (!proxy) throw new Error("postgres-down needs the bot behind the proxy");
    const moment = Math.floor((0.25 + 0.25 * random()) * options.requests);
    await waitFor(() => ctx.stopped() || tally.asked() >= moment, { what: `${moment} requests asked, to cut Postgres off`, timeout: 6 * HOUR, interval: 100 });
    if (ctx.stopped()) return { extra: {} };
    await pause(random() * 2_000);
    const cutAt = Date.now();
    await proxy.cut();
    ctx.log(`  Postgres cut off at ${tally.asked()} asked, for ${options.downSeconds} s`);
    await pause(options.downSeconds * 1000);
    await proxy.restore();
    const restoredAt = Date.now();
    const port = rig.slots[0]!.port;
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2_000) })).ok, {
      what: "the bot's /healthz to answer 200 again",
      timeout: 120_000,
    });
    const healthyMs = Date.now() - restoredAt;
    ctx.log(`  Postgres back; /healthz 200 after ${(healthyMs / 1000).toFixed(1)} s`);
    const extra: Record<string, string | number> = { "outage (s)": ((restoredAt - cutAt) / 1000).toFixed(1), "healthz ok after (s)": (healthyMs / 1000).toFixed(1) };
    return {
      extra,
      check: ({ asked, replies, clicker, rig }) => {
        const problems: string[] = [];
        const during = clicker.actions.filter((a) => !a.refused && a.sentAt >= cutAt && a.sentAt < restoredAt);
        const untold = during.filter((a) => a.fate !== "answered");
        for (const a of untold) problems.push(`click ${a.kind} on ${a.requestId} by ${a.user} while Postgres was down: never told anything`);
        const firstDecision = clicker.actions.find((a) => a.sentAt >= restoredAt && a.answer?.by === "card");
        if (!firstDecision) problems.push("no click decided anything after Postgres came back");
        // When OpenCode first heard a reply to a click made after the outage (the card's edit can come
        // later: edits queued during the outage go out first, at Slack's chat.update limit).
        const repliedAfter = clicker.actions
          .filter((a) => !a.refused && a.sentAt >= restoredAt)
          .flatMap((a) => rig.clock.replies(a.requestId).flatMap((s) => (s.at >= a.sentAt ? [s.at] : [])));
        const firstReply = repliedAfter.length > 0 ? Math.min(...repliedAfter) : undefined;
        const askedDuring = asked.filter((a) => a.at >= cutAt && a.at < restoredAt);
        const unanswered = askedDuring.filter((a) => replies(a.id).length === 0);
        Object.assign(extra, {
          "clicks while down": during.length,
          "  of which told": during.length - untold.length,
          "asked while down": askedDuring.length,
          "  of those unanswered": unanswered.length,
          "first reply to a click after (s)": firstReply !== undefined ? ((firstReply - restoredAt) / 1000).toFixed(1) : "none",
          "first decision on its card after (s)": firstDecision ? ((firstDecision.answer!.at - restoredAt) / 1000).toFixed(1) : "none",
        });
        return problems;
      },
    };
  };
}
