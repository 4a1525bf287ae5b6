import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBot, type Bot } from "../src/bot.ts";
import { loadConfig } from "../src/config.ts";
import { startFakeSlack, type FakeSlack } from "./support/fake-slack.ts";
import { CHANNEL, freePort, PLUGIN_TOKEN, SIGNING_SECRET } from "./support/stack.ts";
import { waitFor } from "./support/wait-for.ts";

// The plugin's door without OpenCode: the gate needs only the bot, its database and chat.
describe("POST /opencode/gate", () => {
  let slack: FakeSlack;
  let bot: Bot | undefined;
  let dataDir: string;
  const gate = (body: unknown, token = PLUGIN_TOKEN) =>
    fetch(`http://127.0.0.1:${bot!.port}/opencode/gate`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(25_000),
    });
  const call = (callID: string, wait?: number) => ({
    directory: "/tmp/gate-project",
    sessionID: "ses_gate",
    callID,
    tool: "bash",
    args: { command: `echo ${callID}` },
    ...(wait === undefined ? {} : { wait }),
  });

  beforeAll(async () => {
    slack = await startFakeSlack();
    dataDir = await mkdtemp(join(tmpdir(), "chatops-gate-"));
    bot = await startBot(
      loadConfig({
        // Nothing listens there: the connector keeps reconnecting, which the gate does not need.
        OPENCODE_URL: `http://127.0.0.1:${await freePort()}`,
        SLACK_BOT_TOKEN: slack.botToken,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: slack.apiUrl,
        SLACK_CHANNEL: CHANNEL,
        CHATOPS_TOKEN: PLUGIN_TOKEN,
        DATA_DIR: dataDir,
        PORT: "0",
        LOG_LEVEL: "silent",
      }),
    );
  });
  afterAll(async () => {
    await bot?.stop();
    await slack?.close();
  });

  it("refuses a wrong token, a body that is not JSON and a call without its fields, recording nothing", async () => {
    expect((await gate(call("c_bad"), "wrong")).status).toBe(401);
    const notJson = await gate("{not json");
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ error: "bad_request", message: expect.stringContaining("not JSON") });
    const missing = await gate({ directory: "/p", sessionID: "s" });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ error: "bad_request", message: expect.stringMatching(/^callID: /) });
    expect(slack.messages).toHaveLength(0);
  });

  it("an ungated tool passes at once; a gated call gets one card, asked twice", async () => {
    const read = await gate({ ...call("c_read"), tool: "read", args: { filePath: "/p/a" } });
    expect(await read.json()).toEqual({ status: "allow", args: { filePath: "/p/a" } });
    const first = (await (await gate(call("c_once"))).json()) as { status: string; requestId: string };
    expect(first).toEqual({ status: "pending", requestId: "gate_ses_gate_c_once" });
    expect(await (await gate(call("c_once"))).json()).toEqual(first);
    await waitFor(() => slack.messages.some((m) => JSON.stringify(m.blocks).includes("gate_ses_gate_c_once")), { what: "the gate's card" });
    expect(slack.messages.filter((m) => JSON.stringify(m.blocks).includes("gate_ses_gate_c_once"))).toHaveLength(1);
  });

  it("answers the plugin once the call is recorded, before the card: a rate-limited Slack does not hold its first contact", async () => {
    // Slack answers 429 (Retry-After 1 s) to the thread parent's and the card's first tries.
    slack.rateLimit("chat.postMessage", 2, 1);
    const answer = await (await gate({ ...call("c_limited"), sessionID: "ses_limited" })).json();
    expect(answer).toEqual({ status: "pending", requestId: "gate_ses_limited_c_limited" });
    expect(slack.messages.some((m) => JSON.stringify(m.blocks).includes("gate_ses_limited_c_limited"))).toBe(false);
    await waitFor(() => slack.messages.some((m) => JSON.stringify(m.blocks).includes("gate_ses_limited_c_limited")), {
      what: "the card, once Slack's Retry-After has passed",
    });
  });

  it("stopping the bot answers a waiting long poll at once, before the database closes", async () => {
    const waiting = gate(call("c_wait", 20_000));
    await waitFor(() => slack.messages.some((m) => JSON.stringify(m.blocks).includes("gate_ses_gate_c_wait")), { what: "the waiting call's card" });
    const began = Date.now();
    const stopped = bot!.stop();
    const answer = await waiting;
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ status: "pending", requestId: "gate_ses_gate_c_wait" });
    await stopped;
    bot = undefined;
    // Well short of the 20 s the poll asked for: the stop ended it, it did not time out.
    expect(Date.now() - began).toBeLessThan(10_000);
  });
});
