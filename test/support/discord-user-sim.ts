import type { FakeCallback, FakeDiscord, FakeInteraction, FakeMessage, Json } from "./fake-discord.ts";

export type ClickButtonInput = { user: string; message: FakeMessage | string; customId: string };
/**
 * `values` by field custom_id (a string select takes an array). `shape` forces how the fields come
 * back: "label" (`components[].component`, what label-wrapped modals get) or "row" (action rows of
 * text inputs, `components[].components[]`); by default each field comes back in the shape it was sent.
 */
export type SubmitModalInput = { user: string; customId: string; values: Record<string, string | string[]>; shape?: "label" | "row" };
export type SayInput = { user: string; content: string; channelId?: string };

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
  function envelope(type: 3 | 5, user: string, channelId: string, data: Json, message?: FakeMessage): Omit<FakeInteraction, "id" | "token" | "createdAt"> {
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
    return { type, userId: user, channelId, customId: String(data.custom_id), messageId: message?.id, payload };
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
    say({ user, content, channelId }: SayInput): FakeMessage {
      return fake.postAsUser(user, channelId ?? fake.channelId, content);
    },
  };
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
