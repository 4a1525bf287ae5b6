import { EventEmitter, once } from "node:events";
import type { Logger } from "./logger.ts";
import type { ChatPlatform, PermissionRecord, PostedCard } from "./types.ts";

/**
 * What happens to a request, as the engine's parts tell each other. In-process only, so plain types
 * rather than zod schemas: nothing crosses a process boundary here.
 */
export type ApprovalEvent =
  /**
   * A pending request needs its cards; `recover` when it was seen before (a card may already be in
   * its thread); `owner`, where the publisher read it, the platform its session was started from (null: outside chat).
   */
  | { type: "approval.requested"; record: PermissionRecord; recover?: boolean; owner?: ChatPlatform | null }
  /**
   * Decided from chat or by the bot, with the reply to OpenCode sent or its failure recorded;
   * `recover` when the decision was made before (its reply sent again): a card may be in chat unrecorded.
   */
  | { type: "approval.decided"; record: PermissionRecord; via?: PostedCard; recover?: boolean }
  /** Closed without a chat decision: OpenCode answered it, dropped it, or its session stopped. */
  | { type: "approval.closed"; record: PermissionRecord }
  /** Still pending, with news for its cards: an approval towards several, an escalation. */
  | { type: "approval.updated"; record: PermissionRecord; via?: PostedCard };

type Handler = (event: ApprovalEvent) => void | Promise<void>;

/**
 * The engine's event bus. `publish` resolves once every subscriber has handled the event, so a
 * caller that awaits it knows the cards are up to date; a subscriber's failure is logged, never
 * thrown back at the publisher.
 */
export class ApprovalBus {
  private readonly handlers: Handler[] = [];
  private readonly settled = new EventEmitter().setMaxListeners(0);

  constructor(private readonly logger: Logger) {}

  subscribe(handler: Handler): void {
    this.handlers.push(handler);
  }

  async publish(event: ApprovalEvent): Promise<void> {
    if (event.type === "approval.decided" || event.type === "approval.closed") this.settled.emit(event.record.id);
    await Promise.all(
      this.handlers.map(async (handler) => {
        try {
          await handler(event);
        } catch (error) {
          this.logger.error({ err: error, event: event.type, requestId: event.record.id }, "an approval event handler failed");
        }
      }),
    );
  }

  /** `requestId` was decided or closed by another process on the same database (its NOTIFY). */
  settledElsewhere(requestId: string): void {
    this.settled.emit(requestId);
  }

  /** Resolves when `requestId` is next decided or closed, here or elsewhere, or when `signal` aborts. */
  async settledOnce(requestId: string, signal: AbortSignal): Promise<void> {
    await once(this.settled, requestId, { signal }).catch(() => undefined);
  }
}
