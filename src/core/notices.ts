import type { DecisionOutcome } from "./deciding.ts";

/** What a person is told privately when their click or form did nothing, or did less than the card shows. */
export const notices = {
  notApprover: "You are not an approver for this, so nothing was done.",
  unknown: "opencode-chatops does not know this request; nothing was done.",
  notRecorded:
    "Your decision could not be recorded (the bot's database did not answer), so nothing was sent to OpenCode. Please try again.",
  failed: "Something went wrong on our side while handling that, so nothing was done. Please try again.",
  tooSlow: "The bot's database did not answer in time, so nothing was done. Please try again in a moment.",
  invalid: (message: string) => `Nothing was done: ${message}.`,
  notApproverOfRule: (rule: string | undefined) =>
    `You are not an approver for this${rule ? ` (the policy's rule “${rule}” names who may decide)` : " (the policy's defaults name who may decide)"}, so nothing was done.`,
  selfApproval: (rule: string | undefined) =>
    `You started this session, so you cannot approve its requests${rule ? ` (the policy's rule “${rule}” says self_approval: false)` : " (the policy says self_approval: false)"}. Another approver must; you may still reject it.`,
  noAlways: (rule: string | undefined) =>
    `Always is not offered for this request${rule ? ` (the policy's rule “${rule}” says allow_always: false)` : ""}; approve it once instead.`,
};

/** What the decider is told after a decision; undefined when the updated card says it all. */
export function outcomeNotice(outcome: DecisionOutcome): string | undefined {
  switch (outcome.kind) {
    case "decided":
      return undefined;
    case "already_decided": {
      const by = outcome.record.decider ? ` by ${outcome.record.decider.name}` : "";
      return `This request was already decided${by} (${outcome.record.state.replaceAll("_", " ")}); your click changed nothing.`;
    }
    case "voted": {
      if (outcome.counted) return undefined;
      const { votes, policy } = outcome.record;
      const needed = policy?.approvals ?? votes.length;
      return `You have already approved this (${votes.length} of ${needed} approvals); it needs ${needed - votes.length} more from other approvers.`;
    }
    case "reply_failed":
      return `Your decision was recorded, but OpenCode did not take the reply: ${outcome.error}. Nothing was run on it.`;
  }
}
