import { createPatch } from "diff";

/** A unified diff of one text, without the `Index:`/`===` preamble and the "No newline" remarks. */
export function textDiff(name: string, before: string, after: string): string {
  return createPatch(name, before, after, "", "", { context: 2 })
    .split("\n")
    .slice(2)
    .filter((line) => !line.startsWith("\\ No newline"))
    .join("\n")
    .trimEnd();
}

/**
 * What an edit changed, key by key: a one-line value as `key: before → after`, a longer text as a
 * unified diff of its lines. Keys the edit left alone are not listed.
 */
export function argsDiff(before: Record<string, unknown>, after: Record<string, unknown>): string {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  const lines: string[] = [];
  for (const key of keys) {
    const a = before[key];
    const b = after[key];
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    const sa = typeof a === "string" ? a : a === undefined ? "" : JSON.stringify(a);
    const sb = typeof b === "string" ? b : b === undefined ? "" : JSON.stringify(b);
    if (!sa.includes("\n") && !sb.includes("\n")) lines.push(`${key}: ${sa || "(none)"} → ${sb || "(none)"}`);
    else lines.push(textDiff(key, sa, sb));
  }
  return lines.length > 0 ? lines.join("\n") : "(no change)";
}
