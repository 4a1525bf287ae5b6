import { z } from "zod";
import type { ApproverLists } from "./core/approvers.ts";

const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === "" ? undefined : value.trim()));

const url = (name: string) =>
  z.string().refine((value) => URL.canParse(value), { message: `${name} must be a URL` });

/** Every variable the bot reads, with its default. `.env.example` documents the same list. */
const schema = z
  .object({
    OPENCODE_URL: url("OPENCODE_URL").default("http://127.0.0.1:4096"),
    OPENCODE_SERVER_USERNAME: optionalString,
    OPENCODE_SERVER_PASSWORD: optionalString,
    DATABASE_URL: optionalString.refine((value) => value === undefined || /^postgres(ql)?:\/\//.test(value), {
      message: "DATABASE_URL must start with postgres:// or postgresql://",
    }),
    DATA_DIR: z.string().default("./data"),
    PORT: z.coerce.number({ message: "PORT must be a port number" }).int().min(0).max(65535).default(3000),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    SLACK_BOT_TOKEN: z.string().startsWith("xoxb-", { message: "SLACK_BOT_TOKEN must be a bot token (xoxb-…)" }),
    SLACK_SIGNING_SECRET: optionalString,
    SLACK_APP_TOKEN: optionalString.refine((value) => value === undefined || value.startsWith("xapp-"), {
      message: "SLACK_APP_TOKEN must be an app-level token (xapp-…)",
    }),
    SLACK_API_URL: url("SLACK_API_URL").default("https://slack.com/api/"),
    SLACK_CHANNEL: z.string().min(1, { message: "SLACK_CHANNEL is required (a channel id like C0123456789)" }),
    SLACK_APPROVERS: optionalString,
    CHATOPS_TOKEN: optionalString,
  })
  .superRefine((env, ctx) => {
    if (!env.SLACK_APP_TOKEN && !env.SLACK_SIGNING_SECRET) {
      ctx.addIssue({
        code: "custom",
        path: ["SLACK_SIGNING_SECRET"],
        message: "SLACK_SIGNING_SECRET is required unless SLACK_APP_TOKEN is set (Socket Mode)",
      });
    }
  });

export type Config = {
  opencode: { url: string; username: string; password?: string };
  database: { url?: string; dataDir: string };
  port: number;
  logLevel: z.infer<typeof schema>["LOG_LEVEL"];
  slack: {
    botToken: string;
    signingSecret?: string;
    appToken?: string;
    apiUrl: string;
    channel: string;
  };
  /** Who may decide, per platform (SLACK_APPROVERS …); checked by the core. */
  approvers: ApproverLists;
  chatopsToken?: string;
};

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
  const approvers = e.SLACK_APPROVERS?.split(",").map((id) => id.trim()).filter(Boolean);
  return {
    opencode: { url: e.OPENCODE_URL, username: e.OPENCODE_SERVER_USERNAME ?? "opencode", password: e.OPENCODE_SERVER_PASSWORD },
    database: { url: e.DATABASE_URL, dataDir: e.DATA_DIR },
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    slack: {
      botToken: e.SLACK_BOT_TOKEN,
      signingSecret: e.SLACK_SIGNING_SECRET,
      appToken: e.SLACK_APP_TOKEN,
      apiUrl: e.SLACK_API_URL.endsWith("/") ? e.SLACK_API_URL : `${e.SLACK_API_URL}/`,
      channel: e.SLACK_CHANNEL,
    },
    approvers: { slack: approvers && approvers.length > 0 ? approvers : undefined },
    chatopsToken: e.CHATOPS_TOKEN,
  };
}
