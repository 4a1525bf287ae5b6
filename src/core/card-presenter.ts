import type { ApprovalBus } from "./approval-events.ts";
import type { Card } from "./card.ts";
import { buildCard, requestOfReference, sessionMarker, threadParent } from "./card-text.ts";
import { KeyedQueue } from "./keyed-queue.ts";
import { untilStored } from "./until-stored.ts";
import type { Logger } from "./logger.ts";
import type { ChatAdapter, OpencodeApi } from "./ports.ts";
import type { ApprovalStore } from "./store-port.ts";
import type { ChatPlatform, ChatRef, PermissionRecord, PostedCard, SessionThread } from "./types.ts";

/** A card message not yet sent: the session's requests that came while it waited join it. */
type Batch = { records: PermissionRecord[]; sealed: boolean; sent?: Promise<void> };

/**
 * The cards of every request on every configured platform, driven by the bus: a requested approval
 * gets a card in its session's thread on each adapter, a decided or closed one has all its cards
 * (and the clicked one) brought up to date. A chat failure is logged and never undoes a decision.
 *
 * Posts are what a chat platform limits (Slack: about one a second per channel), so a session's
 * requests that come while its card message waits to go out go out in that message, and a new
 * session's first message is its thread's parent carrying its first cards: a burst of requests in
 * new sessions costs one post per session, not one per request plus one per session.
 */
export function createCardPresenter(deps: {
  store: ApprovalStore;
  opencode: OpencodeApi;
  adapters: ChatAdapter[];
  bus: ApprovalBus;
  logger: Logger;
  now: () => Date;
}) {
  const { store, opencode, adapters, logger } = deps;
  const threads = new Map<string, Promise<ChatRef>>();
  /** The batch still open for more cards, per platform and session. */
  const open = new Map<string, Batch>();
  /** The last edit queued per message: edits of one message run one after another, each from the stored state. */
  const edits = new Map<string, Promise<void>>();
  /** Per message, the edit queued behind the one under way, not started yet (see refreshMessage). */
  const waiting = new Map<string, { done: Promise<void>; record?: PermissionRecord }>();
  /** Requests whose card is on its way, per platform: not missing, not to be posted again. */
  const sending = new Set<string>();
  /** Posts under way (not awaited by the bus: see approval.requested). */
  const posting = new Set<Promise<void>>();
  /** Recovering requests' searches for their cards, per platform and session (see recoverOn). */
  const lookups = new KeyedQueue();
  /** Each session's requests on their way to post, in the order they came, through the read of the session's owner. */
  const ownerReads = new KeyedQueue();
  /** The platform each session seen so far was started from, if from chat (see post). */
  const owners = new Map<string, ChatPlatform | undefined>();
  /** Set once stopping has waited for what was under way: a write waiting for the database gives up. */
  let stopped = false;
  /** Threads read ahead of a session's first card here (see expectCard): each used once, while fresh. */
  const readAhead = new Map<string, { at: number; thread: Promise<SessionThread | undefined> }>();

  deps.bus.subscribe((event) => {
    switch (event.type) {
      // Not awaited: the session's next request, which the engine handles only after this one, may
      // then join this one's message while it waits to go out. A decision meanwhile is caught up
      // once the message is posted (see send).
      case "approval.requested": {
        const posted = post(event.record, event.recover ?? false, event.owner).catch((error: unknown) => {
          logger.error({ err: error, requestId: event.record.id }, "could not post the card; will retry on the next resync");
        });
        posting.add(posted);
        return void posted.finally(() => posting.delete(posted));
      }
      // Not awaited either: an edit may wait long for the platform's limit (Slack: about 50 a minute),
      // and the session's next events must not wait behind it. `settle` waits for them on a stop.
      // A request with a card missing (its record lost with an outage or a crash) has it looked for.
      case "approval.decided":
        return later(event.recover || lacksCard(event.record) ? recoverDecided(event.record, event.via) : refresh(event.record, event.via), event.record);
      case "approval.closed":
        return later(lacksCard(event.record) ? recoverDecided(event.record) : refresh(event.record), event.record);
      case "approval.updated":
        return later(refresh(event.record, event.via), event.record);
    }
  });

  function later(update: Promise<void>, record: PermissionRecord): void {
    update.catch((error: unknown) => logger.error({ err: error, requestId: record.id }, "could not update the card"));
  }

  /** Posts the request's card on each platform that has none yet; a session started from chat has cards on its own platform only. */
  async function post(record: PermissionRecord, recover: boolean, known?: ChatPlatform | null): Promise<void> {
    // In the session's order, whether its owner is known or read (a recovering request's is read):
    // a request that waits for that read keeps the session's later ones behind it.
    const owner = await ownerReads.run(record.sessionId, async () =>
      known !== undefined ? (known ?? undefined) : ((await store.sessionOwner(record.sessionId))?.platform as ChatPlatform | undefined),
    );
    owners.set(record.sessionId, owner);
    const targets = adapters.filter((adapter) => !cardOn(record, adapter) && !sending.has(keyOf(adapter, record.id)) && shows(adapter, owner));
    for (const adapter of targets) sending.add(keyOf(adapter, record.id));
    await Promise.all(targets.map((adapter) => (recover ? recoverOn(adapter, record) : gatherInTurn(adapter, record))));
  }

  /**
   * A request seen before (after a restart, a reconnect): adopts a card already in its thread, one
   * posted just before a crash, or else posts one.
   */
  async function recoverOn(adapter: ChatAdapter, record: PermissionRecord): Promise<void> {
    try {
      // One session's lookups one after another, so that cards not found are gathered in the order they were asked.
      const found = await lookups.run(keyOf(adapter, record.sessionId), async () =>
        foundInThread(adapter, record, (await adoptedThread(adapter, record)) ?? (await threadFor(adapter, record))),
      );
      if (!found) return await gather(adapter, record);
      await linkShown(adapter, record, found);
    } catch (error) {
      sending.delete(keyOf(adapter, record.id));
      logger.error({ err: error, requestId: record.id, platform: adapter.platform }, "could not post the card; will retry on the next resync");
    }
  }

  /** Whether some platform that may show the request has no card of it stored, nor one on its way. */
  function lacksCard(record: PermissionRecord): boolean {
    const owner = owners.get(record.sessionId);
    return adapters.some((adapter) => !cardOn(record, adapter) && !sending.has(keyOf(adapter, record.id)) && shows(adapter, owner));
  }

  /**
   * A decided or closed request the store holds no card for where it should have one (its card's
   * record was lost with the bot, or with the database): a card already in chat is linked and drawn
   * as it now stands; none is posted for it.
   */
  async function recoverDecided(record: PermissionRecord, via?: PostedCard): Promise<void> {
    const owner = (await store.sessionOwner(record.sessionId))?.platform as ChatPlatform | undefined;
    await refresh(record, via);
    for (const adapter of adapters.filter((a) => !cardOn(record, a) && shows(a, owner))) {
      try {
        const stored = threads.get(keyOf(adapter, record.sessionId)) ?? store.getThread(record.sessionId, adapter.platform).then((t) => t?.ref);
        const thread = (await stored) ?? (await adoptedThread(adapter, record));
        const found = thread ? await foundInThread(adapter, record, thread) : undefined;
        if (found) await linkShown(adapter, record, found);
      } catch (error) {
        logger.error({ err: error, requestId: record.id, platform: adapter.platform }, "could not update the card");
      }
    }
  }

  /**
   * Records `ref` as the request's card on `adapter`, and as the card of the other requests it shows
   * that have none stored (they went out together), then draws it from the stored state.
   */
  async function linkShown(adapter: ChatAdapter, record: PermissionRecord, ref: ChatRef): Promise<void> {
    await store.setCard(record.id, { platform: adapter.platform, ref });
    sending.delete(keyOf(adapter, record.id));
    await readBack(adapter, ref);
    await refreshMessage(adapter, ref, record);
  }

  /**
   * The requests message `ref` shows, read from the platform, in its order; those with no card stored
   * on `adapter` are linked to it. Undefined where the adapter cannot read a message back.
   */
  async function readBack(adapter: ChatAdapter, ref: ChatRef): Promise<PermissionRecord[] | undefined> {
    if (!adapter.cardReferences) return undefined;
    const ids = (await adapter.cardReferences(ref)).flatMap((reference) => requestOfReference(reference) ?? []);
    const shown = (await Promise.all(ids.map((id) => store.getRequest(id)))).filter((r): r is PermissionRecord => r !== undefined);
    for (const record of shown.filter((r) => !cardOn(r, adapter))) {
      await store.setCard(record.id, { platform: adapter.platform, ref });
      sending.delete(keyOf(adapter, record.id));
    }
    return shown;
  }

  function foundInThread(adapter: ChatAdapter, record: PermissionRecord, thread: ChatRef): Promise<ChatRef | undefined> {
    return adapter.findCard?.(thread, buildCard(record, adapter.limits, deps.now()).reference) ?? Promise.resolve(undefined);
  }

  /**
   * A session with no thread stored whose parent, carrying some of its cards, was posted before its
   * thread could be stored (a crash, an outage): the thread is recorded as it is and returned, so
   * that the session's cards are looked for, and posted, there and not in a second thread.
   */
  async function adoptedThread(adapter: ChatAdapter, record: PermissionRecord): Promise<ChatRef | undefined> {
    const key = keyOf(adapter, record.sessionId);
    if (!adapter.findCardThread || threads.has(key) || (await store.getThread(record.sessionId, adapter.platform))) return undefined;
    const found = await adapter.findCardThread(sessionMarker(record.sessionId));
    if (!found) return undefined;
    const title = (await opencode.sessionTitle(record.directory, record.sessionId).catch(() => undefined)) ?? record.sessionId;
    const saved = await store.saveThread({ sessionId: record.sessionId, platform: adapter.platform, directory: record.directory, title, ref: found.thread, parentCard: found.message });
    return remember(key, Promise.resolve(saved.ref));
  }

  /** gather, after the searches of the session's recovering requests asked before it (see recoverOn). */
  async function gatherInTurn(adapter: ChatAdapter, record: PermissionRecord): Promise<void> {
    const key = keyOf(adapter, record.sessionId);
    if (lookups.has(key)) await lookups.run(key, async () => undefined);
    return gather(adapter, record);
  }

  /** Adds the request to its session's open batch on `adapter`, or opens one and sends it. */
  async function gather(adapter: ChatAdapter, record: PermissionRecord): Promise<void> {
    const key = keyOf(adapter, record.sessionId);
    const batch = open.get(key);
    if (batch && !batch.sealed && batch.records.length < adapter.limits.cardsPerMessage) {
      batch.records.push(record);
      return batch.sent;
    }
    const fresh: Batch = { records: [record], sealed: false };
    open.set(key, fresh);
    fresh.sent = send(adapter, key, fresh);
    return fresh.sent;
  }

  async function send(adapter: ChatAdapter, key: string, batch: Batch): Promise<void> {
    const take = (): Card[] => {
      batch.sealed = true;
      if (open.get(key) === batch) open.delete(key);
      return batch.records.map((record) => buildCard(record, adapter.limits, deps.now()));
    };
    let ref: ChatRef;
    try {
      ref = await sendBatch(adapter, batch.records[0]!, take);
    } catch (error) {
      if (open.get(key) === batch) open.delete(key);
      for (const record of batch.records) {
        sending.delete(keyOf(adapter, record.id));
        logger.error({ err: error, requestId: record.id, platform: adapter.platform }, "could not post the card; will retry on the next resync");
      }
      return;
    }
    // The message is in chat: it is recorded as these requests' card even if that waits for the
    // database, and until then they count as on their way (an event for one finds no card to draw).
    const ids = batch.records.map((record) => record.id);
    const current = await untilStored(
      async () => {
        for (const record of batch.records) await store.setCard(record.id, { platform: adapter.platform, ref });
        return Promise.all(ids.map((id) => store.getRequest(id)));
      },
      { what: "a card posted", logger, stopped: () => stopped, context: { requestIds: ids, platform: adapter.platform } },
    ).finally(() => {
      for (const id of ids) sending.delete(keyOf(adapter, id));
    });
    // A request decided while its card was on its way: the message is brought up to date at once.
    if (current.some((now, i) => now && now.state !== batch.records[i]!.state)) await refreshMessage(adapter, ref);
  }

  /** Posts the batch: in the session's thread, or as the parent of a thread opened for it. */
  async function sendBatch(adapter: ChatAdapter, first: PermissionRecord, take: () => Card[]): Promise<ChatRef> {
    const key = keyOf(adapter, first.sessionId);
    const known = threads.get(key);
    if (known) return adapter.postCard(await known, take);
    const opened = openThread(adapter, first, take);
    remember(key, opened.then((o) => o.thread));
    const { thread, message } = await opened;
    return message ?? adapter.postCard(thread, take);
  }

  function threadFor(adapter: ChatAdapter, record: PermissionRecord): Promise<ChatRef> {
    const key = keyOf(adapter, record.sessionId);
    return threads.get(key) ?? remember(key, openThread(adapter, record).then((o) => o.thread));
  }

  function remember(key: string, thread: Promise<ChatRef>): Promise<ChatRef> {
    threads.set(key, thread);
    thread.catch(() => threads.delete(key));
    return thread;
  }

  /** The session's stored thread: read ahead if that read is fresh, else now. */
  function storedThread(adapter: ChatAdapter, sessionId: string): Promise<SessionThread | undefined> {
    const key = keyOf(adapter, sessionId);
    const ahead = readAhead.get(key);
    readAhead.delete(key);
    const read = () => store.getThread(sessionId, adapter.platform);
    return ahead && Date.now() - ahead.at < READ_AHEAD_FRESH_MS ? ahead.thread.catch(read) : read();
  }

  /** The session's stored thread, or a new one: its parent carries `cards` where the adapter can. */
  async function openThread(adapter: ChatAdapter, record: PermissionRecord, cards?: () => Card[]): Promise<{ thread: ChatRef; message?: ChatRef }> {
    const stored = await storedThread(adapter, record.sessionId);
    if (stored) return { thread: stored.ref };
    const title = (await opencode.sessionTitle(record.directory, record.sessionId).catch(() => undefined)) ?? record.sessionId;
    const parent = threadParent({ directory: record.directory, sessionId: record.sessionId, title });
    const session = { sessionId: record.sessionId, platform: adapter.platform, directory: record.directory, title };
    if (cards && adapter.openCardThread) {
      const { thread, message } = await adapter.openCardThread(parent, cards);
      const saved = await untilStored(() => store.saveThread({ ...session, ref: thread, parentCard: message }), threadStored(record));
      return { thread: saved.ref, message };
    }
    const ref = await adapter.openThread(parent);
    const saved = await untilStored(() => store.saveThread({ ...session, ref }), threadStored(record));
    return { thread: saved.ref };
  }

  /** How a posted thread waits for the store (see untilStored). */
  function threadStored(record: PermissionRecord) {
    return { what: "a thread opened", logger, stopped: () => stopped, context: { sessionId: record.sessionId, requestId: record.id } };
  }

  async function refresh(record: PermissionRecord, via?: PostedCard): Promise<void> {
    await Promise.all(
      adapters.map(async (adapter) => {
        const refs = record.cards.filter((card) => card.platform === adapter.platform).map((card) => card.ref);
        if (via?.platform === adapter.platform && !refs.includes(via.ref)) refs.push(via.ref);
        for (const ref of refs) await refreshMessage(adapter, ref, record);
      }),
    );
  }

  /**
   * Re-renders a card message from the stored state of every request on it (`record` alone for a
   * message none is stored on: a duplicate clicked after a crash). Queued behind the message's
   * earlier edits, so the last edit shows the latest state; refreshes while one waits there join it
   * (it reads the state when it runs), so a busy message costs two edits at a time, not one per
   * decision on it: edits are what a platform limits most (Slack: about 50 a minute).
   */
  function refreshMessage(adapter: ChatAdapter, ref: ChatRef, record?: PermissionRecord): Promise<void> {
    const key = keyOf(adapter, ref);
    const joined = waiting.get(key);
    if (joined) {
      if (record) joined.record = record;
      return joined.done;
    }
    const slot: { done: Promise<void>; record?: PermissionRecord } = { done: Promise.resolve(), record };
    const edit = (edits.get(key) ?? Promise.resolve()).then(() => {
      if (waiting.get(key) === slot) waiting.delete(key);
      return render(adapter, ref, slot.record, () => waiting.has(key));
    });
    const settled = edit.catch((error: unknown) => {
      logger.error({ err: error, requestId: slot.record?.id, platform: adapter.platform }, "could not update the card");
    });
    slot.done = settled;
    waiting.set(key, slot);
    edits.set(key, settled);
    void settled.then(() => edits.get(key) === settled && edits.delete(key));
    return settled;
  }

  /** Draws the message from the stored state; `queued` says whether a refresh of it waits behind this one. */
  async function render(adapter: ChatAdapter, ref: ChatRef, record: PermissionRecord | undefined, queued: () => boolean, round = 1): Promise<void> {
    let stored = await store.requestsOnCard(adapter.platform, ref);
    let records = stored.length > 0 ? stored : record ? [record] : [];
    // A message the store does not know to show `record` (clicked after its cards' records were
    // lost): what it shows is read back first, so that drawing it drops none of its other cards.
    if (record && !stored.some((r) => r.id === record.id)) {
      const shown = await readBack(adapter, ref);
      if (shown?.length) {
        records = shown.some((r) => r.id === record.id) ? shown : [...shown, record];
        stored = await store.requestsOnCard(adapter.platform, ref);
      }
    }
    if (records.length === 0) return;
    const thread = await store.getThread(records[0]!.sessionId, adapter.platform);
    const parent = thread?.parentCard === ref ? threadParent(thread) : undefined;
    await adapter.updateCard(ref, { parent, cards: records.map((r) => buildCard(r, adapter.limits, deps.now())) });
    await store.markShown(adapter.platform, stored.map((r) => ({ requestId: r.id, state: r.state })));
    // Another process may have decided one of them and drawn the message while this edit was on
    // its way, which then landed last and showed the older state: read again, and draw again if so
    // (unless a refresh queued here behind this one will).
    if (stored.length === 0 || round >= RENDER_ROUNDS || queued()) return;
    const now = await store.requestsOnCard(adapter.platform, ref);
    if (statesOf(now) !== statesOf(stored) && !queued()) await render(adapter, ref, undefined, queued, round + 1);
  }

  return {
    /**
     * Resolves when the posts and edits under way are done, or after `ms`: one still waiting for the
     * platform's limit then fails with the adapter's stop, one waiting for the database gives up,
     * and the next start's resync mends it.
     */
    async settle(ms: number): Promise<void> {
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
      await Promise.race([Promise.all([...posting, ...edits.values()]), waited]);
      clearTimeout(timer);
      stopped = true;
    },
    /**
     * Draws again the card messages of `directory` that still show a decided request pending (their
     * edit was lost: the bot stopped, or the platform failed), except those with an edit on its way.
     */
    async redrawStale(directory: string): Promise<void> {
      for (const card of await store.staleCards(directory)) {
        const adapter = adapters.find((a) => a.platform === card.platform);
        if (adapter && !edits.has(keyOf(adapter, card.ref))) await refreshMessage(adapter, card.ref);
      }
    },
    /** Whether some platform still lacks the request's card (its posting failed earlier). */
    missingCards: lacksCard,
    /**
     * A request of the session is being recorded and may need a card: where this process has no
     * thread of the session yet, its stored thread is read meanwhile (on Postgres, in parallel).
     */
    expectCard(sessionId: string): void {
      // Oldest first (a key is set only when absent): the stale go from the front, up to the first fresh.
      if (readAhead.size > READ_AHEAD_KEPT) {
        for (const [key, ahead] of readAhead) {
          if (Date.now() - ahead.at < READ_AHEAD_FRESH_MS) break;
          readAhead.delete(key);
        }
      }
      for (const adapter of adapters) {
        const key = keyOf(adapter, sessionId);
        if (threads.has(key) || readAhead.has(key)) continue;
        const thread = store.getThread(sessionId, adapter.platform);
        thread.catch(() => undefined); // read again, and failing there, by storedThread
        readAhead.set(key, { at: Date.now(), thread });
      }
    },
  };
}

const keyOf = (adapter: ChatAdapter, id: string) => `${adapter.platform}\u0000${id}`;

/** How many times one refresh draws a message whose requests changed while it was drawn (see render). */
const RENDER_ROUNDS = 3;
const statesOf = (records: PermissionRecord[]) => records.map((r) => `${r.id}:${r.state}:${r.votes.length}:${r.replyError ?? ""}`).join(" ");

/** How long a thread read ahead stands for the stored one, and how many such reads are kept before the stale go. */
const READ_AHEAD_FRESH_MS = 5_000;
const READ_AHEAD_KEPT = 1_000;

/** Whether `adapter` shows the requests of a session started from chat on `owner` (undefined: outside chat). */
function shows(adapter: ChatAdapter, owner: ChatPlatform | undefined): boolean {
  return owner === undefined || adapter.platform === owner || adapter.showsEverySession === true;
}

function cardOn(record: PermissionRecord, adapter: ChatAdapter): boolean {
  return record.cards.some((card) => card.platform === adapter.platform);
}
