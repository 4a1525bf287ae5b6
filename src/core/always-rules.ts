import { gatePermission } from "./gate.ts";
import { commandParts, globRegExp } from "./policy/matching.ts";
import type { Decider, RequestPolicy } from "./types.ts";

/** One "Always" pattern given for a directory and permission (OpenCode's `always`, like `git status *`). */
export type AlwaysRule = {
  id: number;
  directory: string;
  permission: string;
  pattern: string;
  requestId: string;
  by: Decider;
  createdAt: Date;
  revokedAt: Date | null;
  revokedBy: string | null;
};

/** Where Always rules are kept (src/store over Drizzle): shared by every bot process and kept across restarts. */
export interface AlwaysRuleStore {
  /** Adds the patterns not already in force for the directory and permission. */
  add(rules: Array<Omit<AlwaysRule, "id" | "revokedAt" | "revokedBy">>): Promise<void>;
  /** Rules in force (not revoked) for a directory and permission. */
  active(directory: string, permission: string): Promise<AlwaysRule[]>;
  /** Every rule in force, by directory. */
  list(): Promise<AlwaysRule[]>;
  /** Revokes a rule in force; undefined when there is none with that id. */
  revoke(id: number, by: string, at: Date): Promise<AlwaysRule | undefined>;
}

/**
 * "Always" rules given on approvals (from chat or in OpenCode), kept in the database per directory:
 * a gated call they cover passes the plugin's gate, and an ask OpenCode makes again after it forgot
 * its own rule (a restart) is answered without a card. Revoking one stops the bot applying it.
 */
export class AlwaysRules {
  constructor(private readonly store: AlwaysRuleStore) {}

  /** Records the patterns `request` was always approved with. */
  async add(request: { id: string; directory: string; permission: string; always: string[] }, by: Decider, at: Date): Promise<void> {
    const patterns = [...new Set(request.always)];
    if (patterns.length === 0) return;
    await this.store.add(patterns.map((pattern) => ({ directory: request.directory, permission: request.permission, pattern, requestId: request.id, by, createdAt: at })));
  }

  /**
   * The rule that covers a call, if one does: every part of a command (split on ; && || |, with
   * nothing hidden in a substitution) matches a rule, or an edit's file matches one (`*` covers every file).
   */
  async covering(directory: string, tool: string, args: Record<string, unknown>): Promise<AlwaysRule | undefined> {
    const rules = await this.store.active(directory, gatePermission(tool));
    if (rules.length === 0) return undefined;
    const matching = (value: string) => rules.find((rule) => globRegExp(rule.pattern).test(value));
    if (gatePermission(tool) !== "bash") return matching(typeof args.filePath === "string" ? args.filePath : "") ?? rules.find((rule) => rule.pattern === "*");
    const { parts, opaque } = commandParts(typeof args.command === "string" ? args.command : "");
    if (opaque || parts.length === 0) return undefined;
    const covering = parts.map(matching);
    return covering.every(Boolean) ? covering[0] : undefined;
  }
}

/**
 * Whether an Always rule may stand for a person under `policy`: not where the policy offers no
 * Always, nor where it wants several approvers (one person's Always does not stand in for them).
 */
export function alwaysStands(policy: RequestPolicy | null | undefined): boolean {
  return policy?.allowAlways !== false && (policy?.approvals ?? 1) <= 1;
}

/** Why a call passed on an Always rule, for its audit row. */
export function alwaysReason(rule: AlwaysRule): string {
  return `the “Always” rule ${rule.id} (${rule.permission} \`${rule.pattern}\`) ${rule.by.name} gave on request ${rule.requestId} covers it`;
}
