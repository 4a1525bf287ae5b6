import { describe, expect, it } from "vitest";
import { digestSlots } from "../src/store/schema.ts";
import { chatDriver, onePlatform, PLATFORMS } from "./support/chat-driver.ts";
import { SEEDED_WEEK_BREAKDOWN, seedCosts } from "./support/seed-costs.ts";
import { discordPeople, type Platform, type Stack } from "./support/stack.ts";
import { inProcessBot } from "./support/bot-runner.ts";
import { describeWithPostgres } from "./support/database-variants.ts";
import { sharedOpencode, stackPerTest } from "./support/stack-per-test.ts";
import { waitFor } from "./support/wait-for.ts";

// The weekly digest of a seeded week (2026-11-23 to 2026-11-29, UTC; the week before for the change),
// every number checked. The week's text, as posted on both platforms:
const WEEK = [
  "Cost digest · since 2026-11-23 09:00 · every project",
  "Total $0.0315 · 8,250 tokens",
  "Against the period before (since 2026-11-16): +$0.0225 (+250%)",
  ...SEEDED_WEEK_BREAKDOWN,
];

const DIGEST_CHANNEL = "C0DIGEST";

/** Width and height of a PNG, from its IHDR; throws on anything that is not a PNG. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  if (!bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) || bytes.subarray(12, 16).toString() !== "IHDR") throw new Error("not a PNG");
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

/** The digest messages posted so far (text) and their chart (bytes), by platform. */
function posted(stack: Stack, platform: Platform): Array<{ text: string; chart?: Buffer }> {
  if (platform === "slack") {
    return stack.slack.messages
      .filter((m) => m.channel === DIGEST_CHANNEL && !m.thread_ts && m.text.startsWith("Cost digest"))
      .map((m) => {
        const reply = stack.slack.messages.find((r) => r.thread_ts === m.ts && r.files?.length);
        return { text: m.text, ...(reply ? { chart: reply.files![0]!.content } : {}) };
      });
  }
  return stack
    .discord!.messages.filter((m) => m.channelId === discordPeople.workChannel && m.via === "rest")
    .map((m) => ({ text: m.content, ...(m.attachments[0] ? { chart: m.attachments[0].data } : {}) }));
}

/**
 * Seeds the week, then stops the bot with the slot before the week's claimed as posted and the
 * week's own (2026-11-30 09:00) unclaimed: as a bot that posted the one and was down at the other.
 * (Its first start claimed the last slot as past.)
 */
async function seedAndMissTheSlot(stack: Stack): Promise<void> {
  await seedCosts({ ledgerStore: stack.bot.ledgerStore!, store: stack.bot.store! });
  await stack.bot.stop();
  await stack.onData(async (database) => {
    await database.db.delete(digestSlots);
    await database.db.insert(digestSlots).values({ slot: new Date("2026-11-23T09:00:00Z"), posted: true });
  });
}

describe.each(PLATFORMS)("the cost digest on %s", (platform) => {
  const env = { DIGEST_CRON: "0 9 * * 1", DIGEST_TZ: "UTC", ...(platform === "slack" ? { DIGEST_CHANNEL } : { DISCORD_DIGEST_CHANNEL: discordPeople.workChannel }) };
  const stack = stackPerTest(onePlatform(platform, { env }), sharedOpencode());

  it("a slot missed while the bot was down is posted once when it is back: the week's numbers, the change, and a chart", async () => {
    await seedAndMissTheSlot(stack);
    await stack.startBotAgain();
    await waitFor(() => posted(stack, platform).some((p) => p.chart), { what: "the digest and its chart", timeout: 20_000 });
    const [digest, ...more] = posted(stack, platform);
    expect(more).toEqual([]);
    expect(digest!.text.split("\n")).toEqual(WEEK);
    const size = pngSize(digest!.chart!);
    expect(size.width).toBeGreaterThanOrEqual(800);
    expect(size.height).toBeGreaterThanOrEqual(400);

    // `/opencode digest` where it is typed: the period since that slot, so far, has been quiet.
    const { alice } = chatDriver(stack, platform).people;
    expect(await chatDriver(stack, platform).command(alice, "digest")).toBe("Posted the digest of the period so far in this channel.");
    const channel = chatDriver(stack, platform).channel;
    const quiet = await waitFor(
      () =>
        platform === "slack"
          ? stack.slack.messages.find((m) => m.channel === channel && m.text.startsWith("Cost digest"))?.text
          : stack.discord!.messages.find((m) => m.channelId === channel && m.content.startsWith("Cost digest"))?.content,
      { what: "the digest typed for" },
    );
    expect(quiet).toMatch(/^Cost digest · since 2026-11-30 09:00, so far: no spend and no approvals\.$/);

    // Back again: that slot is claimed, nothing is posted twice.
    await stack.restartBot();
    await waitFor(async () => (await fetch(`http://127.0.0.1:${stack.bot.port}/healthz`)).ok, { what: "the restarted bot" });
    expect(posted(stack, platform)).toHaveLength(1);
  });
});

// Two bot processes on one Postgres (PGlite keeps one process to its files): the slot's claim in the
// database lets one of them post.
describeWithPostgres("the cost digest with two bots on one Postgres", () => {
  const env = { DIGEST_CRON: "0 9 * * 1", DIGEST_TZ: "UTC", DIGEST_CHANNEL };
  const stack = stackPerTest(onePlatform("slack", { env, database: "postgres" }), sharedOpencode());

  it("both back after the slot: one digest", async () => {
    await seedAndMissTheSlot(stack);
    // Two processes on one database: one follows OpenCode's stream, the other waits as its standby.
    const [, second] = await Promise.all([stack.startBotAgain({ standby: true }), inProcessBot(stack.env, undefined, { standby: true })]);
    try {
      await waitFor(() => posted(stack, "slack").some((p) => p.chart), { what: "the digest and its chart", timeout: 20_000 });
      const [digest, ...more] = posted(stack, "slack");
      expect(more).toEqual([]);
      expect(digest!.text.split("\n")).toEqual(WEEK);
    } finally {
      await second.stop();
    }
  });
});
