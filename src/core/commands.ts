/**
 * The `/opencode` commands as the core runs them, whichever platform they were typed on. Slack sends
 * one line of text (`parseCommandText`); Discord sends subcommands and options, which its adapter
 * maps onto the same `Command`.
 */
export type Command =
  | { name: "help" }
  | { name: "project.add"; project: string; path: string; url?: string }
  | { name: "project.list" }
  | { name: "project.remove"; project: string }
  | { name: "project.default"; project: string }
  | { name: "run"; prompt: string; project?: string; agent?: string; model?: string }
  | { name: "sessions"; project?: string }
  | { name: "status" }
  | { name: "stop" }
  | { name: "costs"; period?: string; project?: string }
  | { name: "digest" }
  | { name: "policy.show" }
  | { name: "policy.why"; command: string; project?: string; tool?: string }
  | { name: "policy.reload" }
  | { name: "policy.always"; revoke?: number }
  /** Words that do not make a command; `usage` says what would. */
  | { name: "invalid"; usage: string; problem: string };

export const USAGE = {
  help: "/opencode <prompt> · /opencode run [--project p] [--agent a] [--model provider/model] <prompt> · /opencode project add|list|remove|default · /opencode sessions [project] · /opencode status · /opencode stop · /opencode costs [period] [project] · /opencode digest · /opencode policy [why|reload|always]",
  costs: "/opencode costs [today|yesterday|week|month|<YYYY-MM-DD>..<YYYY-MM-DD>] [project]",
  run: "/opencode run [--project <name>] [--agent <agent>] [--model <provider>/<model>] <prompt>",
  projectAdd: "/opencode project add <name> <absolute path> [<opencode url>]",
  projectRemove: "/opencode project remove <name>",
  projectDefault: "/opencode project default <name>",
  project: "/opencode project add <name> <path> [<opencode url>] · /opencode project list · /opencode project remove <name> · /opencode project default <name>",
  policy: "/opencode policy · /opencode policy why <command> [--project p] [--tool t] · /opencode policy reload · /opencode policy always [revoke <id>]",
  policyWhy: "/opencode policy why <command or path> [--project <name or directory>] [--tool <bash|edit|…>]",
} as const;
const PERIOD = /^(today|yesterday|week|month|\d{4}-\d{2}-\d{2}\.\.\d{4}-\d{2}-\d{2})$/;

/** Reads the text after `/opencode` (Slack's slash command, or a mention's text) into a command. */
export function parseCommandText(text: string): Command {
  const trimmed = text.trim();
  if (trimmed === "" || trimmed === "help") return { name: "help" };
  const [word = "", ...rest] = trimmed.split(/\s+/);
  const tail = trimmed.slice(word.length).trim();
  switch (word) {
    case "project":
      return parseProject(rest);
    case "run":
      return parseRun(tail);
    case "sessions":
      return rest.length > 1 ? invalid("/opencode sessions [project]", "give at most one project") : { name: "sessions", ...(rest[0] ? { project: rest[0] } : {}) };
    case "status":
    case "stop":
    case "digest":
      return rest.length > 0 ? invalid(`/opencode ${word}`, `${word} takes no arguments`) : { name: word };
    case "costs":
      return parseCosts(rest);
    case "policy":
      return parsePolicyCommand(tail);
  }
  return { name: "run", prompt: trimmed };
}

function parseProject([sub, ...args]: string[]): Command {
  switch (sub) {
    case "add": {
      const [project, path, url, ...extra] = args;
      if (!project || !path || extra.length > 0) return invalid(USAGE.projectAdd, "give a name, an absolute path and, if it is not OPENCODE_URL, the OpenCode server's URL");
      return { name: "project.add", project, path, ...(url ? { url } : {}) };
    }
    case "list":
      return { name: "project.list" };
    case "remove":
    case "default": {
      if (args.length !== 1) return invalid(sub === "remove" ? USAGE.projectRemove : USAGE.projectDefault, "give one project name");
      return { name: sub === "remove" ? "project.remove" : "project.default", project: args[0]! };
    }
  }
  return invalid(USAGE.project, sub ? `there is no "project ${sub}"` : "say what to do with projects");
}

/** `policy`, `policy why <command> [--project p] [--tool t]` (flags anywhere), `policy reload`, `policy always [revoke <id>]`. */
function parsePolicyCommand(text: string): Command {
  const [sub = "", ...args] = text.split(/\s+/).filter(Boolean);
  switch (sub) {
    case "":
      return { name: "policy.show" };
    case "reload":
      return args.length > 0 ? invalid(USAGE.policy, "reload takes no arguments") : { name: "policy.reload" };
    case "always": {
      if (args.length === 0) return { name: "policy.always" };
      const id = Number(args[1]);
      if (args[0] !== "revoke" || args.length !== 2 || !Number.isInteger(id) || id <= 0) return invalid(USAGE.policy, "say `always` alone to list the rules, or `always revoke <id>`");
      return { name: "policy.always", revoke: id };
    }
    case "why": {
      const flags: { project?: string; tool?: string } = {};
      const rest = text
        .slice(text.indexOf("why") + 3)
        .replace(/(?:^|\s)--(project|tool)(?:=|\s+)(\S+)/g, (_all, flag: "project" | "tool", value: string) => {
          flags[flag] = value;
          return "";
        })
        .trim();
      if (/(?:^|\s)--\S+/.test(rest)) return invalid(USAGE.policyWhy, `unknown option ${/--\S+/.exec(rest)![0]}`);
      if (rest === "") return invalid(USAGE.policyWhy, "give the command (or, with --tool edit, the file) to check");
      return { name: "policy.why", command: rest, ...flags };
    }
  }
  return invalid(USAGE.policy, `there is no "policy ${sub}"`);
}

/** `costs [period] [project]`: a period word first if there is one. */
function parseCosts(args: string[]): Command {
  if (args.length > 2) return invalid(USAGE.costs, "give at most a period and a project");
  const [first, second] = args;
  if (first && PERIOD.test(first)) return { name: "costs", period: first, ...(second ? { project: second } : {}) };
  if (second) return invalid(USAGE.costs, `“${first}” is not a period`);
  return { name: "costs", ...(first ? { project: first } : {}) };
}

/** `run [--project p] [--agent a] [--model m] <prompt>`: flags first, then the prompt as typed. */
function parseRun(text: string): Command {
  const flags: { project?: string; agent?: string; model?: string } = {};
  let rest = text;
  for (;;) {
    const match = /^--(project|agent|model)(?:=|\s+)(\S+)\s*/.exec(rest);
    if (!match) break;
    flags[match[1] as keyof typeof flags] = match[2]!;
    rest = rest.slice(match[0].length);
  }
  if (/^--\S+/.test(rest)) return invalid(USAGE.run, `unknown option ${rest.split(/\s/)[0]}`);
  const prompt = rest.trim();
  if (prompt === "") return invalid(USAGE.run, "give a prompt");
  return { name: "run", prompt, ...flags };
}

const invalid = (usage: string, problem: string): Command => ({ name: "invalid", usage, problem });
