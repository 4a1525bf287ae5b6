import { TZDate } from "@date-fns/tz";
import { startOfDay } from "date-fns/startOfDay";
import { startOfMonth } from "date-fns/startOfMonth";
import type { Digest } from "./digest.ts";
import type { LedgerStore } from "./ledger.ts";
import type { Logger } from "./logger.ts";
import { day } from "./periods.ts";
import type { ChatAdapter } from "./ports.ts";
import { money } from "./progress.ts";
import type { ChatPlatform, ChatRef } from "./types.ts";

/** A project's budgets in US dollars (COST_BUDGETS). */
export type Budget = { project: string; daily?: number; monthly?: number };

/** The warnings already posted, claimed once across processes. */
export interface BudgetAlerts {
  /** True for the one caller that claims this warning. */
  claim(alert: { project: string; kind: "daily" | "monthly"; periodStart: string; percent: number }): Promise<boolean>;
}

/** The thresholds that are warned of once per period. */
export const THRESHOLDS = [80, 100] as const;

/**
 * `web:daily=5:monthly=100,api:monthly=50` → budgets. Throws with the entry at fault; an empty text is none.
 */
export function parseBudgets(text: string | undefined): Budget[] {
  if (!text?.trim()) return [];
  return text.split(",").map((raw) => {
    const [project, ...limits] = raw.trim().split(":");
    const budget: Budget = { project: project ?? "" };
    for (const limit of limits) {
      const match = /^(daily|monthly)=(\d+(?:\.\d+)?)$/.exec(limit.trim());
      if (!match || !budget.project) throw new RangeError(`“${raw.trim()}” is not <project>:daily=<dollars>[:monthly=<dollars>]`);
      budget[match[1] as "daily" | "monthly"] = Number(match[2]);
    }
    if (budget.daily === undefined && budget.monthly === undefined) throw new RangeError(`“${raw.trim()}” names no daily or monthly budget`);
    return budget;
  });
}

/**
 * Watches spend against budgets: after a message of a project is recorded, a crossing of 80 % and of
 * 100 % of its daily or monthly budget is posted once (per period) in the digest channels.
 */
export function createBudgetWatch(deps: {
  budgets: Budget[];
  ledgerStore: LedgerStore;
  alerts: BudgetAlerts;
  adapters: ChatAdapter[];
  targets: Array<{ platform: ChatPlatform; channel: ChatRef }>;
  timeZone: string;
  logger: Logger;
  now?: () => Date;
}) {
  const now = deps.now ?? (() => new Date());

  async function spentSince(project: string, from: Date): Promise<number> {
    return deps.ledgerStore.costOf({ from, to: new Date(now().getTime() + 1) }, project);
  }

  /** The periods of a budget, with their words, starting now. */
  function periods(budget: Budget) {
    const here = new TZDate(now().getTime(), deps.timeZone);
    return [
      ["daily", budget.daily, startOfDay(here), `today (${day(here, deps.timeZone)})`],
      ["monthly", budget.monthly, startOfMonth(here), `this month (since ${day(startOfMonth(here), deps.timeZone)})`],
    ] as const;
  }

  return {
    /** Why a new prompt for `project` must wait for an approver (a budget spent whole), or undefined. */
    async overBudget(project: string | undefined): Promise<string | undefined> {
      const budget = deps.budgets.find((b) => b.project === project);
      if (!budget || !project) return undefined;
      for (const [kind, limit, from, when] of periods(budget)) {
        if (limit === undefined) continue;
        const spent = await spentSince(project, from);
        if (spent >= limit) return `\`${project}\` has spent ${money(spent)} ${when}, its whole ${kind} budget of ${money(limit)}`;
      }
      return undefined;
    },

    /** Checks one project's budgets now; resolves to the warnings posted. */
    async check(project: string | undefined): Promise<string[]> {
      const budget = deps.budgets.find((b) => b.project === project);
      if (!budget || !project) return [];
      const posted: string[] = [];
      for (const [kind, limit, from, when] of periods(budget)) {
        if (limit === undefined) continue;
        const spent = await spentSince(project, from);
        const reached = THRESHOLDS.filter((percent) => spent >= (limit * percent) / 100).at(-1);
        if (reached === undefined || !(await deps.alerts.claim({ project, kind, periodStart: day(from, deps.timeZone), percent: reached }))) continue;
        const text =
          reached >= 100
            ? `Budget: \`${project}\` has spent ${money(spent)} ${when}, its whole ${kind} budget of ${money(limit)}.`
            : `Budget: \`${project}\` has spent ${money(spent)} ${when}, ${Math.round((spent / limit) * 100)}% of its ${kind} budget of ${money(limit)}.`;
        posted.push(text);
        const digest: Digest = { lines: [text] };
        for (const target of deps.targets) {
          await deps.adapters
            .find((a) => a.platform === target.platform)
            ?.postDigest(target.channel, digest)
            .catch((error: unknown) => deps.logger.error({ err: error, project }, "could not post a budget warning"));
        }
      }
      return posted;
    },
  };
}
