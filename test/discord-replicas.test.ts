import { afterEach, describe, expect, it } from "vitest";
import { GATEWAY_LEASE } from "../adapters/discord/connection.ts";
import { openDatabase, type Database, type Lease } from "../src/store/database.ts";
import { onePlatform } from "./support/chat-driver.ts";
import { discordCard, discordCardSays, isDiscordCard } from "./support/discord-cards.ts";
import type { FakeMessage } from "./support/fake-discord.ts";
import { discordPeople } from "./support/stack.ts";
import { stackPerTest } from "./support/stack-per-test.ts";
import { waitFor } from "./support/wait-for.ts";

type Health = { code: number; chat: Record<string, string>; opencode: string };
const health = async (port: number): Promise<Health> => {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`);
  return { code: res.status, ...((await res.json()) as Omit<Health, "code">) };
};
const { alice } = discordPeople;

// Several processes share a database only on Postgres (PGlite's files admit one process).
describe.skipIf(!process.env.TEST_DATABASE_URL)("two bot processes on one Postgres, on Discord", () => {
  // The test holds the gateway's lease while the first process starts: that one follows the stream
  // and posts its cards over REST, and no process is on the gateway until the test lets go.
  let held: { database: Database; lease?: Lease } | undefined;
  const stack = stackPerTest(
    onePlatform("discord", {
      process: true,
      database: "postgres",
      beforeBot: async (env) => {
        const database = await openDatabase({ url: env.DATABASE_URL, dataDir: env.DATA_DIR! });
        held = { database, lease: await database.tryLease(GATEWAY_LEASE) };
      },
    }),
  );
  afterEach(async () => {
    await held?.database.close();
    held = undefined;
  });

  /** Approves `card` as alice at whichever process holds the gateway, and waits for OpenCode's one reply. */
  async function approve(card: FakeMessage, requestId: string): Promise<void> {
    const click = await stack.discordUser!.clickButton({ user: alice.id, message: card, customId: `approval:once:${requestId}` });
    expect((await click.callback()).type).toBe(6);
    await discordCardSays(stack.discord!, requestId, new RegExp(`Approved once by <@${alice.id}>`));
    await waitFor(() => stack.replies(requestId).length === 1, { what: `the one permission.replied for ${requestId}` });
  }

  it("one gateway connection at a time; cards posted by the stream's follower without it; the holder killed, the other connects within 5 s and serves clicks", async () => {
    const discord = stack.discord!;
    expect(held?.lease).toBeDefined();
    expect(await health(stack.bot.port)).toMatchObject({ code: 200, opencode: "ready", chat: { discord: "standby" } });
    expect(discord.identifies).toHaveLength(0);

    // The stream's follower posts the card over REST while no process is on the gateway.
    const session = await stack.prompt("RUN: echo one > /dev/null");
    const [asked] = await stack.asked(session);
    const card = await discordCard(discord, asked!.id, 15_000);
    expect(discord.gatewaySockets).toBe(0);

    const replica = await stack.startReplica();
    expect(await health(replica.port)).toMatchObject({ code: 200, opencode: "standby", chat: { discord: "standby" } });
    // The replica is to take the gateway, so the first process, paused, does not ask meanwhile.
    stack.bot.signal!("SIGSTOP");
    try {
      await held!.lease!.release();
      await waitFor(async () => (await health(replica.port)).chat.discord === "ready", { what: "the replica to connect to the gateway", timeout: 10_000 });
    } finally {
      // A stopped process would not hear the SIGTERM that ends the test.
      stack.bot.signal!("SIGCONT");
    }
    expect(await health(stack.bot.port)).toMatchObject({ code: 200, opencode: "ready", chat: { discord: "standby" } });
    expect(discord.identifies).toHaveLength(1);
    // /metrics says which process holds the gateway.
    const chatState = async (port: number) => (await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).match(/^chatops_chat_state\{platform="discord",state="(\w+)"\} 1$/m)?.[1];
    expect([await chatState(replica.port), await chatState(stack.bot.port)]).toEqual(["ready", "standby"]);
    await approve(card, asked!.id);

    // The stream's follower posts while the other process holds the gateway, and the holder serves the click.
    const next = await stack.prompt("RUN: echo two > /dev/null");
    const [second] = await stack.asked(next);
    await approve(await discordCard(discord, second!.id, 15_000), second!.id);
    expect(discord.messages.filter((message) => isDiscordCard(message, second!.id))).toHaveLength(1);

    // The holder dies; the first process takes the gateway over (the lock went with the killed one's connection).
    await replica.kill();
    const killedAt = Date.now();
    await waitFor(async () => (await health(stack.bot.port)).chat.discord === "ready" && discord.gatewaySockets === 1, {
      what: "the first process to connect to the gateway",
      timeout: 10_000,
    });
    expect(Date.now() - killedAt).toBeLessThan(5_000);
    expect(discord.identifies).toHaveLength(2);
    const third = await stack.prompt("RUN: echo three > /dev/null");
    const [asked3] = await stack.asked(third);
    await approve(await discordCard(discord, asked3!.id, 15_000), asked3!.id);
    expect(discord.peakGatewaySockets).toBe(1);
  });
});
