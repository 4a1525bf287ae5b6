import { writeFileSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Writes `yaml` to a policy file of its own and returns its path, for POLICY_FILE. */
export function policyFile(yaml: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "chatops-policy-")), "chatops.policy.yaml");
  writeFileSync(file, yaml);
  return file;
}
