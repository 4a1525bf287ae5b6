import { posix } from "node:path";
import type { Command } from "./commands.ts";
import { OpencodeUnavailable } from "./errors.ts";
import type { Actor } from "./ports.ts";
import { PROJECT_NAME, type DirectoryInfo, type Project, type ProjectStore } from "./projects.ts";
import type { ChatRef } from "./types.ts";

export type ProjectCommandDeps = {
  projects: ProjectStore;
  /** What the OpenCode server at `serverUrl` says of `directory`. Throws OpencodeUnavailable when it does not answer. */
  inspectDirectory(serverUrl: string, directory: string): Promise<DirectoryInfo>;
  defaultServerUrl: string;
  mayAdminister(actor: Actor): Promise<boolean>;
  /** A project was added (its server may need following). */
  onProjectAdded?(project: Project): void;
};

type ProjectCommand = Extract<Command, { name: `project.${string}` }>;

/** Runs `/opencode project …`; the answer is for the caller alone. */
export async function runProjectCommand(deps: ProjectCommandDeps, actor: Actor, channel: ChatRef, command: ProjectCommand): Promise<string> {
  const { projects } = deps;
  switch (command.name) {
    case "project.list":
      return listProjects(deps, actor, channel);
    case "project.default": {
      const project = await projects.getProject(command.project);
      if (!project) return unknownProject(deps, command.project);
      await projects.setChannelDefault(actor.platform, channel, project.name);
      return `\`${project.name}\` is now this channel's default project (${project.directory}).`;
    }
    case "project.add":
      if (!(await deps.mayAdminister(actor))) return "You may not add projects: ask one of CHATOPS_ADMINS (or an approver).";
      return addProject(deps, actor, command);
    case "project.remove": {
      if (!(await deps.mayAdminister(actor))) return "You may not remove projects: ask one of CHATOPS_ADMINS (or an approver).";
      const removed = await projects.removeProject(command.project);
      return removed ? `Project \`${command.project}\` removed. Its sessions and their threads stay as they are.` : unknownProject(deps, command.project);
    }
  }
}

async function addProject(deps: ProjectCommandDeps, actor: Actor, command: Extract<Command, { name: "project.add" }>): Promise<string> {
  if (!PROJECT_NAME.test(command.project)) return `\`${command.project}\` cannot be a project name: use up to 32 letters, digits, dots, dashes or underscores.`;
  if (!command.path.startsWith("/")) return `\`${command.path}\` is a relative path: give the project's absolute path on the OpenCode server.`;
  if (command.url !== undefined && !/^https?:\/\//.test(command.url)) return `\`${command.url}\` is not an OpenCode server URL (http://host:port).`;
  const taken = await deps.projects.getProject(command.project);
  if (taken) return `A project named \`${taken.name}\` exists already (${taken.directory}).`;
  const directory = normalize(command.path);
  const serverUrl = command.url ? command.url.replace(/\/+$/, "") : deps.defaultServerUrl;
  let info: DirectoryInfo;
  try {
    info = await deps.inspectDirectory(serverUrl, directory);
  } catch (error) {
    if (error instanceof OpencodeUnavailable) return `The OpenCode server at ${serverUrl} did not answer, so \`${command.project}\` was not added: ${error.message}`;
    throw error;
  }
  if (info.kind === "missing") return `${directory} does not exist on the OpenCode server at ${serverUrl}.`;
  if (info.kind === "file") return `${directory} is a file on the OpenCode server at ${serverUrl}, not a directory.`;
  const { project, added } = await deps.projects.addProject({
    name: command.project,
    directory,
    ...(command.url ? { serverUrl } : {}),
    addedBy: { platform: actor.platform, userId: actor.userId },
  });
  if (!added) return `A project named \`${project.name}\` exists already (${project.directory}).`;
  deps.onProjectAdded?.(project);
  const vcs = info.branch ? `git branch ${info.branch}` : "no git";
  return `Project \`${project.name}\` added: ${directory} on ${serverUrl} (${vcs}).`;
}

async function listProjects(deps: ProjectCommandDeps, actor: Actor, channel: ChatRef): Promise<string> {
  const all = await deps.projects.listProjects();
  if (all.length === 0) return "No projects yet. Add one with `/opencode project add <name> <absolute path>`.";
  const fallback = all.length === 1 ? all[0]!.name : await deps.projects.channelDefault(actor.platform, channel);
  const lines = all.map((p) => `• \`${p.name}\` ${p.directory}${p.serverUrl ? ` on ${p.serverUrl}` : ""}${p.name === fallback ? " (default here)" : ""}`);
  return [`Projects (${all.length}):`, ...lines].join("\n");
}

async function unknownProject(deps: ProjectCommandDeps, name: string): Promise<string> {
  const names = (await deps.projects.listProjects()).map((p) => `\`${p.name}\``);
  return `There is no project named \`${name}\`. ${names.length > 0 ? `Projects: ${names.join(", ")}.` : "There are no projects yet."}`;
}

/** An absolute path without `.`/`..` segments or a trailing slash, as OpenCode names directories. */
function normalize(path: string): string {
  const normal = posix.normalize(path);
  return normal.length > 1 ? normal.replace(/\/+$/, "") : normal;
}
