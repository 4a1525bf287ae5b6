import { and, asc, eq } from "drizzle-orm";
import type { Project, ProjectStore } from "../core/projects.ts";
import type { ChatPlatform } from "../core/types.ts";
import type { Database } from "./database.ts";
import { channelDefaults, projects, type ProjectRow } from "./schema.ts";

/** The Drizzle implementation of the project registry. */
export function createProjectStore(database: Database): ProjectStore {
  const { db } = database;
  const find = async (name: string) => (await db.select().from(projects).where(eq(projects.name, name)))[0];
  return {
    async addProject(project) {
      const inserted = await db
        .insert(projects)
        .values({
          name: project.name,
          directory: project.directory,
          serverUrl: project.serverUrl ?? null,
          addedByPlatform: project.addedBy.platform,
          addedByUserId: project.addedBy.userId,
        })
        .onConflictDoNothing()
        .returning();
      if (inserted[0]) return { project: toProject(inserted[0]), added: true };
      return { project: toProject((await find(project.name))!), added: false };
    },

    getProject: async (name) => {
      const row = await find(name);
      return row && toProject(row);
    },

    listProjects: async () => (await db.select().from(projects).orderBy(asc(projects.name))).map(toProject),

    async removeProject(name) {
      return db.transaction(async (tx) => {
        await tx.delete(channelDefaults).where(eq(channelDefaults.projectName, name));
        const removed = await tx.delete(projects).where(eq(projects.name, name)).returning();
        return removed.length > 0;
      });
    },

    async setChannelDefault(platform, channelRef, projectName) {
      await db
        .insert(channelDefaults)
        .values({ platform, channelRef, projectName })
        .onConflictDoUpdate({ target: [channelDefaults.platform, channelDefaults.channelRef], set: { projectName, setAt: new Date() } });
    },

    async channelDefault(platform, channelRef) {
      const rows = await db
        .select()
        .from(channelDefaults)
        .where(and(eq(channelDefaults.platform, platform), eq(channelDefaults.channelRef, channelRef)));
      return rows[0]?.projectName;
    },
  };
}

function toProject(row: ProjectRow): Project {
  return {
    name: row.name,
    directory: row.directory,
    ...(row.serverUrl ? { serverUrl: row.serverUrl } : {}),
    addedBy: { platform: row.addedByPlatform as ChatPlatform, userId: row.addedByUserId },
    addedAt: row.addedAt,
  };
}
