import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeDiscord, type FakeDiscord } from "./support/fake-discord.ts";

const run = promisify(execFile);

// discord.js's REST client sends files as FormData through undici 6; whichever undici loads first
// owns the process's global dispatcher, and undici 7's (Bolt's) does not take undici 6's FormData. In a
// fresh process (a module cache and dispatcher of its own), Bolt loaded first must not break uploads.
describe("Discord files in a process where Slack's Bolt loaded first", () => {
  let discord: FakeDiscord;
  beforeAll(async () => {
    discord = await startFakeDiscord();
  });
  afterAll(async () => {
    await discord?.close();
  });

  it("a card's body still goes up whole as a file", async () => {
    const script = join(import.meta.dirname, "support/post-discord-file.ts");
    const { stdout } = await run(process.execPath, ["--import", "tsx", script, discord.apiUrl, discord.token, discord.channelId], { cwd: join(import.meta.dirname, "..") });
    expect(stdout.trim()).toBe("posted");
    const card = discord.messages.find((m) => JSON.stringify(m.embeds).includes("per_file"));
    expect(card?.attachments.map((a) => [a.filename, a.text.length])).toEqual([["per_file.txt", 5000]]);
  });
});
