/**
 * `npm run discord:register`: registers `/opencode` with Discord, in DISCORD_GUILD_ID when it is set
 * (at once), else globally (Discord may take up to an hour to show global commands everywhere).
 * Reads DISCORD_TOKEN, DISCORD_APPLICATION_ID, DISCORD_GUILD_ID and DISCORD_API_URL.
 */
import { REST, Routes } from "discord.js";
import { loadConfig } from "../../src/config.ts";
import { opencodeCommand } from "./commands.ts";
import { discordRestOptions } from "./connection.ts";

/** Overwrites the application's commands with `/opencode`; returns where it registered them. */
export async function registerDiscordCommands(config: { token: string; applicationId?: string; guildId?: string; apiUrl: string }): Promise<string> {
  if (!config.applicationId) throw new Error("DISCORD_APPLICATION_ID is required to register commands (the Application ID on the app's General Information page)");
  const rest = new REST(discordRestOptions(config.apiUrl)).setToken(config.token);
  const route = config.guildId ? Routes.applicationGuildCommands(config.applicationId, config.guildId) : Routes.applicationCommands(config.applicationId);
  await rest.put(route, { body: [opencodeCommand] });
  return config.guildId ? `guild ${config.guildId}` : "every server the app is in (global; may take up to an hour to appear)";
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { discord } = loadConfig();
  if (!discord) {
    console.error("discord:register: set DISCORD_TOKEN (and DISCORD_APPLICATION_ID, DISCORD_CHANNEL)");
    process.exit(2);
  }
  registerDiscordCommands(discord).then(
    (where) => console.log(`/opencode registered for ${where}`),
    (error: unknown) => {
      console.error(`discord:register: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}
