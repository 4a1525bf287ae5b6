import { describe, expect, it } from "vitest";
import { amount, change, duration } from "../src/core/cost-report.ts";
import { parsePeriod } from "../src/core/periods.ts";
import { money } from "../src/core/progress.ts";

// Wednesday 2 December 2026, 02:30 UTC: still Tuesday the 1st in Los Angeles.
const now = new Date("2026-12-02T02:30:00Z");

describe("periods in DIGEST_TZ", () => {
  it("today, yesterday, week since Monday 00:00 and month since the 1st, in the zone's days", () => {
    expect(parsePeriod("today", "UTC", now)).toMatchObject({ from: new Date("2026-12-02T00:00:00Z"), to: now, label: "today (2026-12-02)" });
    expect(parsePeriod(undefined, "America/Los_Angeles", now)).toMatchObject({ from: new Date("2026-12-01T08:00:00Z"), label: "today (2026-12-01)" });
    expect(parsePeriod("yesterday", "UTC", now)).toMatchObject({ from: new Date("2026-12-01T00:00:00Z"), to: new Date("2026-12-02T00:00:00Z") });
    expect(parsePeriod("week", "Europe/Paris", now)).toMatchObject({ from: new Date("2026-11-29T23:00:00Z"), label: "this week (since 2026-11-30)" });
    expect(parsePeriod("month", "UTC", now)).toMatchObject({ from: new Date("2026-12-01T00:00:00Z"), label: "this month (since 2026-12-01)" });
    expect(parsePeriod("2026-11-01..2026-11-30", "UTC", now)).toMatchObject({ from: new Date("2026-11-01T00:00:00Z"), to: new Date("2026-12-01T00:00:00Z") });
    expect(() => parsePeriod("fortnight", "UTC", now)).toThrow("Say today, yesterday, week, month or <YYYY-MM-DD>..<YYYY-MM-DD>, not “fortnight”.");
  });
});

describe("money and amounts as people read them", () => {
  it("to the cent from $1, four significant digits below, tokens only at a zero price", () => {
    expect([money(0), money(0.04312), money(0.0000123456), money(1), money(1234.5)]).toEqual(["$0", "$0.04312", "$0.00001235", "$1.00", "$1,234.50"]);
    expect(amount({ cost: 0, tokens: 12_400 })).toBe("12,400 tokens");
    expect(change(0.03, 0.02)).toBe("+$0.01 (+50%)");
    expect(change(0.01, 0.02)).toBe("−$0.01 (−50%)");
    expect([duration(5_000), duration(184_000), duration(7_500_000)]).toEqual(["5 s", "3 min 4 s", "2 h 5 min"]);
  });
});
