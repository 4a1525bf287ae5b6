import type { AlwaysRuleStore } from "./always-rules.ts";
import type { Command } from "./commands.ts";
import { describePolicy, describeVerdict } from "./policy/describe.ts";
import { evaluate } from "./policy/evaluate.ts";
import type { PolicyHolder } from "./policy/policy-holder.ts";
import { resolveProject, type ProjectStore } from "./projects.ts";
import type { Actor } from "./ports.ts";
import type { ChatRef } from "./types.ts";

export type PolicyCommandDeps = {
  policy: PolicyHolder;
  projects: ProjectStore;
  alwaysRules: AlwaysRuleStore;
  mayAdminister(actor: Actor): Promise<boolean>;
  mayDecide(actor: Actor): Promise<boolean>;
};

type PolicyCommand = Extract<Command, { name: `policy.${string}` }>;

/** `/opencode policy …`: the rules in force, which rule decides a call, a reload, the Always rules. */
export async function runPolicyCommand(deps: PolicyCommandDeps, actor: Actor, channel: ChatRef, command: PolicyCommand): Promise<string> {
  switch (command.name) {
    case "policy.show":
      return describePolicy(deps.policy.current());
    case "policy.why":
      return why(deps, actor, channel, command);
    case "policy.reload": {
      if (!(await deps.mayAdminister(actor))) return "Only admins (CHATOPS_ADMINS, or else the approvers) may reload the policy; nothing was done.";
      const result = await deps.policy.reload();
      if (!result.ok) return `The policy was not reloaded, and the one in force stays: ${result.error}`;
      return `Policy reloaded from ${result.policy.file}: ${result.policy.rules.length} rule${result.policy.rules.length === 1 ? "" : "s"}. It applies to requests asked from now on; pending ones keep the rule they were asked under.`;
    }
    case "policy.always":
      return command.revoke === undefined ? listAlways(deps) : revokeAlways(deps, actor, command.revoke);
  }
}

async function listAlways(deps: PolicyCommandDeps): Promise<string> {
  const rules = await deps.alwaysRules.list();
  if (rules.length === 0) return "No Always rules are in force: every request the policy does not decide gets a card.";
  const lines = rules.map(
    (rule) => `${rule.id}. ${rule.directory} · ${rule.permission} \`${rule.pattern}\` · by ${rule.by.name} on ${rule.createdAt.toISOString().slice(0, 10)} (request ${rule.requestId})`,
  );
  return [`Always rules in force (revoke one with /opencode policy always revoke <id>):`, ...lines].join("\n");
}

async function revokeAlways(deps: PolicyCommandDeps, actor: Actor, id: number): Promise<string> {
  if (!(await deps.mayDecide(actor))) return "Only approvers may revoke Always rules; nothing was done.";
  const rule = await deps.alwaysRules.revoke(id, actor.name, new Date());
  if (!rule) return `There is no Always rule ${id} in force; /opencode policy always lists them.`;
  return `Revoked Always rule ${id} (${rule.permission} \`${rule.pattern}\` in ${rule.directory}). The bot no longer applies it: such calls get a card again. OpenCode itself keeps an Always it was given until it restarts.`;
}

async function why(deps: PolicyCommandDeps, actor: Actor, channel: ChatRef, command: Extract<Command, { name: "policy.why" }>): Promise<string> {
  const policy = deps.policy.current();
  if (!policy) return describePolicy(undefined);
  const named = command.project?.startsWith("/") ? undefined : command.project;
  const project = named || !command.project ? await resolveProject(deps.projects, { platform: actor.platform, channel }, named) : undefined;
  if (named && !project) return `There is no project “${named}”; give its name (see /opencode project list) or an absolute directory.`;
  const directory = project?.directory ?? command.project ?? "/";
  const tool = command.tool ?? "bash";
  const subject = tool === "bash" ? { command: command.command } : { path: command.command };
  const verdict = evaluate(policy, { directory, tool, ...subject });
  return describeVerdict(verdict, policy, `\`${command.command}\` (${tool} in ${directory})`);
}
