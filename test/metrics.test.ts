import { expect, it } from "vitest";
import { stackPerTest } from "./support/stack-per-test.ts";
import { alice } from "./support/stack.ts";
import { waitFor } from "./support/wait-for.ts";

const stack = stackPerTest();

/** The value of one series in the bot's /metrics (undefined when it is absent). */
async function metric(series: string): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${stack.bot.port}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

it("GET /metrics counts what is pending, the stream, the cards and the decisions in Prometheus's format", async () => {
  const res = await fetch(`http://127.0.0.1:${stack.bot.port}/metrics`);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  const server = stack.opencode.url;
  expect(await metric(`chatops_stream_lease_held{server="${server}"}`)).toBe(1);
  expect(await metric(`chatops_opencode_stream_state{server="${server}",state="ready"}`)).toBe(1);
  expect(await metric(`chatops_opencode_connects_total{server="${server}"}`)).toBe(1);
  expect(await metric('chatops_chat_state{platform="slack",state="ready"}')).toBe(1);

  const session = await stack.prompt("RUN: echo metered > /dev/null");
  const [asked] = await stack.asked(session);
  const card = await stack.card(asked!.id);
  await waitFor(async () => (await metric('chatops_pending_requests{platform="slack"}')) === 1, { what: "one pending request on Slack" });
  expect(await metric('chatops_ask_to_card_seconds_count{platform="slack"}')).toBe(1);
  // A new session's first card comes on its thread's parent.
  expect(await metric('chatops_chat_calls_total{platform="slack",call="open_card_thread",outcome="ok"}')).toBe(1);
  expect(await metric(`chatops_opencode_events_total{server="${server}"}`)).toBeGreaterThan(0);

  await stack.click(alice, card, "Approve once");
  await stack.cardSays(asked!.id, /Approved once by <@U0ALICE>/);
  await waitFor(async () => (await metric('chatops_time_to_decide_seconds_count{decision="approved_once"}')) === 1, { what: "one decision timed" });
  expect(await metric("chatops_decision_to_reply_seconds_count")).toBe(1);
  expect(await metric('chatops_pending_requests{platform="slack"}')).toBeUndefined();
});
