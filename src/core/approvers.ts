import type { Actor, ChatAdapter } from "./ports.ts";
import type { ChatPlatform } from "./types.ts";

/** Who may decide, per platform: user ids and group ids (a Slack user group, a Discord role); no list = anyone. */
export type ApproverLists = Partial<Record<ChatPlatform, string[]>>;

/**
 * The approver check the core runs on every decision as it arrives: the actor is listed by id, has a
 * listed role (sent with the interaction), or belongs to a listed group (asked of the actor's adapter).
 */
export function createApproverCheck(lists: ApproverLists, adapters: ChatAdapter[]) {
  return async function mayDecide(actor: Actor): Promise<boolean> {
    const listed = lists[actor.platform];
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
