/**
 * Secrets masked in everything the bot posts to chat and writes to its log: GitHub, Slack, AWS,
 * OpenAI and Anthropic keys, JWTs, `Authorization:` headers, `password=…`, private keys, and
 * `NAME=value` where the name says SECRET, TOKEN, PASSWORD or KEY; plus the policy's `redact:` list.
 * Each secret becomes `[secret N]`, numbered in order within what is masked, so that a masked text
 * can be turned back (an Edit dialog's untouched masks keep their original values).
 */

/** One kind of secret: the whole match is masked, or only the group named `secret` when it has one. */
type Pattern = RegExp;

const BUILTIN: Pattern[] = [
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
  /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{20,})/g,
  /\bxox[abposre]-[A-Za-z0-9-]{10,}|\bxapp-[A-Za-z0-9-]{10,}/g,
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
  /\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}/g,
  /\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g,
  /\bAuthorization\s*:\s*(?:(?:Bearer|Basic|Token|Bot)\s+)?(?<secret>[^\s"']+)/gi,
  /\bpassword\s*[=:]\s*(?<secret>"[^"]*"|'[^']*'|[^\s;&|"']+)/gi,
  /\b[A-Za-z_][A-Za-z0-9_]*(?:SECRET|TOKEN|PASSWORD|PASSWD|KEY)[A-Za-z0-9_]*\s*=\s*(?<secret>"[^"]*"|'[^']*'|[^\s;&|"']+)/gi,
];

const MASK = /\[secret (\d+)\]/g;

/** The secrets of some texts, each with its mask: built once, then used to mask and to restore. */
export class SecretTable {
  private readonly byValue = new Map<string, string>();
  private readonly byMask = new Map<string, string>();

  constructor(private readonly patterns: Pattern[]) {}

  /** Masks `text`, adding its secrets to the table. */
  mask(text: string): string {
    let masked = text;
    for (const pattern of this.patterns) {
      masked = masked.replace(pattern, (...args: unknown[]) => {
        const match = args[0] as string;
        const groups = args.at(-1) as Record<string, string> | undefined;
        const secret = typeof groups === "object" && groups?.secret ? groups.secret : match;
        if (secret.startsWith("[secret") || secret.length < 4) return match;
        return match.replace(secret, this.maskOf(secret));
      });
    }
    return masked;
  }

  /** Every string in `value` masked (plain objects and arrays walked; keys kept). */
  maskDeep<T>(value: T): T {
    return walk(value, (text) => this.mask(text)) as T;
  }

  /** Puts back each mask of this table left in `text`; a mask the table does not know stays as written. */
  restore(text: string): string {
    return text.replace(MASK, (mask) => this.byMask.get(mask) ?? mask);
  }

  restoreDeep<T>(value: T): T {
    return walk(value, (text) => this.restore(text)) as T;
  }

  /** How many distinct secrets were masked. */
  get size(): number {
    return this.byMask.size;
  }

  private maskOf(secret: string): string {
    let mask = this.byValue.get(secret);
    if (!mask) {
      mask = `[secret ${this.byValue.size + 1}]`;
      this.byValue.set(secret, mask);
      this.byMask.set(mask, secret);
    }
    return mask;
  }
}

/** The masking in force: the built-in kinds and the policy's `redact:` list (read at each use, so a reload applies). */
export type Redactor = {
  /** A fresh table: mask related texts with one table so that one secret has one mask throughout. */
  table(): SecretTable;
  mask(text: string): string;
  maskDeep<T>(value: T): T;
};

export function createRedactor(extra: () => RegExp[] = () => []): Redactor {
  const table = () => new SecretTable([...BUILTIN, ...extra().map((re) => new RegExp(re.source, re.flags.includes("g") ? re.flags : `${re.flags}g`))]);
  return { table, mask: (text) => table().mask(text), maskDeep: (value) => table().maskDeep(value) };
}

function walk(value: unknown, map: (text: string) => string): unknown {
  if (typeof value === "string") return map(value);
  if (Array.isArray(value)) return value.map((item) => walk(item, map));
  if (value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, walk(item, map)]));
  }
  return value;
}
