/**
 * Run as its own process by test/discord-files.test.ts: loads Slack's Bolt first (its undici 7 then
 * takes the process's global HTTP dispatcher, as in a bot whose Slack adapter loads before
 * discord.js), then has the Discord adapter post a card whose body goes up as a file, to the fake
 * Discord at the URL and token given. Prints the posted attachment's text, or the error.
 */
import "@slack/bolt";
import { createDiscordAdapter } from "../../adapters/discord/discord-adapter.ts";

const [apiUrl, token, channel] = process.argv.slice(2) as [string, string, string];
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const adapter = createDiscordAdapter({ config: { token, channel, apiUrl }, logger: silent });
const decisions = { click: async () => ({ kind: "notice", text: "" }) as const, submit: async () => ({ kind: "notice", text: "" }) as const, failedNotice: "" };
await adapter.start(decisions);
const full = "x".repeat(5000);
const thread = await adapter.openThread({ sessionId: "ses_file", summary: "s", heading: "OpenCode session", name: "file", fields: [], note: "" });
try {
  await adapter.postCard(thread, () => [{ requestId: "per_file", summary: "s", title: "t", fields: [], body: { kind: "command", text: full.slice(0, 100), truncated: true, full }, reference: "Request per_file · session ses_file", actions: [], status: [] }]);
  console.log("posted");
} catch (error) {
  console.log(`failed: ${(error as Error).message}`);
}
await adapter.stop();
