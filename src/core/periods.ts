import { TZDate } from "@date-fns/tz";
import { addDays } from "date-fns/addDays";
import { startOfDay } from "date-fns/startOfDay";
import { startOfMonth } from "date-fns/startOfMonth";
import { startOfWeek } from "date-fns/startOfWeek";

/** A span of time [from, to) and how people say it. */
export type Period = { from: Date; to: Date; label: string };

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * `today`, `yesterday`, `week` (since Monday 00:00), `month` (since the 1st) or
 * `<YYYY-MM-DD>..<YYYY-MM-DD>` (both days included), with days in `tz`. Throws with the usage on anything else.
 */
export function parsePeriod(text: string | undefined, tz: string, now: Date): Period {
  const word = (text ?? "today").trim() || "today";
  const here = new TZDate(now.getTime(), tz);
  const today = startOfDay(here);
  switch (word) {
    case "today":
      return { from: today, to: now, label: `today (${day(today, tz)})` };
    case "yesterday": {
      const from = addDays(today, -1);
      return { from, to: today, label: `yesterday (${day(from, tz)})` };
    }
    case "week": {
      const from = startOfWeek(here, { weekStartsOn: 1 });
      return { from, to: now, label: `this week (since ${day(from, tz)})` };
    }
    case "month": {
      const from = startOfMonth(here);
      return { from, to: now, label: `this month (since ${day(from, tz)})` };
    }
  }
  const [first, last, ...rest] = word.split("..");
  if (!first || !last || rest.length > 0 || !DAY.test(first) || !DAY.test(last)) throw new RangeError(`Say today, yesterday, week, month or <YYYY-MM-DD>..<YYYY-MM-DD>, not “${word}”.`);
  const from = dayStart(first, tz);
  const lastDay = dayStart(last, tz);
  // A day like 2026-13-99 rolls over into another: only days that read back as written are days.
  for (const [text, date] of [[first, from], [last, lastDay]] as const) {
    if (Number.isNaN(date.getTime()) || day(date, tz) !== text) throw new RangeError(`${text} is not a day (YYYY-MM-DD).`);
  }
  const to = addDays(lastDay, 1);
  if (to <= from) throw new RangeError(`“${word}” is not a range of days: the first day comes first.`);
  return { from, to, label: `${first} to ${last}` };
}

/** 00:00 of a day in `tz`. */
export function dayStart(isoDay: string, tz: string): TZDate {
  const [y, m, d] = isoDay.split("-").map(Number) as [number, number, number];
  return new TZDate(y, m - 1, d, tz);
}

/** A day as `YYYY-MM-DD` in `tz`. */
export function day(at: Date, tz: string): string {
  const here = new TZDate(at.getTime(), tz);
  return `${here.getFullYear()}-${String(here.getMonth() + 1).padStart(2, "0")}-${String(here.getDate()).padStart(2, "0")}`;
}
