import { startedThreadParent, titleFromPrompt } from "./card-text.ts";
import type { Command } from "./commands.ts";
import { OpencodeUnavailable } from "./errors.ts";
import type { Logger } from "./logger.ts";
import type { OwnedSession, OwnedSessionStore } from "./owned-sessions.ts";
import type { Actor, ChatAdapter, PromptFile, SessionApi } from "./ports.ts";
import { resolveProject, type ProjectStore } from "./projects.ts";
import type { ChatRef } from "./types.ts";

export type StartSessionDeps = {
  projects: ProjectStore;
  sessions: OwnedSessionStore;
  /** The session API of the OpenCode server at a URL. */
  sessionApiFor(serverUrl: string): SessionApi;
  defaultServerUrl: string;
  adapters: ChatAdapter[];
  logger: Logger;
  /** Follow the new session's progress from its first event. */
  adopt?(session: OwnedSession): void;
  /** Why a new prompt for the project must wait for an approver's OK (its budget is spent), if it must. */
  overBudget?(project: string): Promise<string | undefined>;
  /** Holds a prompt for an approver's OK, on a card in the session's thread. */
  holdPrompt?(hold: { directory: string; sessionId: string; prompt: string; reason: string; by: string; files?: PromptFile[] }): Promise<unknown>;
};

type Run = Extract<Command, { name: "run" }>;

/** How many valid names an error lists before it says how many more there are. */
const LISTED = 15;

/** What starting said: `started` once the prompt went to OpenCode (or waits for an approver's OK). */
export type StartResult = { started: boolean; text: string };
const refused = (text: string): StartResult => ({ started: false, text });

/**
 * `/opencode run`: checks the project, agent and model against OpenCode, creates the session, opens
 * its thread in the channel where the command was typed, records who owns it, and sends the prompt.
 * Resolves to what the caller alone is told.
 */
export async function startSession(deps: StartSessionDeps, actor: Actor, channel: ChatRef, command: Run): Promise<StartResult> {
  const project = await resolveProject(deps.projects, { platform: actor.platform, channel }, command.project);
  if (!project) return refused(await noProject(deps.projects, command.project));
  const serverUrl = project.serverUrl ?? deps.defaultServerUrl;
  const api = deps.sessionApiFor(serverUrl);
  const adapter = deps.adapters.find((candidate) => candidate.platform === actor.platform);
  if (!adapter) throw new Error(`no adapter for ${actor.platform}`);

  try {
    if (command.agent) {
      const agents = await api.agents(project.directory);
      if (!agents.includes(command.agent)) return refused(`There is no agent \`${command.agent}\` in \`${project.name}\`. Agents: ${listed(agents)}.`);
    }
    if (command.model) {
      const models = await api.models(project.directory);
      if (!models.includes(command.model)) return refused(`There is no model \`${command.model}\` on ${serverUrl}. Models: ${listed(models)}.`);
    }
  } catch (error) {
    if (error instanceof OpencodeUnavailable) return refused(`The OpenCode server at ${serverUrl} did not answer, so nothing was started: ${error.message}`);
    throw error;
  }

  const title = titleFromPrompt(command.prompt);
  let sessionId: string;
  try {
    sessionId = await api.createSession(project.directory, title);
  } catch (error) {
    if (error instanceof OpencodeUnavailable) return refused(`OpenCode did not create the session, so nothing was started: ${error.message}`);
    throw error;
  }
  const by = { platform: actor.platform, userId: actor.userId, name: actor.name };
  const parent = startedThreadParent({ sessionId, title, prompt: command.prompt, projectName: project.name, directory: project.directory, agent: command.agent, model: command.model, by });
  const thread = await adapter.openThread(parent, channel);
  const owned = {
    sessionId,
    serverUrl,
    directory: project.directory,
    projectName: project.name,
    platform: actor.platform,
    channel,
    thread,
    user: { id: actor.userId, name: actor.name },
    prompt: command.prompt,
    title,
    ...(command.agent ? { agent: command.agent } : {}),
    ...(command.model ? { model: command.model } : {}),
  };
  await deps.sessions.saveOwned(owned);
  deps.adopt?.({ ...owned, state: "active", createdAt: new Date() });
  const over = await deps.overBudget?.(project.name);
  if (over && deps.holdPrompt) {
    await deps.holdPrompt({ directory: project.directory, sessionId, prompt: command.prompt, reason: over, by: actor.name });
    return { started: true, text: `Started “${title}” in \`${project.name}\`, but the prompt waits for an approver's OK in the thread: ${over}.` };
  }
  try {
    await api.sendPrompt({ directory: project.directory, sessionId, text: command.prompt, agent: command.agent, model: command.model });
  } catch (error) {
    deps.logger.error({ err: error, sessionId }, "the first prompt was not taken");
    return refused(`The thread is open, but OpenCode did not take the prompt: ${(error as Error).message}. Reply in the thread to try again.`);
  }
  return { started: true, text: `Started “${title}” in \`${project.name}\`: its progress, approvals and answer are in the thread.` };
}

async function noProject(projects: ProjectStore, named?: string): Promise<string> {
  const names = (await projects.listProjects()).map((p) => `\`${p.name}\``);
  if (names.length === 0) return "No projects yet. Add one with `/opencode project add <name> <absolute path>`, then start again.";
  if (named) return `There is no project named \`${named}\`. Projects: ${names.join(", ")}.`;
  return `Which project? Name one of ${names.join(", ")} in the command, or make one this channel's default with \`/opencode project default <name>\`.`;
}

function listed(names: string[]): string {
  const shown = names.slice(0, LISTED).map((name) => `\`${name}\``).join(", ");
  return names.length > LISTED ? `${shown} and ${names.length - LISTED} more` : shown || "none";
}
