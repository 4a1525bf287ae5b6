import { createHash } from "node:crypto";
import type { AuditEntry } from "./types.ts";

/**
 * Tamper evidence for the audit log: each row carries the hash of the one before (`prev_hash`) and
 * its own (`hash`), a SHA-256 over the previous hash and the row's content in a canonical form (keys
 * sorted, times in ISO 8601), so that editing, deleting or reordering a row breaks the chain there.
 */

/** The columns a row's hash covers: every recorded column but its serial id and the insert time (the decider as its three columns). */
export type AuditContent = Omit<AuditEntry, "id" | "decider"> & { deciderPlatform: string; deciderUserId: string; deciderName: string };

/** JSON with object keys sorted at every level and dates as ISO strings: the same bytes for the same content, as jsonb returns it. */
export function canonical(value: unknown): string {
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value).filter(([, item]) => item !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonical(item)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

export function auditHash(previous: string | null, content: AuditContent): string {
  const { requestId, sessionId, directory, tool, toolName, patterns, originalArgs, editedArgs, decision, reason, deciderPlatform, deciderUserId, deciderName, askedAt, decidedAt, linkedRequestId } = content;
  const covered = { requestId, sessionId, directory, tool, toolName, patterns, originalArgs, editedArgs, decision, reason, deciderPlatform, deciderUserId, deciderName, askedAt, decidedAt, linkedRequestId };
  return createHash("sha256").update(`${previous ?? ""}\n${canonical(covered)}`).digest("hex");
}

export type ChainedRow = AuditContent & { id: number; prevHash: string | null; hash: string | null };

/** What `npm run audit -- verify` finds: rows checked, rows from before the chain existed, and the first break. */
export type ChainCheck = { rows: number; unchained: number; broken?: { id: number; problem: string } };

/** Checks rows in id order: rows without a hash may only come before the first chained one (written before the chain existed). */
export function verifyChain(rows: ChainedRow[]): ChainCheck {
  let previous: string | null = null;
  let unchained = 0;
  let chained = false;
  for (const row of rows) {
    if (row.hash === null) {
      if (chained) return { rows: rows.length, unchained, broken: { id: row.id, problem: "it has no hash, yet rows before it do (inserted around the chain?)" } };
      unchained++;
      continue;
    }
    if (row.prevHash !== previous) {
      const problem = chained ? "its prev_hash is not the hash of the row before it (a row was deleted, inserted or reordered)" : "the first chained row names a previous hash (rows before it were deleted)";
      return { rows: rows.length, unchained, broken: { id: row.id, problem } };
    }
    if (auditHash(row.prevHash, row) !== row.hash) return { rows: rows.length, unchained, broken: { id: row.id, problem: "its content does not match its hash (the row was edited)" } };
    previous = row.hash;
    chained = true;
  }
  return { rows: rows.length, unchained };
}
