import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chatDriver, onePlatform, PLATFORMS, peopleOf } from "./support/chat-driver.ts";
import { policyFile } from "./support/policy-file.ts";
import { type Platform } from "./support/stack.ts";
import { sharedOpencode, stackPerTest } from "./support/stack-per-test.ts";
import { waitFor, waitForFile } from "./support/wait-for.ts";

/** A policy naming bob (of `platform`) as the one approver of `leads-only`. */
function policyFor(platform: Platform): string {
  const bob = peopleOf(platform).bob.id;
  return `
defaults:
  approvals: 1
rules:
  - name: read-only
    tool: bash
    command: ["ls *", "cat *"]
    auto: allow
  - name: no-installs
    tool: bash
    command: ["re:^npm (i|install) "]
    auto: deny
    reason: "Installing packages needs a human: ask in the thread which package and why."
  - name: leads-only
    tool: bash
    command: ["echo leads*"]
    approvers: ["${platform === "slack" ? bob : `discord:${bob}`}"]
    allow_always: false
`;
}

describe.each(PLATFORMS)("policy rules on %s", (platform) => {
  const file = policyFile(policyFor(platform));
  const stack = stackPerTest(onePlatform(platform, { env: { POLICY_FILE: file } }), sharedOpencode());
  const chat = () => chatDriver(stack, platform);

  it("auto: allow runs the command with no card and an audit row naming the rule; auto: deny tells the agent the rule's reason", async () => {
    const ran = await stack.prompt("RUN: ls -a > listing.txt", "read-only");
    const [allowed] = await stack.asked(ran);
    await waitFor(() => existsSync(join(stack.opencode.projectDir, "listing.txt")), { what: "the listing the allowed command wrote" });
    const rows = await waitFor(async () => {
      const audit = await stack.audit(allowed!.id);
      return audit.length > 0 ? audit : undefined;
    }, { what: "the audit row of the allowed request" });
    expect(rows.map((row) => [row.decision, row.decider.platform, row.decider.name, row.reason])).toEqual([
      ["approved_once", "policy", "read-only", "the policy's rule “read-only” allows it"],
    ]);

    const denied = await stack.prompt("RUN: npm install left-pad", "no installs");
    const [asked] = await stack.asked(denied);
    await waitFor(() => stack.llm.requests.some((r) => JSON.stringify(r.messages).includes("Installing packages needs a human")), {
      what: "the model to read the rule's reason",
    });
    expect((await stack.audit(asked!.id)).map((row) => [row.decision, row.decider.name])).toEqual([["rejected", "no-installs"]]);
    // Neither got a card.
    const cards = platform === "slack" ? stack.slack.messages.filter((m) => JSON.stringify(m.blocks).includes("session")).length : stack.discord!.messages.filter((m) => m.embeds.length > 0 && JSON.stringify(m.embeds).includes("Request ")).length;
    expect(cards).toBe(0);
  });

  it("a rule's approvers replace the lists: alice (an approver elsewhere) is refused, bob decides; allow_always: false shows no Always", async () => {
    const { alice, bob } = chat().people;
    const session = await stack.prompt("RUN: echo leads > leads.txt", "leads only");
    const [asked] = await stack.asked(session);
    const card = await chat().card(asked!.id);
    expect(card.buttons).toEqual(["Approve once", "Reject", "Edit"]);
    expect(card.text).toContain("rule “leads-only” · 1 approval · approvers: ");
    expect(card.text).toContain("no Always");
    await chat().click(alice, asked!.id, "Approve once");
    expect(await chat().noticeTo(alice, /not an approver/)).toBe("You are not an approver for this (the policy's rule “leads-only” names who may decide), so nothing was done.");
    await chat().click(bob, asked!.id, "Approve once");
    await waitForFile(join(stack.opencode.projectDir, "leads.txt"), "leads\n");
    await chat().cardSays(asked!.id, new RegExp(`Approved once by ${chat().mention(bob)}`));
  });

  it("/opencode policy shows the rules, `why` names the rule that decides, and reload keeps the old policy when the new file is broken", async () => {
    const { alice } = chat().people;
    const shown = await chat().command(alice, platform === "slack" ? "policy" : "policy show");
    expect(shown).toContain(`Policy from ${file}`);
    expect(shown).toContain("1. read-only: bash · command ls *, cat * → allowed automatically");
    expect(shown).toContain("3. leads-only: bash · command echo leads* → 1 approval · approvers: ");

    const why = (command: string) => chat().command(alice, "policy why", platform === "slack" ? { command, project: "--project /srv/web" } : { command, project: "/srv/web" });
    expect(await why("ls && rm -rf /")).toBe("`ls && rm -rf /` (bash in /srv/web): no rule matches, so the defaults apply: 1 approval.");
    expect(await why("cat notes.txt")).toBe("`cat notes.txt` (bash in /srv/web): rule “read-only” (number 1 of 3) matches: allowed without asking anyone.");

    writeFileSync(file, "rules:\n  - name: broken\n    aproovals: 2\n");
    expect(await chat().command(alice, "policy reload")).toBe(`The policy was not reloaded, and the one in force stays: ${file}:3:5: unknown field \`aproovals\``);
    expect(await why("cat notes.txt")).toContain("rule “read-only”");
    writeFileSync(file, policyFor(platform).replace("name: read-only", "name: looking"));
    expect(await chat().command(alice, "policy reload")).toBe(`Policy reloaded from ${file}: 3 rules. It applies to requests asked from now on; pending ones keep the rule they were asked under.`);
    expect(await why("cat notes.txt")).toContain("rule “looking”");
  });
});

describe("the policy on SIGHUP", () => {
  const file = policyFile("rules:\n  - name: first\n    tool: bash\n    auto: allow\n");
  const stack = stackPerTest(onePlatform("slack", { env: { POLICY_FILE: file }, process: true }), sharedOpencode());

  it("`kill -HUP` re-reads the file; a broken file keeps the policy in force", async () => {
    const { alice } = chatDriver(stack, "slack").people;
    const shown = () => chatDriver(stack, "slack").command(alice, "policy");
    expect(await shown()).toContain("1. first: bash → allowed automatically");
    writeFileSync(file, "rules:\n  - name: second\n    tool: bash\n    auto: deny\n");
    stack.bot.signal!("SIGHUP");
    await waitFor(async () => (await shown()).includes("1. second: bash → denied automatically"), { what: "the reloaded policy" });
    writeFileSync(file, "rules: [\n");
    stack.bot.signal!("SIGHUP");
    await waitFor(() => (stack.bot as { output?: () => string }).output?.().includes("the policy file was not reloaded"), { what: "the log to say the file was not reloaded" });
    expect(await shown()).toContain("1. second: bash → denied automatically");
  });
});
