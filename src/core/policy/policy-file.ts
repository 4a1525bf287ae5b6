/**
 * The team's policy file (POLICY_FILE, YAML): read, checked and turned into rules. Every error names
 * the file, the line, the column and what is wrong (the field's name for an unknown or mistyped one),
 * as `<file>:<line>:<column>: <what>`.
 */
import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node } from "yaml";
import { z } from "zod";
import { duration, matcher, type Matcher } from "./matching.ts";

export type OnExpiry = "reject" | "escalate";

/** What a rule (or the defaults) requires of a request. */
export type Requirements = {
  /** Who may decide: Slack users and groups, `discord:<id>` and `discord:role:<id>`; none listed: the platform lists stand. */
  approvers?: string[];
  /** Distinct approvers needed. */
  approvals: number;
  selfApproval: boolean;
  expiresMs?: number;
  onExpiry: OnExpiry;
  escalateTo?: string[];
  allowAlways: boolean;
};

export type Rule = Partial<Requirements> & {
  name: string;
  project?: Matcher[];
  tool?: string[];
  command?: Matcher[];
  path?: Matcher[];
  auto?: "allow" | "deny";
  reason?: string;
};

export type Policy = { file: string; defaults: Requirements; rules: Rule[]; redact: RegExp[] };

/** With no policy file: one approval by the platform lists, no expiry (the behaviour before policies). */
export const DEFAULT_REQUIREMENTS: Requirements = { approvals: 1, selfApproval: true, onExpiry: "reject", allowAlways: true };

export class PolicyError extends Error {
  readonly code = "POLICY_INVALID";
}

const list = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : [v]));
const durationText = z.string().refine((v) => duration(v) !== undefined, { message: "must be a duration like 90s, 10m, 2h or 1d" });
const settings = {
  approvers: z.array(z.string()).optional(),
  approvals: z.number().int().min(1).optional(),
  self_approval: z.boolean().optional(),
  expires: durationText.optional(),
  on_expiry: z.enum(["reject", "escalate"]).optional(),
  escalate_to: z.array(z.string()).optional(),
  allow_always: z.boolean().optional(),
};
const ruleSchema = z
  .object({
    name: z.string().min(1),
    project: list.optional(),
    tool: list.optional(),
    command: list.optional(),
    path: list.optional(),
    auto: z.enum(["allow", "deny"]).optional(),
    reason: z.string().optional(),
    ...settings,
  })
  .strict();
const fileSchema = z
  .object({
    defaults: z.object(settings).strict().optional(),
    rules: z.array(ruleSchema).optional(),
    redact: z.array(z.string()).optional(),
  })
  .strict();

/** Parses and checks a policy file's text; throws PolicyError naming `file`, the line, the column and the field. */
export function parsePolicy(text: string, file: string): Policy {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const at = (offset: number | undefined) => {
    const { line, col } = lines.linePos(offset ?? 0);
    return `${file}:${line}:${col}`;
  };
  if (doc.errors.length > 0) {
    const error = doc.errors[0]!;
    throw new PolicyError(`${at(error.pos[0])}: ${error.message.split("\n")[0]}`);
  }
  const parsed = fileSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.map((key) => (typeof key === "number" ? key : String(key)));
    if (issue.code === "unrecognized_keys") {
      const key = issue.keys[0]!;
      throw new PolicyError(`${at(keyOffset(doc, path, key))}: unknown field \`${key}\``);
    }
    const field = path.filter((key) => typeof key === "string").at(-1) ?? "the file";
    throw new PolicyError(`${at(nodeAt(doc, path)?.range?.[0])}: \`${field}\` ${issue.message.replace(/^Invalid input: /, "")}`);
  }
  const data = parsed.data;
  const rules: Rule[] = [];
  for (const [index, rule] of (data.rules ?? []).entries()) {
    const where = (field: string) => at(nodeAt(doc, ["rules", index, field])?.range?.[0]);
    const compile = (field: "project" | "command" | "path") => {
      try {
        return rule[field]?.map(matcher);
      } catch (error) {
        throw new PolicyError(`${where(field)}: \`${field}\` has a bad regular expression: ${(error as Error).message}`);
      }
    };
    if (rule.reason !== undefined && rule.auto !== "deny") {
      // A reason is what a deny tells the agent: without `auto: deny` it would never be read.
      throw new PolicyError(`${where("reason")}: \`reason\` goes with \`auto: deny\``);
    }
    if (rule.on_expiry === "escalate" && !rule.escalate_to && !data.defaults?.escalate_to) {
      throw new PolicyError(`${where("on_expiry")}: \`on_expiry: escalate\` needs \`escalate_to\``);
    }
    rules.push({
      name: rule.name,
      ...(compile("project") ? { project: compile("project") } : {}),
      ...(rule.tool ? { tool: rule.tool } : {}),
      ...(compile("command") ? { command: compile("command") } : {}),
      ...(compile("path") ? { path: compile("path") } : {}),
      ...(rule.auto ? { auto: rule.auto } : {}),
      ...(rule.reason ? { reason: rule.reason } : {}),
      ...requirementsOf(rule),
    });
  }
  const defaults = { ...DEFAULT_REQUIREMENTS, ...requirementsOf(data.defaults ?? {}) };
  const redact = (data.redact ?? []).map((source, index) => {
    try {
      return new RegExp(source, "g");
    } catch (error) {
      throw new PolicyError(`${at(nodeAt(doc, ["redact", index])?.range?.[0])}: \`redact\` has a bad regular expression: ${(error as Error).message}`);
    }
  });
  return { file, defaults, rules, redact };
}

type Settings = { approvers?: string[]; approvals?: number; self_approval?: boolean; expires?: string; on_expiry?: OnExpiry; escalate_to?: string[]; allow_always?: boolean };

function requirementsOf(s: Settings): Partial<Requirements> {
  return {
    ...(s.approvers ? { approvers: s.approvers } : {}),
    ...(s.approvals !== undefined ? { approvals: s.approvals } : {}),
    ...(s.self_approval !== undefined ? { selfApproval: s.self_approval } : {}),
    ...(s.expires ? { expiresMs: duration(s.expires)! } : {}),
    ...(s.on_expiry ? { onExpiry: s.on_expiry } : {}),
    ...(s.escalate_to ? { escalateTo: s.escalate_to } : {}),
    ...(s.allow_always !== undefined ? { allowAlways: s.allow_always } : {}),
  };
}

/** The YAML node at a path (keys and indexes), or the nearest one above it. */
function nodeAt(doc: Document, path: Array<string | number>): Node | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true);
    if (node && typeof node === "object" && "range" in node) return node as Node;
  }
  return undefined;
}

/** Where the key `key` of the map at `path` is written. */
function keyOffset(doc: Document, path: Array<string | number>, key: string): number | undefined {
  const map = path.length === 0 ? doc.contents : doc.getIn(path, true);
  if (!isMap(map)) return (map as Node | null)?.range?.[0];
  const pair = map.items.find((item) => isScalar(item.key) && item.key.value === key);
  return isScalar(pair?.key) ? pair.key.range?.[0] : map.range?.[0];
}
