import type { PermissionRequest } from "@opencode-ai/sdk/v2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { slackLimits } from "../adapters/slack/limits.ts";
import { createApprovalEngine, type ApprovalEngine } from "../src/core/approval-engine.ts";
import type { ChatAdapter, OpencodeApi } from "../src/core/ports.ts";
import type { ApprovalStore } from "../src/core/store-port.ts";
import { createAlwaysRuleStore } from "../src/store/always-store.ts";
import { createApprovalStore } from "../src/store/approval-store.ts";
import { openPglite, type Database } from "../src/store/database.ts";
import { discordLike } from "./support/limits.ts";
import { createMemoryChat } from "./support/memory-chat.ts";
import { waitFor } from "./support/wait-for.ts";

/** OpenCode as the core's port sees it, recording the replies it was sent. */
function fakeOpencode() {
  const replies: Array<{ requestId: string; reply: string; message?: string }> = [];
  const api: OpencodeApi = {
    async replyPermission(input) {
      replies.push(input);
    },
    async replyQuestion() {},
    async rejectQuestion() {},
    async sessionTitle() {
      return "deploy docs";
    },
    async toolCall() {
      return { tool: "bash", args: { command: "echo hi" } };
    },
  };
  return { api, replies };
}

/** A permission.asked as OpenCode 1.18 sends it (recorded shape). */
const asked = (id: string, sessionID = "ses_platforms"): PermissionRequest => ({
  id,
  sessionID,
  permission: "bash",
  patterns: ["echo hi"],
  always: ["echo *"],
  metadata: { command: "echo hi" },
  tool: { messageID: "msg_1", callID: `call_${id}` },
});

/** An engine on `store` with `adapter` alone (no approvers configured), started. */
async function startedOn(database: Database, store: ApprovalStore, adapter: ChatAdapter): Promise<ApprovalEngine> {
  const engine = createApprovalEngine({
    store,
    alwaysStore: createAlwaysRuleStore(database),
    opencode: fakeOpencode().api,
    adapters: [adapter],
    approvers: {},
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  });
  await adapter.start(engine.decisions);
  return engine;
}

describe("one request, a card on every platform, one decision", () => {
  let database: Database;
  let store: ApprovalStore;
  let engine: ApprovalEngine;
  const slack = createMemoryChat("slack", slackLimits, { groups: { S0LEADS: ["U0BOB"] } });
  const discord = createMemoryChat("discord", discordLike);
  const opencode = fakeOpencode();
  const alice = { platform: "discord" as const, userId: "111", name: "alice", roles: ["999"] };

  beforeAll(async () => {
    database = await openPglite("memory://");
    store = createApprovalStore(database);
    engine = createApprovalEngine({
      store,
      alwaysStore: createAlwaysRuleStore(database),
      opencode: opencode.api,
      adapters: [slack.adapter, discord.adapter],
      approvers: { slack: ["S0LEADS"], discord: ["999"] },
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    });
    await slack.adapter.start(engine.decisions);
    await discord.adapter.start(engine.decisions);
  });
  afterAll(async () => {
    await engine?.stop();
    await database?.close();
  });

  it("posts the card in the session's thread on each platform and stores both", async () => {
    await engine.handleAsked("/p", asked("per_both"));
    // The card goes out after the request is recorded: the engine does not wait for the post.
    const record = await waitFor(async () => {
      const stored = await store.getRequest("per_both");
      return stored && stored.cards.length === 2 ? stored : undefined;
    }, { what: "both cards stored" });
    expect(record.cards.map((card) => card.platform).sort()).toEqual(["discord", "slack"]);
    for (const chat of [slack, discord]) {
      expect(chat.threads.map((thread) => thread.parent.name)).toEqual(["deploy docs"]);
      const [, posted] = chat.cardFor("per_both")!;
      expect(posted.thread).toBe(chat.threads[0]!.ref);
      expect(posted.versions[0]).toMatchObject({ actions: ["once", "always", "reject", "edit"], body: { text: "echo hi" } });
    }
  });

  it("a decision on one platform updates the cards on all of them, with one reply", async () => {
    const [ref] = discord.cardFor("per_both")!;
    const answer = await discord.decisions.click({ actor: alice, requestId: "per_both", action: "once", via: ref });
    if (answer.kind !== "decide") throw new Error(`expected a decision, got ${answer.kind}`);
    expect(await answer.commit()).toBeUndefined();
    expect(opencode.replies).toEqual([{ directory: "/p", requestId: "per_both", reply: "once", message: undefined }]);
    // The cards follow the decision (not awaited by it: an edit may wait for the platform's limit).
    for (const chat of [slack, discord]) {
      const posted = await waitFor(() => {
        const [, card] = chat.cardFor("per_both")!;
        return card.versions.at(-1)!.actions.length === 0 ? card : undefined;
      }, { what: `the ${chat.adapter.platform} card decided` });
      expect(posted.versions.at(-1)).toMatchObject({ actions: [], status: [{ text: expect.stringMatching(/^Approved once by \{by\}/), by: { platform: "discord", userId: "111" } }] });
    }
    const again = await slack.decisions.click({ actor: { platform: "slack", userId: "U0BOB", name: "bob" }, requestId: "per_both", action: "once" });
    expect(again).toEqual({ kind: "notice", text: "This request was already decided by alice (approved once); your click changed nothing." });
    expect(opencode.replies).toHaveLength(1);
  });

  it("checks approvers per platform in the core: a Slack group member, a Discord role; others are told", async () => {
    await engine.handleAsked("/p", asked("per_who", "ses_who"));
    const mallory = { platform: "discord" as const, userId: "666", name: "mallory", roles: ["111"] };
    expect(await discord.decisions.click({ actor: mallory, requestId: "per_who", action: "reject" })).toEqual({
      kind: "notice",
      text: "You are not an approver for this, so nothing was done.",
    });
    const carol = { platform: "slack" as const, userId: "U0CAROL", name: "carol" };
    expect((await slack.decisions.click({ actor: carol, requestId: "per_who", action: "once" })).kind).toBe("notice");
    const form = await discord.decisions.click({ actor: alice, requestId: "per_who", action: "edit" });
    expect(form).toMatchObject({ kind: "form", form: { kind: "edit", fields: [{ id: "command", maxLength: 4000 }, { id: "description" }] } });
    const bob = { platform: "slack" as const, userId: "U0BOB", name: "bob" };
    const slackForm = await slack.decisions.click({ actor: bob, requestId: "per_who", action: "edit" });
    expect(slackForm).toMatchObject({ kind: "form", form: { fields: [{ id: "command", maxLength: 3000 }, { id: "description" }] } });
    const invalid = await slack.decisions.submit({ actor: bob, requestId: "per_who", form: "edit", values: { command: "  " } });
    expect(invalid).toEqual({ kind: "invalid", field: "command", message: "Command cannot be empty" });
    expect((await store.getRequest("per_who"))!.state).toBe("pending");
  });

  it("an unknown request id is answered in words, and nothing is written", async () => {
    expect(await slack.decisions.click({ actor: { platform: "slack", userId: "U0BOB", name: "bob" }, requestId: "per_nope", action: "once" })).toEqual({
      kind: "notice",
      text: "opencode-chatops does not know this request; nothing was done.",
    });
    expect(await store.audit("per_nope")).toEqual([]);
  });
});

describe("cards recovered after a restart", () => {
  const opened: Array<{ engine: ApprovalEngine; database: Database }> = [];
  afterAll(async () => {
    for (const { engine, database } of opened) {
      await engine.stop();
      await database.close();
    }
  });

  /**
   * What the bot had when it died (three requests of one session recorded, its thread stored, no
   * card posted), recovered by a resync while a new request of the session comes: the card
   * references, in the order of the four requests. `slowOwnerReads` delays the nth read of the session's owner by that many ms.
   */
  async function recoverThree(options: { findCardMs: (n: number) => number; slowOwnerReads?: (n: number) => number }): Promise<string[]> {
    const database = await openPglite("memory://");
    const real = createApprovalStore(database);
    let ownerReads = 0;
    const store: ApprovalStore = {
      ...real,
      async sessionOwner(sessionId) {
        const wait = options.slowOwnerReads?.(++ownerReads) ?? 0;
        if (wait) await new Promise((resolve) => setTimeout(resolve, wait));
        return real.sessionOwner(sessionId);
      },
    };
    const ids = ["per_rec1", "per_rec2", "per_rec3"];
    for (const [i, id] of ids.entries()) {
      const { tool, sessionID, ...rest } = asked(id, "ses_rec");
      await store.addRequest({ ...rest, directory: "/p", sessionId: sessionID, callId: tool!.callID, messageId: tool!.messageID, toolName: "bash", toolArgs: null, askedAt: new Date(Date.now() - 1000 + i) });
    }
    const slack = createMemoryChat("slack", slackLimits, { findCardMs: options.findCardMs });
    await store.saveThread({ sessionId: "ses_rec", platform: "slack", directory: "/p", title: "deploy docs", ref: "slack-thread-0" });
    const engine = await startedOn(database, store, slack.adapter);
    opened.push({ engine, database });

    await engine.reconcile({ directory: "/p", permissions: ids.map((id) => asked(id, "ses_rec")), questions: [], busy: new Set(["ses_rec"]), listedAt: new Date(), goneReason: "gone" });
    // A new request of the session while those searches go on: its card comes after theirs.
    await engine.handleAsked("/p", asked("per_rec4", "ses_rec"));
    const all = [...ids, "per_rec4"];
    return waitFor(async () => {
      const records = await Promise.all(all.map((id) => store.getRequest(id)));
      return records.every((r) => r?.cards.length === 1) ? records.map((r) => r!.cards[0]!.ref) : undefined;
    }, { what: "the four cards posted and stored" });
  }
  const order = (ref: string) => Number(ref.split("-").at(-1));

  it("come out in the order their requests were asked, however long each search for an earlier card takes, and before a new request's", async () => {
    // The first search answers last: without an order kept, the third card would go out first.
    const refs = await recoverThree({ findCardMs: (n) => [90, 45, 0][n - 1] ?? 0 });
    expect(refs.map(order)).toEqual([...refs.map(order)].sort((a, b) => a - b));
    // The first three each in a message of its own (a search outlasts the post before it), so the order above is the order they went out.
    expect(new Set(refs.slice(0, 3)).size).toBe(3);
  });

  it("keep that order when reading who started the session takes longest for the first of them", async () => {
    // A recovering request's card waits for its session's owner to be read; the new request knows it already.
    const refs = await recoverThree({ findCardMs: () => 30, slowOwnerReads: (n) => (n === 1 ? 80 : 0) });
    expect(refs.map(order)).toEqual([...refs.map(order)].sort((a, b) => a - b));
    expect(new Set(refs.slice(0, 3)).size).toBe(3);
  });
});

describe("a card message two bot processes edit at once", () => {
  let database: Database | undefined;
  let engine: ApprovalEngine | undefined;
  afterAll(async () => {
    await engine?.stop();
    await database?.close();
  });

  it("ends showing its requests as they stand, when the edit drawn from the older state lands last", async () => {
    database = await openPglite("memory://");
    const store = createApprovalStore(database);
    // The post waits, so the session's two requests go out in one message; the first edit takes 150 ms.
    const slack = createMemoryChat("slack", slackLimits, { postCardMs: 50, updateCardMs: (n) => (n === 1 ? 150 : 0) });
    engine = await startedOn(database, store, slack.adapter);
    await engine.handleAsked("/p", asked("per_two1", "ses_two"));
    await engine.handleAsked("/p", asked("per_two2", "ses_two"));
    const ref = await waitFor(async () => {
      const [first, second] = await Promise.all([store.getRequest("per_two1"), store.getRequest("per_two2")]);
      return first?.cards[0] && first.cards[0].ref === second?.cards[0]?.ref ? first.cards[0].ref : undefined;
    }, { what: "both requests on one card message" });

    const bob = { platform: "slack" as const, userId: "U0BOB", name: "bob" };
    const answer = await slack.decisions.click({ actor: bob, requestId: "per_two1", action: "once", via: ref });
    if (answer.kind !== "decide") throw new Error(`expected a decision, got ${answer.kind}`);
    await answer.commit();
    // While this process's edit (drawn with per_two2 pending) is on its way, another process decides per_two2.
    await waitFor(() => slack.updatesStarted >= 1, { what: "the first edit under way" });
    await store.decide({ requestId: "per_two2", state: "rejected", decider: { platform: "slack", userId: "U0CAROL", name: "carol" }, at: new Date() });

    const last = await waitFor(() => {
      const [, card] = slack.cardFor("per_two2")!;
      return card.versions.at(-1)!.actions.length === 0 ? card.versions.at(-1) : undefined;
    }, { what: "the message to show per_two2 decided", timeout: 3_000 });
    expect(last.status).toEqual([expect.objectContaining({ text: expect.stringMatching(/^Rejected by/) })]);
    expect(slack.cardFor("per_two1")![1].versions.at(-1)!.actions).toEqual([]);
  });
});
