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
  const re = globRegExp(entry);
  return { source: entry, test: (value) => re.test(value) };
}

/** A glob as OpenCode's wildcard reads it: the whole text, `*` any run, and a trailing ` *` also the bare command ("ls *" matches "ls"). */
export function globRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[\\s\\S]*");
  return new RegExp(glob.endsWith(" *") ? `^${body.slice(0, -" [\\s\\S]*".length)}(?: [\\s\\S]*)?$` : `^${body}$`);
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

/**
 * The simple commands of a bash command line: split on `;`, `&&`, `||`, `|`, `&` and newlines
 * outside quotes. `opaque` when part of it runs out of sight of such a split (`$(…)`, backticks,
 * `<(…)`, `>(…)`): nothing may be allowed automatically on the strength of its visible parts.
 */
export function commandParts(command: string): { parts: string[]; opaque: boolean } {
  const parts: string[] = [];
  let current = "";
  let quote: "'" | '"' | undefined;
  let opaque = false;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    const next = command[i + 1];
    if (quote === "'") {
      current += c;
      if (c === "'") quote = undefined;
      continue;
    }
    if (c === "\\" && next !== undefined) {
      current += c + next;
      i++;
      continue;
    }
    if (c === "`" || (c === "$" && next === "(") || ((c === "<" || c === ">") && next === "(")) opaque = true;
    if (quote === '"') {
      current += c;
      if (c === '"') quote = undefined;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      current += c;
      continue;
    }
    if (c === ";" || c === "\n" || c === "|" || c === "&") {
      // `2>&1` and `&>` redirect; they do not separate commands.
      if (c === "&" && (command[i - 1] === ">" || next === ">")) {
        current += c;
        continue;
      }
      parts.push(current);
      current = "";
      if ((c === "&" || c === "|") && next === c) i++;
      continue;
    }
    current += c;
  }
  parts.push(current);
  return { parts: parts.map((part) => part.trim()).filter(Boolean), opaque: opaque || quote !== undefined };
}
