import type { FakeCallback, FakeCommand, FakeCommandOption, FakeDiscord, FakeInteraction, FakeMessage, Json, UserFile } from "./fake-discord.ts";

export type ClickButtonInput = { user: string; message: FakeMessage | string; customId: string };
/**
 * `values` by field custom_id (a string select takes an array). `shape` forces how the fields come
 * back: "label" (`components[].component`, what label-wrapped modals get) or "row" (action rows of
 * text inputs, `components[].components[]`); by default each field comes back in the shape it was sent.
 */
export type SubmitModalInput = { user: string; customId: string; values: Record<string, string | string[]>; shape?: "label" | "row" };
/** A message typed in a channel or thread (default: the fake's text channel), with files attached. */
export type SayInput = { user: string; content: string; channelId?: string; attachments?: UserFile[] };
/**
 * `/name [group] [subcommand] option:value…` typed in a channel or thread (default: the fake's text
 * channel). User, channel and role options take ids, integer and number options numbers, boolean
 * options booleans; attachment options come in `attachments`, by option name.
 */
export type RunCommandInput = {
  user: string;
  channelId?: string;
  name: string;
  group?: string;
  subcommand?: string;
  options?: Record<string, string | number | boolean>;
  attachments?: Record<string, UserFile>;
};
/** A user typing in option `focused` of a command (an autocomplete option): its partial text is `options[focused]`. */
export type AutocompleteInput = Omit<RunCommandInput, "attachments"> & { focused: string };

/** What a user action returns: the interaction as dispatched, and its answers as the fake recorded them. */
export type InteractionHandle = {
  interactionId: string;
  token: string;
  interaction: FakeInteraction;
  /** The first accepted callback (status 200/204) for this interaction. */
  callback(timeoutMs?: number): Promise<FakeCallback>;
  /** Every callback received for it so far, refused ones included. */
  callbacks(): FakeCallback[];
};

export type DiscordUserSim = ReturnType<typeof createDiscordUserSim>;

/**
 * Acts as people in the Discord client: builds the INTERACTION_CREATE payloads Discord would send the
 * bot (documented shape: member with roles and permissions, channel object, the clicked message,
 * entitlements…) and dispatches them on the fake's gateway. Like the real client, it refuses what a
 * user cannot do (click a button the message lacks or that is disabled, submit a modal that is not
 * open, leave a required field empty) by throwing.
 */
export function createDiscordUserSim(fake: FakeDiscord) {
  function deliver(i: FakeInteraction): InteractionHandle {
    if (fake.gatewaySockets === 0) throw new Error("discord user sim: no bot is connected to the gateway");
    fake.dispatch("INTERACTION_CREATE", i.payload);
    return {
      interactionId: i.id,
      token: i.token,
      interaction: i,
      callback: (timeoutMs?: number) => fake.waitForCallback(i.id, timeoutMs),
      callbacks: () => fake.callbacks.filter((c) => c.interactionId === i.id),
    };
  }

  /** The fields every interaction in a guild channel carries. */
  function envelope(type: FakeInteraction["type"], user: string, channelId: string, data: Json, message?: FakeMessage): Omit<FakeInteraction, "id" | "token" | "createdAt"> {
    const permissions = fake.json.permissionsOf(user);
    const payload: Json = {
      type,
      application_id: fake.applicationId,
      guild_id: fake.guildId,
      guild: { id: fake.guildId, locale: "en-US", features: [] },
      channel: { ...fake.json.channel(channelId), permissions },
      channel_id: channelId,
      member: { ...fake.json.member(user), permissions },
      data,
      ...(message ? { message: fake.json.message(message) } : {}),
      app_permissions: fake.json.appPermissions,
      locale: "en-US",
      guild_locale: "en-US",
      entitlements: [],
      authorizing_integration_owners: { "0": fake.guildId },
      context: 0,
      attachment_size_limit: 10_485_760,
      version: 1,
    };
    return { type, userId: user, channelId, customId: typeof data.custom_id === "string" ? data.custom_id : "", messageId: message?.id, payload };
  }

  function register(base: Omit<FakeInteraction, "id" | "token" | "createdAt">): FakeInteraction {
    const i = fake.registerInteraction(base);
    Object.assign(i.payload, { id: i.id, token: i.token });
    return i;
  }

  return {
    /** Clicks button `customId` on `message` (a record or its id) as `user`. */
    async clickButton({ user, message, customId }: ClickButtonInput): Promise<InteractionHandle> {
      const m = typeof message === "string" ? fake.message(message) : message;
      if (!m || m.deleted) throw new Error(`discord user sim: no message ${String(typeof message === "string" ? message : message.id)}`);
      if (m.visibleTo !== undefined && m.visibleTo !== user) throw new Error(`discord user sim: ${user} cannot see ephemeral message ${m.id}`);
      const button = m.components.flatMap((row) => (Array.isArray(row.components) ? (row.components as Json[]) : [])).find((c) => c.type === 2 && c.custom_id === customId);
      if (!button) throw new Error(`discord user sim: message ${m.id} has no button ${customId}`);
      if (button.disabled === true) throw new Error(`discord user sim: button ${customId} is disabled`);
      return deliver(register(envelope(3, user, m.channelId, { custom_id: customId, component_type: 2, id: button.id }, m)));
    },

    /** Submits the open modal `customId` of `user` with `values`, as Discord sends it back. */
    async submitModal({ user, customId, values, shape }: SubmitModalInput): Promise<InteractionHandle> {
      const modal = [...fake.modals].reverse().find((x) => x.open && x.userId === user && x.customId === customId);
      if (!modal) throw new Error(`discord user sim: ${user} has no open modal ${customId}`);
      const unused = new Set(Object.keys(values));
      const components = modal.components.map((c) => submitted(c, values, unused, shape));
      if (unused.size) throw new Error(`discord user sim: modal ${customId} has no field ${[...unused].join(", ")}`);
      const message = modal.messageId ? fake.message(modal.messageId) : undefined;
      fake.closeModal(modal);
      return deliver(register(envelope(5, user, modal.channelId, { custom_id: customId, components }, message)));
    },

    /** Posts a message as `user` in a channel or thread (default: the fake's text channel). */
    say({ user, content, channelId, attachments = [] }: SayInput): FakeMessage {
      for (const f of attachments) tooLarge(f);
      return fake.postAsUser(user, channelId ?? fake.channelId, content, attachments);
    },

    /**
     * Runs registered slash command `name` as `user` (an APPLICATION_COMMAND interaction). Like the
     * client, refuses a command that is not registered or that the user may not use, a missing or
     * unknown subcommand, and options the command's schema refuses.
     */
    async runCommand(input: RunCommandInput): Promise<InteractionHandle> {
      const target = invocation(input);
      unknownOptions(target.label, target.leaf, [...Object.keys(input.options ?? {}), ...Object.keys(input.attachments ?? {})]);
      const { values, extra } = filled(input, target);
      return deliver(register(commandInteraction(2, input, target, values, extra)));
    },

    /**
     * Sends what the client sends while `user` types in option `focused` of command `name` (an
     * APPLICATION_COMMAND_AUTOCOMPLETE interaction): the filled options as typed values, the focused
     * one as its partial text with `focused: true`. Required options may still be missing.
     */
    async autocomplete(input: AutocompleteInput): Promise<InteractionHandle> {
      const target = invocation(input);
      unknownOptions(target.label, target.leaf, [...Object.keys(input.options ?? {}), input.focused]);
      const focused = target.leaf.find((o) => o.name === input.focused);
      if (!focused?.autocomplete) throw new Error(`discord user sim: option ${input.focused} of ${target.label} has no autocomplete`);
      const { values, extra } = filled(input, target, focused);
      return deliver(register(commandInteraction(4, input, target, values, { ...extra, version: target.command.version })));
    },
  };

  type Target = ReturnType<typeof invocation>;

  /**
   * The options as the client sends them, and `resolved` for users, channels, roles and files. With
   * `focused` (an autocomplete), that option carries its partial text and required ones may be missing.
   */
  function filled(input: RunCommandInput, { leaf, label }: Target, focused?: FakeCommandOption): { values: Json[]; extra: Json } {
    const resolved: Resolved = { users: {}, members: {}, roles: {}, channels: {}, attachments: {} };
    const values: Json[] = [];
    for (const o of leaf) {
      const value = input.options?.[o.name];
      const file = input.attachments?.[o.name];
      if (o.type === 11 ? value !== undefined : file !== undefined) throw new Error(`discord user sim: option ${o.name} of ${label} ${o.type === 11 ? "takes a file, in attachments" : "takes no file"}`);
      if (o === focused) values.push({ type: o.type, name: o.name, value: String(value ?? ""), focused: true });
      else if (file) values.push({ type: 11, name: o.name, value: attached(file, resolved) });
      else if (value !== undefined) values.push({ type: o.type, name: o.name, value: valueOf(label, o, value, resolved, input.user) });
      else if (o.required && !focused) throw new Error(`discord user sim: ${label} needs option ${o.name}`);
    }
    const found = Object.fromEntries(Object.entries(resolved).filter(([, v]) => Object.keys(v).length));
    return { values, extra: Object.keys(found).length ? { resolved: found } : {} };
  }

  /** The interaction's record and payload; its `data` nests the options in their subcommand, and that in its group. */
  function commandInteraction(type: 2 | 4, input: RunCommandInput, { command, channelId }: Target, values: Json[], extra: Json) {
    let options = values;
    if (input.subcommand !== undefined) options = [{ type: 1, name: input.subcommand, options }];
    if (input.group !== undefined) options = [{ type: 2, name: input.group, options }];
    const data = { id: command.id, name: command.name, type: 1, ...(command.guild_id ? { guild_id: command.guild_id } : {}), ...(options.length ? { options } : {}), ...extra };
    return { ...envelope(type, input.user, channelId, data), command: { id: command.id, name: command.name, group: input.group, subcommand: input.subcommand } };
  }

  /** The registered command (guild first, then global), the options of the chosen (sub)command, where it runs. */
  function invocation(input: Omit<RunCommandInput, "options" | "attachments">) {
    const command = [...fake.guildCommands, ...fake.commands].find((c) => c.type === 1 && c.name === input.name);
    if (!command) throw new Error(`discord user sim: no slash command /${input.name} is registered`);
    const channelId = input.channelId ?? fake.channelId;
    if (!fake.channels.has(channelId)) throw new Error(`discord user sim: no channel ${channelId}`);
    if (!mayUse(command, input.user)) throw new Error(`discord user sim: ${input.user} may not use /${input.name} here`);
    const label = `/${[input.name, input.group, input.subcommand].filter(Boolean).join(" ")}`;
    let level = command.options ?? [];
    if (input.group !== undefined) {
      const group = level.find((o) => o.type === 2 && o.name === input.group);
      if (!group) throw new Error(`discord user sim: /${input.name} has no subcommand group ${input.group}`);
      level = group.options ?? [];
    }
    if (input.subcommand !== undefined) {
      const found = level.find((o) => o.type === 1 && o.name === input.subcommand);
      if (!found) throw new Error(`discord user sim: ${label.replace(/ [^ ]+$/, "")} has no subcommand ${input.subcommand}`);
      level = found.options ?? [];
    }
    const nested = level.filter((o) => o.type === 1 || o.type === 2);
    if (nested.length) throw new Error(`discord user sim: ${label} needs one of ${nested.map((o) => o.name).join(", ")}`);
    return { command, leaf: level, channelId, label };
  }

  /** Whether the client offers `command` to `user` in the guild: its contexts and default_member_permissions. */
  function mayUse(command: FakeCommand, user: string): boolean {
    if (command.contexts && !command.contexts.includes(0)) return false;
    if (command.default_member_permissions === null) return true;
    const held = BigInt(fake.json.permissionsOf(user));
    const needed = BigInt(command.default_member_permissions);
    // ADMINISTRATOR may use everything; "0" leaves a command to administrators only.
    if (held & 8n) return true;
    return needed !== 0n && (held & needed) === needed;
  }

  /** Uploads a file for an attachment option: the value is its id, the attachment (ephemeral) is in `resolved`. */
  function attached(file: UserFile, resolved: Resolved): string {
    tooLarge(file);
    const stored = fake.storeUserFile(file);
    resolved.attachments[stored.id] = { ...fake.json.attachment(stored), ephemeral: true };
    return stored.id;
  }

  /** An option value as Discord sends it, after the client's checks; users, channels and roles go in `resolved`. */
  function valueOf(label: string, o: FakeCommandOption, value: string | number | boolean, resolved: Resolved, user: string): string | number | boolean {
    const wrong = (what: string) => new Error(`discord user sim: option ${o.name} of ${label} takes ${what}, not ${JSON.stringify(value)}`);
    switch (o.type) {
      case 3:
        if (typeof value !== "string") throw wrong("a string");
        if (o.min_length !== undefined && value.length < o.min_length) throw wrong(`at least ${o.min_length} characters`);
        if (o.max_length !== undefined && value.length > o.max_length) throw wrong(`at most ${o.max_length} characters`);
        return chosen(label, o, value);
      case 4:
      case 10:
        if (typeof value !== "number" || !Number.isFinite(value) || (o.type === 4 && !Number.isInteger(value))) throw wrong(o.type === 4 ? "an integer" : "a number");
        if (o.min_value !== undefined && value < o.min_value) throw wrong(`a value of at least ${o.min_value}`);
        if (o.max_value !== undefined && value > o.max_value) throw wrong(`a value of at most ${o.max_value}`);
        return chosen(label, o, value);
      case 5:
        if (typeof value !== "boolean") throw wrong("a boolean");
        return value;
      case 6:
      case 7:
      case 8:
      case 9:
        if (typeof value !== "string") throw wrong("an id");
        if (!resolve(o, value, resolved, user)) throw wrong(`the id of ${o.type === 9 ? "a user or role" : TYPE_NAMES[o.type]}`);
        return value;
      default:
        throw wrong(TYPE_NAMES[o.type] ?? `type ${o.type}`);
    }
  }

  /** Adds the user, member, channel or role with `id` to `resolved`, as Discord does; false if there is none to pick. */
  function resolve(o: FakeCommandOption, id: string, resolved: Resolved, user: string): boolean {
    if ((o.type === 6 || o.type === 9) && (fake.users.has(id) || fake.members.has(id))) {
      resolved.users[id] = fake.json.user(id);
      if (fake.members.has(id)) {
        // Resolved members are partial: no user, deaf or mute.
        const { user: _user, deaf: _deaf, mute: _mute, ...member } = fake.json.member(id);
        resolved.members[id] = { ...member, permissions: fake.json.permissionsOf(id) };
      }
      return true;
    }
    const role = o.type === 8 || o.type === 9 ? fake.json.role(id) : undefined;
    if (role) {
      resolved.roles[id] = role;
      return true;
    }
    const channel = o.type === 7 ? fake.channels.get(id) : undefined;
    if (!channel) return false;
    if (o.channel_types && !o.channel_types.includes(channel.type)) throw new Error(`discord user sim: option ${o.name} takes a channel of type ${o.channel_types.join(" or ")}, not ${channel.type}`);
    // A resolved channel carries the invoking member's permissions in it.
    resolved.channels[id] = { ...fake.json.anyChannel(id), permissions: fake.json.permissionsOf(user) };
    return true;
  }
}

type Resolved = Record<"users" | "members" | "roles" | "channels" | "attachments", Record<string, Json>>;
const TYPE_NAMES: Record<number, string> = { 3: "a string", 4: "an integer", 5: "a boolean", 6: "a user", 7: "a channel", 8: "a role", 9: "a mentionable", 10: "a number", 11: "an attachment" };

function unknownOptions(label: string, leaf: FakeCommandOption[], names: string[]): void {
  const unknown = names.filter((n) => !leaf.some((o) => o.name === n));
  if (unknown.length) throw new Error(`discord user sim: ${label} has no option ${unknown.join(", ")}`);
}

/** With `choices`, the client lets the user pick only among them. */
function chosen<T extends string | number>(label: string, o: FakeCommandOption, value: T): T {
  if (o.choices && !o.choices.some((c) => c.value === value)) {
    throw new Error(`discord user sim: option ${o.name} of ${label} takes one of ${o.choices.map((c) => JSON.stringify(c.value)).join(", ")}, not ${JSON.stringify(value)}`);
  }
  return value;
}

// The guild's upload limit, as the interaction's attachment_size_limit says.
function tooLarge(f: UserFile): void {
  const size = typeof f.data === "string" ? Buffer.byteLength(f.data) : f.data.length;
  if (size > 10_485_760) throw new Error(`discord user sim: ${f.filename} is larger than the 10 MiB upload limit`);
}

/** One top-level modal component as Discord returns it in a MODAL_SUBMIT: inputs carry their value(s). */
function submitted(c: Json, values: SubmitModalInput["values"], unused: Set<string>, shape?: SubmitModalInput["shape"]): Json {
  const field = c.type === 18 && isObj(c.component) ? c.component : c.type === 1 && Array.isArray(c.components) ? (c.components[0] as Json | undefined) : undefined;
  if (!field) return { type: c.type, id: c.id };
  const id = String(field.custom_id);
  unused.delete(id);
  const given = values[id];
  let answer: Json;
  if (field.type === 4) {
    const value = typeof given === "string" ? given : "";
    if (field.required !== false && value === "") throw new Error(`discord user sim: field ${id} is required`);
    if (typeof field.max_length === "number" && value.length > field.max_length) throw new Error(`discord user sim: field ${id} takes at most ${field.max_length} characters`);
    if (typeof field.min_length === "number" && value !== "" && value.length < field.min_length) throw new Error(`discord user sim: field ${id} takes at least ${field.min_length} characters`);
    answer = { type: 4, id: field.id, custom_id: id, value };
  } else {
    answer = { type: field.type, id: field.id, custom_id: id, values: Array.isArray(given) ? given : given === undefined ? [] : [given] };
  }
  const asLabel = shape ? shape === "label" : c.type === 18;
  return asLabel ? { type: 18, id: c.id, component: answer } : { type: 1, id: c.id, components: [answer] };
}

const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
