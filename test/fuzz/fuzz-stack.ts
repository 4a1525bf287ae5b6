/**
 * The one bot the fuzzer fires at: Slack (HTTP mode, signed requests) and Discord in one process,
 * the plugin's gate on, alice the only approver on each platform; and the targets: two requests the
 * real OpenCode asks, each with its card on both platforms.
 */
import type { OpencodeFixture } from "../support/opencode-fixture.ts";
import { discordCard } from "../support/discord-cards.ts";
import { alice, bob, discordPeople, mallory, PLUGIN_TOKEN, SIGNING_SECRET, startStack, CHANNEL, type Stack } from "../support/stack.ts";
import { person } from "./discord-cases.ts";
import type { DiscordPerson, FuzzTargets } from "./fuzz-targets.ts";
import type { Wire } from "./send-case.ts";

const GATE_POOL = { sessions: ["ses_fuzz_a", "ses_fuzz_b"], calls: ["call_0", "call_1", "call_2"] };

export async function startFuzzStack(shared?: OpencodeFixture, logLevel = "silent"): Promise<Stack> {
  return startStack(
    {
      platforms: ["slack", "discord"],
      approvers: alice.id,
      discordApprovers: discordPeople.alice.id,
      env: { CHATOPS_TOKEN: PLUGIN_TOKEN, LOG_LEVEL: logLevel },
    },
    shared,
  );
}

/** Creates the target requests through the gate and waits for their cards; returns what the cases aim at, and how to send them. */
export async function prepareTargets(stack: Stack, answerWithinMs: number): Promise<Wire> {
  const discord = stack.discord!;
  // Every waiter on the fake listens for its changes; the fuzzer keeps a few dozen waiting at once.
  discord.events.setMaxListeners(0);
  const botUrl = `http://127.0.0.1:${stack.bot.port}`;
  // Requests the real OpenCode asks and keeps listing: a resync (a chat reconnect starts one) leaves
  // them pending, where it would cancel a gate call whose session OpenCode does not run.
  const sessions = await Promise.all(["a", "b"].map((s) => stack.prompt(`RUN: echo fuzz target ${s} > /dev/null`, `fuzz target ${s}`)));
  const requestIds = await Promise.all(sessions.map(async (session) => (await stack.asked(session))[0]!.id));
  const slackCards = await Promise.all(requestIds.map((id) => stack.card(id, 30_000)));
  const discordCards = await Promise.all(requestIds.map((id) => discordCard(discord, id, 30_000)));
  const known = (id: string): DiscordPerson => {
    const member = discord.json.member(id);
    return { id, member, user: member.user as DiscordPerson["user"], permissions: discord.json.permissionsOf(id) };
  };
  const channelIds = [discord.channelId, ...new Set(discordCards.map((m) => m.channelId))];
  const targets: FuzzTargets = {
    requestIds,
    gatePool: GATE_POOL,
    slack: {
      channel: CHANNEL,
      cards: slackCards.map((m, i) => ({ ts: m.ts, threadTs: m.thread_ts ?? m.ts, requestId: requestIds[i]! })),
      approver: alice.id,
      others: [mallory.id, bob.id, "U0NOBODY01", "U0NOBODY02", "W0ENTERPRISE", "USLACKBOT", "", "U0ALICE ", "u0alice"],
    },
    discord: {
      guildId: discord.guildId,
      applicationId: discord.applicationId,
      channelId: discord.channelId,
      commands: Object.fromEntries([...discord.commands, ...discord.guildCommands].map((c) => [c.name, c.id])),
      cards: discordCards.map((m, i) => ({ messageId: m.id, channelId: m.channelId, requestId: requestIds[i]!, message: discord.json.message(m) })),
      approver: known(discordPeople.alice.id),
      // Non-approvers: members the fake knows, and one holding the approver's role without being the approver.
      others: [known(discordPeople.mallory.id), known(discordPeople.bob.id), person("200000000000000099", "alice", [discordPeople.leads.id])],
      channels: Object.fromEntries(channelIds.map((id) => [id, discord.json.channel(id)])),
    },
  };
  return { botUrl, signingSecret: SIGNING_SECRET, gateToken: PLUGIN_TOKEN, slack: stack.slack, slackUser: stack.user, discord, targets, answerWithinMs };
}
