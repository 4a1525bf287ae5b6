import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  ChannelType,
  Client,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  LabelBuilder,
  ModalBuilder,
  REST,
  Routes,
  TextInputBuilder,
  TextInputStyle,
  type ButtonInteraction,
  type Interaction,
  type Message,
  type ModalSubmitInteraction,
  type TextChannel,
} from "discord.js";
import { afterEach, describe, expect, it } from "vitest";
import { createDiscordUserSim } from "./support/discord-user-sim.ts";
import { startFakeDiscord, type FakeDiscord, type FakeDiscordOptions } from "./support/fake-discord.ts";
import { waitFor } from "./support/wait-for.ts";

const alice = { id: "200000000000000001", username: "alice", global_name: "Alice Liddell" };
const approvers = { id: "300000000000000001", name: "Approvers", permissions: "0" };
const intents = [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent];

let cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  // Clients first: a client whose fake goes away would try to resume.
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

async function fakeDiscord(opts: FakeDiscordOptions = {}): Promise<FakeDiscord> {
  const fake = await startFakeDiscord({ users: [alice], roles: [approvers], members: [{ user: alice.id, roles: [approvers.id] }], heartbeatIntervalMs: 200, ...opts });
  cleanups.push(() => fake.close());
  return fake;
}

function newClient(fake: FakeDiscord, clientIntents: GatewayIntentBits[] = intents): Client {
  const client = new Client({ intents: clientIntents, rest: { api: fake.apiUrl } });
  cleanups.push(() => client.destroy());
  return client;
}

async function readyClient(fake: FakeDiscord) {
  const client = newClient(fake);
  await client.login(fake.token);
  await waitFor(() => client.isReady(), { what: "discord.js to emit ready", timeout: 5_000 });
  const channel = client.channels.cache.get(fake.channelId) as TextChannel;
  const interactions: Interaction[] = [];
  const handlers: Record<string, (i: ButtonInteraction | ModalSubmitInteraction) => Promise<unknown>> = {};
  const failures: unknown[] = [];
  client.on(Events.InteractionCreate, (i) => {
    interactions.push(i);
    if (!i.isButton() && !i.isModalSubmit()) return;
    handlers[i.customId]?.(i).catch((error: unknown) => failures.push(error));
  });
  return { client, channel, interactions, handlers, failures };
}

const card = (...ids: string[]) => ({
  content: "**bash** wants to run `rm -rf build`",
  components: [new ActionRowBuilder<ButtonBuilder>().addComponents(ids.map((id) => new ButtonBuilder().setCustomId(id).setLabel(id).setStyle(ButtonStyle.Secondary)))],
});

const editModal = (customId: string) =>
  new ModalBuilder()
    .setCustomId(customId)
    .setTitle("Edit command")
    .addLabelComponents(new LabelBuilder().setLabel("Command").setTextInputComponent(new TextInputBuilder().setCustomId("command").setStyle(TextInputStyle.Short)));

const apiCode = (error: unknown) => (error instanceof DiscordAPIError ? error.code : error);

describe("fake Discord with discord.js", () => {
  it("logs in, caches the guild and channel, records the IDENTIFY and acks heartbeats", async () => {
    const fake = await fakeDiscord();
    const { client, channel } = await readyClient(fake);

    expect(client.user?.id).toBe(fake.applicationId);
    expect(client.application?.id).toBe(fake.applicationId);
    expect(client.guilds.cache.get(fake.guildId)?.roles.cache.get(approvers.id)?.name).toBe("Approvers");
    expect(channel.isTextBased()).toBe(true);
    expect(fake.identifies).toEqual([expect.objectContaining({ token: fake.token, intents: client.options.intents.bitfield })]);
    expect(fake.calls.map((c) => c.route)).toContain("GET /gateway/bot");
    await waitFor(() => fake.heartbeats >= 2 && client.ws.ping >= 0, { what: "two acked heartbeats", timeout: 3_000 });
  });

  it("closes a privileged intent the app lacks with 4014, and answers a wrong token 401", async () => {
    const fake = await fakeDiscord();
    const greedy = newClient(fake, [...intents, GatewayIntentBits.GuildMembers]);
    await expect(greedy.login(fake.token)).rejects.toThrow(/disallowed intents/i);
    expect(fake.gatewayConnections[0]?.closedWith).toBe(4014);

    const wrong = newClient(fake);
    await expect(wrong.login("bm90LWl0.ZmFrZQ.wrong-token")).rejects.toMatchObject({ code: "TokenInvalid" });
    expect(fake.calls.at(-1)).toMatchObject({ route: "GET /gateway/bot", status: 401 });
  });

  it("stores a message with buttons and an attachment, its edit, a thread from it and a message there", async () => {
    const fake = await fakeDiscord();
    const { client, channel } = await readyClient(fake);
    const created: Message[] = [];
    client.on(Events.MessageCreate, (m) => created.push(m));
    const threadsSeen: string[] = [];
    client.on(Events.ThreadCreate, (t) => threadsSeen.push(t.id));

    const sent = await channel.send({ ...card("approve", "deny"), files: [{ attachment: Buffer.from("--- a\n+++ b\n"), name: "change.diff" }] });
    const stored = fake.message(sent.id)!;
    expect(stored).toMatchObject({ channelId: fake.channelId, authorId: fake.applicationId, content: "**bash** wants to run `rm -rf build`", via: "rest" });
    expect(stored.components[0]).toMatchObject({ type: 1, components: [{ type: 2, custom_id: "approve", label: "approve" }, { type: 2, custom_id: "deny" }] });
    expect(stored.attachments).toEqual([expect.objectContaining({ filename: "change.diff", text: "--- a\n+++ b\n" })]);
    expect(sent.attachments.first()?.name).toBe("change.diff");
    await waitFor(() => created.some((m) => m.id === sent.id), { what: "MESSAGE_CREATE for the card", timeout: 2_000 });

    await sent.edit({ content: "Approved by alice", components: [] });
    expect(stored).toMatchObject({ content: "Approved by alice", components: [] });
    expect(stored.history.map((v) => v.content)).toEqual(["**bash** wants to run `rm -rf build`", "Approved by alice"]);
    expect(stored.attachments).toHaveLength(1);
    // v10: `attachments` lists what the message keeps; a file sent alone replaces the old ones.
    await sent.edit({ attachments: [...sent.attachments.values()], files: [{ attachment: Buffer.from("log"), name: "run.log" }] });
    expect(stored.attachments.map((a) => a.filename)).toEqual(["change.diff", "run.log"]);
    await sent.edit({ files: [{ attachment: Buffer.from("v2"), name: "change-v2.diff" }] });
    expect(stored.attachments.map((a) => [a.filename, a.text])).toEqual([["change-v2.diff", "v2"]]);

    const thread = await sent.startThread({ name: "session ses_1" });
    expect(thread.id).toBe(sent.id);
    expect(fake.threads).toEqual([expect.objectContaining({ id: sent.id, type: 11, parentId: fake.channelId, name: "session ses_1" })]);
    await thread.send("first reply in the thread");
    expect(fake.messages.at(-1)).toMatchObject({ channelId: thread.id, content: "first reply in the thread" });
    await waitFor(() => threadsSeen.includes(thread.id), { what: "THREAD_CREATE", timeout: 2_000 });

    const bare = await channel.threads.create({ name: "no starter", type: ChannelType.PublicThread });
    expect(fake.threads.at(-1)).toMatchObject({ id: bare.id, type: 11, parentId: fake.channelId });

    const history = await channel.messages.fetch({ limit: 10 });
    expect([...history.keys()]).toEqual([sent.id]);
    const member = await client.guilds.cache.get(fake.guildId)!.members.fetch(alice.id);
    expect(member.roles.cache.has(approvers.id)).toBe(true);
    expect(member.user.globalName).toBe("Alice Liddell");
  });

  it("delivers a click with the member's roles, records showModal, and reads the submit in both shapes", async () => {
    const fake = await fakeDiscord();
    const { channel, interactions, handlers, failures } = await readyClient(fake);
    const sim = createDiscordUserSim(fake);
    const read: Array<{ value: string; shape: number }> = [];
    handlers.edit = (i) => i.isButton() ? i.showModal(editModal("edit-modal")) : Promise.resolve();
    handlers["edit-modal"] = async (i) => {
      if (!i.isModalSubmit()) return;
      read.push({ value: i.fields.getTextInputValue("command"), shape: i.components[0]!.type });
      await i.reply({ content: "Saved", flags: 64 });
    };
    const sent = await channel.send(card("approve", "edit"));

    const click = await sim.clickButton({ user: alice.id, message: sent.id, customId: "edit" });
    expect(await click.callback()).toMatchObject({ type: 9, data: { custom_id: "edit-modal", title: "Edit command" } });
    const button = interactions[0] as ButtonInteraction;
    expect(button.isButton() && button.message.id).toBe(sent.id);
    expect(button.member && "roles" in button.member && !Array.isArray(button.member.roles) && button.member.roles.cache.has(approvers.id)).toBe(true);
    expect(fake.modals).toEqual([expect.objectContaining({ userId: alice.id, customId: "edit-modal", open: true })]);

    const submit = await sim.submitModal({ user: alice.id, customId: "edit-modal", values: { command: "make build" } });
    expect(await submit.callback()).toMatchObject({ type: 4, data: { content: "Saved", flags: 64 } });
    expect(fake.messages.at(-1)).toMatchObject({ content: "Saved", visibleTo: alice.id, via: "callback", interactionId: submit.interactionId });

    await (await sim.clickButton({ user: alice.id, message: sent.id, customId: "edit" })).callback();
    await (await sim.submitModal({ user: alice.id, customId: "edit-modal", values: { command: "make test" }, shape: "row" })).callback();
    expect(read).toEqual([{ value: "make build", shape: 18 }, { value: "make test", shape: 1 }]);
    await expect(sim.submitModal({ user: alice.id, customId: "edit-modal", values: { command: "again" } })).rejects.toThrow(/no open modal/);
    expect(failures).toEqual([]);
  });

  it("records deferUpdate, update, reply and followUp by type, and refuses a second or late answer", async () => {
    const fake = await fakeDiscord();
    const { client, channel, handlers, failures } = await readyClient(fake);
    const sim = createDiscordUserSim(fake);
    const refusals: unknown[] = [];
    handlers.defer = async (i) => {
      await i.deferUpdate();
      await i.editReply({ content: "Working on it" });
    };
    handlers.reply = async (i) => {
      await i.reply({ content: "Only you can see this", flags: 64 });
      // A second bot process answering the same click: discord.js's own guard does not know.
      await client.rest.post(Routes.interactionCallback(i.id, i.token), { body: { type: 6 }, auth: false }).catch((e: unknown) => refusals.push(apiCode(e)));
    };
    const thinking: Array<{ loading: boolean | null | undefined; fetched: string; edited: string }> = [];
    handlers.think = async (i) => {
      const response = await i.deferReply({ flags: 64, withResponse: true });
      const fetched = await i.fetchReply();
      const edited = await i.editReply({ content: "Thought it through" });
      thinking.push({ loading: response.interaction.responseMessageLoading, fetched: fetched.id, edited: edited.content });
    };
    handlers.late = async (i) => {
      fake.expireInteractions();
      await i.deferUpdate().catch((e: unknown) => refusals.push(apiCode(e)));
    };
    handlers.approve = async (i) => {
      if (!i.isButton()) return;
      await i.update({ content: "Approved by alice", components: [] });
      await i.followUp({ content: "Recorded", flags: 64 });
    };
    const updates: string[] = [];
    client.on(Events.MessageUpdate, (_old, m) => updates.push(m.content ?? ""));
    const sent = await channel.send(card("defer", "reply", "think", "late", "approve"));
    const click = (customId: string) => sim.clickButton({ user: alice.id, message: sent.id, customId });

    expect(await (await click("defer")).callback()).toMatchObject({ type: 6 });
    await fake.waitForMessage((m) => m.id === sent.id && m.content === "Working on it");
    expect(await (await click("reply")).callback()).toMatchObject({ type: 4, data: { flags: 64 } });
    await waitFor(() => refusals.length === 1, { what: "the second answer to be refused", timeout: 2_000 });
    const think = await click("think");
    expect(await think.callback()).toMatchObject({ type: 5, withResponse: true });
    const thought = await fake.waitForMessage((m) => m.interactionId === think.interactionId && m.content === "Thought it through");
    expect(thought).toMatchObject({ flags: 64, visibleTo: alice.id });
    expect(thought.history.map((v) => v.flags)).toEqual([64 | 128, 64]);
    await waitFor(() => thinking.length === 1, { what: "the deferred reply to be edited", timeout: 2_000 });
    expect(thinking).toEqual([{ loading: true, fetched: thought.id, edited: "Thought it through" }]);
    const late = await click("late");
    await waitFor(() => refusals.length === 2, { what: "the late answer to be refused", timeout: 2_000 });
    expect(refusals).toEqual([40060, 10062]);
    expect(late.callbacks()).toEqual([expect.objectContaining({ status: 404, code: 10062 })]);

    const approve = await click("approve");
    expect(await approve.callback()).toMatchObject({ type: 7, data: { content: "Approved by alice", components: [] } });
    const followUp = await fake.waitForMessage((m) => m.via === "followup");
    expect(followUp).toMatchObject({ content: "Recorded", visibleTo: alice.id, interactionId: approve.interactionId, flags: 64 });
    expect(fake.message(sent.id)?.history.map((v) => v.content)).toEqual(["**bash** wants to run `rm -rf build`", "Working on it", "Approved by alice"]);
    await waitFor(() => updates.includes("Approved by alice"), { what: "MESSAGE_UPDATE for the update", timeout: 2_000 });
    expect(failures).toEqual([]);
  });

  it("answers 429 with Retry-After, which discord.js waits out and retries", async () => {
    const fake = await fakeDiscord();
    const { client, channel } = await readyClient(fake);
    const limited: number[] = [];
    client.rest.on("rateLimited", (info) => limited.push(info.retryAfter));
    fake.rateLimit("POST /channels/:channel/messages", 1, 0.3);

    const started = Date.now();
    await channel.send("after the limit");

    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(fake.calls.filter((c) => c.route === "POST /channels/:channel/messages").map((c) => c.status)).toEqual([429, 200]);
    expect(limited).toHaveLength(1);
    expect(fake.messages.map((m) => m.content)).toEqual(["after the limit"]);
  });

  it("resumes after the gateway drops, replays what was missed, and later dispatches arrive", async () => {
    const fake = await fakeDiscord();
    const { client } = await readyClient(fake);
    const sim = createDiscordUserSim(fake);
    const seen: string[] = [];
    client.on(Events.MessageCreate, (m) => seen.push(m.content));
    let resumes = 0;
    client.on(Events.ShardResume, () => (resumes += 1));

    fake.dropGateway("destroy");
    sim.say({ user: alice.id, content: "said while the bot was away" });
    await waitFor(() => resumes === 1 && seen.includes("said while the bot was away"), { what: "a resume that replays the missed message", timeout: 4_000 });

    fake.dropGateway(4000);
    await waitFor(() => resumes === 2, { what: "a second resume", timeout: 4_000 });
    sim.say({ user: alice.id, content: "said after the resume" });
    await waitFor(() => seen.includes("said after the resume"), { what: "a message after the resume", timeout: 2_000 });

    expect(fake.identifies).toHaveLength(1);
    expect(fake.gatewayConnections.map((c) => [c.path, c.resumed ?? false])).toEqual([["/gateway", false], ["/resume", true], ["/resume", true]]);
  });

  it("leaves out others' message content unless the client has MessageContent or is mentioned", async () => {
    const fake = await fakeDiscord();
    const client = newClient(fake, [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages]);
    await client.login(fake.token);
    await waitFor(() => client.isReady(), { what: "discord.js to emit ready", timeout: 5_000 });
    const seen: string[] = [];
    client.on(Events.MessageCreate, (m) => seen.push(m.content));
    const sim = createDiscordUserSim(fake);

    sim.say({ user: alice.id, content: "approve it" });
    sim.say({ user: alice.id, content: `<@${fake.applicationId}> approve it` });
    await waitFor(() => seen.length === 2, { what: "two MESSAGE_CREATE", timeout: 2_000 });
    expect(seen).toEqual(["", `<@${fake.applicationId}> approve it`]);
  });

  it("answers routes it lacks with 404 and records them", async () => {
    const fake = await fakeDiscord();
    const rest = new REST({ api: fake.apiUrl }).setToken(fake.token);

    await expect(rest.get(Routes.guildEmojis(fake.guildId))).rejects.toMatchObject({ status: 404, code: 0 });
    expect(fake.calls).toEqual([expect.objectContaining({ method: "GET", path: `/guilds/${fake.guildId}/emojis`, route: null, status: 404 })]);
  });
});
