import type { Matcher } from "./matching.ts";
import type { Policy, Requirements, Rule } from "./policy-file.ts";
import type { PolicyVerdict } from "./evaluate.ts";

/** "10 min", "2 h", "90 s", "1 d": a policy duration as people read it. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [["d", 86_400_000], ["h", 3_600_000], ["min", 60_000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size} ${unit}`;
  }
  return `${Math.round(ms / 1000)} s`;
}

/** What a human decision requires, as short phrases (a card's Policy field, `/opencode policy why`). */
export function requirementPhrases(requires: Pick<Requirements, "approvals" | "selfApproval" | "allowAlways" | "approvers" | "expiresMs" | "onExpiry" | "escalateTo">, options: { requester?: string } = {}): string[] {
  const phrases: string[] = [];
  phrases.push(requires.approvals > 1 ? `${requires.approvals} approvals from different people` : "1 approval");
  if (requires.approvers?.length) phrases.push(`approvers: ${requires.approvers.join(", ")}`);
  if (!requires.selfApproval) phrases.push(options.requester ? `not by ${options.requester}, who started the session` : "not by whoever started the session");
  if (!requires.allowAlways) phrases.push("no Always");
  if (requires.expiresMs) {
    const then = requires.onExpiry === "escalate" ? `escalated to ${requires.escalateTo?.join(", ") ?? "nobody"}, then rejected` : "rejected";
    phrases.push(`${then} if undecided within ${formatDuration(requires.expiresMs)}`);
  }
  return phrases;
}

/** `/opencode policy`: the rules in force, in order, each with what it matches and decides. */
export function describePolicy(policy: Policy | undefined): string {
  if (!policy) {
    return "No policy file is in force: SLACK_APPROVERS / DISCORD_APPROVERS decide (anyone in the channel where unset), one approval, no expiry. Copy chatops.policy.example.yaml to chatops.policy.yaml (or set POLICY_FILE) to have rules.";
  }
  const lines = [`Policy from ${policy.file}: rules are tried in order, the first match decides, none matching means the defaults.`];
  policy.rules.forEach((rule, index) => lines.push(`${index + 1}. ${rule.name}: ${matches(rule)} → ${decides(rule, policy)}`));
  lines.push(`Defaults: ${requirementPhrases(policy.defaults).join(" · ")}`);
  if (policy.redact.length > 0) lines.push(`Also masked: ${policy.redact.map((re) => `/${re.source}/`).join(", ")}`);
  return lines.join("\n");
}

/** `/opencode policy why`: which rule decides a call, and what it requires. */
export function describeVerdict(verdict: PolicyVerdict, policy: Policy, subject: string): string {
  const which = verdict.rule ? `rule “${verdict.rule.name}” (number ${policy.rules.indexOf(verdict.rule) + 1} of ${policy.rules.length}) matches` : "no rule matches, so the defaults apply";
  if (verdict.auto === "allow") return `${subject}: ${which}: allowed without asking anyone.`;
  if (verdict.auto === "deny") return `${subject}: ${which}: denied without asking anyone; the agent is told “${verdict.reason ?? "the team's policy does not allow this call"}”.`;
  return `${subject}: ${which}: ${requirementPhrases(verdict.requires).join(" · ")}.`;
}

function matches(rule: Rule): string {
  const parts: string[] = [];
  if (rule.project) parts.push(`project ${list(rule.project)}`);
  if (rule.tool) parts.push(rule.tool.join(", "));
  if (rule.command) parts.push(`command ${list(rule.command)}`);
  if (rule.path) parts.push(`path ${list(rule.path)}`);
  return parts.length > 0 ? parts.join(" · ") : "every request";
}

function decides(rule: Rule, policy: Policy): string {
  if (rule.auto === "allow") return "allowed automatically";
  if (rule.auto === "deny") return `denied automatically${rule.reason ? ` (“${rule.reason}”)` : ""}`;
  const { name: _n, project: _p, tool: _t, command: _c, path: _path, auto: _a, reason: _r, ...settings } = rule;
  return requirementPhrases({ ...policy.defaults, ...settings }).join(" · ");
}

const list = (matchers: Matcher[]) => matchers.map((m) => m.source).join(", ");
