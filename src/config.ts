import { Cron } from "croner";
import { existsSync } from "node:fs";
import { z } from "zod";
import type { ApproverLists } from "./core/approvers.ts";
import { parseBudgets, type Budget } from "./core/budgets.ts";

const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === "" ? undefined : value.trim()));

// An empty value counts as unset (a .env line like `SLACK_API_URL=` keeps the default).
const url = (name: string, fallback: string) =>
  z.preprocess(
    (value) => (typeof value === "string" && value.trim() === "" ? undefined : value),
    z.string().refine((value) => URL.canParse(value), { message: `${name} must be a URL` }).default(fallback),
  );

const snowflake = (name: string) =>
  optionalString.refine((value) => value === undefined || /^\d{15,21}$/.test(value), { message: `${name} must be a Discord id (digits)` });

/** Every variable the bot reads, with its default. `.env.example` documents the same list. */
const schema = z
  .object({
    OPENCODE_URL: url("OPENCODE_URL", "http://127.0.0.1:4096"),
    OPENCODE_SERVER_USERNAME: optionalString,
    OPENCODE_SERVER_PASSWORD: optionalString,
    DATABASE_URL: optionalString.refine((value) => value === undefined || /^postgres(ql)?:\/\//.test(value), {
      message: "DATABASE_URL must start with postgres:// or postgresql://",
    }),
    DATA_DIR: z.string().default("./data"),
    REDIS_URL: optionalString.refine((value) => value === undefined || /^rediss?:\/\//.test(value), {
      message: "REDIS_URL must start with redis:// or rediss://",
    }),
    PORT: z.coerce.number({ message: "PORT must be a port number" }).int().min(0).max(65535).default(3000),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    SLACK_BOT_TOKEN: optionalString.refine((value) => value === undefined || value.startsWith("xoxb-"), {
      message: "SLACK_BOT_TOKEN must be a bot token (xoxb-…)",
    }),
    SLACK_SIGNING_SECRET: optionalString,
    SLACK_APP_TOKEN: optionalString.refine((value) => value === undefined || value.startsWith("xapp-"), {
      message: "SLACK_APP_TOKEN must be an app-level token (xapp-…)",
    }),
    SLACK_API_URL: url("SLACK_API_URL", "https://slack.com/api/"),
    SLACK_CHANNEL: optionalString,
    SLACK_APPROVERS: optionalString,
    DISCORD_TOKEN: optionalString,
    DISCORD_APPLICATION_ID: snowflake("DISCORD_APPLICATION_ID"),
    DISCORD_CHANNEL: snowflake("DISCORD_CHANNEL"),
    DISCORD_APPROVERS: optionalString.refine((value) => value === undefined || value.split(",").every((entry) => /^\s*(role:)?\d{15,21}\s*$|^\s*$/.test(entry)), {
      message: "DISCORD_APPROVERS must list user ids and role:<id> entries, comma-separated",
    }),
    DISCORD_API_URL: url("DISCORD_API_URL", "https://discord.com/api"),
    DISCORD_GUILD_ID: snowflake("DISCORD_GUILD_ID"),
    CHATOPS_TOKEN: optionalString,
    CHATOPS_ADMINS: optionalString,
    DIGEST_CHANNEL: optionalString,
    DISCORD_DIGEST_CHANNEL: snowflake("DISCORD_DIGEST_CHANNEL"),
    DIGEST_CRON: z.preprocess(
      (value) => (typeof value === "string" && value.trim() === "" ? undefined : value),
      z
        .string()
        .refine((value) => value.trim().split(/\s+/).length === 5 && validCron(value), { message: "DIGEST_CRON must be a five-field cron expression, like 0 9 * * 1-5" })
        .default("0 9 * * 1-5"),
    ),
    COST_BUDGETS: optionalString.refine(
      (value) => {
        try {
          parseBudgets(value);
          return true;
        } catch {
          return false;
        }
      },
      { message: "COST_BUDGETS must list <project>:daily=<dollars>[:monthly=<dollars>] entries, comma-separated" },
    ),
    POLICY_FILE: optionalString,
    CONSOLE_PASSWORD: optionalString,
    CONSOLE_HOST: optionalString,
    REDACT_AUDIT: z.preprocess(
      (value) => (typeof value === "string" && value.trim() === "" ? undefined : value),
      z.enum(["0", "1", "true", "false"], { message: "REDACT_AUDIT must be 1 or 0" }).optional(),
    ),
    DIGEST_TZ: z.preprocess(
      (value) => (typeof value === "string" && value.trim() === "" ? undefined : value),
      z.string().refine(validTimeZone, { message: "DIGEST_TZ must be an IANA time zone, like Europe/Paris" }).default("UTC"),
    ),
  })
  .superRefine((env, ctx) => {
    if (env.SLACK_BOT_TOKEN && !env.SLACK_CHANNEL) {
      ctx.addIssue({ code: "custom", path: ["SLACK_CHANNEL"], message: "SLACK_CHANNEL is required with SLACK_BOT_TOKEN (a channel id like C0123456789)" });
    }
    if (env.SLACK_BOT_TOKEN && !env.SLACK_APP_TOKEN && !env.SLACK_SIGNING_SECRET) {
      ctx.addIssue({
        code: "custom",
        path: ["SLACK_SIGNING_SECRET"],
        message: "SLACK_SIGNING_SECRET is required unless SLACK_APP_TOKEN is set (Socket Mode)",
      });
    }
    if (env.DISCORD_TOKEN && !env.DISCORD_CHANNEL) {
      ctx.addIssue({ code: "custom", path: ["DISCORD_CHANNEL"], message: "DISCORD_CHANNEL is required with DISCORD_TOKEN (the id of a text channel)" });
    }
  });

export type Config = {
  opencode: { url: string; username: string; password?: string };
  database: { url?: string; dataDir: string };
  /** REDIS_URL: chat rate limits shared by every replica; unset: each process keeps its own. */
  redisUrl?: string;
  port: number;
  logLevel: z.infer<typeof schema>["LOG_LEVEL"];
  /** Present when SLACK_BOT_TOKEN is set. */
  slack?: {
    botToken: string;
    signingSecret?: string;
    appToken?: string;
    apiUrl: string;
    channel: string;
  };
  /** Present when DISCORD_TOKEN is set. */
  discord?: {
    token: string;
    applicationId?: string;
    channel: string;
    /** The REST base without /v10, as discord.js's `rest.api` takes it. */
    apiUrl: string;
    guildId?: string;
  };
  /** Who may decide, per platform (SLACK_APPROVERS …); checked by the core. */
  approvers: ApproverLists;
  /** Who may add and remove projects (user ids of either platform); unset: the approvers. */
  admins?: string[];
  /** The cost digest: where it is posted (none: not posted on a schedule), when, and the zone its days are in. */
  digest: { slackChannel?: string; discordChannel?: string; cron: string; timeZone: string };
  /** Per-project daily and monthly budgets in US dollars (COST_BUDGETS). */
  budgets: Budget[];
  /** The team's policy file (POLICY_FILE, else ./chatops.policy.yaml where it exists); none: the approver lists alone. */
  policyFile?: string;
  /** REDACT_AUDIT=1: the audit keeps commands and arguments with their secrets masked too. */
  redactAudit: boolean;
  /** The web console on PORT: its password (unset: one generated on the first start) and CONSOLE_HOST (unset: this machine only). */
  console: { password?: string; host?: string };
  chatopsToken?: string;
};

/** The policy file read when POLICY_FILE is unset, if it exists in the working directory. */
export const DEFAULT_POLICY_FILE = "chatops.policy.yaml";

export class ConfigError extends Error {
  readonly code = "CONFIG_INVALID";
}

/** Reads and validates the environment; throws ConfigError whose message names the variable at fault. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? "environment");
    const raw = env[variable];
    const message =
      raw === undefined || raw.trim() === ""
        ? issue.message.includes(variable) ? issue.message : `${variable} is required`
        : `${issue.message} (got ${JSON.stringify(raw)})`;
    throw new ConfigError(`config: ${variable}: ${message}`);
  }
  const e = parsed.data;
  return {
    opencode: { url: e.OPENCODE_URL, username: e.OPENCODE_SERVER_USERNAME ?? "opencode", password: e.OPENCODE_SERVER_PASSWORD },
    database: { url: e.DATABASE_URL, dataDir: e.DATA_DIR },
    redisUrl: e.REDIS_URL,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    slack: e.SLACK_BOT_TOKEN
      ? {
          botToken: e.SLACK_BOT_TOKEN,
          signingSecret: e.SLACK_SIGNING_SECRET,
          appToken: e.SLACK_APP_TOKEN,
          apiUrl: e.SLACK_API_URL.endsWith("/") ? e.SLACK_API_URL : `${e.SLACK_API_URL}/`,
          channel: e.SLACK_CHANNEL!,
        }
      : undefined,
    discord: e.DISCORD_TOKEN
      ? {
          token: e.DISCORD_TOKEN,
          applicationId: e.DISCORD_APPLICATION_ID,
          channel: e.DISCORD_CHANNEL!,
          apiUrl: e.DISCORD_API_URL.replace(/\/+$/, ""),
          guildId: e.DISCORD_GUILD_ID,
        }
      : undefined,
    approvers: { slack: list(e.SLACK_APPROVERS), discord: list(e.DISCORD_APPROVERS) },
    admins: list(e.CHATOPS_ADMINS),
    budgets: parseBudgets(e.COST_BUDGETS),
    digest: { slackChannel: e.DIGEST_CHANNEL, discordChannel: e.DISCORD_DIGEST_CHANNEL, cron: e.DIGEST_CRON.trim(), timeZone: e.DIGEST_TZ },
    policyFile: e.POLICY_FILE ?? (existsSync(DEFAULT_POLICY_FILE) ? DEFAULT_POLICY_FILE : undefined),
    redactAudit: e.REDACT_AUDIT === "1" || e.REDACT_AUDIT === "true",
    console: { password: e.CONSOLE_PASSWORD, host: e.CONSOLE_HOST },
    chatopsToken: e.CHATOPS_TOKEN,
  };
}

/** A comma-separated list, or undefined when it names no one (no list = anyone may decide). */
function list(value: string | undefined): string[] | undefined {
  const entries = value?.split(",").map((entry) => entry.trim()).filter(Boolean);
  return entries && entries.length > 0 ? entries : undefined;
}

function validCron(expression: string): boolean {
  try {
    new Cron(expression, { paused: true }).stop();
    return true;
  } catch {
    return false;
  }
}

function validTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
