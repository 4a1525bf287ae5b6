import type { ReplyPlan } from "./deciding.ts";
import { ChatopsError, NotFound } from "./errors.ts";
import type { Logger } from "./logger.ts";
import type { OpencodeApi } from "./ports.ts";
import type { ApprovalStore } from "./store-port.ts";
import type { PermissionRecord } from "./types.ts";

/** A committed decision after its reply: the record as it now stands, and the error when OpenCode did not take it. */
export type Replied = { record: PermissionRecord; error?: string };

/**
 * Sends the one reply for a decision that is already committed. A failure is recorded (an audit row
 * and the record's `replyError`) and returned, never hidden and never retried into a second reply.
 */
export function createReplier(deps: { store: ApprovalStore; opencode: OpencodeApi; logger: Logger; now: () => Date }) {
  const { store, opencode, logger } = deps;

  function send(record: PermissionRecord, plan: ReplyPlan): Promise<void> {
    const target = { directory: record.directory, requestId: record.id };
    switch (plan.kind) {
      case "none":
        return Promise.resolve();
      case "permission":
        return opencode.replyPermission({ ...target, reply: plan.reply, message: plan.message });
      case "answer":
        return opencode.replyQuestion({ ...target, answers: plan.answers });
      case "dismiss":
        return opencode.rejectQuestion(target);
    }
  }

  /**
   * `again`: the reply of a decision made before (see the decider's `resend`): a 404 means it did
   * arrive, and a failure is left for the next resync to try, with nothing recorded.
   */
  return async function reply(record: PermissionRecord, plan: ReplyPlan, options: { again?: boolean } = {}): Promise<Replied> {
    try {
      await send(record, plan);
    } catch (error) {
      if (options.again) {
        if (error instanceof NotFound) return { record };
        logger.warn({ err: error, requestId: record.id }, "could not send a stored decision's reply again; the next resync tries again");
        return { record, error: String(error) };
      }
      const message =
        error instanceof NotFound
          ? "OpenCode no longer has this request (it restarted, or the request was answered elsewhere)"
          : error instanceof ChatopsError
            ? error.message
            : String(error);
      logger.error({ err: error, requestId: record.id }, "reply to OpenCode failed");
      return { record: await store.recordReplyFailure(record.id, message, deps.now()), error: message };
    }
    logger.info({ requestId: record.id, state: record.state, by: record.decider?.userId, ...(options.again ? { again: true } : {}) }, options.again ? "stored decision sent to OpenCode again" : "permission decided");
    return { record };
  };
}

export type Reply = ReturnType<typeof createReplier>;
