import type { ApprovalBus } from "./approval-events.ts";
import { approversOn } from "./approvers.ts";
import type { Decide } from "./deciding.ts";
import { AlreadyDecided } from "./errors.ts";
import type { Logger } from "./logger.ts";
import { formatDuration } from "./policy/describe.ts";
import { ruleDecider } from "./policy/request-policy.ts";
import type { ChatAdapter } from "./ports.ts";
import type { ApprovalStore } from "./store-port.ts";
import type { PermissionRecord } from "./types.ts";

/**
 * How often a process looks for due requests even when it knows of none: another bot process on the
 * same database may have recorded one. Its own requests are timed to the millisecond.
 */
export const EXPIRY_LOOKOUT_MS = 15_000;

/**
 * Expiry on durable timers: each pending request's `expires_at` is in the database, so a restart
 * forgets nothing, and every bot process watches the earliest one. A due request is rejected with
 * a message the agent reads (it fails closed), or, with `on_expiry: escalate`, escalated once (the
 * thread mentions `escalate_to`, who are also sent a direct message) and given the same time again.
 * Both are conditional updates, so with several processes each expiry happens once.
 */
export function createExpiry(deps: {
  store: ApprovalStore;
  decider: Decide;
  bus: ApprovalBus;
  adapters: ChatAdapter[];
  /** Runs `task` in the request's session queue, after what is queued there. */
  inSession: (sessionId: string, task: () => Promise<void>) => Promise<void>;
  logger: Logger;
  now: () => Date;
}) {
  const { store, decider, bus, adapters, logger } = deps;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();

  /** Sets the timer for the earliest expiry on record (or the lookout, whichever comes first). */
  async function arm(): Promise<void> {
    if (stopped) return;
    const next = await store.nextExpiry().catch((error: unknown) => {
      logger.warn({ err: error }, "could not read the next expiry; looking again soon");
      return undefined;
    });
    const wait = next ? Math.max(0, next.getTime() - deps.now().getTime()) : EXPIRY_LOOKOUT_MS;
    clearTimeout(timer);
    timer = setTimeout(() => void (running = fire()), Math.min(wait, EXPIRY_LOOKOUT_MS));
    timer.unref();
  }

  async function fire(): Promise<void> {
    try {
      for (const record of await store.dueRequests(deps.now())) {
        await deps.inSession(record.sessionId, () => expire(record)).catch((error: unknown) => logger.error({ err: error, requestId: record.id }, "could not expire a request"));
      }
    } catch (error) {
      logger.warn({ err: error }, "could not read the due requests; trying again soon");
    }
    await arm();
  }

  async function expire(record: PermissionRecord): Promise<void> {
    const policy = record.policy;
    if (!policy?.expiresMs || record.state !== "pending") return;
    const at = deps.now();
    if (policy.onExpiry === "escalate" && !record.escalatedAt) {
      const escalated = await store.escalate(record.id, at, new Date(at.getTime() + policy.expiresMs));
      if (!escalated) return; // another process escalated it, or it was decided
      logger.info({ requestId: record.id, to: policy.escalateTo }, "expiry escalated");
      await bus.publish({ type: "approval.updated", record: escalated });
      await escalate(escalated);
      return;
    }
    const message = `Not approved within ${formatDuration(policy.expiresMs * (record.escalatedAt ? 2 : 1))}; ask ${await whoToAsk(record)}.`;
    try {
      await decider.commit(
        { requestId: record.id, state: "expired", decider: ruleDecider(policy.rule ?? "defaults"), reason: message, at },
        record.source === "opencode" ? { kind: "permission", reply: "reject", message } : { kind: "none" },
      );
      logger.info({ requestId: record.id, rule: policy.rule }, "request expired; rejected");
    } catch (error) {
      if (!(error instanceof AlreadyDecided)) throw error;
    }
  }

  /** Who could have approved, as people read it: the rule's approvers by name, or the thread's approvers. */
  async function whoToAsk(record: PermissionRecord): Promise<string> {
    const entries = [...(record.policy?.approvers ?? []), ...(record.escalatedAt ? (record.policy?.escalateTo ?? []) : [])];
    if (entries.length === 0) return "an approver in the session's thread";
    const names: string[] = [];
    for (const adapter of adapters) {
      for (const entry of approversOn(adapter.platform, entries)) names.push((await adapter.nameOf?.(entry).catch(() => undefined)) ?? entry);
    }
    return [...new Set(names)].join(" or ");
  }

  /** The escalation's post in each thread the request has a card in, mentioning `escalate_to`, and a direct message to each of them. */
  async function escalate(record: PermissionRecord): Promise<void> {
    const policy = record.policy!;
    const what = typeof record.metadata.command === "string" ? `\`${record.metadata.command}\`` : `a ${record.permission} request`;
    for (const adapter of adapters) {
      const people = approversOn(adapter.platform, policy.escalateTo ?? []);
      const thread = await store.getThread(record.sessionId, adapter.platform);
      if (!adapter.escalate || people.length === 0 || !thread || !record.cards.some((card) => card.platform === adapter.platform)) continue;
      const link = await adapter.threadLink(thread.ref).catch(() => undefined);
      const wait = formatDuration(policy.expiresMs!);
      await adapter
        .escalate(thread.ref, people, {
          thread: `{people}: ${what} (request ${record.id}${policy.rule ? `, rule “${policy.rule}”` : ""}) was not decided within ${wait}. Please decide on its card; it is rejected if nobody does within ${wait} more.`,
          direct: `An OpenCode request waits for you: ${what} in ${record.directory}${link ? ` (${link})` : ""}, not decided within ${wait}. It is rejected if nobody decides within ${wait} more.`,
        })
        .catch((error: unknown) => logger.error({ err: error, requestId: record.id, platform: adapter.platform }, "could not post the escalation"));
    }
  }

  return {
    /** Starts watching; resolves once the first look is set. */
    start: () => arm(),
    /** A request with an expiry was just recorded: the timer may need to be earlier. */
    scheduled: () => void arm(),
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
