import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { onePlatform } from "./support/chat-driver.ts";
import { SEEDED_WEEK, seedCosts } from "./support/seed-costs.ts";
import { sharedOpencode, stackPerTest } from "./support/stack-per-test.ts";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..");

// `npm run costs` as a user runs it, on the bot's data (the embedded database, the bot stopped).
describe("npm run costs", () => {
  const stack = stackPerTest(onePlatform("slack"), sharedOpencode());

  it("prints the ledger rows of the days asked, as JSON and as CSV, equal to the ledger", async () => {
    await seedCosts({ ledgerStore: stack.bot.ledgerStore!, store: stack.bot.store! });
    await stack.bot.stop();
    const env = { ...process.env, DATA_DIR: stack.env.DATA_DIR!, DATABASE_URL: stack.env.DATABASE_URL ?? "", DIGEST_TZ: "UTC" };
    const costs = async (...args: string[]) => (await run("npm", ["run", "--silent", "costs", "--", ...args], { cwd: root, env })).stdout;

    const week = ["--from", "2026-11-23", "--to", "2026-11-29"];
    const json = JSON.parse(await costs(...week, "--format", "json")) as Array<{ messageId: string; cost: number; completedAt: string }>;
    const ledger = await stack.ledger({ from: new Date("2026-11-23T00:00:00Z"), to: new Date("2026-11-30T00:00:00Z") });
    expect(json.map((row) => [row.messageId, row.cost, row.completedAt])).toEqual(ledger.map((e) => [e.messageId, e.cost, e.completedAt.toISOString()]));
    expect(json.map((row) => row.messageId)).toEqual(SEEDED_WEEK.map((e) => e.messageId));

    const csv = (await costs(...week, "--project", "api")).trim().split("\n");
    expect(csv[0]).toBe("message_id,completed_at,server_url,directory,project,session_id,provider,model,agent,user_platform,user_id,user_name,cost_usd,tokens_input,tokens_output,tokens_reasoning,tokens_cache_read,tokens_cache_write");
    expect(csv.slice(1)).toEqual([
      "msg_3,2026-11-24T12:00:00.000Z,http://127.0.0.1:4096,/srv/api,api,ses_api,fake,fake-model,build,slack,U0BOB,bob,0.009,2000,200,0,0,0",
      "msg_4,2026-11-26T15:00:00.000Z,http://127.0.0.1:4096,/srv/api,api,ses_cron,fake,free-model,build,,,,0,500,50,0,0,0",
    ]);
  });
});
