import type { WebClient } from "@slack/web-api";
import type { ChatRef } from "../../src/core/types.ts";
import type { createRateLimitedApi } from "./rate-limited-api.ts";
import { escapeMrkdwn } from "./render.ts";

type Api = ReturnType<typeof createRateLimitedApi>;

/** Slack's mention of an approver-list entry: a user (U…, W…) or a user group (S…). */
const mention = (entry: string) => (entry.startsWith("S") ? `<!subteam^${entry}>` : `<@${entry}>`);

/**
 * Names and escalations on Slack: a user's `@name` (users.info), a post in the thread mentioning the
 * people and groups, and a direct message (conversations.open, then chat.postMessage) to each person,
 * a group's members included.
 */
export function createSlackEscalation(deps: {
  api: Api;
  client: WebClient;
  membersOf: (group: string) => Promise<Set<string>>;
  postInThread: (thread: ChatRef, rendered: { text: string; blocks: unknown[] }) => Promise<string>;
}) {
  const { api, client } = deps;
  return {
    async nameOf(entry: string): Promise<string | undefined> {
      if (!/^[UW]/.test(entry)) return undefined;
      const result = await api.call("users.info", undefined, () => client.users.info({ user: entry }));
      return result.user?.name ? `@${result.user.name}` : undefined;
    },

    async escalate(thread: ChatRef, people: string[], words: { thread: string; direct: string }): Promise<void> {
      const text = escapeMrkdwn(words.thread).replaceAll("{people}", people.map(mention).join(" "));
      await deps.postInThread(thread, { text, blocks: [] });
      const users = new Set<string>();
      for (const entry of people) {
        if (entry.startsWith("S")) for (const member of await deps.membersOf(entry)) users.add(member);
        else users.add(entry);
      }
      for (const user of users) {
        const opened = await api.call("conversations.open", undefined, () => client.conversations.open({ users: user }));
        const channel = opened.channel?.id;
        if (!channel) continue;
        await api.call("chat.postMessage", { posts: channel }, () => client.chat.postMessage({ channel, text: escapeMrkdwn(words.direct), unfurl_links: false }));
      }
    },
  };
}
