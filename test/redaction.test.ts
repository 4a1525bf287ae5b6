import { describe, expect, it } from "vitest";
import { createRedactor } from "../src/core/redaction.ts";
import { createLogger } from "../src/logging.ts";

const redactor = createRedactor(() => [/corp-[0-9]{6}/]);

describe("redaction", () => {
  it.each([
    ["git push https://ghp_0123456789abcdefghijABCDEFGHIJ012345@github.com/x/y", "git push https://[secret 1]@github.com/x/y"],
    ["export GITHUB_TOKEN=github_pat_11AAAAAAA0123456789_abcdefghijklmnop", "export GITHUB_TOKEN=[secret 1]"],
    ["aws s3 ls --profile x # AKIAIOSFODNN7EXAMPLE", "aws s3 ls --profile x # [secret 1]"],
    ["AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY aws s3 ls", "AWS_SECRET_ACCESS_KEY=[secret 1] aws s3 ls"],
    ["curl -H 'Authorization: Bearer abc.def.ghi' https://api", "curl -H 'Authorization: Bearer [secret 1]' https://api"],
    ["OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwx0123 node x.js", "OPENAI_API_KEY=[secret 1] node x.js"],
    ["echo sk-ant-api03-abcdefghijklmnopqrstuvwxyz", "echo [secret 1]"],
    ["mysql --password=hunter22 -u root", "mysql --password=[secret 1] -u root"],
    ["token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "token [secret 1]"],
    ["SLACK_BOT_TOKEN=xoxb-1234567890-abcdefghij", "SLACK_BOT_TOKEN=[secret 1]"],
    ["-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----", "[secret 1]"],
    ["ticket corp-123456", "ticket [secret 1]"],
    ["ls -la && git status", "ls -la && git status"],
  ])("%s", (text, masked) => {
    expect(redactor.mask(text)).toBe(masked);
  });

  it("one secret, one mask; a table restores the masks left as they were and leaves the rest", () => {
    const table = redactor.table();
    const shown = table.maskDeep({ command: "A=ghp_0123456789abcdefghijABCDEFGHIJ012345 B=ghp_0123456789abcdefghijABCDEFGHIJ012345 C_TOKEN=x1y2z3w4" });
    expect(shown).toEqual({ command: "A=[secret 1] B=[secret 1] C_TOKEN=[secret 2]" });
    expect(table.restore("A=[secret 1] C_TOKEN=new-one D=[secret 9]")).toBe("A=ghp_0123456789abcdefghijABCDEFGHIJ012345 C_TOKEN=new-one D=[secret 9]");
  });
});

describe("the log", () => {
  it("masks secrets in a line's fields, its message and an error's message", () => {
    const lines: string[] = [];
    const logger = createLogger("info", redactor, { write: (line: string) => void lines.push(line) });
    const secret = "ghp_0123456789abcdefghijABCDEFGHIJ012345";
    logger.info({ command: `git push https://${secret}@github.com/x` }, `running ${secret}`);
    logger.error({ err: new Error(`push failed for ${secret}`) }, "failed");
    expect(lines.join("\n")).not.toContain(secret);
    expect(JSON.parse(lines[0]!)).toMatchObject({ command: "git push https://[secret 1]@github.com/x", msg: "running [secret 1]" });
    expect(JSON.parse(lines[1]!).err.message).toBe("push failed for [secret 1]");
  });
});
