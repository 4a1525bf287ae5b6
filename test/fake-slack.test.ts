import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { App, LogLevel, webApi, type AppOptions, type BlockAction, type ButtonAction, type KnownEventFromType } from "@slack/bolt";
import { afterEach, describe, expect, it } from "vitest";
import { startFakeSlack, VERIFICATION_TOKEN, type FakeSlack, type Json } from "./support/fake-slack.ts";
import { createSlackUserSim } from "./support/slack-client-sim.ts";
import { waitFor } from "./support/wait-for.ts";

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

  it("opens one IM per person with conversations.open, where chat.postMessage lands, also when posted to the user id", async () => {
    const bob = { id: "U0BOB", name: "bob" };
    const fake = await startFakeSlack({ users: [{ id: alice.id, name: "alice" }, bob] });
    cleanups.push(() => fake.close());
    const client = new webApi.WebClient(fake.botToken, { slackApiUrl: fake.apiUrl, logger: quiet, retryConfig: { retries: 0 } });
    const errorOf = (p: Promise<unknown>) => p.then(() => "ok", (e: { data?: { error?: string } }) => e.data?.error);
    expect(fake.imOf(alice.id)).toBeUndefined();

    const opened = await client.conversations.open({ users: alice.id });
    const again = await client.conversations.open({ users: alice.id, return_im: true });
    const im = opened.channel!.id!;
    await client.chat.postMessage({ channel: im, text: "Approval needed" });
    await client.chat.postMessage({ channel: alice.id, text: "Still waiting" });
    const reply = fake.postAsUser({ user: alice.id, channel: im, text: "ok" });

    expect(opened).toEqual({ ok: true, channel: { id: im }, response_metadata: expect.anything() });
    expect(im).toMatch(/^D[A-Z0-9]+$/);
    expect(fake.imOf(alice.id)).toBe(im);
    expect(again).toMatchObject({ ok: true, no_op: true, already_open: true, channel: { id: im, is_im: true, user: alice.id } });
    expect(fake.messages.filter((m) => m.channel === im).map((m) => [m.user, m.text])).toEqual([[fake.bot.userId, "Approval needed"], [fake.bot.userId, "Still waiting"], [alice.id, "ok"]]);
    expect(reply.events[0]!.event).toMatchObject({ channel: im, channel_type: "im", user: alice.id });
    expect(await client.conversations.history({ channel: im })).toMatchObject({ messages: [{ text: "ok" }, { text: "Still waiting" }, { text: "Approval needed" }] });
    expect(await client.conversations.info({ channel: im })).toMatchObject({ channel: { id: im, is_im: true, user: alice.id } });
    expect(await client.conversations.open({ channel: im })).toMatchObject({ channel: { id: im } });
    const group = await client.conversations.open({ users: `${alice.id},${bob.id}` });
    expect(group.channel!.id).toMatch(/^G[A-Z0-9]+$/);
    expect((await client.conversations.open({ users: `${bob.id}, ${alice.id}` })).channel!.id).toBe(group.channel!.id);
    expect(fake.imOf(bob.id)).toBeUndefined();
    expect(await errorOf(client.conversations.open({ users: "U0NOBODY" }))).toBe("user_not_found");
    expect(await errorOf(client.apiCall("conversations.open", {}))).toBe("users_list_not_supplied");
    expect(await errorOf(client.conversations.open({ channel: "D0NOSUCHIM" }))).toBe("channel_not_found");
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

    expect(parent).toMatchObject({ ok: true, channel, ts: expect.stringMatching(/^\d{10}\.\d{6}$/), message: { text: "card", bot_id: fake.bot.botId } });
    // A ts is a time, as Slack's are: within seconds of the clock.
    expect(Math.abs(Number(parent.ts) - Date.now() / 1000)).toBeLessThan(60);
    expect(fake.message(channel, reply.ts)).toMatchObject({ thread_ts: parent.ts, text: "decided" });
  });
});

describe("fake Slack file uploads with the real WebClient", () => {
  // No retries: a failed step should fail the test now, not be retried for half an hour.
  const webClient = (fake: FakeSlack) => new webApi.WebClient(fake.botToken, { slackApiUrl: fake.apiUrl, logger: quiet, retryConfig: { retries: 0 } });
  const errorOf = (p: Promise<unknown>) => p.then(() => "ok", (e: { data?: { error?: string } }) => e.data?.error ?? String(e));
  const bearer = (fake: FakeSlack) => ({ authorization: `Bearer ${fake.botToken}` });
  const uploadedIds = (result: { files: Array<{ files?: Array<{ id?: string }> }> }) => result.files.flatMap((c) => (c.files ?? []).map((f) => f.id!));

  it("shares filesUploadV2's file in the thread as one bot message whose url_private serves the bytes", async () => {
    const fake = await fakeSlack();
    const client = webClient(fake);
    const parent = await client.chat.postMessage({ channel, text: "Permission requested" });
    const diff = Buffer.concat([Buffer.from("--- a/build.sh\n+++ b/build.sh\n"), Buffer.from([0xff, 0xfe, 0x00, 0x0a])]);

    const result = await client.filesUploadV2({ channel_id: channel, thread_ts: parent.ts!, file: diff, filename: "change.diff", title: "The change", initial_comment: "Here is the diff" });

    const [id] = uploadedIds(result);
    // Step by step: one URL, the bytes as multipart/form-data with the bot token, one completion.
    expect(fake.calls.map((c) => c.method)).toEqual(["chat.postMessage", "files.getUploadURLExternal", "files.completeUploadExternal"]);
    expect(fake.calls[1]!.body).toMatchObject({ filename: "change.diff", length: String(diff.length) });
    expect(fake.uploads).toMatchObject([{ fileId: id, filename: "change.diff", length: diff.length, state: "completed", received: { encoding: "multipart", token: fake.botToken } }]);
    expect(fake.uploads[0]!.uploadUrl).toMatch(new RegExp(`^${fake.url}/upload/v1/`));
    // Slack shares after answering: the answer shows the file not yet shared, files.info shows where.
    expect(result.files[0]?.files?.[0]).toMatchObject({ id, name: "change.diff", title: "The change", user: fake.bot.userId, size: diff.length, is_public: false, shares: {} });
    const shared = fake.messages.filter((m) => m.files);
    expect(shared).toHaveLength(1);
    expect(shared[0]).toMatchObject({ channel, thread_ts: parent.ts, user: fake.bot.userId, text: "Here is the diff", files: [{ id, title: "The change", via: "upload" }] });
    const ts = shared[0]!.ts;
    expect(fake.file(id!)?.shares).toEqual([{ channel, ts, thread_ts: parent.ts }]);
    expect(fake.fileText(id!)).toBe(diff.toString("utf8"));
    const info = await client.files.info({ file: id! });
    expect(info.file).toMatchObject({ id, is_public: true, channels: [channel], shares: { public: { [channel]: [{ ts, thread_ts: parent.ts }] } } });

    const thread = await client.conversations.replies({ channel, ts: parent.ts! });
    const reply = thread.messages?.[1];
    expect(reply).toMatchObject({ ts, user: fake.bot.userId, bot_id: fake.bot.botId, text: "Here is the diff", upload: true, files: [{ id, name: "change.diff", mimetype: "text/plain", filetype: "diff" }] });
    const served = await fetch(reply!.files![0]!.url_private!, { headers: bearer(fake) });
    expect([served.status, Buffer.from(await served.arrayBuffer())]).toEqual([200, diff]);
  });

  it("puts both files of one file_uploads call on one message", async () => {
    const fake = await fakeSlack();
    const client = webClient(fake);
    fake.echoBotMessages = true;

    const result = await client.filesUploadV2({
      channel_id: channel,
      initial_comment: "Two logs",
      file_uploads: [
        { file: Buffer.from("first\n"), filename: "one.log" },
        { content: "second\n", filename: "two.log", title: "Second log" },
      ],
    });

    const ids = uploadedIds(result);
    expect(ids).toHaveLength(2);
    expect(fake.calls.filter((c) => c.method === "files.completeUploadExternal")).toHaveLength(1);
    const history = await client.conversations.history({ channel });
    expect(history.messages).toMatchObject([{ text: "Two logs", files: [{ id: ids[0], title: "one.log" }, { id: ids[1], title: "Second log" }] }]);
    expect(ids.map((id) => fake.fileText(id))).toEqual(["first\n", "second\n"]);
    // The bot's own share comes back as a file_share message.
    expect(fake.sentEvents.map((e) => e.event)).toMatchObject([{ type: "message", subtype: "file_share", user: fake.bot.userId, upload: true, files: [{ id: ids[0] }, { id: ids[1] }] }]);
  });

  it("keeps a file uploaded without channel_id private: stored, served to the bot, on no message", async () => {
    const fake = await fakeSlack();
    const client = webClient(fake);

    const result = await client.filesUploadV2({ file: Buffer.from("just for me"), filename: "notes.txt" });

    const [id] = uploadedIds(result);
    expect(fake.messages).toEqual([]);
    expect(fake.file(id!)).toMatchObject({ name: "notes.txt", title: "notes.txt", user: fake.bot.userId, via: "upload", isPublic: false, shares: [] });
    const info = await client.files.info({ file: id! });
    expect(info.file).toMatchObject({ channels: [], groups: [], ims: [], shares: {} });
    const served = await fetch(String(info.file?.url_private), { headers: bearer(fake) });
    expect(await served.text()).toBe("just for me");
  });

  it("refuses what Slack refuses at each step", async () => {
    const fake = await fakeSlack();
    const client = webClient(fake);
    const complete = (id: string) => client.files.completeUploadExternal({ files: [{ id }], channel_id: channel });

    expect(await errorOf(client.apiCall("files.getUploadURLExternal", { length: 3 }))).toBe("invalid_arguments");
    expect(await errorOf(client.apiCall("files.getUploadURLExternal", { filename: "a.txt" }))).toBe("invalid_arguments");
    expect(await errorOf(client.files.getUploadURLExternal({ filename: "a.txt", length: 0 }))).toBe("missing_argument");
    expect(await errorOf(complete("F0NEVERSEEN"))).toBe("file_not_found");

    // Raw bytes are accepted too; the answer is "OK - <bytes>".
    const raw = await client.files.getUploadURLExternal({ filename: "raw.txt", length: 5 });
    const posted = await fetch(raw.upload_url!, { method: "POST", headers: { "content-type": "application/octet-stream" }, body: "hello" });
    expect([posted.status, await posted.text()]).toEqual([200, "OK - 5"]);
    expect(await errorOf(complete(raw.file_id!))).toBe("ok");
    expect(fake.uploads.at(-1)?.received?.encoding).toBe("raw");
    expect(await errorOf(complete(raw.file_id!))).toBe("file_not_found");

    const unsent = await client.files.getUploadURLExternal({ filename: "unsent.txt", length: 5 });
    expect(await errorOf(complete(unsent.file_id!))).toBe("file_not_found");
    const short = await client.files.getUploadURLExternal({ filename: "short.txt", length: 10 });
    await fetch(short.upload_url!, { method: "POST", body: "hello" });
    const refused = await client.files.completeUploadExternal({ files: [{ id: short.file_id! }], channel_id: channel }).catch((e: { data: Json }) => e.data);
    expect(refused).toMatchObject({ ok: false, error: "invalid_arguments", response_metadata: { messages: [expect.stringMatching(/5 bytes were uploaded, 10 announced/)] } });
    expect(await errorOf(client.files.completeUploadExternal({ files: [{ id: unsent.file_id! }], channel_id: "#approvals" }))).toBe("channel_not_found");
    expect(fake.messages.filter((m) => m.files).map((m) => m.files?.[0]?.name)).toEqual(["raw.txt"]);
  });
});

type Transport = "http" | "socket";
type SeenEvent = KnownEventFromType<"app_mention"> | KnownEventFromType<"message">;
/** What one of Bolt's listeners was handed. */
type Seen = { listener: "app_mention" | "message"; event: SeenEvent; eventId: string; retryNum?: number; retryReason?: string };

async function eventsApp(fake: FakeSlack, transport: Transport, options: Partial<AppOptions> = {}) {
  const common = { token: fake.botToken, logLevel: LogLevel.ERROR, clientOptions: { slackApiUrl: fake.apiUrl }, ...options };
  if (transport === "socket") {
    const app = new App({ ...common, appToken: fake.appToken, socketMode: true });
    await app.start();
    cleanups.push(() => app.stop());
    return { app, sim: createSlackUserSim({ fake, transport: "socket" }) };
  }
  const app = new App({ ...common, signingSecret });
  const server = (await app.start(0)) as Server;
  cleanups.push(() => app.stop());
  return { app, sim: createSlackUserSim({ fake, botEventsUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`, signingSecret }) };
}

/** Records what `app.event("app_mention")` and `app.message()` receive, with the retry Bolt puts in context. */
function listen(app: App): Seen[] {
  const seen: Seen[] = [];
  app.event("app_mention", async ({ event, body, context }) => {
    seen.push({ listener: "app_mention", event, eventId: body.event_id, retryNum: context.retryNum, retryReason: context.retryReason });
  });
  app.message(async ({ message, body, context }) => {
    seen.push({ listener: "message", event: message, eventId: body.event_id, retryNum: context.retryNum, retryReason: context.retryReason });
  });
  return seen;
}

const textOf = (event: SeenEvent) => ("text" in event ? event.text : undefined);
const subtypeOf = (event: SeenEvent) => ("subtype" in event ? event.subtype : undefined);
const acked = { status: 200, body: undefined };

describe.each<Transport>(["http", "socket"])("fake Slack Events API with Bolt over %s", (transport) => {
  it("delivers a mention as a message event and an app_mention, each with its own event_id", async () => {
    const fake = await fakeSlack();
    const { app, sim } = await eventsApp(fake, transport);
    const seen = listen(app);
    const text = `<@${fake.bot.userId}> deploy the branch`;

    const posted = await sim.postMessage({ user: alice, channel, text });

    expect(posted.responses).toEqual([acked, acked]);
    const [messageId, mentionId] = posted.eventIds;
    expect(messageId).toMatch(/^Ev[0-9A-Z]{8,}$/);
    expect(mentionId).toMatch(/^Ev[0-9A-Z]{8,}$/);
    expect(mentionId).not.toBe(messageId);
    await waitFor(() => seen.length === 2, { what: "the message and app_mention listeners" });
    const ts = posted.message.ts;
    const blocks = [{ type: "rich_text", elements: [{ type: "rich_text_section", elements: [{ type: "user", user_id: fake.bot.userId }, { type: "text", text: " deploy the branch" }] }] }];
    expect(seen.find((s) => s.listener === "message")).toMatchObject({ eventId: messageId, event: { type: "message", channel, user: alice.id, text, ts, event_ts: ts, channel_type: "channel", blocks } });
    expect(seen.find((s) => s.listener === "app_mention")).toMatchObject({ eventId: mentionId, event: { type: "app_mention", channel, user: alice.id, text, ts, event_ts: ts, blocks } });
    expect(fake.sentEvent(mentionId!)?.envelope).toMatchObject({
      token: VERIFICATION_TOKEN,
      team_id: fake.team.id,
      api_app_id: fake.bot.appId,
      type: "event_callback",
      event_id: mentionId,
      event_time: expect.any(Number),
      authorizations: [{ team_id: fake.team.id, user_id: fake.bot.userId, is_bot: true, is_enterprise_install: false }],
      is_ext_shared_channel: false,
      event_context: expect.stringMatching(/^4-/),
    });
    const history = await app.client.conversations.history({ channel });
    expect(history.messages).toMatchObject([{ type: "message", user: alice.id, text, ts, blocks }]);
  });

  it("hands a thread reply over with thread_ts, and conversations.replies lists the whole thread", async () => {
    const fake = await fakeSlack();
    const { app, sim } = await eventsApp(fake, transport);
    const seen = listen(app);
    const card = await postCard(app);

    const top = await sim.postMessage({ user: alice, channel, text: "who approves builds?" });
    const answer = await app.client.chat.postMessage({ channel, thread_ts: top.message.ts, text: "approvers do" });
    const reply = await sim.postMessage({ user: alice, channel, text: "thanks", thread_ts: top.message.ts });

    await waitFor(() => seen.length === 2, { what: "both messages at app.message()" });
    expect(seen[1]).toMatchObject({ listener: "message", eventId: reply.eventIds[0], event: { text: "thanks", ts: reply.message.ts, thread_ts: top.message.ts, parent_user_id: alice.id } });
    expect(seen[0]!.event).not.toHaveProperty("thread_ts");
    const thread = await app.client.conversations.replies({ channel, ts: top.message.ts });
    expect(thread.messages).toMatchObject([
      { user: alice.id, ts: top.message.ts, thread_ts: top.message.ts, reply_count: 2, reply_users: [fake.bot.userId, alice.id], latest_reply: reply.message.ts },
      { user: fake.bot.userId, bot_id: fake.bot.botId, ts: answer.ts, thread_ts: top.message.ts, parent_user_id: alice.id },
      { user: alice.id, text: "thanks", ts: reply.message.ts, thread_ts: top.message.ts },
    ]);
    const history = await app.client.conversations.history({ channel });
    expect(history.messages?.map((m) => m.ts)).toEqual([top.message.ts, card]);
    const page = await app.client.conversations.history({ channel, limit: 1 });
    const rest = await app.client.conversations.history({ channel, limit: 1, cursor: page.response_metadata?.next_cursor });
    expect([page.messages?.[0]?.ts, page.has_more, rest.messages?.[0]?.ts, rest.has_more]).toEqual([top.message.ts, true, card, false]);
    await expect(sim.postMessage({ user: alice, channel, text: "nested", thread_ts: reply.message.ts })).rejects.toThrow(/no top-level message/);
  });

  it("redelivers an event with its event_id and the retry number and reason Bolt puts in context", async () => {
    const fake = await fakeSlack();
    const { app, sim } = await eventsApp(fake, transport);
    const seen = listen(app);
    const posted = await sim.postMessage({ user: alice, channel, text: "run the tests" });
    const id = posted.eventIds[0]!;
    await waitFor(() => seen.length === 1, { what: "the first delivery at app.message()" });

    const again = await sim.redeliver(id, { retryNum: 1, reason: "http_timeout" });

    expect(again).toEqual(acked);
    await waitFor(() => seen.length === 2, { what: "the retry at app.message()" });
    // Over HTTP a first delivery has no retry headers; over Socket Mode it says retry_attempt 0, retry_reason "".
    const first = transport === "http" ? [undefined, undefined] : [0, ""];
    expect(seen.map((s) => [s.eventId, s.retryNum, s.retryReason])).toEqual([[id, ...first], [id, 1, "http_timeout"]]);
    expect(fake.sentEvent(id)?.attempts.map((a) => a.retry?.retryNum)).toEqual([undefined, 1]);
    await expect(sim.redeliver(id, { retryNum: 4, reason: "http_error" })).rejects.toThrow(/at most 3 times/);
  });

  it("echoes the bot's own messages only when asked, and Bolt's ignoreSelf drops them but not its edits", async () => {
    const fake = await fakeSlack();
    const { app, sim } = await eventsApp(fake, transport);
    const seen = listen(app);
    await postCard(app);
    expect(fake.sentEvents).toEqual([]);

    fake.echoBotMessages = true;
    const modern = await app.client.chat.postMessage({ channel, text: "card one" });
    const modernEcho = await fake.waitForDelivery((e) => e.event.ts === modern.ts);
    fake.echoBotMessages = "bot_message";
    const classic = await app.client.chat.postMessage({ channel, text: "card two" });
    const classicEcho = await fake.waitForDelivery((e) => e.event.ts === classic.ts);
    await app.client.chat.update({ channel, ts: classic.ts!, text: "card two, decided" });
    const editEcho = await fake.waitForDelivery((e) => e.event.subtype === "message_changed");
    await sim.postMessage({ user: alice, channel, text: "sentinel" });
    await waitFor(() => seen.some((s) => textOf(s.event) === "sentinel"), { what: "the sentinel message at app.message()" });

    expect(modernEcho.event).toMatchObject({ type: "message", user: fake.bot.userId, bot_id: fake.bot.botId, bot_profile: { id: fake.bot.botId }, channel_type: "channel" });
    expect(modernEcho.event).not.toHaveProperty("subtype");
    expect(classicEcho.event).toMatchObject({ type: "message", subtype: "bot_message", bot_id: fake.bot.botId, username: fake.bot.name });
    expect(classicEcho.event).not.toHaveProperty("user");
    expect(editEcho.event).toMatchObject({ message: { subtype: "bot_message", text: "card two, decided" }, previous_message: { text: "card two" } });
    expect([modernEcho, classicEcho, editEcho].map((e) => e.attempts[0]?.ack)).toEqual([acked, acked, acked]);
    // Both shapes of the bot's own message stop at ignoreSelf; a message_changed has no top-level user or bot_id and passes.
    expect(seen.map((s) => subtypeOf(s.event) ?? textOf(s.event)).sort()).toEqual(["message_changed", "sentinel"]);
  });

  it("hands the echoed message to app.message() when ignoreSelf is off", async () => {
    const fake = await startFakeSlack({ channels: [{ id: channel, name: "approvals" }], echoBotMessages: true });
    cleanups.push(() => fake.close());
    const { app } = await eventsApp(fake, transport, { ignoreSelf: false });
    const seen = listen(app);

    const posted = await app.client.chat.postMessage({ channel, text: "card" });

    await waitFor(() => seen[0], { what: "the echo at app.message()" });
    expect(seen).toMatchObject([{ listener: "message", event: { user: fake.bot.userId, bot_id: fake.bot.botId, ts: posted.ts, text: "card" } }]);
  });

  it("shares files as a file_share message whose url_private serves the bytes to the bot token alone", async () => {
    const fake = await fakeSlack();
    const { app, sim } = await eventsApp(fake, transport);
    const seen = listen(app);
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

    await sim.postMessage({ user: alice, channel, text: "the failing build", files: [{ name: "build.log", content: "error: exit 2\n" }, { name: "shot.png", content: png }] });

    const shared = (await waitFor(() => seen[0], { what: "the file_share at app.message()" })).event;
    if (shared.type !== "message" || shared.subtype !== "file_share") throw new Error(`expected a file_share message, got ${JSON.stringify(shared)}`);
    expect(shared).toMatchObject({ user: alice.id, text: "the failing build", upload: false });
    const [log, shot] = shared.files ?? [];
    expect(log).toMatchObject({ id: expect.stringMatching(/^F[0-9A-Z]+$/), name: "build.log", title: "build.log", mimetype: "text/plain", filetype: "text", size: 14, user: alice.id });
    expect(shot).toMatchObject({ name: "shot.png", mimetype: "image/png", filetype: "png", size: png.length });
    const bearer = { authorization: `Bearer ${fake.botToken}` };

    const text = await fetch(log!.url_private!, { headers: bearer });
    expect([text.status, text.headers.get("content-type"), await text.text()]).toEqual([200, "text/plain", "error: exit 2\n"]);
    const image = await fetch(shot!.url_private_download!, { headers: bearer });
    expect(image.headers.get("content-disposition")).toBe('attachment; filename="shot.png"');
    expect(Buffer.from(await image.arrayBuffer())).toEqual(png);
    const anonymous = await fetch(log!.url_private!, { redirect: "manual" });
    const wrongToken = await fetch(log!.url_private!, { headers: { authorization: "Bearer xoxb-wrong" }, redirect: "manual" });
    expect([anonymous.status, wrongToken.status]).toEqual([302, 302]);
    expect(anonymous.headers.get("location")).toMatch(/\/\?redir=%2Ffiles-pri%2F/);
    // Followed, the redirect ends in a 200 sign-in page: a download that checks only res.ok gets HTML.
    const followed = await fetch(log!.url_private!);
    expect([followed.status, followed.redirected, followed.headers.get("content-type")]).toEqual([200, true, "text/html; charset=utf-8"]);
    expect(await followed.text()).not.toContain("exit 2");
  });

  it("turns a person's edit into message_changed, and will not let the bot edit their message", async () => {
    const fake = await fakeSlack();
    const { app, sim } = await eventsApp(fake, transport);
    const seen = listen(app);
    const posted = await sim.postMessage({ user: alice, channel, text: "deploy main" });
    const ts = posted.message.ts;

    const edit = await sim.editMessage({ user: alice, channel, ts, text: "deploy staging" });

    expect(edit.responses).toEqual([acked]);
    await waitFor(() => seen.length === 2, { what: "the edit at app.message()" });
    expect(seen[1]!.event).toMatchObject({
      type: "message",
      subtype: "message_changed",
      hidden: true,
      channel,
      message: { user: alice.id, text: "deploy staging", ts, edited: { user: alice.id } },
      previous_message: { user: alice.id, text: "deploy main", ts },
    });
    expect(fake.message(channel, ts)?.history.map((v) => v.text)).toEqual(["deploy main", "deploy staging"]);
    const refused = await app.client.chat.update({ channel, ts, text: "hijacked" }).then(
      () => "ok",
      (e: { data?: { error?: string } }) => e.data?.error,
    );
    expect(refused).toBe("cant_update_message");
  });
});
