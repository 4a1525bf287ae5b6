import type { ApprovalBus } from "./approval-events.ts";
import { buildCard, threadParent } from "./card-text.ts";
import type { Logger } from "./logger.ts";
import type { ChatAdapter, OpencodeApi } from "./ports.ts";
import type { ApprovalStore } from "./store-port.ts";
import type { ChatPlatform, ChatRef, PermissionRecord, PostedCard } from "./types.ts";

/**
 * The cards of every request on every configured platform, driven by the bus: a requested approval
 * gets a card in its session's thread on each adapter, a decided or closed one has all its cards
 * (and the clicked one) brought up to date. A chat failure is logged and never undoes a decision.
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
  /** The platform each session seen so far was started from, if from chat (see post). */
  const owners = new Map<string, ChatPlatform | undefined>();

  deps.bus.subscribe((event) => {
    switch (event.type) {
      case "approval.requested":
        return post(event.record, event.recover ?? false);
      case "approval.decided":
        return refresh(event.record, event.via);
      case "approval.closed":
        return refresh(event.record);
      case "approval.updated":
        return refresh(event.record, event.via);
    }
  });

  /** Posts the request's card on each platform that has none yet; a session started from chat has cards on its own platform only. */
  async function post(record: PermissionRecord, recover: boolean): Promise<void> {
    const owner = (await store.sessionOwner(record.sessionId))?.platform as ChatPlatform | undefined;
    owners.set(record.sessionId, owner);
    const targets = adapters.filter((adapter) => !cardOn(record, adapter) && shows(adapter, owner));
    await Promise.all(targets.map((adapter) => postOn(adapter, record, recover)));
  }

  /**
   * Posts one card or, for a request seen before (`recover`), first adopts a card already in its
   * thread. Should the request be decided while the card was being posted, the card is brought up
   * to date at once.
   */
  async function postOn(adapter: ChatAdapter, record: PermissionRecord, recover: boolean): Promise<void> {
    try {
      const thread = await threadFor(adapter, record);
      const card = buildCard(record, adapter.limits, deps.now());
      const found = recover ? await adapter.findCard?.(thread, card.reference) : undefined;
      const ref = found ?? (await adapter.postCard(thread, card));
      await store.setCard(record.id, { platform: adapter.platform, ref });
      const current = await store.getRequest(record.id);
      if (found || (current && current.state !== record.state)) await updateOn(adapter, current ?? record, [ref]);
    } catch (error) {
      logger.error({ err: error, requestId: record.id, platform: adapter.platform }, "could not post the card; will retry on the next resync");
    }
  }

  async function refresh(record: PermissionRecord, via?: PostedCard): Promise<void> {
    await Promise.all(
      adapters.map((adapter) => {
        const refs = record.cards.filter((card) => card.platform === adapter.platform).map((card) => card.ref);
        if (via?.platform === adapter.platform && !refs.includes(via.ref)) refs.push(via.ref);
        return updateOn(adapter, record, refs);
      }),
    );
  }

  async function updateOn(adapter: ChatAdapter, record: PermissionRecord, refs: ChatRef[]): Promise<void> {
    if (refs.length === 0) return;
    const card = buildCard(record, adapter.limits, deps.now());
    for (const ref of refs) {
      try {
        await adapter.updateCard(ref, card);
      } catch (error) {
        logger.error({ err: error, requestId: record.id, platform: adapter.platform }, "could not update the card");
      }
    }
  }

  function threadFor(adapter: ChatAdapter, record: PermissionRecord): Promise<ChatRef> {
    const key = `${adapter.platform}\u0000${record.sessionId}`;
    let thread = threads.get(key);
    if (!thread) {
      thread = openThread(adapter, record);
      threads.set(key, thread);
      thread.catch(() => threads.delete(key));
    }
    return thread;
  }

  async function openThread(adapter: ChatAdapter, record: PermissionRecord): Promise<ChatRef> {
    const stored = await store.getThread(record.sessionId, adapter.platform);
    if (stored) return stored.ref;
    const title = (await opencode.sessionTitle(record.directory, record.sessionId).catch(() => undefined)) ?? record.sessionId;
    const ref = await adapter.openThread(threadParent({ directory: record.directory, sessionId: record.sessionId, title }));
    const saved = await store.saveThread({ sessionId: record.sessionId, platform: adapter.platform, directory: record.directory, title, ref });
    return saved.ref;
  }

  return {
    /** Whether some platform still lacks the request's card (its posting failed earlier). */
    missingCards: (record: PermissionRecord) => {
      const owner = owners.get(record.sessionId);
      return adapters.some((adapter) => !cardOn(record, adapter) && shows(adapter, owner));
    },
  };
}

/** Whether `adapter` shows the requests of a session started from chat on `owner` (undefined: outside chat). */
function shows(adapter: ChatAdapter, owner: ChatPlatform | undefined): boolean {
  return owner === undefined || adapter.platform === owner || adapter.showsEverySession === true;
}

function cardOn(record: PermissionRecord, adapter: ChatAdapter): boolean {
  return record.cards.some((card) => card.platform === adapter.platform);
}
