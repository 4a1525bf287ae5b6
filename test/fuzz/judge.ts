/**
 * What each case must get back. Forged Slack requests: 401 (Bolt answers a body over its 4 MB limit
 * 413 before it checks anything, and an `ssl_check=1` form 200 without reading the rest, as Slack
 * documents). Signed malformed ones: any answer but a 5xx or a dropped connection (Bolt answers 400
 * for a body it cannot parse, 404 for a payload no listener acknowledges within 3 s). The gate: the
 * statuses its case names. Discord: an answer to every interaction in the bot's own shapes.
 */
import type { FuzzCase, Outcome } from "./send-case.ts";
import { bodyBytes } from "./garbage.ts";
import { SLACK_BODY_LIMIT } from "./slack-cases.ts";

/** Why `outcome` breaks a property for case `c`; undefined when it is as it must be. */
export function judge(c: FuzzCase, outcome: Outcome): string | undefined {
  const want = (allowed: string[]) => (allowed.includes(outcome) ? undefined : `wanted ${allowed.join(" or ")}, got ${outcome}`);
  if (c.target === "discord") return c.ours ? (outcome.startsWith("answered") ? undefined : `an interaction of the bot's went ${outcome}`) : want(["dispatched"]);
  if (c.target === "gate") return want(c.wantStatus.map(String));
  if (c.via === "sim") return want(["401"]);
  const oversized = bodyBytes(c.body) > SLACK_BODY_LIMIT;
  if (oversized) return want(["413"]);
  if (c.kind === "ssl-check-smuggling") return want(["200"]);
  if (c.forged) return want(["401"]);
  const status = Number(outcome);
  return Number.isInteger(status) && status < 500 ? undefined : `wanted a 2xx–4xx answer, got ${outcome}`;
}
