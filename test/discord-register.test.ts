import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeDiscord, type FakeDiscord } from "./support/fake-discord.ts";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..");

// `npm run discord:register` as a user runs it, against the fake Discord's REST API.
describe("npm run discord:register", () => {
  let discord: FakeDiscord;
  beforeAll(async () => {
    discord = await startFakeDiscord();
  });
  afterAll(async () => {
    await discord?.close();
  });

  it("registers /opencode with its subcommands in DISCORD_GUILD_ID, and says where", async () => {
    const env = {
      ...process.env,
      DISCORD_TOKEN: discord.token,
      DISCORD_APPLICATION_ID: discord.applicationId,
      DISCORD_CHANNEL: discord.channelId,
      DISCORD_GUILD_ID: discord.guildId,
      DISCORD_API_URL: discord.apiUrl,
    };
    const { stdout } = await run("npm", ["run", "--silent", "discord:register"], { cwd: root, env });
    expect(stdout.trim()).toBe(`/opencode registered for guild ${discord.guildId}`);
    const [command] = discord.guildCommands;
    expect(command?.name).toBe("opencode");
    expect(command?.options?.map((option) => option.name)).toEqual(["run", "project", "sessions", "status", "stop", "costs", "digest", "policy", "help"]);
  });
});
