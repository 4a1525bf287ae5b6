import { Cron } from "croner";
import { addDays } from "date-fns/addDays";
import { spendChart, type DailySpend } from "./chart.ts";
import { costSummary, type CostDeps } from "./cost-commands.ts";
import { isQuiet, reportText } from "./cost-report.ts";
import type { Logger } from "./logger.ts";
import { day, dayStart, type Period } from "./periods.ts";
import type { ChatAdapter } from "./ports.ts";
import type { ChatPlatform, ChatRef } from "./types.ts";

/** A digest as every platform posts it: its lines, and the chart as a PNG (none for a quiet period). */
export type Digest = { lines: string[]; chart?: { name: string; png: Uint8Array; title: string } };

/** The claims of digest slots, shared by every bot process on the database. */
export interface DigestSlots {
  /** Claims a slot; true for the one caller that gets it. `posted` false: claimed as already past at a first start. */
  claim(slot: Date, posted: boolean): Promise<boolean>;
  anyClaimed(): Promise<boolean>;
}

export type DigestDeps = CostDeps & {
  slots: DigestSlots;
  cron: string;
  targets: Array<{ platform: ChatPlatform; channel: ChatRef }>;
  logger: Logger;
};

/**
 * The cost digest: posted at each slot of DIGEST_CRON (in DIGEST_TZ) to the digest channels, covering
 * the time since the slot before, with the change against the period before that; once per slot
 * whatever the number of bot processes; a slot missed while the bot was down posted once when it is
 * back. `postNow` posts the current period so far where `/opencode digest` was typed.
 */
export function createDigest(deps: DigestDeps) {
  const now = deps.now ?? (() => new Date());
  const schedule = new Cron(deps.cron, { timezone: deps.timeZone, paused: true });
  let job: Cron | undefined;
  let posting = Promise.resolve();

  /** The latest slot at or before `at`. */
  const slotBefore = (at: Date): Date | undefined => schedule.previousRuns(1, new Date(at.getTime() + 1))[0];

  async function build(period: Period, platform: ChatPlatform, heading: string): Promise<Digest> {
    const summary = await costSummary(deps, period, undefined, platform);
    if (isQuiet(summary)) return { lines: [`${heading} · ${period.label}: no spend and no approvals.`] };
    const before = slotBefore(new Date(period.from.getTime() - 1000));
    const previous = before ? await costSummary(deps, { from: before, to: period.from, label: `the period before (since ${day(before, deps.timeZone)})` }, undefined, platform) : undefined;
    const lines = reportText(summary, { heading, ...(previous ? { previous } : {}) });
    return { lines, chart: await spendChartFor(deps, period) };
  }

  async function post(digest: Digest, platform: ChatPlatform, channel: ChatRef): Promise<void> {
    const adapter = deps.adapters.find((a) => a.platform === platform);
    if (!adapter) throw new Error(`no ${platform} adapter for the digest`);
    await adapter.postDigest(channel, digest);
  }

  /** Posts the digest of the period ending at `slot`, if this process claims the slot. */
  async function postSlot(slot: Date): Promise<boolean> {
    if (!(await deps.slots.claim(slot, true))) return false;
    const from = slotBefore(new Date(slot.getTime() - 1000)) ?? new Date(slot.getTime() - 86_400_000);
    const period = { from, to: slot, label: `since ${day(from, deps.timeZone)} ${time(from, deps.timeZone)}` };
    for (const target of deps.targets) {
      await post(await build(period, target.platform, "Cost digest"), target.platform, target.channel).catch((error: unknown) =>
        deps.logger.error({ err: error, platform: target.platform, slot }, "could not post the digest"),
      );
    }
    return true;
  }

  return {
    /** Schedules the digest; posts a slot missed while the bot was down (once, however many were missed). */
    async start(): Promise<void> {
      if (deps.targets.length === 0) return;
      const last = slotBefore(now());
      if (last) {
        // A first start claims the past slot without posting: the bot was not running before it.
        if (await deps.slots.anyClaimed()) await postSlot(last);
        else await deps.slots.claim(last, false);
      }
      job = new Cron(deps.cron, { timezone: deps.timeZone, protect: true }, () => {
        const slot = slotBefore(now());
        if (slot) posting = posting.then(() => postSlot(slot).then(() => undefined)).catch((error: unknown) => deps.logger.error({ err: error }, "the digest failed"));
      });
    },

    /** Posts the slot's digest if no process has (what the schedule does at each slot). */
    postSlot,

    /** `/opencode digest`: the period since the last slot, so far, into `channel`. */
    async postNow(platform: ChatPlatform, channel: ChatRef): Promise<string> {
      const to = now();
      const from = slotBefore(to) ?? new Date(to.getTime() - 86_400_000);
      const period = { from, to, label: `since ${day(from, deps.timeZone)} ${time(from, deps.timeZone)}, so far` };
      await post(await build(period, platform, "Cost digest"), platform, channel);
      return "Posted the digest of the period so far in this channel.";
    },

    async stop(): Promise<void> {
      job?.stop();
      await posting;
    },
  };
}

/** The chart of a period's spend per day by project (of one project where given), as the digest and the console show it. */
export async function spendChartFor(deps: Pick<CostDeps, "ledgerStore" | "timeZone">, period: Period, project?: string): Promise<NonNullable<Digest["chart"]>> {
  const entries = await deps.ledgerStore.entries(period, project);
  const days = daysOf(period, deps.timeZone);
  const rows: DailySpend[] = entries.map((e) => ({ day: day(e.completedAt, deps.timeZone), project: e.projectName ?? e.directory, cost: e.cost }));
  const title = `Spend per day by project, ${days[0]} to ${days.at(-1)}`;
  return { name: `spend-${days[0]}-to-${days.at(-1)}.png`, png: await spendChart(rows, days, title), title };
}

/** The days a period touches, in `tz`, first to last. */
function daysOf(period: Period, tz: string): string[] {
  const days: string[] = [];
  for (let at = dayStart(day(period.from, tz), tz); at < period.to; at = addDays(at, 1)) days.push(day(at, tz));
  return days;
}

/** HH:MM in `tz`. */
function time(at: Date, tz: string): string {
  return new Intl.DateTimeFormat("en-GB", { timeZone: tz, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(at);
}

export type DigestService = ReturnType<typeof createDigest>;
