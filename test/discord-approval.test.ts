import { GatewayIntentBits } from "discord.js";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { inProcessBot, type BotRunner } from "./support/bot-runner.ts";
import { copyPgliteTemplate } from "./support/database-template.ts";
import { createDiscordUserSim, type DiscordUserSim } from "./support/discord-user-sim.ts";
import { startFakeDiscord, type FakeDiscord, type FakeMessage } from "./support/fake-discord.ts";
import { sharedOpencode } from "./support/stack-per-test.ts";
import { discordCard, discordCardSays, isDiscordCard } from "./support/discord-cards.ts";
import { waitFor, waitForFile } from "./support/wait-for.ts";

// The approval loop on Discord alone (no Slack variables): real discord.js against the fake gateway
// and REST API, the real OpenCode server, a fresh bot and fake Discord per test.
const alice = { id: "200000000000000001", username: "alice" };
const mallory = { id: "200000000000000002", username: "mallory" };
const leads = { id: "300000000000000001", name: "leads" };

// "Always" adds allow rules to the whole directory in OpenCode: a project of its own keeps them from other files.
const opencode = sharedOpencode({ ownProject: true });

describe("the approval loop on Discord", () => {
  let discord: FakeDiscord;
  let user: DiscordUserSim;
  let bot: BotRunner;
  let dataDir: string;
  let env: Record<string, string>;

  beforeEach(async () => {
    discord = await startFakeDiscord({ users: [alice, mallory], roles: [leads], members: [{ user: alice.id, roles: [leads.id] }, { user: mallory.id }] });
    user = createDiscordUserSim(discord);
    dataDir = await mkdtemp(join(tmpdir(), "chatops-discord-"));
    await copyPgliteTemplate(join(dataDir, "pglite"));
    const fixture = opencode();
    env = {
      OPENCODE_URL: fixture.opencode.url,
      ...(fixture.password ? { OPENCODE_SERVER_PASSWORD: fixture.password } : {}),
      DISCORD_TOKEN: discord.token,
      DISCORD_APPLICATION_ID: discord.applicationId,
      DISCORD_CHANNEL: discord.channelId,
      DISCORD_API_URL: discord.apiUrl,
      DISCORD_APPROVERS: `role:${leads.id}`,
      DATA_DIR: dataDir,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "warn",
    };
    bot = await inProcessBot(env);
  });

  afterEach(async () => {
    await bot?.stop();
    await discord?.close().catch(() => undefined); // one test closes it itself
    await opencode().clearPending();
    await opencode().emptyProject();
    await rm(dataDir, { recursive: true, force: true });
  });

  const file = (name: string) => join(opencode().opencode.projectDir, name);
  const cardText = (message: FakeMessage) => JSON.stringify(message.embeds);
  const card = (requestId: string) => discordCard(discord, requestId);
  const cardSays = (requestId: string, pattern: RegExp) => discordCardSays(discord, requestId, pattern);

  it("Approve once: a thread from a starter naming the project, a card with the four buttons, one reply, the card names the decider", async () => {
    const session = await opencode().prompt("RUN: echo approved > discord-approved.txt", "deploy docs");
    const [asked] = await opencode().asked(session);
    const posted = await card(asked!.id);

    // Guilds, GuildMessages and MessageContent, the one privileged intent; no GuildMembers, no Presences.
    expect(discord.identifies.map((identify) => identify.intents)).toEqual([GatewayIntentBits.Guilds | GatewayIntentBits.GuildMessages | GatewayIntentBits.MessageContent]);
    const thread = discord.threads.find((t) => t.id === posted.channelId);
    expect(thread).toBeDefined();
    const starter = discord.messages.find((m) => m.id === posted.channelId)!;
    expect(starter.channelId).toBe(discord.channelId);
    expect(starter.content).toContain("deploy docs");
    expect(starter.content).toContain(opencode().opencode.projectDir);
    expect(cardText(posted)).toContain("echo approved > discord-approved.txt");
    const labels = posted.components.flatMap((row) => (row.components as Array<{ label: string }>).map((button) => button.label));
    expect(labels).toEqual(["Approve once", "Always", "Reject", "Edit"]);

    const click = await user.clickButton({ user: alice.id, message: posted, customId: `approval:once:${asked!.id}` });
    expect((await click.callback()).type).toBe(6);
    await waitForFile(file("discord-approved.txt"), "approved\n");
    const decided = await cardSays(asked!.id, /Approved once by <@200000000000000001> after \d+ s/);
    expect(decided.components).toEqual([]);
    await waitFor(() => opencode().replies(asked!.id).length === 1, { what: "the one permission.replied" });
  });

  it("Reject opens a modal with a reason; the model reads the reason and the card quotes it", async () => {
    const session = await opencode().prompt("RUN: rm -rf discord-reject-me");
    const [asked] = await opencode().asked(session);
    const posted = await card(asked!.id);
    const click = await user.clickButton({ user: alice.id, message: posted, customId: `approval:reject:${asked!.id}` });
    expect((await click.callback()).type).toBe(9);
    const modal = discord.modals.find((m) => m.interactionId === click.interactionId)!;
    expect(modal.customId).toBe(`form:reject:${asked!.id}`);
    await user.submitModal({ user: alice.id, customId: modal.customId, values: { reason: "use the staging bucket" } });
    await cardSays(asked!.id, /Rejected by <@200000000000000001> after \d+ s: “use the staging bucket”/);
    await waitFor(() => opencode().llm.requests.some((r) => JSON.stringify(r.messages).includes("use the staging bucket")), {
      what: "the model to receive the rejection reason",
    });
  });

  it("Edit opens a modal pre-filled with the command; the edited command is the one that runs", async () => {
    const session = await opencode().prompt("RUN: echo original > discord-edit-original.txt");
    const [asked] = await opencode().asked(session);
    const posted = await card(asked!.id);
    const click = await user.clickButton({ user: alice.id, message: posted, customId: `approval:edit:${asked!.id}` });
    expect((await click.callback()).type).toBe(9);
    const modal = discord.modals.find((m) => m.interactionId === click.interactionId)!;
    expect(JSON.stringify(modal.components)).toContain("echo original > discord-edit-original.txt");
    await user.submitModal({ user: alice.id, customId: modal.customId, values: { command: "echo edited > discord-edit-edited.txt" } });
    await waitForFile(file("discord-edit-edited.txt"), "edited\n", { timeout: 20_000 });
    expect(existsSync(file("discord-edit-original.txt"))).toBe(false);
    await cardSays(asked!.id, /Edited by <@200000000000000001>/);
  });

  it("20 concurrent clicks: every one acknowledged within Discord's 3 s, exactly one reply to OpenCode", async () => {
    const session = await opencode().prompt("RUN: echo once > discord-concurrent.txt");
    const [asked] = await opencode().asked(session);
    const posted = await card(asked!.id);
    const clicks = await Promise.all(
      Array.from({ length: 20 }, () => user.clickButton({ user: alice.id, message: posted, customId: `approval:once:${asked!.id}` })),
    );
    const answers = await Promise.all(clicks.map((click) => click.callback()));
    expect(answers.every((answer) => answer.status < 300)).toBe(true);
    await waitForFile(file("discord-concurrent.txt"), "once\n");
    await waitFor(() => opencode().replies(asked!.id).length === 1, { what: "the one permission.replied" });
    expect(opencode().replies(asked!.id)).toHaveLength(1);
  });

  it("a question's choice answered with one button reaches the model", async () => {
    const session = await opencode().prompt("ASK: Which colour? ;; red | blue");
    const asked = await waitFor(
      () => opencode().events.flatMap((e) => (e.payload.type === "question.asked" && e.payload.properties.sessionID === session ? [e.payload.properties] : []))[0],
      { what: `question.asked for ${session}`, timeout: 20_000 },
    );
    const posted = await card(asked.id);
    expect(cardText(posted)).toContain("Which colour?");
    await user.clickButton({ user: alice.id, message: posted, customId: `question:option:1:${asked.id}` });
    await cardSays(asked.id, /Answered by <@200000000000000001> after \d+ s: “blue”/);
    await waitFor(() => opencode().llm.requests.some((r) => JSON.stringify(r.messages).includes('\\"Which colour?\\"=\\"blue\\"')), {
      what: "the model to receive the answer",
    });
  });

  it("a command too long for the card is cut there and attached whole; too long for a modal, Edit says why instead", async () => {
    const long = `echo ${"x".repeat(4100)} > discord-long.txt`;
    const session = await opencode().prompt(`RUN: ${long}`);
    const [asked] = await opencode().asked(session);
    const posted = await card(asked!.id);
    expect(cardText(posted).length).toBeLessThan(long.length);
    expect(posted.attachments.map((a) => [a.filename, a.text])).toEqual([[`${asked!.id}.txt`, long]]);

    const click = await user.clickButton({ user: alice.id, message: posted, customId: `approval:edit:${asked!.id}` });
    expect((await click.callback()).type).toBe(4);
    const note = await waitFor(() => discord.messages.find((m) => m.visibleTo === alice.id), { what: "an ephemeral note to alice" });
    expect(note.content).toMatch(/longer than Discord lets a dialog hold \(4000 characters\)/);
    expect(discord.modals).toHaveLength(0);
  });

  it("the gateway lost and resumed by discord.js: /healthz is back to ready and cards and clicks work as before", async () => {
    discord.dropGateway(4000);
    await waitFor(() => discord.gatewayConnections.some((connection) => connection.resumed), { what: "discord.js to resume the gateway session" });
    await waitFor(
      async () => {
        const health = (await (await fetch(`http://127.0.0.1:${bot.port}/healthz`)).json()) as { chat: Record<string, string> };
        return health.chat.discord === "ready";
      },
      { what: "/healthz to say Discord is ready again" },
    );
    const session = await opencode().prompt("RUN: echo resumed > discord-resumed.txt");
    const [asked] = await opencode().asked(session);
    const posted = await card(asked!.id);
    await user.clickButton({ user: alice.id, message: posted, customId: `approval:once:${asked!.id}` });
    await waitForFile(file("discord-resumed.txt"), "resumed\n");
  });

  it("a decision made in OpenCode itself closes the Discord card", async () => {
    const session = await opencode().prompt("RUN: echo from-tui > discord-tui.txt");
    const [asked] = await opencode().asked(session);
    await card(asked!.id);
    await opencode().opencode.client.permission.reply({ requestID: asked!.id, reply: "once" });
    await waitForFile(file("discord-tui.txt"), "from-tui\n");
    const closed = await cardSays(asked!.id, /Approved once in OpenCode/);
    expect(closed.components).toEqual([]);
  });

  it("the bot restarted on the same data: the card posted before still decides, and no second card appears", async () => {
    const session = await opencode().prompt("RUN: echo survived > discord-survived.txt");
    const [asked] = await opencode().asked(session);
    const posted = await card(asked!.id);
    await bot.stop();
    bot = await inProcessBot(env);
    await user.clickButton({ user: alice.id, message: posted, customId: `approval:once:${asked!.id}` });
    await waitForFile(file("discord-survived.txt"), "survived\n");
    await cardSays(asked!.id, /Approved once by <@200000000000000001>/);
    expect(discord.messages.filter((m) => isDiscordCard(m, asked!.id))).toHaveLength(1);
  });

  it("rejecting one of two sibling requests closes the other as OpenCode's cascade; an aborted session closes its card", async () => {
    const session = await opencode().prompt("RUN2: echo a > discord-sibling-a.txt ;; echo b > discord-sibling-b.txt");
    const [first, second] = await opencode().asked(session, 2);
    const posted = await card(first!.id);
    await card(second!.id);
    await user.clickButton({ user: alice.id, message: posted, customId: `approval:reject:${first!.id}` });
    await waitFor(() => discord.modals.find((m) => m.customId === `form:reject:${first!.id}` && m.open), { what: "the reject modal" });
    await user.submitModal({ user: alice.id, customId: `form:reject:${first!.id}`, values: { reason: "not both" } });
    await cardSays(first!.id, /Rejected by <@200000000000000001>/);
    await cardSays(second!.id, /Rejected by OpenCode's cascade: alice rejected request/);
    expect(existsSync(file("discord-sibling-a.txt")) || existsSync(file("discord-sibling-b.txt"))).toBe(false);

    const aborted = await opencode().prompt("RUN: echo never > discord-aborted.txt");
    const [asked] = await opencode().asked(aborted);
    await card(asked!.id);
    await opencode().opencode.client.session.abort({ sessionID: aborted });
    const closed = await cardSays(asked!.id, /Cancelled: the session was stopped/);
    expect(closed.components).toEqual([]);
  });

  it("/healthz answers 503 while Discord is unreachable", async () => {
    const health = async () => {
      const res = await fetch(`http://127.0.0.1:${bot.port}/healthz`);
      return { status: res.status, body: (await res.json()) as { chat: Record<string, string> } };
    };
    expect(await health()).toMatchObject({ status: 200, body: { chat: { discord: "ready" } } });
    discord.dropGateway("destroy");
    await discord.close();
    const down = await waitFor(async () => {
      const now = await health();
      return now.status === 503 ? now : undefined;
    }, { what: "/healthz to answer 503 with Discord gone" });
    expect(down.body.chat.discord).toBe("connecting");
  });

  it("someone without an approver role is told so, ephemerally, and nothing is sent to OpenCode", async () => {
    const session = await opencode().prompt("RUN: echo guarded > discord-guarded.txt");
    const [asked] = await opencode().asked(session);
    const posted = await card(asked!.id);
    const click = await user.clickButton({ user: mallory.id, message: posted, customId: `approval:once:${asked!.id}` });
    await click.callback();
    const note = await waitFor(() => discord.messages.find((m) => m.visibleTo === mallory.id), { what: "an ephemeral note to mallory" });
    expect(note.content).toMatch(/^You are not an approver for this/);
    expect(note.flags & 64).toBe(64);
    // Alice, who holds the role, still decides it: the refusal changed nothing.
    await user.clickButton({ user: alice.id, message: posted, customId: `approval:once:${asked!.id}` });
    await waitForFile(file("discord-guarded.txt"), "guarded\n");
    await waitFor(() => opencode().replies(asked!.id).length === 1, { what: "the one permission.replied, alice's" });
    await cardSays(asked!.id, /Approved once by <@200000000000000001>/);
  });

  // Last: the rule it adds holds for the whole directory until OpenCode restarts.
  it("Always: the card says what it allows, and OpenCode runs the next matching command without asking", async () => {
    const session = await opencode().prompt("RUN: touch discord-always-1.txt");
    const [asked] = await opencode().asked(session);
    const posted = await card(asked!.id);
    expect(cardText(posted)).toContain("touch \\\\*");
    await user.clickButton({ user: alice.id, message: posted, customId: `approval:always:${asked!.id}` });
    await waitFor(() => existsSync(file("discord-always-1.txt")), { what: "discord-always-1.txt" });
    await cardSays(asked!.id, /Always approved by <@200000000000000001> .*touch/);
    const second = await opencode().prompt("RUN: touch discord-always-2.txt");
    await waitFor(() => existsSync(file("discord-always-2.txt")), { what: "discord-always-2.txt, run without asking" });
    expect(opencode().events.some((e) => e.payload.type === "permission.asked" && e.payload.properties.sessionID === second)).toBe(false);
  });
});
