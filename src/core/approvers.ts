import type { Actor, ChatAdapter } from "./ports.ts";
import type { ChatPlatform } from "./types.ts";

/** Who may decide, per platform: user ids and group ids (a Slack user group, a Discord role); no list = anyone. */
export type ApproverLists = Partial<Record<ChatPlatform, string[]>>;

/**
 * The entries of a policy's `approvers` that name people of `platform`, in that platform's own list
 * form: Slack users and groups are written bare (or `slack:U…`), Discord users `discord:<id>` and
 * roles `discord:role:<id>` (the form DISCORD_APPROVERS takes without the prefix).
 */
export function approversOn(platform: ChatPlatform, entries: string[]): string[] {
  const prefixed = /^([a-z]+):(.*)$/;
  return entries.flatMap((entry) => {
    const match = prefixed.exec(entry.trim());
    const [on, id] = match && ["slack", "discord", "web"].includes(match[1]!) ? [match[1], match[2]!] : ["slack", entry.trim()];
    return on === platform && id ? [id] : [];
  });
}

/**
 * The approver check the core runs on every decision as it arrives: the actor is listed by id, has a
 * listed role (sent with the interaction), or belongs to a listed group (asked of the actor's adapter).
 * A policy's list (`approvers`), where given, replaces the platform lists; someone of a platform it
 * names nobody on is not an approver.
 */
export function createApproverCheck(lists: ApproverLists, adapters: ChatAdapter[]) {
  return async function mayDecide(actor: Actor, policyApprovers?: string[]): Promise<boolean> {
    const listed = policyApprovers && policyApprovers.length > 0 ? approversOn(actor.platform, policyApprovers) : lists[actor.platform];
    if (!listed) return true;
    if (listed.includes(actor.userId)) return true;
    if (actor.roles?.some((role) => listed.includes(role))) return true;
    const adapter = adapters.find((candidate) => candidate.platform === actor.platform);
    if (!adapter?.isMember) return false;
    for (const group of listed) {
      if (await adapter.isMember(group, actor.userId)) return true;
    }
    return false;
  };
}

export type ApproverCheck = ReturnType<typeof createApproverCheck>;
