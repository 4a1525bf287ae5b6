import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.ts";
import { policyFile } from "./support/policy-file.ts";

const slack = { SLACK_BOT_TOKEN: "xoxb-1", SLACK_SIGNING_SECRET: "s", SLACK_CHANNEL: "C1" };
const discord = { DISCORD_TOKEN: "token", DISCORD_CHANNEL: "222222222222222222" };

describe("config: Slack, Discord or both", () => {
  it("starts with neither: the web console is then the only place to decide", () => {
    const config = loadConfig({});
    expect(config.slack).toBeUndefined();
    expect(config.discord).toBeUndefined();
    expect(config.console).toEqual({ password: undefined, host: undefined });
    expect(loadConfig({ CONSOLE_PASSWORD: "pw", CONSOLE_HOST: "0.0.0.0" }).console).toEqual({ password: "pw", host: "0.0.0.0" });
  });

  it("Slack alone, Discord alone, and both", () => {
    expect(loadConfig(slack)).toMatchObject({ slack: { channel: "C1" }, discord: undefined });
    expect(loadConfig({ ...discord, DISCORD_API_URL: "", SLACK_API_URL: "" }).discord?.apiUrl).toBe("https://discord.com/api");
    expect(loadConfig(discord)).toMatchObject({
      slack: undefined,
      discord: { token: "token", channel: "222222222222222222", apiUrl: "https://discord.com/api" },
    });
    const both = loadConfig({ ...slack, ...discord, DISCORD_API_URL: "http://127.0.0.1:9/api/", DISCORD_GUILD_ID: "333333333333333333" });
    expect(both.slack?.channel).toBe("C1");
    expect(both.discord).toMatchObject({ apiUrl: "http://127.0.0.1:9/api", guildId: "333333333333333333" });
  });

  it("each platform's own requirements are named", () => {
    expect(() => loadConfig({ DISCORD_TOKEN: "t" })).toThrow(/DISCORD_CHANNEL is required with DISCORD_TOKEN/);
    expect(() => loadConfig({ ...discord, DISCORD_CHANNEL: "general" })).toThrow(/DISCORD_CHANNEL must be a Discord id/);
    expect(() => loadConfig({ SLACK_BOT_TOKEN: "xoxb-1", SLACK_SIGNING_SECRET: "s" })).toThrow(/SLACK_CHANNEL is required with SLACK_BOT_TOKEN/);
    expect(() => loadConfig({ SLACK_BOT_TOKEN: "xoxb-1", SLACK_CHANNEL: "C1" })).toThrow(/SLACK_SIGNING_SECRET is required unless SLACK_APP_TOKEN/);
  });

  it("approver lists per platform: Discord users and role:<id> entries; empty means anyone", () => {
    const config = loadConfig({ ...slack, ...discord, SLACK_APPROVERS: "U1, S2", DISCORD_APPROVERS: "111111111111111111, role:444444444444444444" });
    expect(config.approvers).toEqual({ slack: ["U1", "S2"], discord: ["111111111111111111", "role:444444444444444444"] });
    expect(loadConfig({ ...discord, DISCORD_APPROVERS: " " }).approvers.discord).toBeUndefined();
    expect(() => loadConfig({ ...discord, DISCORD_APPROVERS: "alice" })).toThrow(/DISCORD_APPROVERS must list user ids and role:<id> entries/);
  });
});

describe("the policy file at start", () => {
  it("a broken POLICY_FILE stops `npm start` with the file, line, column and field; none found means no policy", async () => {
    const file = policyFile("defaults:\n  approvals: 2\nrules:\n  - name: slow\n    expires: soon\n");
    const started = spawnSync(process.execPath, ["--import", "tsx", "src/main.ts"], {
      env: { PATH: process.env.PATH, ...slack, POLICY_FILE: file, DATA_DIR: mkdtempSync(join(tmpdir(), "chatops-data-")), PORT: "0" },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(started.status).toBe(1);
    expect(started.stderr.trim()).toBe(`${file}:5:14: \`expires\` must be a duration like 90s, 10m, 2h or 1d`);
    expect(loadConfig({ ...slack }).policyFile).toBeUndefined();
    expect(loadConfig({ ...slack, POLICY_FILE: file }).policyFile).toBe(file);
  });
});
