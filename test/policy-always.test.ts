import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chatDriver, onePlatform, PLATFORMS } from "./support/chat-driver.ts";
import { sharedOpencode, stackPerTest } from "./support/stack-per-test.ts";
import { waitForFile } from "./support/wait-for.ts";

describe.each(PLATFORMS)("Always rules on %s", (platform) => {
  const stack = stackPerTest(onePlatform(platform), sharedOpencode({ ownProject: true }));
  const chat = () => chatDriver(stack, platform);
  const revoke = (id: number) => (platform === "slack" ? { revoke: `revoke ${id}` } : { revoke: id });

  it("an Always is kept in the database, listed by /opencode policy always, and revoked there by an approver", async () => {
    const { alice, mallory } = chat().people;
    const session = await stack.prompt("RUN: echo kept > kept.txt", "always kept");
    const [asked] = await stack.asked(session);
    await chat().click(alice, asked!.id, "Always");
    await waitForFile(join(stack.opencode.projectDir, "kept.txt"), "kept\n");
    const today = new Date().toISOString().slice(0, 10);
    const listed = await chat().command(alice, "policy always");
    expect(listed).toBe(
      `Always rules in force (revoke one with /opencode policy always revoke <id>):\n1. ${stack.opencode.projectDir} · bash \`echo *\` · by ${alice.name} on ${today} (request ${asked!.id})`,
    );
    // Kept across a restart of the bot.
    await stack.restartBot();
    expect(await chat().command(alice, "policy always")).toBe(listed);

    expect(await chat().command(mallory, "policy always", revoke(1))).toBe("Only approvers may revoke Always rules; nothing was done.");
    expect(await chat().command(alice, "policy always", revoke(1))).toBe(
      `Revoked Always rule 1 (bash \`echo *\` in ${stack.opencode.projectDir}). The bot no longer applies it: such calls get a card again. OpenCode itself keeps an Always it was given until it restarts.`,
    );
    expect(await chat().command(alice, "policy always")).toBe("No Always rules are in force: every request the policy does not decide gets a card.");
    expect(await chat().command(alice, "policy always", revoke(1))).toBe("There is no Always rule 1 in force; /opencode policy always lists them.");
  });
});
