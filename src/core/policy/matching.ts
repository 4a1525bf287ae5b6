/**
 * How policy rules match (pure): a glob matches the whole command or path, `*` any run of
 * characters, and, as in OpenCode's own patterns, a trailing ` *` also matches the bare command
 * (`ls *` matches `ls`); `re:<regex>` is a JavaScript regular expression that matches anywhere
 * unless anchored. A list matches if any entry does.
 */
export type Matcher = { source: string; test(value: string): boolean };

/** One entry of a rule's `project`, `command` or `path`; throws SyntaxError for a bad `re:`. */
export function matcher(entry: string): Matcher {
  if (entry.startsWith("re:")) {
    const re = new RegExp(entry.slice(3));
    return { source: entry, test: (value) => re.test(value) };
  }
  const escaped = entry.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
  const body = escaped.replace(/\*/g, "[\\s\\S]*");
  // "ls *" also matches a bare "ls".
  const re = new RegExp(entry.endsWith(" *") ? `^${body.slice(0, -" [\\s\\S]*".length)}(?: [\\s\\S]*)?$` : `^${body}$`);
  return { source: entry, test: (value) => re.test(value) };
}

/** Whether any matcher of the list matches; an absent list matches everything. */
export function anyMatches(list: Matcher[] | undefined, value: string | undefined): boolean {
  if (!list) return true;
  if (value === undefined) return false;
  return list.some((m) => m.test(value));
}

/** `90s`, `10m`, `2h`, `1d` in milliseconds; undefined for anything else. */
export function duration(text: string): number | undefined {
  const match = /^(\d+)(s|m|h|d)$/.exec(text.trim());
  if (!match) return undefined;
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as "s" | "m" | "h" | "d"];
  return Number(match[1]) * unit;
}
