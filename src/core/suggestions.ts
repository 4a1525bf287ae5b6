import type { Actor } from "./ports.ts";
import { resolveProject, type ProjectStore } from "./projects.ts";
import type { SessionApi } from "./ports.ts";
import type { ChatRef } from "./types.ts";

export type SuggestionDeps = { projects: ProjectStore; sessionApiFor(serverUrl: string): SessionApi; defaultServerUrl: string };

/** What a command's option may be, as the person types it: projects, or the agents and models of the project named (or the channel's). */
export type SuggestInput = { actor: Actor; channel: ChatRef; option: "project" | "agent" | "model"; typed: string; project?: string };

/** At most this many suggestions (Discord shows 25). */
const MAX = 25;

/** The values that start with (else contain) what was typed, best first. */
export async function suggest(deps: SuggestionDeps, input: SuggestInput): Promise<string[]> {
  return rank(await candidates(deps, input), input.typed);
}

async function candidates(deps: SuggestionDeps, input: SuggestInput): Promise<string[]> {
  if (input.option === "project") return (await deps.projects.listProjects()).map((p) => p.name);
  const project = await resolveProject(deps.projects, { platform: input.actor.platform, channel: input.channel }, input.project);
  if (!project) return [];
  const api = deps.sessionApiFor(project.serverUrl ?? deps.defaultServerUrl);
  return (input.option === "agent" ? api.agents(project.directory) : api.models(project.directory)).catch(() => []);
}

function rank(values: string[], typed: string): string[] {
  const needle = typed.trim().toLowerCase();
  const starts = values.filter((v) => v.toLowerCase().startsWith(needle));
  const contains = values.filter((v) => !v.toLowerCase().startsWith(needle) && v.toLowerCase().includes(needle));
  return [...starts, ...contains].slice(0, MAX);
}
