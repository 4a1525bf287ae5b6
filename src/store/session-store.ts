import { and, desc, eq, lt } from "drizzle-orm";
import type { OwnedSession, OwnedSessionStore } from "../core/owned-sessions.ts";
import type { ChatPlatform } from "../core/types.ts";
import type { Database } from "./database.ts";
import { inboundMessages, ownedSessions, threads, type OwnedSessionRow } from "./schema.ts";

/** The Drizzle implementation of the sessions started from chat. */
export function createOwnedSessionStore(database: Database): OwnedSessionStore {
  const { db } = database;
  const select = () => db.select().from(ownedSessions);
  return {
    async saveOwned(session) {
      await db.transaction(async (tx) => {
        await tx.insert(ownedSessions).values({
          sessionId: session.sessionId,
          serverUrl: session.serverUrl,
          directory: session.directory,
          projectName: session.projectName,
          platform: session.platform,
          channelRef: session.channel,
          threadRef: session.thread,
          userId: session.user.id,
          userName: session.user.name,
          prompt: session.prompt,
          agent: session.agent ?? null,
          model: session.model ?? null,
        });
        await tx
          .insert(threads)
          .values({ sessionId: session.sessionId, platform: session.platform, directory: session.directory, title: session.title, ref: session.thread })
          .onConflictDoNothing();
      });
    },

    ownedSession: async (sessionId) => first(await select().where(eq(ownedSessions.sessionId, sessionId))),

    ownedByThread: async (platform: ChatPlatform, thread) =>
      first(await select().where(and(eq(ownedSessions.platform, platform), eq(ownedSessions.threadRef, thread)))),

    recentOwned: async (limit, projectName) =>
      (
        await select()
          .where(projectName === undefined ? undefined : eq(ownedSessions.projectName, projectName))
          .orderBy(desc(ownedSessions.createdAt))
          .limit(limit)
      ).map(toOwned),

    activeOwned: async () => (await select().where(eq(ownedSessions.state, "active"))).map(toOwned),

    async setStatusRef(sessionId, ref) {
      await db.update(ownedSessions).set({ statusRef: ref ?? null }).where(eq(ownedSessions.sessionId, sessionId));
    },

    async markGone(sessionId) {
      await db.update(ownedSessions).set({ state: "gone" }).where(eq(ownedSessions.sessionId, sessionId));
    },

    async claimMessage(platform, messageRef, context) {
      const inserted = await db
        .insert(inboundMessages)
        .values({ platform, messageRef, state: "claimed", threadRef: context.thread ?? null, userName: context.userName })
        .onConflictDoNothing()
        .returning();
      return inserted.length > 0;
    },

    async settleMessage(platform, messageRef, state) {
      await db.update(inboundMessages).set({ state }).where(and(eq(inboundMessages.platform, platform), eq(inboundMessages.messageRef, messageRef)));
    },

    async unsettledMessages(before) {
      const rows = await db
        .select()
        .from(inboundMessages)
        .where(and(eq(inboundMessages.state, "claimed"), lt(inboundMessages.receivedAt, before)));
      return rows.map((row) => ({
        platform: row.platform as ChatPlatform,
        message: row.messageRef,
        ...(row.threadRef ? { thread: row.threadRef } : {}),
        userName: row.userName ?? "someone",
      }));
    },
  };
}

const first = (rows: OwnedSessionRow[]) => (rows[0] ? toOwned(rows[0]) : undefined);

function toOwned(row: OwnedSessionRow): OwnedSession {
  return {
    sessionId: row.sessionId,
    serverUrl: row.serverUrl,
    directory: row.directory,
    projectName: row.projectName,
    platform: row.platform as ChatPlatform,
    channel: row.channelRef,
    thread: row.threadRef,
    user: { id: row.userId, name: row.userName },
    prompt: row.prompt,
    ...(row.agent ? { agent: row.agent } : {}),
    ...(row.model ? { model: row.model } : {}),
    ...(row.statusRef ? { statusRef: row.statusRef } : {}),
    state: row.state === "gone" ? "gone" : "active",
    createdAt: row.createdAt,
  };
}
