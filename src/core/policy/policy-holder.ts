import { readFile } from "node:fs/promises";
import { parsePolicy, PolicyError, type Policy } from "./policy-file.ts";

/** The policy in force, and the file it comes from; re-read on SIGHUP and `/opencode policy reload`. */
export type PolicyHolder = {
  /** The file named by POLICY_FILE (or the default one found); undefined when there is none. */
  readonly file?: string;
  /** The policy in force; undefined without a policy file (the platform approver lists alone decide). */
  current(): Policy | undefined;
  /** Reads the file again; a broken file keeps the policy in force and says why. */
  reload(): Promise<{ ok: true; policy: Policy } | { ok: false; error: string }>;
};

/** Reads the policy file once; throws PolicyError (naming the file, line and field) when it is broken or missing. */
export async function loadPolicyFile(file: string): Promise<Policy> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new PolicyError(`${file}: cannot read the policy file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return parsePolicy(text, file);
}

/** Loads `file` (none: no policy) and keeps it; the start fails with PolicyError on a broken file. */
export async function createPolicyHolder(file: string | undefined): Promise<PolicyHolder> {
  let policy = file === undefined ? undefined : await loadPolicyFile(file);
  return {
    file,
    current: () => policy,
    async reload() {
      if (file === undefined) return { ok: false, error: "no policy file is configured (set POLICY_FILE, or create ./chatops.policy.yaml)" };
      try {
        policy = await loadPolicyFile(file);
        return { ok: true, policy };
      } catch (error) {
        if (error instanceof PolicyError) return { ok: false, error: error.message };
        throw error;
      }
    },
  };
}
