import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chatDriver, onePlatform, PLATFORMS, startAsAlice } from "./support/chat-driver.ts";
import { sharedOpencode, stackPerTest } from "./support/stack-per-test.ts";
import { waitFor, waitForFile } from "./support/wait-for.ts";

const GITHUB = "ghp_R3dact10nT3stT0k3nAbCdEfGhIjKlMn0p";
const AWS = "AKIAREDACTIONTEST123";

describe.each(PLATFORMS)("redaction on %s", (platform) => {
  const stack = stackPerTest(onePlatform(platform), sharedOpencode());
  const chat = () => chatDriver(stack, platform);
  /** Every body the bot sent the platform's API: posts, edits, dialogs, ephemerals. */
  const sent = () => JSON.stringify(platform === "slack" ? stack.slack.calls.map((call) => call.body) : stack.discord!.calls.map((call) => call.body));

  it("a command carrying a GitHub token and an AWS key never reaches chat; the Edit dialog shows it masked and an untouched mask keeps its secret", async () => {
    const { bob } = chat().people;
    const sessionId = await startAsAlice(stack, platform, `RUN: echo ${GITHUB} ${AWS} > secret.txt`);
    const [asked] = await stack.asked(sessionId);
    const card = await chat().card(asked!.id);
    expect(card.text).toContain("echo [secret 1] [secret 2] > secret.txt");
    expect(card.thread).toContain("RUN: echo [secret 1] [secret 2] > secret.txt");

    const shown = await chat().fillForm(bob, asked!.id, "Edit", { command: "echo [secret 1] [secret 2] > secret-edited.txt" });
    expect(shown).toContain("echo [secret 1] [secret 2] > secret.txt");
    await waitForFile(join(stack.opencode.projectDir, "secret-edited.txt"), `${GITHUB} ${AWS}\n`, { timeout: 20_000 });
    await chat().cardSays(asked!.id, /Edited by/);
    await waitFor(() => chat().thread(sessionId).then((thread) => thread.status().some((status) => /Done/.test(status.text))), { what: "the turn to finish" });

    expect(sent()).not.toContain(GITHUB);
    expect(sent()).not.toContain(AWS);
    expect(sent()).toContain("[secret 1]");
    // The audit keeps what was asked and what was run (REDACT_AUDIT is unset).
    const [row] = await stack.audit(asked!.id);
    expect(row!.originalArgs).toMatchObject({ command: `echo ${GITHUB} ${AWS} > secret.txt` });
    expect(row!.editedArgs).toMatchObject({ command: `echo ${GITHUB} ${AWS} > secret-edited.txt` });
    expect(readFileSync(join(stack.opencode.projectDir, "secret-edited.txt"), "utf8")).toContain(GITHUB);
  });
});
