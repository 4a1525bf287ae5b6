import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "./support/browser.ts";
import { policyFile } from "./support/policy-file.ts";
import { chatDriver, startAsAlice } from "./support/chat-driver.ts";
import { SEEDED_WEEK_BREAKDOWN, seedCosts } from "./support/seed-costs.ts";
import { alice, CONSOLE_PASSWORD } from "./support/stack.ts";
import { sharedOpencode, stackPerTest } from "./support/stack-per-test.ts";
import { waitFor, waitForFile } from "./support/wait-for.ts";

const SHOTS = join(import.meta.dirname, "..", "node_modules", ".cache", "console-screenshots");

// The console in a real browser (headless Chromium), beside Slack: the same cards, decided from either.
describe("the web console", () => {
  const stack = stackPerTest({}, sharedOpencode());
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });
  const base = () => `http://127.0.0.1:${stack.bot.port}`;

  /** A page logged in to the console, showing the pending approvals. */
  async function loggedIn(): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(`${base()}/`);
    expect(new URL(page.url()).pathname).toBe("/login");
    await page.fill("#password", CONSOLE_PASSWORD);
    await page.click("form.login button");
    await page.waitForSelector("h1:has-text('Pending approvals')");
    return page;
  }
  const card = (page: Page, requestId: string) => page.locator(`article[data-request="${requestId}"]`);

  it("refuses a wrong password; after logging in, a card appears live, and Approve once gives OpenCode exactly one reply", async () => {
    const page = await browser.newPage();
    await page.goto(`${base()}/login`);
    await page.fill("#password", "not the password");
    await page.click("form.login button");
    await page.waitForSelector("text=Wrong password.");
    const refused = await fetch(`${base()}/`, { headers: { accept: "text/html" }, redirect: "manual" });
    expect(refused.status).toBe(303);

    const console = await loggedIn();
    const session = await stack.prompt("RUN: echo web > web-once.txt", "from the console");
    const [asked] = await stack.asked(session);
    await card(console, asked!.id).waitFor();
    const text = await card(console, asked!.id).innerText();
    expect(text).toContain("OpenCode wants to run a command");
    expect(text).toContain("echo web > web-once.txt");
    expect(await card(console, asked!.id).locator("button").allInnerTexts()).toEqual(["Approve once", "Always", "Reject", "Edit"]);
    mkdirSync(SHOTS, { recursive: true });
    await console.screenshot({ path: join(SHOTS, "console.png"), fullPage: true });

    await card(console, asked!.id).locator("button", { hasText: "Approve once" }).click();
    await waitForFile(join(stack.opencode.projectDir, "web-once.txt"), "web\n");
    await card(console, asked!.id).locator("text=Approved once by console").waitFor();
    await waitFor(() => stack.replies(asked!.id).length === 1, { what: "the one reply" });
    expect((await stack.audit(asked!.id)).map((row) => [row.decision, row.decider.platform, row.decider.userId])).toEqual([["approved_once", "web", "console"]]);
    // The Slack card says it too.
    await stack.cardSays(asked!.id, /Approved once by console/);
  });

  it("Reject with a reason the model reads, and Edit of a bash command", async () => {
    const console = await loggedIn();
    const rejected = await stack.prompt("RUN: echo no > web-no.txt", "reject from the console");
    const [first] = await stack.asked(rejected);
    await card(console, first!.id).locator("button", { hasText: "Reject" }).click();
    await console.fill("#dialog textarea[name=reason]", "use the staging bucket");
    await console.click("#dialog button[type=submit]");
    await card(console, first!.id).locator("text=Rejected by console").waitFor();
    await waitFor(() => stack.llm.requests.some((r) => JSON.stringify(r.messages).includes("use the staging bucket")), { what: "the model to read the reason" });

    const edited = await stack.prompt("RUN: echo original > web-original.txt", "edit from the console");
    const [second] = await stack.asked(edited);
    await card(console, second!.id).locator("button", { hasText: "Edit" }).click();
    const field = console.locator("#dialog textarea[name=command]");
    expect(await field.inputValue()).toBe("echo original > web-original.txt");
    await field.fill("echo edited > web-edited.txt");
    await console.click("#dialog button[type=submit]");
    await waitForFile(join(stack.opencode.projectDir, "web-edited.txt"), "edited\n", { timeout: 20_000 });
    expect(existsSync(join(stack.opencode.projectDir, "web-original.txt"))).toBe(false);
    await card(console, second!.id).locator("text=Edited by console").waitFor();
  });

  it("a card decided in Slack closes in the open page without a reload; a form posted without its CSRF token is refused", async () => {
    const console = await loggedIn();
    const session = await stack.prompt("RUN: echo slack > web-slack.txt", "decided in Slack");
    const [asked] = await stack.asked(session);
    await card(console, asked!.id).waitFor();
    const slackCard = await stack.card(asked!.id);
    await stack.click(alice, slackCard, "Approve once");
    await card(console, asked!.id).locator(`text=Approved once by alice`).waitFor();
    expect(await card(console, asked!.id).locator("button").count()).toBe(0);

    const other = await stack.prompt("RUN: echo forged > web-forged.txt", "forged form");
    const [pending] = await stack.asked(other);
    await card(console, pending!.id).waitFor();
    const cookie = (await console.context().cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
    const forged = await fetch(`${base()}/console/decide`, {
      method: "POST",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ request: pending!.id, action: "once" }),
    });
    expect(forged.status).toBe(403);
    expect(await forged.text()).toContain("Nothing was done");
    expect((await stack.bot.store!.getRequest(pending!.id))!.state).toBe("pending");
  });

  it("/audit lists every decision with who, when, the call and the edit as a diff; filters, search and the export of what is shown; the chain's badge", async () => {
    const store = stack.bot.store!;
    const at = new Date(Date.now() - 60_000);
    const bob = { platform: "slack" as const, userId: "U0BOB", name: "bob" };
    const alicia = { platform: "slack" as const, userId: alice.id, name: "alice" };
    const seeded = [
      ["per_a1", "git push origin main", "approved_once", alicia] as const,
      ["per_a2", "rm -rf build", "rejected", bob] as const,
      ["per_a3", "npm test", "edited", bob] as const,
    ];
    for (const [id, command, state, by] of seeded) {
      await store.addRequest({ id, directory: "/srv/web", sessionId: "ses_audit", permission: "bash", patterns: [], always: [], metadata: { command }, callId: null, messageId: null, toolName: "bash", toolArgs: { command }, askedAt: at });
      await store.decide({ requestId: id, state, decider: { ...by }, at: new Date(at.getTime() + 12_000), ...(state === "edited" ? { editedArgs: { command: "npm test -- --run" } } : {}), ...(state === "rejected" ? { reason: "not on main" } : {}) });
    }
    const console = await loggedIn();
    await console.goto(`${base()}/audit`);
    const rows = () => console.locator("table.audit tbody tr").evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-request")));
    expect(await rows()).toEqual(["per_a3", "per_a2", "per_a1"]);
    expect(await console.locator("text=Audit chain intact: 3 rows").count()).toBe(1);
    const edited = await console.locator('tr[data-request="per_a3"]').innerText();
    expect(edited).toContain("command: npm test → npm test -- --run");
    expect(edited).toContain("12 s");
    mkdirSync(SHOTS, { recursive: true });
    await console.screenshot({ path: join(SHOTS, "audit.png"), fullPage: true });

    await console.fill("input[name=user]", "bob");
    await console.click(".filters button");
    expect(await rows()).toEqual(["per_a3", "per_a2"]);
    await console.selectOption("select[name=decision]", "rejected");
    await console.click(".filters button");
    expect(await rows()).toEqual(["per_a2"]);
    expect(await console.locator('tr[data-request="per_a2"]').innerText()).toContain("not on main");
    await console.goto(`${base()}/audit?q=${encodeURIComponent("git push")}`);
    expect(await rows()).toEqual(["per_a1"]);

    const cookie = (await console.context().cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
    const csv = await (await fetch(`${base()}/audit.csv?user=bob`, { headers: { cookie } })).text();
    expect(csv.trim().split("\n").map((line) => line.split(",")[1])).toEqual(["request_id", "per_a3", "per_a2"]);
    const jsonl = await (await fetch(`${base()}/audit.jsonl?decision=approved`, { headers: { cookie } })).text();
    expect(jsonl.trim().split("\n").map((line) => (JSON.parse(line) as { requestId: string }).requestId)).toEqual(["per_a1"]);
    expect((await fetch(`${base()}/audit.csv`)).status).toBe(401);
  });

  it("/sessions shows each session started from chat with its state, owner and cost; /costs the numbers of /opencode costs, with the chart", async () => {
    const sessionId = await startAsAlice(stack, "slack", "SAY: from the console's sessions page");
    const slack = chatDriver(stack, "slack");
    const thread = await slack.thread(sessionId);
    await waitFor(() => thread.answers().includes("from the console's sessions page"), { what: "the answer" });
    const console = await loggedIn();
    await console.goto(`${base()}/sessions`);
    const row = await console.locator(`tr[data-session="${sessionId}"]`).innerText();
    expect(row).toContain("SAY: from the console's sessions page");
    expect(row).toMatch(/web\s+idle\s+alice slack\s+\$/);

    await seedCosts({ ledgerStore: stack.bot.ledgerStore!, store: stack.bot.store! });
    const inChat = await slack.command(slack.people.bob, "costs", { period: "2026-11-23..2026-11-29" });
    await console.goto(`${base()}/costs?period=2026-11-23..2026-11-29`);
    const report = await console.locator("pre.report").innerText();
    expect(report.split("\n")[1]).toBe(inChat.split("\n")[1]);
    expect(report).toContain(SEEDED_WEEK_BREAKDOWN[0]!);
    expect(await console.locator("img.chart").getAttribute("alt")).toBe("Spend per day by project, 2026-11-23 to 2026-11-29");
    await console.screenshot({ path: join(SHOTS, "costs.png"), fullPage: true });
  });
  it("a question shows its options; one click answers it and the model reads the answer", async () => {
    const console = await loggedIn();
    const session = await stack.prompt("ASK: Which colour? ;; red | blue", "question in the console");
    const asked = await waitFor(
      () => stack.events.flatMap((e) => (e.payload.type === "question.asked" && e.payload.properties.sessionID === session ? [e.payload.properties] : []))[0],
      { what: "question.asked", timeout: 20_000 },
    );
    await card(console, asked.id).waitFor();
    expect(await card(console, asked.id).innerText()).toContain("Which colour?");
    expect(await card(console, asked.id).locator("button").allInnerTexts()).toEqual(["red", "blue", "Answer…", "Dismiss"]);
    await card(console, asked.id).locator("button", { hasText: "blue" }).click();
    await card(console, asked.id).locator("text=Answered by console").waitFor();
    await waitFor(() => stack.llm.requests.some((r) => JSON.stringify(r.messages).includes('\\"Which colour?\\"=\\"blue\\"')), { what: "the model to read the answer" });
  });
});

// A fresh machine's setup: no Slack, no Discord, the console alone; and the policy applied to it.
describe("the console as the only place to decide, under a policy", () => {
  const file = policyFile(`
rules:
  - name: leads
    tool: bash
    command: ["echo guarded*"]
    approvers: [U0ALICE]
  - name: console-ok
    tool: bash
    command: ["echo console*"]
    approvers: ["web:console"]
`);
  const stack = stackPerTest({ platforms: [], env: { POLICY_FILE: file } }, sharedOpencode());
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("with no chat platform the console gets the cards; a rule naming only others refuses it, one naming web:console lets it decide", async () => {
    const health = (await (await fetch(`http://127.0.0.1:${stack.bot.port}/healthz`)).json()) as { chat: Record<string, string> };
    expect(health.chat).toEqual({ web: "ready" });
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${stack.bot.port}/login`);
    await page.fill("#password", CONSOLE_PASSWORD);
    await page.click("form.login button");
    await page.waitForSelector("h1:has-text('Pending approvals')");

    const guarded = await stack.prompt("RUN: echo guarded > guarded.txt", "guarded");
    const [first] = await stack.asked(guarded);
    const firstCard = page.locator(`article[data-request="${first!.id}"]`);
    await firstCard.locator("button", { hasText: "Approve once" }).click();
    await page.locator("#dialog .notice").waitFor();
    expect(await page.locator("#dialog .notice").innerText()).toBe("You are not an approver for this (the policy's rule “leads” names who may decide), so nothing was done.");
    expect((await stack.bot.store!.getRequest(first!.id))!.state).toBe("pending");

    const allowed = await stack.prompt("RUN: echo console > console-ok.txt", "console ok");
    const [second] = await stack.asked(allowed);
    await page.locator(`article[data-request="${second!.id}"] button`, { hasText: "Approve once" }).click();
    await waitForFile(join(stack.opencode.projectDir, "console-ok.txt"), "console\n");
    expect((await stack.audit(second!.id)).map((row) => [row.decision, row.decider.platform, row.decider.userId])).toEqual([["approved_once", "web", "console"]]);
  });
});
