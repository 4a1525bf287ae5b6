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
  MessageFlags,
  ModalBuilder,
  REST,
  Routes,
  SlashCommandBuilder,
  TextInputBuilder,
  TextInputStyle,
  type AutocompleteInteraction,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
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

/** `/opencode project add|remove …`, `/opencode status` and `/opencode edit`: a group, subcommands and every option kind the bot uses. */
const opencodeCommand = () =>
  new SlashCommandBuilder()
    .setName("opencode")
    .setDescription("Drive OpenCode from Discord")
    .addSubcommandGroup((group) =>
      group
        .setName("project")
        .setDescription("Projects the bot may open sessions in")
        .addSubcommand((sub) =>
          sub
            .setName("add")
            .setDescription("Add a project")
            .addStringOption((o) => o.setName("name").setDescription("Its name").setRequired(true).setAutocomplete(true))
            .addStringOption((o) => o.setName("mode").setDescription("Agent mode").addChoices({ name: "Plan", value: "plan" }, { name: "Build", value: "build" }))
            .addIntegerOption((o) => o.setName("limit").setDescription("Sessions at once").setMinValue(1))
            .addUserOption((o) => o.setName("owner").setDescription("Who owns it"))
            .addAttachmentOption((o) => o.setName("config").setDescription("An opencode.json")),
        )
        .addSubcommand((sub) => sub.setName("remove").setDescription("Remove a project").addStringOption((o) => o.setName("name").setDescription("Its name").setRequired(true))),
    )
    .addSubcommand((sub) => sub.setName("status").setDescription("What is running"))
    .addSubcommand((sub) => sub.setName("edit").setDescription("Edit settings in a form"));

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

  it("registers commands with commands.set, REST PUT and POST, and refuses an invalid body with 50035", async () => {
    const fake = await fakeDiscord();
    const { client } = await readyClient(fake);
    const rest = new REST({ api: fake.apiUrl }).setToken(fake.token);

    const set = await client.application!.commands.set([opencodeCommand()], fake.guildId);
    const stored = fake.guildCommands[0]!;
    expect(fake.guildCommands).toHaveLength(1);
    expect(stored).toMatchObject({ application_id: fake.applicationId, guild_id: fake.guildId, type: 1, name: "opencode", default_member_permissions: null, nsfw: false, contexts: null, integration_types: null });
    expect(stored.options?.[0]).toMatchObject({ type: 2, name: "project", options: [{ type: 1, name: "add" }, { type: 1, name: "remove" }] });
    expect(stored.options?.[0]?.options?.[0]?.options?.[0]).toEqual({ type: 3, name: "name", description: "Its name", required: true, autocomplete: true });
    expect(set.first()).toMatchObject({ id: stored.id, guildId: fake.guildId, name: "opencode" });

    // Bulk overwrite by REST: a command of the same name keeps its id; one left out is gone.
    const body = [opencodeCommand().setDescription("Drive OpenCode").toJSON(), { name: "approve", description: "Approve the pending request" }];
    const put = (await rest.put(Routes.applicationGuildCommands(fake.applicationId, fake.guildId), { body })) as Array<{ id: string; name: string; version: string }>;
    expect(put.map((c) => c.name)).toEqual(["opencode", "approve"]);
    expect(put[0]).toMatchObject({ id: stored.id, description: "Drive OpenCode" });
    expect(put[0]!.version).not.toBe(stored.version);
    expect(fake.guildCommands.map((c) => c.name)).toEqual(["opencode", "approve"]);
    const fetched = await client.application!.commands.fetch({ guildId: fake.guildId });
    expect([...fetched.values()].map((c) => c.name)).toEqual(["opencode", "approve"]);

    // POST creates (201) or replaces by name (200); global commands are a list of their own.
    await client.application!.commands.create({ name: "digest", description: "Today's summary", defaultMemberPermissions: "0" });
    await rest.post(Routes.applicationCommands(fake.applicationId), { body: { name: "digest", description: "Yesterday's summary" } });
    expect(fake.commands).toEqual([expect.objectContaining({ name: "digest", description: "Yesterday's summary", default_member_permissions: null })]);
    expect(fake.commands[0]).not.toHaveProperty("guild_id");
    expect(fake.calls.filter((c) => c.route === "POST /applications/:app/commands").map((c) => c.status)).toEqual([201, 200]);

    const invalid = [
      { name: "Approve", description: "Uppercase" },
      { name: "long", description: "x".repeat(101) },
      { name: "late", description: "Required after optional", options: [{ type: 3, name: "a", description: "a" }, { type: 3, name: "b", description: "b", required: true }] },
      { name: "deep", description: "A group in a subcommand", options: [{ type: 1, name: "sub", description: "s", options: [{ type: 2, name: "group", description: "g" }] }] },
      { name: "many", description: "Too many options", options: Array.from({ length: 26 }, (_, i) => ({ type: 3, name: `o${i}`, description: "o" })) },
    ];
    const refused = await rest.put(Routes.applicationGuildCommands(fake.applicationId, fake.guildId), { body: invalid }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DiscordAPIError);
    expect(refused).toMatchObject({ code: 50035, status: 400, message: expect.stringContaining("Invalid Form Body") });
    expect((refused as DiscordAPIError).rawError).toMatchObject({
      errors: {
        "0": { name: { _errors: [{ code: "APPLICATION_COMMAND_INVALID_NAME" }] } },
        "1": { description: { _errors: [{ code: "BASE_TYPE_BAD_LENGTH" }] } },
        "2": { options: { "1": { _errors: [{ code: "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID" }] } } },
        "3": { options: { "0": { options: { "0": { _errors: [{ code: "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID" }] } } } } },
        "4": { options: { _errors: [{ code: "BASE_TYPE_MAX_LENGTH", message: "Must be 25 or fewer in length." }] } },
      },
    });
    await expect(client.application!.commands.create({ name: "nodescription" } as never, fake.guildId)).rejects.toMatchObject({ code: 50035 });
    expect(fake.guildCommands.map((c) => c.name)).toEqual(["opencode", "approve"]);
  });

  it("delivers a slash command as a ChatInputCommandInteraction, answered by an ephemeral defer and edit, a reply, a follow-up or a modal", async () => {
    const fake = await fakeDiscord();
    const { client, channel } = await readyClient(fake);
    const sim = createDiscordUserSim(fake);
    await client.application!.commands.set([opencodeCommand()], fake.guildId);
    const read: unknown[] = [];
    const failures: unknown[] = [];
    const answer = async (i: ChatInputCommandInteraction) => {
      const sub = i.options.getSubcommand();
      if (sub === "add") {
        read.push({ command: i.command?.name, guild: i.commandGuildId, group: i.options.getSubcommandGroup(), sub, name: i.options.getString("name"), mode: i.options.getString("mode"), limit: i.options.getInteger("limit"), owner: i.options.getUser("owner")?.username, config: i.options.getAttachment("config")?.name, url: i.options.getAttachment("config")?.url, roles: i.member && "roles" in i.member && !Array.isArray(i.member.roles) ? i.member.roles.cache.has(approvers.id) : null });
        await i.deferReply({ flags: MessageFlags.Ephemeral });
        await i.editReply(`Added ${i.options.getString("name", true)}`);
      } else if (sub === "status") {
        read.push({ group: i.options.getSubcommandGroup(), sub, channel: i.channelId, text: i.toString() });
        await i.reply("Nothing is running");
        await i.followUp({ content: "Ask again later", flags: MessageFlags.Ephemeral });
      } else {
        // A command has no message to update: Discord refuses 6 (and 7), and the interaction stays unanswered.
        await client.rest.post(Routes.interactionCallback(i.id, i.token), { body: { type: 6 }, auth: false }).catch((e: unknown) => read.push(apiCode(e)));
        await i.showModal(editModal("settings-modal"));
      }
    };
    client.on(Events.InteractionCreate, (i) => {
      if (i.isChatInputCommand()) answer(i).catch((error: unknown) => failures.push(error));
    });

    const add = await sim.runCommand({ user: alice.id, name: "opencode", group: "project", subcommand: "add", options: { name: "web", mode: "build", limit: 2, owner: alice.id }, attachments: { config: { filename: "opencode.json", data: '{"model":"x"}' } } });
    expect(add.interaction.payload).toMatchObject({ type: 2, data: { name: "opencode", type: 1, guild_id: fake.guildId, options: [{ type: 2, name: "project", options: [{ type: 1, name: "add", options: [{ type: 3, name: "name", value: "web" }, { type: 3, name: "mode", value: "build" }, { type: 4, name: "limit", value: 2 }, { type: 6, name: "owner", value: alice.id }, { type: 11, name: "config" }] }] }] } });
    expect(await add.callback()).toMatchObject({ type: 5, data: { flags: 64 } });
    const added = await fake.waitForMessage((m) => m.interactionId === add.interactionId && m.content === "Added web");
    expect(added).toMatchObject({ channelId: fake.channelId, flags: 64, visibleTo: alice.id, via: "callback" });
    expect(added.history.map((v) => [v.content, v.flags])).toEqual([["", 64 | 128], ["Added web", 64]]);
    expect(fake.messages.filter((m) => m.interactionId === add.interactionId)).toHaveLength(1);
    await waitFor(() => read.length === 1, { what: "the add command to be read", timeout: 2_000 });
    const { url, ...options } = read[0] as { url: string };
    expect(options).toEqual({ command: "opencode", guild: fake.guildId, group: "project", sub: "add", name: "web", mode: "build", limit: 2, owner: "alice", config: "opencode.json", roles: true });
    expect(await (await fetch(url)).text()).toBe('{"model":"x"}');

    const thread = await (await channel.send("session ses_1")).startThread({ name: "session ses_1" });
    const status = await sim.runCommand({ user: alice.id, channelId: thread.id, name: "opencode", subcommand: "status" });
    expect(await status.callback()).toMatchObject({ type: 4, data: { content: "Nothing is running" } });
    const reply = await fake.waitForMessage((m) => m.interactionId === status.interactionId && m.via === "callback");
    expect(reply).toMatchObject({ channelId: thread.id, content: "Nothing is running", flags: 0, visibleTo: undefined });
    expect(fake.json.message(reply)).toMatchObject({ type: 20, interaction: { name: "opencode status" }, interaction_metadata: { type: 2 } });
    const followUp = await fake.waitForMessage((m) => m.interactionId === status.interactionId && m.via === "followup");
    expect(followUp).toMatchObject({ channelId: thread.id, content: "Ask again later", flags: 64, visibleTo: alice.id });
    expect(read[1]).toEqual({ group: null, sub: "status", channel: thread.id, text: "/opencode status" });

    const edit = await sim.runCommand({ user: alice.id, name: "opencode", subcommand: "edit" });
    expect(await edit.callback()).toMatchObject({ type: 9, data: { custom_id: "settings-modal" } });
    expect(fake.modals.at(-1)).toMatchObject({ interactionId: edit.interactionId, userId: alice.id, open: true });
    expect(edit.callbacks().map((c) => [c.type, c.status])).toEqual([[6, 400], [9, 204]]);
    expect(read[2]).toBe(50035);
    expect(failures).toEqual([]);
  });

  it("sends autocompletes with the focused option, records respond()'s choices, and refuses more than 25", async () => {
    const fake = await fakeDiscord();
    const { client } = await readyClient(fake);
    const sim = createDiscordUserSim(fake);
    await client.application!.commands.set([opencodeCommand()], fake.guildId);
    const focused: unknown[] = [];
    const refusals: unknown[] = [];
    const suggest = async (i: AutocompleteInteraction) => {
      const typed = i.options.getFocused(true);
      focused.push({ name: typed.name, value: typed.value, mode: i.options.getString("mode"), sub: i.options.getSubcommand() });
      // An autocomplete is answered with choices (type 8) only, never with a message.
      if (typed.value === "message") await client.rest.post(Routes.interactionCallback(i.id, i.token), { body: { type: 4, data: { content: "hi" } }, auth: false }).catch((e: unknown) => refusals.push(apiCode(e)));
      const count = typed.value === "many" ? 26 : 2;
      await i.respond(Array.from({ length: count }, (_, n) => ({ name: `${typed.value}-${n}`, value: `${typed.value}-${n}` })));
    };
    client.on(Events.InteractionCreate, (i) => {
      if (i.isAutocomplete()) suggest(i).catch((e: unknown) => refusals.push(apiCode(e)));
    });

    const typing = await sim.autocomplete({ user: alice.id, name: "opencode", group: "project", subcommand: "add", options: { name: "we", mode: "plan" }, focused: "name" });
    expect(typing.interaction.payload).toMatchObject({ type: 4, data: { options: [{ type: 2, options: [{ type: 1, options: [{ type: 3, name: "name", value: "we", focused: true }, { type: 3, name: "mode", value: "plan" }] }] }] } });
    expect(await typing.callback()).toMatchObject({ type: 8, data: { choices: [{ name: "we-0", value: "we-0" }, { name: "we-1", value: "we-1" }] } });
    expect(typing.interaction.choices).toEqual([expect.objectContaining({ name: "we-0", value: "we-0" }), expect.objectContaining({ name: "we-1" })]);
    expect(focused).toEqual([{ name: "name", value: "we", mode: "plan", sub: "add" }]);

    const many = await sim.autocomplete({ user: alice.id, name: "opencode", group: "project", subcommand: "add", options: { name: "many" }, focused: "name" });
    await waitFor(() => refusals.length === 1, { what: "26 choices to be refused", timeout: 2_000 });
    expect(refusals).toEqual([50035]);
    expect(many.callbacks()).toEqual([expect.objectContaining({ type: 8, status: 400, code: 50035 })]);
    const message = await sim.autocomplete({ user: alice.id, name: "opencode", group: "project", subcommand: "add", options: { name: "message" }, focused: "name" });
    expect(await message.callback()).toMatchObject({ type: 8 });
    expect(message.callbacks().map((c) => [c.type, c.status])).toEqual([[4, 400], [8, 204]]);
    expect(fake.messages.filter((m) => m.interactionId === message.interactionId)).toEqual([]);
    await expect(sim.autocomplete({ user: alice.id, name: "opencode", group: "project", subcommand: "remove", focused: "name" })).rejects.toThrow(/has no autocomplete/);
  });

  it("refuses, like the client, commands that are not registered and options the schema does not take", async () => {
    const fake = await fakeDiscord();
    const { client } = await readyClient(fake);
    const sim = createDiscordUserSim(fake);
    const run = (input: Partial<Parameters<typeof sim.runCommand>[0]>) => sim.runCommand({ user: alice.id, name: "opencode", group: "project", subcommand: "add", ...input });

    await expect(run({ options: { name: "web" } })).rejects.toThrow(/no slash command \/opencode is registered/);
    await client.application!.commands.set([opencodeCommand(), { name: "admin", description: "Administrators only", defaultMemberPermissions: "0" }], fake.guildId);
    await expect(run({ options: {} })).rejects.toThrow(/\/opencode project add needs option name/);
    await expect(run({ options: { name: "web", colour: "red" } })).rejects.toThrow(/has no option colour/);
    await expect(run({ options: { name: "web", limit: "2" } })).rejects.toThrow(/option limit of \/opencode project add takes an integer/);
    await expect(run({ options: { name: "web", limit: 0 } })).rejects.toThrow(/at least 1/);
    await expect(run({ options: { name: "web", mode: "yolo" } })).rejects.toThrow(/takes one of "plan", "build", not "yolo"/);
    await expect(run({ options: { name: "web", owner: "404" } })).rejects.toThrow(/takes the id of a user/);
    await expect(run({ subcommand: "rename", options: {} })).rejects.toThrow(/\/opencode project has no subcommand rename/);
    await expect(run({ group: undefined, subcommand: undefined })).rejects.toThrow(/\/opencode needs one of project, status, edit/);
    await expect(run({ name: "admin", group: undefined, subcommand: undefined })).rejects.toThrow(/may not use \/admin/);
    expect(fake.interactions.size).toBe(0);
  });

  it("delivers a user's message with attachments whose url serves the bytes without a token", async () => {
    const fake = await fakeDiscord();
    const { client } = await readyClient(fake);
    const sim = createDiscordUserSim(fake);
    const created: Message[] = [];
    client.on(Events.MessageCreate, (m) => created.push(m));

    const said = sim.say({ user: alice.id, content: "the failing log", attachments: [{ filename: "run.txt", data: "exit 1\n" }, { filename: "shot.png", contentType: "image/png", data: Buffer.from([0x89, 0x50]) }] });
    expect(said.attachments.map((a) => [a.filename, a.contentType, a.size])).toEqual([["run.txt", "text/plain; charset=utf-8", 7], ["shot.png", "image/png", 2]]);
    const seen = await waitFor(() => created.find((m) => m.id === said.id), { what: "MESSAGE_CREATE with the attachments", timeout: 2_000 });
    const log = seen.attachments.first()!;
    expect(log).toMatchObject({ name: "run.txt", size: 7, contentType: "text/plain; charset=utf-8", proxyURL: log.url });
    const response = await fetch(log.url);
    expect(await response.text()).toBe("exit 1\n");
    expect(response.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(Buffer.from(await (await fetch(seen.attachments.last()!.url)).arrayBuffer())).toEqual(Buffer.from([0x89, 0x50]));
    expect(fake.calls).not.toContainEqual(expect.objectContaining({ path: expect.stringContaining("attachments") }));
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

    const files: number[] = [];
    client.on(Events.MessageCreate, (m) => files.push(m.attachments.size));
    sim.say({ user: alice.id, content: "approve it", attachments: [{ filename: "why.txt", data: "because" }] });
    sim.say({ user: alice.id, content: `<@${fake.applicationId}> approve it` });
    await waitFor(() => seen.length === 2, { what: "two MESSAGE_CREATE", timeout: 2_000 });
    expect(seen).toEqual(["", `<@${fake.applicationId}> approve it`]);
    expect(files).toEqual([0, 0]);
  });

  it("opens one DM channel per person for user.send() and createDM(), and takes their reply there", async () => {
    const bob = { id: "200000000000000002", username: "bob" };
    // bob is no guild member: the DM opens, but Discord refuses to deliver to him.
    const fake = await fakeDiscord({ users: [alice, bob] });
    const client = newClient(fake, [GatewayIntentBits.Guilds, GatewayIntentBits.DirectMessages]);
    await client.login(fake.token);
    await waitFor(() => client.isReady(), { what: "discord.js to emit ready", timeout: 5_000 });
    const replies: Message[] = [];
    client.on(Events.MessageCreate, (m) => void (m.author.id === alice.id && replies.push(m)));

    const user = await client.users.fetch(alice.id);
    const sent = await user.send("Approval needed: `rm -rf build`");
    const dm = await user.createDM(true);
    const buttons = await dm.send({ ...card("approve"), content: "Still waiting" });
    fake.postAsUser(alice.id, dm.id, "ok, approving");

    expect(fake.dmOf(alice.id)).toBe(dm.id);
    expect(sent.channelId).toBe(dm.id);
    expect([dm.type, dm.recipientId, sent.guildId]).toEqual([ChannelType.DM, alice.id, null]);
    expect(fake.messages.filter((m) => m.channelId === dm.id).map((m) => [m.authorId, m.content])).toEqual([
      [fake.bot.id, "Approval needed: `rm -rf build`"],
      [fake.bot.id, "Still waiting"],
      [alice.id, "ok, approving"],
    ]);
    expect(fake.message(buttons.id)?.components).toMatchObject([{ type: 1, components: [{ type: 2, custom_id: "approve" }] }]);
    expect(fake.calls.filter((c) => c.route === "POST /users/@me/channels").map((c) => [c.status, c.body])).toEqual([[200, { recipient_id: alice.id }], [200, { recipient_id: alice.id }]]);
    expect(fake.json.anyChannel(dm.id)).toEqual({ id: dm.id, type: 1, last_message_id: fake.messages.at(-1)!.id, flags: 0, recipients: [fake.json.user(alice.id)] });
    // A DM carries its content without MessageContent, and no guild.
    const reply = await waitFor(() => replies[0], { what: "alice's reply in the DM", timeout: 2_000 });
    expect([reply.channelId, reply.content, reply.guildId]).toEqual([dm.id, "ok, approving", null]);

    const bobDm = await (await client.users.fetch(bob.id)).createDM();
    expect(fake.dmOf(bob.id)).toBe(bobDm.id);
    expect(apiCode(await bobDm.send("hi").catch((e: unknown) => e))).toBe(50007);
    const rest = new REST({ api: fake.apiUrl }).setToken(fake.token);
    await expect(rest.post(Routes.userChannels(), { body: { recipient_id: "999999999999999999" } })).rejects.toMatchObject({ status: 400, code: 50033 });
    await expect(rest.post(Routes.userChannels(), { body: {} })).rejects.toMatchObject({ status: 400, code: 50035 });
    await expect(rest.post(Routes.threads(dm.id), { body: { name: "t", type: 11 } })).rejects.toMatchObject({ status: 400, code: 50003 });
    expect(fake.dmOf("999999999999999999")).toBeUndefined();
  });

  it("lists guild members by ascending id after `after`, for guild.members.list(), only with GuildMembers on", async () => {
    const bob = { id: "200000000000000002", username: "bob" };
    const fake = await fakeDiscord({ users: [bob, alice], members: [{ user: bob.id }, { user: alice.id, roles: [approvers.id] }], privilegedIntents: ["MessageContent", "GuildMembers"] });
    const { client } = await readyClient(fake);
    const guild = client.guilds.cache.get(fake.guildId)!;

    const all = await guild.members.list({ limit: 1000 });
    const page = await guild.members.list({ limit: 1, after: alice.id });

    expect([...all.keys()]).toEqual([alice.id, bob.id, fake.bot.id]);
    expect(all.get(alice.id)!.roles.cache.has(approvers.id)).toBe(true);
    expect(all.get(bob.id)!.user.username).toBe("bob");
    expect([...page.keys()]).toEqual([bob.id]);
    const rest = new REST({ api: fake.apiUrl }).setToken(fake.token);
    expect(await rest.get(Routes.guildMembers(fake.guildId))).toEqual([fake.json.member(alice.id)]);
    await expect(rest.get(Routes.guildMembers(fake.guildId), { query: new URLSearchParams({ limit: "1001" }) })).rejects.toMatchObject({ status: 400, code: 50035 });
    await expect(rest.get(Routes.guildMembers("1"))).rejects.toMatchObject({ status: 404, code: 10004 });
    const without = await fakeDiscord();
    await expect(new REST({ api: without.apiUrl }).setToken(without.token).get(Routes.guildMembers(without.guildId))).rejects.toMatchObject({ status: 403, code: 50001 });
  });

  it("answers routes it lacks with 404 and records them", async () => {
    const fake = await fakeDiscord();
    const rest = new REST({ api: fake.apiUrl }).setToken(fake.token);

    await expect(rest.get(Routes.guildEmojis(fake.guildId))).rejects.toMatchObject({ status: 404, code: 0 });
    expect(fake.calls).toEqual([expect.objectContaining({ method: "GET", path: `/guilds/${fake.guildId}/emojis`, route: null, status: 404 })]);
  });
});
