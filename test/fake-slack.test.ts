import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { App, LogLevel, webApi, type BlockAction, type ButtonAction } from "@slack/bolt";
import { afterEach, describe, expect, it } from "vitest";
import { startFakeSlack, type FakeSlack } from "./support/fake-slack.ts";
import { createSlackUserSim } from "./support/slack-client-sim.ts";

const signingSecret = "test-signing-secret";
// WebClient logs Slack's error messages; the tests provoke them on purpose.
const quiet = { debug() {}, info() {}, warn() {}, error() {}, setLevel() {}, getLevel: () => webApi.LogLevel.ERROR, setName() {} };
const channel = "C0APPROVALS";
const alice = { id: "U0ALICE", username: "alice", name: "alice" };

const card = [
  { type: "section", text: { type: "mrkdwn", text: "*bash* wants to run `rm -rf build`" } },
  {
    type: "actions",
    block_id: "decision",
    elements: [
      { type: "button", action_id: "approve", text: { type: "plain_text", text: "Approve once" }, value: "perm-1", style: "primary" },
      { type: "button", action_id: "edit", text: { type: "plain_text", text: "Edit" }, value: "perm-1" },
    ],
  },
];

const editModal = {
  type: "modal" as const,
  callback_id: "edit",
  private_metadata: "perm-1",
  title: { type: "plain_text" as const, text: "Edit command" },
  submit: { type: "plain_text" as const, text: "Save" },
  blocks: [{ type: "input", block_id: "command", label: { type: "plain_text" as const, text: "Command" }, element: { type: "plain_text_input", action_id: "text" } }],
};

let cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  // Apps first: a Socket Mode client whose fake goes away would try to reconnect.
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

async function fakeSlack(): Promise<FakeSlack> {
  const fake = await startFakeSlack({ users: [{ id: alice.id, name: "alice", real_name: "Alice Liddell" }], usergroups: { S0APPROVERS: [alice.id] }, channels: [{ id: channel, name: "approvals" }] });
  cleanups.push(() => fake.close());
  return fake;
}

async function httpApp(fake: FakeSlack) {
  const app = new App({ token: fake.botToken, signingSecret, logLevel: LogLevel.ERROR, clientOptions: { slackApiUrl: fake.apiUrl } });
  const server = (await app.start(0)) as Server;
  cleanups.push(() => app.stop());
  const sim = createSlackUserSim({ fake, botEventsUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`, signingSecret });
  return { app, sim };
}

async function postCard(app: App) {
  const posted = await app.client.chat.postMessage({ channel, text: "Permission requested", blocks: card });
  return posted.ts!;
}

describe("fake Slack with Bolt over HTTP", () => {
  it("delivers a signed button click and records the bot's chat.update", async () => {
    const fake = await fakeSlack();
    const { app, sim } = await httpApp(fake);
    const clicks: BlockAction<ButtonAction>[] = [];
    app.action<BlockAction<ButtonAction>>("approve", async ({ ack, body, client }) => {
      await ack();
      clicks.push(body);
      await client.chat.update({ channel: body.channel!.id, ts: body.message!.ts, text: "Approved", blocks: [] });
    });
    const ts = await postCard(app);

    const res = await sim.clickButton({ user: alice, channel, messageTs: ts, actionId: "approve" });

    expect(res.status).toBe(200);
    const updated = await fake.waitForMessage((m) => m.ts === ts && m.history.length === 2);
    expect(updated).toMatchObject({ text: "Approved", blocks: [] });
    expect(updated.history[0]!.blocks).toHaveLength(2);
    expect(clicks[0]).toMatchObject({
      type: "block_actions",
      user: { id: alice.id, username: "alice" },
      container: { type: "message", message_ts: ts, channel_id: channel },
      actions: [{ action_id: "approve", block_id: "decision", value: "perm-1", type: "button" }],
    });
    expect(fake.calls.map((c) => c.method).filter((m) => m !== "auth.test")).toEqual(["chat.postMessage", "chat.update"]);
  });

  it("lets the bot open a modal from the trigger_id and hands it the submitted values", async () => {
    const fake = await fakeSlack();
    const { app, sim } = await httpApp(fake);
    app.action<BlockAction<ButtonAction>>("edit", async ({ ack, body, client }) => {
      await ack();
      await client.views.open({ trigger_id: body.trigger_id, view: editModal });
    });
    const submissions: Array<{ values: unknown; metadata: string }> = [];
    app.view("edit", async ({ ack, view }) => {
      submissions.push({ values: view.state.values, metadata: view.private_metadata });
      const text = view.state.values.command?.text?.value ?? "";
      await ack(text.includes("sudo") ? { response_action: "errors", errors: { command: "No sudo, please" } } : undefined);
    });
    const ts = await postCard(app);

    await sim.clickButton({ user: alice, channel, messageTs: ts, actionId: "edit" });
    const modal = await fake.waitForView((v) => v.view.callback_id === "edit");
    const refused = await sim.submitView({ user: alice, viewId: modal.id, values: { command: { text: "sudo make" } } });
    const accepted = await sim.submitView({ user: alice, viewId: modal.id, values: { command: { text: "make build" } } });

    expect(refused).toEqual({ status: 200, body: { response_action: "errors", errors: { command: "No sudo, please" } } });
    expect(accepted).toEqual({ status: 200, body: undefined });
    expect(submissions[1]).toEqual({ values: { command: { text: { type: "plain_text_input", value: "make build" } } }, metadata: "perm-1" });
    expect(modal).toMatchObject({ user: alice.id, open: false, errors: { command: "No sudo, please" } });
  });

  it("answers 401 to forged or stale signatures and runs no handler", async () => {
    const fake = await fakeSlack();
    const { app, sim } = await httpApp(fake);
    let ran = 0;
    app.action("approve", async ({ ack }) => {
      ran += 1;
      await ack();
    });
    const ts = await postCard(app);

    const forged = await sim.clickButton({ user: alice, channel, messageTs: ts, actionId: "approve", signingSecretOverride: "not-the-secret" });
    const stale = await sim.clickButton({ user: alice, channel, messageTs: ts, actionId: "approve", timestampOverride: Math.floor(Date.now() / 1000) - 600 });

    expect([forged.status, stale.status]).toEqual([401, 401]);
    expect(ran).toBe(0);
  });

  it("applies respond() on the click's response_url to the clicked message", async () => {
    const fake = await fakeSlack();
    const { app, sim } = await httpApp(fake);
    app.action("approve", async ({ ack, respond }) => {
      await ack();
      await respond({ replace_original: true, text: "Approved once" });
    });
    const ts = await postCard(app);

    await sim.clickButton({ user: alice, channel, messageTs: ts, actionId: "approve" });

    expect(await fake.waitForMessage((m) => m.ts === ts && m.history.length === 2)).toMatchObject({ text: "Approved once", blocks: [] });
    expect(fake.responses).toMatchObject([{ target: { kind: "message", ts, user: alice.id }, body: { replace_original: true } }]);
  });

  it("turns a slash command's immediate answer into an ephemeral message", async () => {
    const fake = await fakeSlack();
    const { app, sim } = await httpApp(fake);
    app.command("/opencode", async ({ ack, command }) => {
      await ack(`status of ${command.text} for <@${command.user_id}>`);
    });

    const res = await sim.slashCommand({ user: alice, channel, text: "session-1" });

    expect(res).toEqual({ status: 200, body: `status of session-1 for <@${alice.id}>` });
    expect(fake.ephemerals).toMatchObject([{ channel, user: alice.id, text: `status of session-1 for <@${alice.id}>`, via: "command_response" }]);
  });
});

describe("fake Slack with Bolt in Socket Mode", () => {
  it("connects through apps.connections.open and gets an acked click to the handler", async () => {
    const fake = await fakeSlack();
    const app = new App({ token: fake.botToken, appToken: fake.appToken, socketMode: true, logLevel: LogLevel.ERROR, clientOptions: { slackApiUrl: fake.apiUrl } });
    await app.start();
    cleanups.push(() => app.stop());
    app.action<BlockAction<ButtonAction>>("approve", async ({ ack, body, client }) => {
      await ack();
      await client.chat.update({ channel: body.channel!.id, ts: body.message!.ts, text: `Approved by <@${body.user.id}>`, blocks: [] });
    });
    const sim = createSlackUserSim({ fake, transport: "socket" });
    const ts = await postCard(app);

    const res = await sim.clickButton({ user: alice, channel, messageTs: ts, actionId: "approve" });

    expect(res).toEqual({ status: 200, body: undefined });
    expect(fake.socket.acks).toHaveLength(1);
    expect(await fake.waitForMessage((m) => m.ts === ts && m.history.length === 2)).toMatchObject({ text: `Approved by <@${alice.id}>` });
    expect(fake.calls.find((c) => c.method === "apps.connections.open")).toMatchObject({ token: fake.appToken, status: 200 });
  });

  it("carries a view_submission answer back in the ack payload", async () => {
    const fake = await fakeSlack();
    const app = new App({ token: fake.botToken, appToken: fake.appToken, socketMode: true, logLevel: LogLevel.ERROR, clientOptions: { slackApiUrl: fake.apiUrl } });
    await app.start();
    cleanups.push(() => app.stop());
    app.action<BlockAction<ButtonAction>>("edit", async ({ ack, body, client }) => {
      await ack();
      await client.views.open({ trigger_id: body.trigger_id, view: editModal });
    });
    app.view("edit", async ({ ack }) => ack({ response_action: "errors", errors: { command: "Say more" } }));
    const sim = createSlackUserSim({ fake, transport: "socket" });

    await sim.clickButton({ user: alice, channel, messageTs: await postCard(app), actionId: "edit" });
    const modal = await fake.waitForView(() => true);
    const res = await sim.submitView({ user: alice, viewId: modal.id, values: { command: { text: "ls" } } });

    expect(res.body).toEqual({ response_action: "errors", errors: { command: "Say more" } });
    expect(fake.view(modal.id)).toMatchObject({ open: true, errors: { command: "Say more" } });
  });
});

describe("fake Slack Web API", () => {
  it("answers 429 with Retry-After and the WebClient's retry succeeds", async () => {
    const fake = await fakeSlack();
    const client = new webApi.WebClient(fake.botToken, { slackApiUrl: fake.apiUrl, logger: quiet });
    fake.rateLimit("chat.postMessage", 1, 1);

    const posted = await client.chat.postMessage({ channel, text: "hello" });

    expect(posted.ok).toBe(true);
    const attempts = fake.calls.filter((c) => c.method === "chat.postMessage");
    expect(attempts.map((c) => [c.status, c.response.error])).toEqual([[429, "ratelimited"], [200, undefined]]);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(1000);
    expect(fake.messages).toHaveLength(1);
  }, 15_000);

  it("behaves like Slack on bad tokens, unknown methods, triggers and blocks", async () => {
    const fake = await fakeSlack();
    const client = new webApi.WebClient(fake.botToken, { slackApiUrl: fake.apiUrl, logger: quiet });
    const wrong = new webApi.WebClient("xoxb-wrong", { slackApiUrl: fake.apiUrl, logger: quiet });
    const errorOf = (p: Promise<unknown>) => p.then(() => "ok", (e: { data?: { error?: string } }) => e.data?.error);

    expect(await errorOf(wrong.auth.test())).toBe("invalid_auth");
    expect(await errorOf(client.apiCall("chat.explode"))).toBe("unknown_method");
    expect(await errorOf(client.apps.connections.open())).toBe("not_allowed_token_type");
    expect(await errorOf(client.views.open({ trigger_id: "123.456.abc", view: editModal }))).toBe("invalid_trigger_id");
    const trigger = fake.issueTriggerId(alice.id);
    expect(await errorOf(client.views.open({ trigger_id: trigger, view: { ...editModal, title: { type: "plain_text", text: "A title far longer than Slack allows" } } }))).toBe("invalid_arguments");
    expect(await errorOf(client.views.open({ trigger_id: trigger, view: editModal }))).toBe("ok");
    expect(await errorOf(client.views.open({ trigger_id: trigger, view: editModal }))).toBe("exchanged_trigger_id");
    const late = fake.issueTriggerId(alice.id);
    fake.expireTriggers();
    expect(await errorOf(client.views.open({ trigger_id: late, view: editModal }))).toBe("expired_trigger_id");
    const tooLong = [{ type: "actions", elements: [{ type: "button", action_id: "a", text: { type: "plain_text", text: "x".repeat(76) } }] }];
    expect(await errorOf(client.chat.postMessage({ channel, text: "t", blocks: tooLong }))).toBe("invalid_blocks");
    expect(await errorOf(client.chat.update({ channel, ts: "1.000001", text: "t" }))).toBe("message_not_found");
    expect(await client.usergroups.users.list({ usergroup: "S0APPROVERS" })).toMatchObject({ users: [alice.id] });
    expect(await client.users.info({ user: alice.id })).toMatchObject({ user: { name: "alice", real_name: "Alice Liddell", profile: { real_name: "Alice Liddell" } } });
  });

  it("accepts JSON bodies with a bearer token, as Slack does", async () => {
    const fake = await fakeSlack();
    const post = (body: object) =>
      fetch(`${fake.apiUrl}chat.postMessage`, {
        method: "POST",
        headers: { "content-type": "application/json; charset=utf-8", authorization: `Bearer ${fake.botToken}` },
        body: JSON.stringify(body),
      }).then((res) => res.json() as Promise<{ ok: boolean; ts: string }>);

    const parent = await post({ channel: "#approvals", text: "card" });
    const reply = await post({ channel, text: "decided", thread_ts: parent.ts });

    expect(parent).toMatchObject({ ok: true, channel, ts: "1700000000.000100", message: { text: "card", bot_id: fake.bot.botId } });
    expect(fake.message(channel, reply.ts)).toMatchObject({ thread_ts: parent.ts, text: "decided" });
  });
});
