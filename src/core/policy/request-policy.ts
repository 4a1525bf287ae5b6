import { isAbsolute, relative } from "node:path";
import { BUDGET, QUESTION, type Decider, type RequestPolicy } from "../types.ts";
import { evaluate, type PolicySubject } from "./evaluate.ts";
import type { Policy } from "./policy-file.ts";

/** A request as the policy sees it when it comes in. */
export type Asked = {
  directory: string;
  permission: string;
  metadata: Record<string, unknown>;
  toolArgs: Record<string, unknown> | null;
  askedAt: Date;
  /** Who started its session from chat, if someone did. */
  requester?: Decider;
};

/** What the policy makes of a request: what a decision requires, when it expires, or a decision at once. */
export type Judgement = {
  policy: RequestPolicy | null;
  expiresAt: Date | null;
  auto?: { allow: boolean; rule: string; reason?: string };
};

/** The policy's decider: the rule that decided, by name. */
export const ruleDecider = (rule: string): Decider => ({ platform: "policy", userId: rule, name: rule });

/** What a rule looks at in `asked`: the command of a bash request, the file of an edit (relative to the project where inside it). */
export function subjectOf(asked: Pick<Asked, "directory" | "permission" | "metadata" | "toolArgs">): PolicySubject {
  const command = text(asked.metadata.command) ?? text(asked.toolArgs?.command);
  const file = text(asked.metadata.filepath) ?? text(asked.toolArgs?.filePath);
  const inside = file && isAbsolute(file) && !relative(asked.directory, file).startsWith("..") ? relative(asked.directory, file) : file;
  return { directory: asked.directory, tool: asked.permission, ...(command ? { command } : {}), ...(inside ? { path: inside } : {}) };
}

/**
 * Judges a request against the policy in force (none: #2's behaviour, a null policy). Questions and
 * held prompts are not tool calls: only the defaults' approvers apply to them, with one approval and
 * no expiry.
 */
export function judge(policy: Policy | undefined, asked: Asked): Judgement {
  if (!policy) return { policy: null, expiresAt: null };
  const requester = asked.requester ? { requester: asked.requester } : {};
  if (asked.permission === QUESTION || asked.permission === BUDGET) {
    const approvers = policy.defaults.approvers?.length ? { approvers: policy.defaults.approvers } : {};
    return { policy: { approvals: 1, selfApproval: true, allowAlways: false, onExpiry: "reject", ...approvers, ...requester }, expiresAt: null };
  }
  const verdict = evaluate(policy, subjectOf(asked));
  const { requires } = verdict;
  const rule = verdict.rule?.name;
  const requestPolicy: RequestPolicy = {
    ...(rule ? { rule } : {}),
    ...(requires.approvers?.length ? { approvers: requires.approvers } : {}),
    approvals: requires.approvals,
    selfApproval: requires.selfApproval,
    allowAlways: requires.allowAlways,
    ...(requires.expiresMs ? { expiresMs: requires.expiresMs } : {}),
    onExpiry: requires.onExpiry,
    ...(requires.escalateTo?.length ? { escalateTo: requires.escalateTo } : {}),
    ...requester,
  };
  if (verdict.auto && rule) {
    return { policy: requestPolicy, expiresAt: null, auto: { allow: verdict.auto === "allow", rule, ...(verdict.reason ? { reason: verdict.reason } : {}) } };
  }
  return { policy: requestPolicy, expiresAt: requires.expiresMs ? new Date(asked.askedAt.getTime() + requires.expiresMs) : null };
}

/** What the agent reads when a rule denies its call: the rule's `reason`, as the team wrote it. */
export function denial(auto: { rule: string; reason?: string }): string {
  return auto.reason ?? `The team's policy (rule “${auto.rule}”) does not allow this call.`;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 ? value : undefined;
}
