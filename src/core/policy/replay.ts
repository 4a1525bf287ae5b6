import { approversOn } from "../approvers.ts";
import { formatWait } from "../card-text.ts";
import { BUDGET, QUESTION, type AuditEntry, type ChatPlatform, type Decider } from "../types.ts";
import { requirementPhrases } from "./describe.ts";
import { evaluate } from "./evaluate.ts";
import type { Policy } from "./policy-file.ts";
import { subjectOf } from "./request-policy.ts";

/** One audited request a policy would have decided otherwise. */
export type ReplayChange = { requestId: string; what: string; was: string; wouldBe: string };

const CHAT: string[] = ["slack", "discord", "web"];
const APPROVED = ["approved_once", "approved_always", "edited"];

/**
 * The dry run of a policy (`npm run policy -- check`): each audited request (its rows in order)
 * judged again, and what would have gone otherwise: decided by a rule instead of a person or the
 * other way round, more approvals or other approvers needed, the starter's approval refused,
 * Always not offered, an expiry sooner or later. `starterOf` names who started a session from chat.
 */
export function replay(policy: Policy, entries: AuditEntry[], starterOf: (sessionId: string) => Decider | undefined): { requests: number; changes: ReplayChange[] } {
  const byRequest = new Map<string, AuditEntry[]>();
  for (const entry of entries) byRequest.set(entry.requestId, [...(byRequest.get(entry.requestId) ?? []), entry]);
  const changes: ReplayChange[] = [];
  let requests = 0;
  for (const [requestId, rows] of byRequest) {
    const final = rows.filter((row) => !row.decision.startsWith("approval:") && row.decision !== "escalated" && row.decision !== "reply_failed").at(-1);
    if (!final || final.tool === QUESTION || final.tool === BUDGET || final.decision.startsWith("answered_elsewhere") || final.decision === "cancelled") continue;
    requests++;
    const subject = subjectOf({ directory: final.directory, permission: final.tool, metadata: final.originalArgs, toolArgs: final.originalArgs });
    const verdict = evaluate(policy, subject);
    const rule = verdict.rule ? ` (rule “${verdict.rule.name}”)` : " (the defaults)";
    const people = approversOf(rows, final);
    const was = describeOutcome(final, people);
    const change = (wouldBe: string) => changes.push({ requestId, what: `${final.tool} ${subject.command ? `\`${subject.command}\`` : (subject.path ?? "")} in ${final.directory}`, was, wouldBe });
    const byPolicy = final.decider.platform === "policy" && final.decision !== "expired";
    if (verdict.auto) {
      const same = byPolicy && final.decider.name === verdict.rule!.name && (verdict.auto === "allow") === APPROVED.includes(final.decision);
      if (!same) change(`${verdict.auto === "allow" ? "allowed" : "denied"} automatically${rule}`);
      continue;
    }
    if (byPolicy) {
      change(`would need a person${rule}: ${requirementPhrases(verdict.requires).join(" · ")}`);
      continue;
    }
    const { requires } = verdict;
    const reasons: string[] = [];
    const waited = final.decidedAt.getTime() - final.askedAt.getTime();
    if (final.decision === "expired") {
      if (!requires.expiresMs || requires.expiresMs > waited) reasons.push(requires.expiresMs ? `it would expire only after ${formatWait(requires.expiresMs)}` : "it would not expire");
    } else if (CHAT.includes(final.decider.platform)) {
      const approving = APPROVED.includes(final.decision);
      if (approving && people.length < requires.approvals) reasons.push(`${requires.approvals} approvals needed (it had ${people.length}: ${people.map((p) => p.name).join(", ")})`);
      const outsiders = (approving ? people : [final.decider]).filter((person) => requires.approvers?.length && !listed(person, requires.approvers));
      if (outsiders.length > 0) reasons.push(`${outsiders.map((p) => p.name).join(", ")} would not be an approver (${requires.approvers!.join(", ")}; groups and roles are not checked here)`);
      const starter = starterOf(final.sessionId);
      if (approving && !requires.selfApproval && starter && people.some((p) => p.platform === starter.platform && p.userId === starter.userId)) {
        reasons.push(`${starter.name} started the session and could not approve it`);
      }
      if (final.decision === "approved_always" && !requires.allowAlways) reasons.push("Always would not be offered");
      if (requires.expiresMs && waited > requires.expiresMs) reasons.push(`it would have expired after ${formatWait(requires.expiresMs)} (it was decided after ${formatWait(waited)})`);
    }
    if (reasons.length > 0) change(`${reasons.join("; ")}${rule}`);
  }
  return { requests, changes };
}

/** Who approved: the approvals given towards several, and the final decider. */
function approversOf(rows: AuditEntry[], final: AuditEntry): Decider[] {
  const people = [...rows.filter((row) => row.decision.startsWith("approval:")).map((row) => row.decider), ...(APPROVED.includes(final.decision) ? [final.decider] : [])];
  return people.filter((person, index) => people.findIndex((other) => other.platform === person.platform && other.userId === person.userId) === index);
}

/** Whether a person is named by a policy list by id (a group or role they may belong to cannot be read offline). */
function listed(person: Decider, approvers: string[]): boolean {
  return approversOn(person.platform as ChatPlatform, approvers).includes(person.userId);
}

function describeOutcome(final: AuditEntry, people: Decider[]): string {
  const after = `after ${formatWait(final.decidedAt.getTime() - final.askedAt.getTime())}`;
  if (final.decider.platform === "policy") return final.decision === "expired" ? `expired ${after}` : `${APPROVED.includes(final.decision) ? "allowed" : "denied"} by rule “${final.decider.name}”`;
  const who = (APPROVED.includes(final.decision) ? people : [final.decider]).map((p) => p.name).join(", ");
  return `${final.decision.replaceAll("_", " ")} by ${who} ${after}`;
}
