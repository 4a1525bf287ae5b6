/**
 * Teammates clicking cards as they appear in the fake Slack: "Approve once" mostly, "Reject" (then
 * the dialog, with or without a reason) for a share of the requests, each click by a user of its
 * own, so that what the bot answers (the card naming them, an ephemeral, a dialog) is theirs. A card
 * still offering its buttons is clicked again when the last click died with its process, was refused
 * (the bot was down), or was answered with "try again"; a click left unanswered for
 * `answerTimeoutMs` by a process that lived is counted against the bot.
 */
import type { FakeMessage, FakeSlack } from "../../test/support/fake-slack.ts";
import { waitFor } from "../../test/support/wait-for.ts";
import type { Tally } from "./opencode-tally.ts";
import type { BotSlot, Rig } from "./rig.ts";
import { buttonBlockId, cardPart, cardRequestIds, showsButtons } from "./slack-threads.ts";
import type { Random } from "./seeded-random.ts";

export type ClickKind = "once" | "reject" | "reject-submit";
export type Fate = "answered" | "lost-to-kill" | "unanswered";

export type ClickAction = {
  requestId: string;
  user: string;
  kind: ClickKind;
  slot: number;
  /** The slot's epoch when sent: a later epoch means its process was killed since. */
  epoch: number;
  sentAt: number;
  /** The delivery failed or was not 200 (the bot was down or restarting). */
  refused?: string;
  /** Refused while its process was up and not killed since: the bot's doing, not the chaos's. */
  refusedByLiveBot?: boolean;
  answer?: { by: "card" | "ephemeral" | "dialog"; text: string; at: number };
  fate?: Fate;
};

type Watch = {
  requestId: string;
  messages: FakeMessage[];
  choice: "once" | "reject";
  reason?: string;
  actions: ClickAction[];
  busy: boolean;
  /** Not before this time (after a refusal or a "try again"). */
  nextAt: number;
  done: boolean;
};

export const MAX_CLICKS_PER_REQUEST = 25;
const CONCURRENT_CLICKS = 6;

export type Clicker = ReturnType<typeof startClicker>;

export function startClicker(deps: { rig: Rig; tally: Tally; random: Random; rejectShare: number; answerTimeoutMs?: number }) {
  const { rig, tally, random } = deps;
  const slack: FakeSlack = rig.slack;
  const answerTimeoutMs = deps.answerTimeoutMs ?? 90_000;
  const watches = new Map<string, Watch>();
  const actions: ClickAction[] = [];
  const gaveUp: string[] = [];
  const ephemeralsOf = new Map<string, string[]>();
  const dialogsOf = new Set<string>();
  const seenVersions = new WeakMap<FakeMessage, number>();
  let ephemeralCursor = 0;
  let viewCursor = 0;
  let users = 0;
  let inFlight = 0;
  let stopped = false;
  const acked: Array<() => void> = [];

  function scan(): void {
    // A message may hold several cards; a later version may carry one more, so look again when it changes.
    for (const message of slack.messages) {
      if (message.user !== slack.bot.userId || seenVersions.get(message) === message.history.length) continue;
      seenVersions.set(message, message.history.length);
      for (const requestId of cardRequestIds(message)) {
        const watch = watches.get(requestId);
        if (watch) {
          if (!watch.messages.includes(message)) watch.messages.push(message);
          continue;
        }
        const reject = random() < deps.rejectShare;
        const reason = reject && random() < 0.5 ? "chaos says no" : undefined;
        watches.set(requestId, { requestId, messages: [message], choice: reject ? "reject" : "once", reason, actions: [], busy: false, nextAt: 0, done: false });
      }
    }
    for (; ephemeralCursor < slack.ephemerals.length; ephemeralCursor++) {
      const e = slack.ephemerals[ephemeralCursor]!;
      ephemeralsOf.set(e.user, [...(ephemeralsOf.get(e.user) ?? []), e.text]);
    }
    for (; viewCursor < slack.views.length; viewCursor++) dialogsOf.add(slack.views[viewCursor]!.user);
  }

  /** Notes the answer to `action`, if one has come. */
  function answerOf(action: ClickAction, watch: Watch): void {
    if (action.answer || action.refused) return;
    const mention = `<@${action.user}>`;
    const card = watch.messages.find((m) => JSON.stringify(cardPart(m, watch.requestId) ?? []).includes(mention));
    const said = ephemeralsOf.get(action.user);
    if (card) action.answer = { by: "card", text: card.text, at: Date.now() };
    else if (said) action.answer = { by: "ephemeral", text: said.at(-1)!, at: Date.now() };
    else if (action.kind === "reject" && dialogsOf.has(action.user)) action.answer = { by: "dialog", text: "", at: Date.now() };
    if (action.answer) action.fate = "answered";
  }

  /** Settles an unanswered click whose process died, or that waited too long. */
  function settle(action: ClickAction, final: boolean): void {
    if (action.fate || action.refused) return;
    const slot = rig.slots[action.slot]!;
    if (slot.epoch !== action.epoch) action.fate = "lost-to-kill";
    else if (final || Date.now() - action.sentAt > answerTimeoutMs) action.fate = "unanswered";
  }

  const pendingCard = (watch: Watch) => watch.messages.find((m) => showsButtons(m, watch.requestId));

  function wantsClick(watch: Watch, now: number): FakeMessage | undefined {
    if (watch.done || watch.busy || now < watch.nextAt) return undefined;
    if (tally.isReplied(watch.requestId)) return undefined;
    const card = pendingCard(watch);
    if (!card) return undefined;
    const last = watch.actions.at(-1);
    if (watch.actions.length >= MAX_CLICKS_PER_REQUEST) {
      watch.done = true;
      gaveUp.push(watch.requestId);
      return undefined;
    }
    if (!last || last.refused || last.fate === "lost-to-kill" || last.fate === "unanswered") return card;
    if (last.answer?.by === "ephemeral") {
      if (/already decided/.test(last.answer.text)) {
        watch.done = true;
        return undefined;
      }
      return now - last.answer.at > 1000 ? card : undefined;
    }
    return undefined;
  }

  async function deliver(slot: BotSlot, action: ClickAction, send: () => Promise<{ status: number }>): Promise<boolean> {
    actions.push(action);
    try {
      const response = await send();
      if (response.status !== 200) action.refused = `HTTP ${response.status}`;
    } catch (error) {
      action.refused = (error as Error).message;
    }
    if (action.refused) {
      action.refusedByLiveBot = slot.up && slot.epoch === action.epoch;
      return false;
    }
    for (const notify of acked.splice(0)) notify();
    return slot.up || slot.epoch === action.epoch;
  }

  async function click(watch: Watch, card: FakeMessage): Promise<void> {
    const slot = rig.liveSlot(random());
    if (!slot) {
      watch.nextAt = Date.now() + 250;
      return;
    }
    watch.busy = true;
    inFlight++;
    try {
      const user = { id: `U0C${++users}` };
      const base = { requestId: watch.requestId, user: user.id, slot: slot.index, epoch: slot.epoch };
      const action: ClickAction = { ...base, kind: watch.choice, sentAt: Date.now() };
      watch.actions.push(action);
      const actionId = watch.choice === "once" ? "approval:once" : "approval:reject";
      const delivered = await deliver(slot, action, () => slot.sim.clickButton({ user, channel: card.channel, messageTs: card.ts, actionId, forValue: watch.requestId, blockId: buttonBlockId(card, actionId, watch.requestId) }));
      if (!delivered) watch.nextAt = Date.now() + 500;
      if (!delivered || watch.choice !== "reject") return;
      const opened = await slack
        .waitFor(() => slack.views.find((v) => v.user === user.id && v.open) ?? (slack.ephemerals.some((e) => e.user === user.id) ? null : undefined), "the Reject dialog", 10_000)
        .catch(() => undefined);
      if (!opened) return;
      const submit: ClickAction = { ...base, epoch: slot.epoch, kind: "reject-submit", sentAt: Date.now() };
      watch.actions.push(submit);
      const values: Record<string, Record<string, string>> = watch.reason ? { reason: { value: watch.reason } } : {};
      if (!(await deliver(slot, submit, () => slot.sim.submitView({ user, viewId: opened.id, values })))) watch.nextAt = Date.now() + 500;
    } finally {
      watch.busy = false;
      inFlight--;
    }
  }

  function tick(): void {
    if (stopped) return;
    scan();
    const now = Date.now();
    for (const watch of watches.values()) {
      for (const action of watch.actions.slice(-2)) {
        answerOf(action, watch);
        settle(action, false);
      }
      if (inFlight >= CONCURRENT_CLICKS) continue;
      const card = wantsClick(watch, now);
      if (card) void click(watch, card);
    }
  }

  let scheduled = false;
  const onChange = () => {
    if (scheduled) return;
    scheduled = true;
    setTimeout(() => {
      scheduled = false;
      tick();
    }, 50);
  };
  slack.events.on("change", onChange);
  const timer = setInterval(tick, 250);

  return {
    actions,
    /** Requests whose card still offered its buttons after MAX_CLICKS_PER_REQUEST clicks. */
    gaveUp,
    /** Requests the clicker saw a card for. */
    carded: () => watches.size,
    /** Resolves at the next click a bot acknowledged. */
    nextAck: () => new Promise<void>((resolve) => acked.push(resolve)),
    /** Stops clicking and waits for the clicks under way. */
    async stop(): Promise<void> {
      stopped = true;
      clearInterval(timer);
      slack.events.off("change", onChange);
      await waitFor(() => inFlight === 0, { what: "the clicks under way to end", timeout: 30_000 });
    },
    /** Notes the last answers and settles every click: answered, lost to a kill, or unanswered. */
    settleAll(): void {
      scan();
      for (const watch of watches.values()) {
        for (const action of watch.actions) {
          answerOf(action, watch);
          settle(action, true);
        }
      }
    },
  };
}
