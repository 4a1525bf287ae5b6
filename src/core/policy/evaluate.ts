import { anyMatches, commandParts, type Matcher } from "./matching.ts";
import type { Policy, Requirements, Rule } from "./policy-file.ts";

/** What a rule looks at in a request: its directory, OpenCode's permission name, the command (bash) or the file (edit). */
export type PolicySubject = { directory: string; tool: string; command?: string; path?: string };

/** The decision a policy gives a request: decided at once (`auto`), or what a human decision requires. */
export type PolicyVerdict = { rule?: Rule; auto?: "allow" | "deny"; reason?: string; requires: Requirements };

/** Whether `rule` matches: every part it names matches (a list, if any entry does). */
export function ruleMatches(rule: Rule, subject: PolicySubject): boolean {
  if (rule.tool && !rule.tool.includes(subject.tool)) return false;
  if (!anyMatches(rule.project, subject.directory)) return false;
  if (rule.command && !commandMatches(rule.command, subject.command, rule.auto === "allow")) return false;
  if (rule.path && !anyMatches(rule.path, subject.path)) return false;
  return true;
}

/**
 * A command list against a bash command line. A rule that allows by itself covers a line only when
 * it covers each of its commands (`ls && rm -rf x` is not read-only) and nothing is hidden in a
 * substitution; any other rule matches the whole line or any one of its commands, so that
 * `cd build && rm -rf *` is still destructive.
 */
function commandMatches(list: Matcher[], command: string | undefined, allows: boolean): boolean {
  if (command === undefined) return false;
  const { parts, opaque } = commandParts(command);
  if (allows) return !opaque && parts.length > 0 && parts.every((part) => anyMatches(list, part));
  return anyMatches(list, command) || parts.some((part) => anyMatches(list, part));
}

/** The first rule that matches decides; none matching means the defaults. A rule's settings replace the defaults' one by one. */
export function evaluate(policy: Policy, subject: PolicySubject): PolicyVerdict {
  const rule = policy.rules.find((candidate) => ruleMatches(candidate, subject));
  if (!rule) return { requires: policy.defaults };
  const { name: _name, project: _p, tool: _t, command: _c, path: _path, auto, reason, ...settings } = rule;
  return { rule, ...(auto ? { auto } : {}), ...(reason ? { reason } : {}), requires: { ...policy.defaults, ...settings } };
}
