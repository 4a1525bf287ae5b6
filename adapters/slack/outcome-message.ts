import type { DecisionOutcome } from "../../src/core/approval-engine.ts";

/** What a clicker is told privately when nothing was done. */
export const notices = {
  notApprover: "You are not an approver for this, so nothing was done.",
  unknown: "opencode-chatops does not know this request; nothing was done.",
  notRecorded:
    "Your decision could not be recorded (the bot's database did not answer), so nothing was sent to OpenCode. Please try again.",
};

/** What the clicker is told privately after a decision; undefined when the updated card says it all. */
export function outcomeMessage(outcome: DecisionOutcome): string | undefined {
  switch (outcome.kind) {
    case "decided":
      return undefined;
    case "not_found":
      return notices.unknown;
    case "already_decided": {
      const by = outcome.record.decider ? ` by ${outcome.record.decider.name}` : "";
      return `This request was already decided${by} (${outcome.record.state.replaceAll("_", " ")}); your click changed nothing.`;
    }
    case "reply_failed":
      return `Your decision was recorded, but OpenCode did not take the reply: ${outcome.error}. Nothing was run on it.`;
  }
}
