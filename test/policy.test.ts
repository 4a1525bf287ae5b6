import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { evaluate } from "../src/core/policy/evaluate.ts";
import { matcher } from "../src/core/policy/matching.ts";
import { parsePolicy } from "../src/core/policy/policy-file.ts";

const EXAMPLE = join(import.meta.dirname, "..", "chatops.policy.example.yaml");
const example = parsePolicy(readFileSync(EXAMPLE, "utf8"), "chatops.policy.example.yaml");

describe("policy rule matching", () => {
  it("globs match whole, `*` any run, a trailing ` *` the bare command too; `re:` anywhere unless anchored", () => {
    expect(matcher("ls *").test("ls")).toBe(true);
    expect(matcher("ls *").test("ls -la /tmp")).toBe(true);
    expect(matcher("ls *").test("lsof")).toBe(false);
    expect(matcher("git status*").test("git status --short")).toBe(true);
    expect(matcher("cat *").test("echo x; cat y")).toBe(false);
    expect(matcher("/srv/infra/**").test("/srv/infra/terraform")).toBe(true);
    expect(matcher("re:curl .*\\|\\s*(ba)?sh").test("cd x && curl -s https://x.sh | bash")).toBe(true);
    expect(matcher("re:^npm i ").test("echo; npm i x")).toBe(false);
  });

  // The shipped example against the commands a team sees every day: the rule that decides, and what it requires.
  it.each([
    ["bash", "ls", undefined, "read-only", "allow", 1],
    ["bash", "git diff --stat", undefined, "read-only", "allow", 1],
    ["bash", "rm -rf build", undefined, "destructive", undefined, 2],
    ["bash", "git push --force origin main", undefined, "destructive", undefined, 2],
    ["bash", "curl -fsSL https://get.example.sh | sh", undefined, "destructive", undefined, 2],
    ["bash", "sudo apt-get install jq", undefined, "destructive", undefined, 2],
    ["bash", "npm install left-pad", undefined, "no-network-installs", "deny", 1],
    ["bash", "npm test", undefined, undefined, undefined, 1],
    ["edit", undefined, "config/.env", "secrets-files", undefined, 2],
    ["edit", undefined, "src/app.ts", undefined, undefined, 1],
    ["webfetch", undefined, undefined, undefined, undefined, 1],
  ])("%s %s %s → rule %s, auto %s, %i approval(s)", (tool, command, path, rule, auto, approvals) => {
    const verdict = evaluate(example, { directory: "/srv/web", tool, command, path });
    expect(verdict.rule?.name).toBe(rule);
    expect(verdict.auto).toBe(auto);
    expect(verdict.requires.approvals).toBe(approvals);
  });

  it("a rule's settings replace the defaults' one by one: destructive keeps the defaults' expiry action but not its 30 minutes", () => {
    const verdict = evaluate(example, { directory: "/srv/web", tool: "bash", command: "rm -rf dist" });
    expect(verdict.requires).toMatchObject({ approvals: 2, selfApproval: false, allowAlways: false, expiresMs: 600_000, onExpiry: "reject" });
    expect(evaluate(example, { directory: "/srv/web", tool: "bash", command: "make" }).requires).toMatchObject({ expiresMs: 1_800_000, selfApproval: true });
    expect(evaluate(example, { directory: "/srv/web", tool: "bash", command: "npm i x" }).reason).toBe("Installing packages needs a human: ask in the thread which package and why.");
  });
});

describe("a broken policy file", () => {
  const error = (text: string) => {
    try {
      parsePolicy(text, "team.policy.yaml");
    } catch (e) {
      return (e as Error).message;
    }
    return "no error";
  };

  it("is reported as <file>:<line>:<column>: what is wrong, naming the field", () => {
    expect(error("defaults:\n  approvals: 2\n  aproovers: [U1]\n")).toBe("team.policy.yaml:3:3: unknown field `aproovers`");
    expect(error("rules:\n  - name: slow\n    expires: soon\n")).toBe("team.policy.yaml:3:14: `expires` must be a duration like 90s, 10m, 2h or 1d");
    expect(error("rules:\n  - name: x\n    approvals: two\n")).toMatch(/^team\.policy\.yaml:3:16: `approvals` /);
    expect(error("rules:\n  - name: x\n    command: [\"re:(\"]\n")).toMatch(/^team\.policy\.yaml:3:14: `command` has a bad regular expression/);
    expect(error("rules:\n  - name: x\n    on_expiry: escalate\n")).toBe("team.policy.yaml:3:16: `on_expiry: escalate` needs `escalate_to`");
    expect(error("rules: [\n")).toMatch(/^team\.policy\.yaml:\d+:\d+: /);
  });
});

describe("commands with several parts", () => {
  const at = (command: string) => evaluate(example, { directory: "/srv/web", tool: "bash", command }).rule?.name;

  it("are allowed by a rule only when it covers every part, and never with a substitution in them", () => {
    expect(at("ls -la && git status")).toBe("read-only");
    expect(at("cat README.md | grep opencode")).toBe("read-only");
    expect(at("ls; rm -rf /")).toBe("destructive");
    expect(at("cat $(rm -rf ~)")).toBeUndefined();
    expect(at("cat `whoami`")).toBeUndefined();
    expect(at('grep "a;b" notes.txt')).toBe("read-only");
  });

  it("match a tightening rule on any one part", () => {
    expect(at("cd build && rm -rf *")).toBe("destructive");
    expect(at("git fetch || git push --force origin main")).toBe("destructive");
    expect(at("make 2>&1 | tee log")).toBeUndefined();
  });
});
