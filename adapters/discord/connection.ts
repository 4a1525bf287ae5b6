import { once } from "node:events";
import { Client, Events, GatewayIntentBits, Options, Routes, type Channel, type Collection, type Guild, type RESTOptions } from "discord.js";
import type { DiscordConfig } from "./discord-adapter.ts";
import { holdLease, type Leases } from "../../src/core/lease-holder.ts";
import type { Logger } from "../../src/core/logger.ts";
import type { ChatStatus } from "../../src/core/ports.ts";

/**
 * discord.js's REST options: our API base, a timeout, and Node's own fetch for the calls. Its default
 * sends through undici 6's `request()` on the process's global dispatcher, which is whichever undici
 * loaded first; when that is Slack's (undici 7), every request with a file (a FormData body) fails
 * with "action is not a function". fetch serializes the body itself (test/discord-files.test.ts).
 */
export function discordRestOptions(api: string) {
  // A request handler per route and major id (an interaction's id: one per click) is kept until it has
  // been idle this long; discord.js's default of an hour would hold a busy hour's clicks.
  return { api, timeout: 10_000, handlerSweepInterval: 60_000, makeRequest: fetch as unknown as NonNullable<RESTOptions["makeRequest"]> };
}

/** How long login may take before it gives up with a clear error. */
const READY_TIMEOUT_MS = 30_000;
/** The lease of the one process, of several on one database, that holds Discord's gateway connection. */
export const GATEWAY_LEASE = "discord-gateway";

/**
 * The adapter's discord.js client and its gateway connection. Intents: Guilds, GuildMessages and
 * MessageContent (the one privileged intent, for thread replies as prompts). With `leases` (several
 * bot processes on one database) only the holder of GATEWAY_LEASE logs in to the gateway, so each
 * click, command and message reaches one process; the others stand by and ask for the lease every
 * second, to take over when the holder dies. Every process posts and edits over REST, with the
 * token set and no login. A client that leaves the gateway is destroyed and a fresh one stands by
 * (discord.js never gets a destroyed client ready again), wired by `wire` as each one is.
 */
export function createDiscordConnection(options: { config: DiscordConfig; logger: Logger; leases?: Leases; onReconnected?: () => void }) {
  const { config, logger } = options;
  let wire: (client: Client) => void = () => {};
  let client = newClient();
  let gateway: ChatStatus = "connecting";
  let holder: ReturnType<typeof holdLease> | undefined;
  let botId: string | undefined;
  let connectedBefore = false;

  function newClient(): Client {
    const created = new Client({
      intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent],
      rest: discordRestOptions(config.apiUrl),
      // discord.js keeps every user, member and message it hears of, forever by default: in a busy
      // guild (or under npm run fuzz's interactions from 3,500 users) that is the bot's memory growing.
      // The bot reads them by id over REST where it needs them, so a bounded cache is enough.
      makeCache: Options.cacheWithLimits({
        ...Options.DefaultMakeCacheSettings,
        UserManager: { maxSize: 1_000, keepOverLimit: (user) => user.id === user.client.user.id },
        GuildMemberManager: { maxSize: 1_000, keepOverLimit: (member) => member.id === member.client.user.id },
      }),
    });
    created.rest.setToken(config.token);
    // A resume, or a new session after a lost one: either way events may have been missed meanwhile.
    const connected = () => {
      if (created !== client || gateway === "stopped") return;
      gateway = "ready";
      if (connectedBefore) options.onReconnected?.();
      connectedBefore = true;
    };
    const dropped = () => void (created === client && gateway !== "stopped" && (gateway = "connecting"));
    created.on(Events.ShardReady, connected);
    created.on(Events.ShardResume, connected);
    created.on(Events.ShardDisconnect, dropped);
    created.on(Events.ShardReconnecting, dropped);
    created.on(Events.Error, (error) => logger.error({ err: error }, "Discord client error"));
    wire(created);
    return created;
  }

  async function logIn(): Promise<void> {
    const ready = once(client, Events.ClientReady, { signal: AbortSignal.timeout(READY_TIMEOUT_MS) }).catch((error: Error) => {
      throw new Error(`Discord did not get ready within ${READY_TIMEOUT_MS / 1000} s`, { cause: error });
    });
    try {
      await Promise.all([client.login(config.token), ready]);
    } catch (error) {
      await leaveGateway();
      throw error;
    }
    gateway = "ready";
    logger.info({ user: client.user?.tag, channel: config.channel }, "Discord adapter ready");
  }

  /** Destroys the client (off the gateway) and, unless stopping, stands a fresh one by for REST. */
  async function leaveGateway(): Promise<void> {
    const left = client;
    if (gateway !== "stopped") {
      client = newClient();
      gateway = "connecting";
    }
    await left.destroy();
  }

  async function channel(channelId: string): Promise<Channel | null> {
    const found = (await client.channels.fetch(channelId)) ?? (await inItsGuild(channelId));
    // A thread's parent too, as GUILD_CREATE would have cached it (a thread's starter message is read there).
    if (found?.isThread() && found.parentId && !found.parent) await client.channels.fetch(found.parentId);
    return found;
  }

  async function inItsGuild(channelId: string): Promise<Channel | null> {
    const data = (await client.rest.get(Routes.channel(channelId))) as { guild_id?: string };
    if (!data.guild_id) return null;
    await client.guilds.fetch(data.guild_id);
    return client.channels.fetch(channelId);
  }

  return {
    /** The client now: the gateway's while this process holds it, else one for REST alone. */
    get client() {
      return client;
    },
    /** "standby" while another process holds the gateway: this one posts and edits, and hears nothing. */
    status: (): ChatStatus => (gateway === "stopped" ? "stopped" : holder?.state() === "standby" ? "standby" : gateway),

    /** Wires each client with `wireClient`, then logs in, or stands by: resolves when it can post. */
    async start(wireClient: (client: Client) => void): Promise<void> {
      wire = wireClient;
      wire(client);
      if (!options.leases) return logIn();
      holder = holdLease({ leases: options.leases, name: GATEWAY_LEASE, logger, onHeld: logIn, onLost: leaveGateway });
      await holder.started;
      if (holder.state() === "standby") logger.info({ channel: config.channel }, "another process holds Discord's gateway: this one posts over REST and stands by");
    },

    async stop(): Promise<void> {
      gateway = "stopped";
      await holder?.stop();
      await client.destroy();
    },

    /**
     * A channel or thread by id: from the cache, else over REST. Without the gateway no GUILD_CREATE
     * made the guild known, and discord.js resolves a guild channel only in a known guild (else
     * null): then the guild is read over REST first.
     */
    channel,

    /** The guilds the bot is known in: the gateway's, or without it that of the configured channel. */
    async guilds(): Promise<Collection<string, Guild>> {
      if (client.guilds.cache.size === 0) await channel(config.channel);
      return client.guilds.cache;
    },

    /** The bot's own user id: READY's, or without the gateway read over REST once. */
    async botId(): Promise<string> {
      return client.user?.id ?? (botId ??= (await client.users.fetch("@me")).id);
    },
  };
}
