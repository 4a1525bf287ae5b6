import { GatewayIntentBits } from "discord.js";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chatDriver, onePlatform } from "./support/chat-driver.ts";
import { discordCard, discordCardSays } from "./support/discord-cards.ts";
import type { FakeMessage } from "./support/fake-discord.ts";
import { discordPeople } from "./support/stack.ts";
import { stackPerTest } from "./support/stack-per-test.ts";
import { waitFor, waitForFile } from "./support/wait-for.ts";

// What only Discord has: the gateway's intents and resumes, interaction callbacks and their types,
// attachments, one-click question buttons. The cases both platforms share are in approval-loop.test.ts.
const { alice, mallory } = discordPeople;

describe("the approval loop on Discord: what only Discord has", () => {
  const stack = stackPerTest(onePlatform("discord"));
  const file = (name: string) => join(stack.opencode.projectDir, name);
  const cardText = (message: FakeMessage) => JSON.stringify(message.embeds);
  const card = (requestId: string) => discordCard(stack.discord!, requestId);
  const cardSays = (requestId: string, pattern: RegExp) => discordCardSays(stack.discord!, requestId, pattern);

  it("the intents asked for; a click deferred (6) at once, Reject answered with a modal (9), a refusal ephemeral (64); 20 clicks each acknowledged", async () => {
    // Guilds, GuildMessages and MessageContent, the one privileged intent; no GuildMembers, no Presences.
    expect(stack.discord!.identifies.map((identify) => identify.intents)).toEqual([GatewayIntentBits.Guilds | GatewayIntentBits.GuildMessages | GatewayIntentBits.MessageContent]);
    const session = await stack.prompt("RUN: echo acked > discord-acked.txt");
    const [asked] = await stack.asked(session);
    const posted = await card(asked!.id);

    const refused = await stack.discordUser!.clickButton({ user: mallory.id, message: posted, customId: `approval:once:${asked!.id}` });
    await refused.callback();
    expect((await chatDriver(stack, "discord").noticeTo({ id: mallory.id, name: mallory.username }, /not an approver/)).length).toBeGreaterThan(0);
    expect(stack.discord!.messages.find((m) => m.visibleTo === mallory.id)!.flags & 64).toBe(64);

    const reject = await stack.discordUser!.clickButton({ user: alice.id, message: posted, customId: `approval:reject:${asked!.id}` });
    expect((await reject.callback()).type).toBe(9);
    const clicks = await Promise.all(
      Array.from({ length: 20 }, () => stack.discordUser!.clickButton({ user: alice.id, message: posted, customId: `approval:once:${asked!.id}` })),
    );
    const answers = await Promise.all(clicks.map((click) => click.callback()));
    expect(answers.every((answer) => answer.status < 300)).toBe(true);
    // The first answer to each click is a deferred update, well within Discord's 3 s.
    expect(new Set(answers.map((answer) => answer.type))).toEqual(new Set([6]));
    expect(Math.max(...answers.map((answer, i) => answer.at - clicks[i]!.interaction.createdAt))).toBeLessThan(3000);
    await waitForFile(file("discord-acked.txt"), "acked\n");
    await waitFor(() => stack.replies(asked!.id).length === 1, { what: "the one permission.replied" });
  });

  it("a question's choice answered with one button reaches the model", async () => {
    const session = await stack.prompt("ASK: Which colour? ;; red | blue");
    const asked = await waitFor(
      () => stack.events.flatMap((e) => (e.payload.type === "question.asked" && e.payload.properties.sessionID === session ? [e.payload.properties] : []))[0],
      { what: `question.asked for ${session}`, timeout: 20_000 },
    );
    const posted = await card(asked.id);
    expect(cardText(posted)).toContain("Which colour?");
    await stack.discordUser!.clickButton({ user: alice.id, message: posted, customId: `question:option:1:${asked.id}` });
    await cardSays(asked.id, /Answered by <@200000000000000001> after \d+ s: “blue”/);
    await waitFor(() => stack.llm.requests.some((r) => JSON.stringify(r.messages).includes('\\"Which colour?\\"=\\"blue\\"')), {
      what: "the model to receive the answer",
    });
  });

  it("a command too long for the card is cut there and attached whole; too long for a modal, Edit says why instead", async () => {
    const long = `echo ${"x".repeat(4100)} > discord-long.txt`;
    const session = await stack.prompt(`RUN: ${long}`);
    const [asked] = await stack.asked(session);
    const posted = await card(asked!.id);
    expect(cardText(posted).length).toBeLessThan(long.length);
    expect(posted.attachments.map((a) => [a.filename, a.text])).toEqual([[`${asked!.id}.txt`, long]]);

    const click = await stack.discordUser!.clickButton({ user: alice.id, message: posted, customId: `approval:edit:${asked!.id}` });
    expect((await click.callback()).type).toBe(4);
    const note = await waitFor(() => stack.discord!.messages.find((m) => m.visibleTo === alice.id), { what: "an ephemeral note to alice" });
    expect(note.content).toMatch(/longer than Discord lets a dialog hold \(4000 characters\)/);
    expect(stack.discord!.modals).toHaveLength(0);
  });

  it("the gateway lost and resumed by discord.js: /healthz is back to ready and cards and clicks work as before", async () => {
    stack.discord!.dropGateway(4000);
    await waitFor(() => stack.discord!.gatewayConnections.some((connection) => connection.resumed), { what: "discord.js to resume the gateway session" });
    await waitFor(
      async () => {
        const health = (await (await fetch(`http://127.0.0.1:${stack.bot.port}/healthz`)).json()) as { chat: Record<string, string> };
        return health.chat.discord === "ready";
      },
      { what: "/healthz to say Discord is ready again" },
    );
    const session = await stack.prompt("RUN: echo resumed > discord-resumed.txt");
    const [asked] = await stack.asked(session);
    const posted = await card(asked!.id);
    await stack.discordUser!.clickButton({ user: alice.id, message: posted, customId: `approval:once:${asked!.id}` });
    await waitForFile(file("discord-resumed.txt"), "resumed\n");
  });

  it("/healthz answers 503 while Discord is unreachable", async () => {
    const health = async () => {
      const res = await fetch(`http://127.0.0.1:${stack.bot.port}/healthz`);
      return { status: res.status, body: (await res.json()) as { chat: Record<string, string> } };
    };
    expect(await health()).toMatchObject({ status: 200, body: { chat: { discord: "ready" } } });
    stack.discord!.dropGateway("destroy");
    await stack.discord!.close();
    const down = await waitFor(async () => {
      const now = await health();
      return now.status === 503 ? now : undefined;
    }, { what: "/healthz to answer 503 with Discord gone" });
    expect(down.body.chat.discord).toBe("connecting");
  });
});
