/**
 * What the generated inputs aim at: the pending requests the driver created through the gate, their
 * cards on each platform, and who is who. Approvers are alice alone on each platform, so no generated
 * input may decide anything: alice's own inputs are forged (bad signature) or name no real request.
 */
import type { Json } from "../support/fake-discord.ts";

export type SlackCardRef = { ts: string; threadTs: string; requestId: string };
export type DiscordCardRef = { messageId: string; channelId: string; requestId: string; message: Json };
/** A Discord person as the interaction shows them: `member` in a guild channel, `user` alone in a DM. */
export type DiscordPerson = { id: string; member: Json; user: Json; permissions: string };

export type FuzzTargets = {
  /** Ids of the pending requests the gate created before the run. */
  requestIds: string[];
  /** The gate's (session, call) pairs the generator may use: a bounded number of cards whatever it draws. */
  gatePool: { sessions: string[]; calls: string[] };
  slack: {
    channel: string;
    cards: SlackCardRef[];
    /** The one approver; only forged requests act as them. */
    approver: string;
    /** Non-approvers, and ids nobody in the workspace has. */
    others: string[];
  };
  discord: {
    guildId: string;
    applicationId: string;
    channelId: string;
    /** Registered commands: id by name. */
    commands: Record<string, string>;
    cards: DiscordCardRef[];
    approver: DiscordPerson;
    others: DiscordPerson[];
    /** Channel JSON by id, for the channel field of interactions in known channels. */
    channels: Record<string, Json>;
  };
};
