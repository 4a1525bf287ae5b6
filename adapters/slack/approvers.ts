import type { RateLimitedApi } from "./rate-limited-api.ts";

/** How long a user group's member list is trusted before it is read again. */
const GROUP_CACHE_MS = 60_000;

/**
 * Who may decide: with no list, anyone who can click in the channel; otherwise the listed user ids
 * (U…, W…) and the members of the listed user groups (S…), read through usergroups.users.list.
 */
export function createApproverCheck(approvers: string[] | undefined, api: RateLimitedApi) {
  const groups = new Map<string, { members: Set<string>; at: number }>();

  async function members(group: string): Promise<Set<string>> {
    const cached = groups.get(group);
    if (cached && Date.now() - cached.at < GROUP_CACHE_MS) return cached.members;
    const result = await api.call("usergroups.users.list", undefined, () => api.client.usergroups.users.list({ usergroup: group }));
    const fresh = new Set(result.users ?? []);
    groups.set(group, { members: fresh, at: Date.now() });
    return fresh;
  }

  return async function isApprover(userId: string): Promise<boolean> {
    if (!approvers) return true;
    if (approvers.includes(userId)) return true;
    for (const group of approvers.filter((id) => id.startsWith("S"))) {
      if ((await members(group)).has(userId)) return true;
    }
    return false;
  };
}
