import { gatePermission } from "./gate.ts";

/**
 * "Always" rules seen in OpenCode's own replies, kept per directory in memory, so that a gated call
 * OpenCode would now run without asking does not get a card either. Like OpenCode's rules they do
 * not outlive a restart (of the bot, here): then a card is shown again, the safe direction.
 */
export class AlwaysRules {
  private readonly rules = new Map<string, Set<string>>();

  add(directory: string, permission: string, patterns: string[]): void {
    const key = `${directory}\u0000${permission}`;
    const set = this.rules.get(key) ?? new Set<string>();
    for (const pattern of patterns) set.add(pattern);
    this.rules.set(key, set);
  }

  /** Whether every part of a command (split on ; && || |) matches a rule, or an edit matches `*`. */
  allows(directory: string, tool: string, args: Record<string, unknown>): boolean {
    const patterns = this.rules.get(`${directory}\u0000${gatePermission(tool)}`);
    if (!patterns) return false;
    const regexes = [...patterns].map(wildcard);
    if (tool !== "bash") return regexes.some((re) => re.test(typeof args.filePath === "string" ? args.filePath : "")) || patterns.has("*");
    const command = typeof args.command === "string" ? args.command : "";
    const parts = command.split(/&&|\|\||;|\|/).map((part) => part.trim()).filter(Boolean);
    return parts.length > 0 && parts.every((part) => regexes.some((re) => re.test(part)));
  }
}

function wildcard(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*");
  return new RegExp(`^${escaped}$`, "s");
}
