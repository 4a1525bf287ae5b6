import type { Actor } from "./ports.ts";
import type { ChatPlatform, ChatRef } from "./types.ts";

/** A directory the bot may start work in, on an OpenCode server (`serverUrl` unset: OPENCODE_URL). */
export type Project = { name: string; directory: string; serverUrl?: string; addedBy: { platform: ChatPlatform; userId: string }; addedAt: Date };

/** Persistence of projects and channel defaults. Implemented in src/store over Drizzle. */
export interface ProjectStore {
  /** Adds the project unless its name is taken; returns the stored one and whether this call added it. */
  addProject(project: Omit<Project, "addedAt">): Promise<{ project: Project; added: boolean }>;
  getProject(name: string): Promise<Project | undefined>;
  /** Every project, by name. */
  listProjects(): Promise<Project[]>;
  /** Removes the project and the channel defaults naming it; false when there was none. */
  removeProject(name: string): Promise<boolean>;
  setChannelDefault(platform: ChatPlatform, channel: ChatRef, projectName: string): Promise<void>;
  channelDefault(platform: ChatPlatform, channel: ChatRef): Promise<string | undefined>;
}

/** What an OpenCode server says of a path: a directory (with its git branch, null without git), nothing, or a file. */
export type DirectoryInfo = { kind: "directory"; branch: string | null } | { kind: "missing" } | { kind: "file" };

/** Project names as commands and autocomplete take them: short, no spaces. */
export const PROJECT_NAME = /^[a-z0-9][a-z0-9._-]{0,31}$/i;

/** Who may add or remove projects: CHATOPS_ADMINS when set; else whoever may decide (the approvers); neither set: anyone. */
export function createAdminCheck(admins: string[] | undefined, mayDecide: (actor: Actor) => Promise<boolean>) {
  return async function mayAdminister(actor: Actor): Promise<boolean> {
    if (admins) return admins.includes(actor.userId);
    return mayDecide(actor);
  };
}

/**
 * The project a command runs in: the one named, else the channel's default, else the only project.
 * Undefined when none applies; the caller lists what there is.
 */
export async function resolveProject(store: ProjectStore, where: { platform: ChatPlatform; channel: ChatRef }, named?: string): Promise<Project | undefined> {
  if (named) return store.getProject(named);
  const fallback = await store.channelDefault(where.platform, where.channel);
  if (fallback) return store.getProject(fallback);
  const all = await store.listProjects();
  return all.length === 1 ? all[0] : undefined;
}
