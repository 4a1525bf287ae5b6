import type { Client, Collection, Guild, SendableChannels } from "discord.js";
import type { ChatRef } from "../../src/core/types.ts";
import { decodeRef } from "./refs.ts";

/** An approver-list entry of Discord's: a user id, or `role:<id>`. */
const roleOf = (entry: string) => (entry.startsWith("role:") ? entry.slice("role:".length) : undefined);

/**
 * Names and escalations on Discord: a user's `@name` or a role's `@name`; a post in the thread that
 * mentions the users and roles (and pings them), and a direct message to each user, a role's members
 * included (read with the guild's member list, which needs the Server Members intent enabled for the
 * application in the developer portal; without it only the users listed by id get one).
 */
export function createDiscordEscalation(
  connection: { readonly client: Client; guilds(): Promise<Collection<string, Guild>> },
  sendable: (channelId: string) => Promise<SendableChannels>,
) {
  return {
    async nameOf(entry: string): Promise<string | undefined> {
      const role = roleOf(entry);
      if (role) {
        const found = (await connection.guilds()).map((guild) => guild.roles.cache.get(role)).find(Boolean);
        return found ? `@${found.name}` : undefined;
      }
      const user = await connection.client.users.fetch(entry).catch(() => undefined);
      return user ? `@${user.username}` : undefined;
    },

    async escalate(threadRef: ChatRef, people: string[], words: { thread: string; direct: string }): Promise<void> {
      const thread = await sendable(decodeRef(threadRef).channel);
      const roles = people.flatMap((entry) => (roleOf(entry) ? [roleOf(entry)!] : []));
      const users = new Set(people.filter((entry) => !roleOf(entry)));
      const mentions = people.map((entry) => (roleOf(entry) ? `<@&${roleOf(entry)}>` : `<@${entry}>`)).join(" ");
      await thread.send({ content: words.thread.replaceAll("{people}", mentions), allowedMentions: { users: [...users], roles } });
      const guild = "guild" in thread ? thread.guild : undefined;
      if (guild && roles.length > 0) {
        const members = await guild.members.list({ limit: 1000 }).catch(() => undefined);
        for (const member of members?.values() ?? []) if (roles.some((role) => member.roles.cache.has(role))) users.add(member.id);
      }
      for (const id of users) {
        const user = await connection.client.users.fetch(id).catch(() => undefined);
        await user?.send({ content: words.direct, allowedMentions: { parse: [] } });
      }
    },
  };
}
