import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import type { ApprovalEngine } from "./core/approval-engine.ts";
import type { Logger } from "./core/logger.ts";
import { sendJson } from "./http-server.ts";

const MAX_BODY_BYTES = 1024 * 1024;
/** How long one request may wait for a decision; the plugin asks again after that. */
export const MAX_WAIT_MS = 25_000;

// Postgres keeps no NUL in text or jsonb, nor a lone UTF-16 surrogate in jsonb, and an index entry holds
// ~2.7 kB (the ids make the request's key): such a call is refused here (400, which the plugin reports at
// once), not failed in the store (503, which it retries until it gives up).
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const unstorable = (value: unknown): boolean =>
  typeof value === "string" ? UNSTORABLE.test(value) : typeof value === "object" && value !== null && Object.entries(value).some(([k, v]) => UNSTORABLE.test(k) || unstorable(v));
const NOT_STORABLE = "contains a NUL character or a lone surrogate";
const text = (max: number) => z.string().min(1).max(max).refine((s) => !unstorable(s), NOT_STORABLE);
const gateBody = z.object({
  directory: text(4096),
  sessionID: text(256),
  callID: text(256),
  tool: text(256),
  args: z.record(z.string(), z.unknown()).refine((args) => !unstorable(args), NOT_STORABLE),
  wait: z.number().int().min(0).max(MAX_WAIT_MS).optional(),
});

/**
 * `POST /opencode/gate`, the plugin's door: bearer CHATOPS_TOKEN, a tool call in, and the answer out
 * (`allow` with the arguments to run, `reject` with the message for the model, or `pending`).
 * Asking again for the same call is safe: it finds the same record and card.
 */
export function createGateRoute(options: { token?: string; engine: ApprovalEngine; logger: Logger }) {
  const expected = options.token ? Buffer.from(`Bearer ${options.token}`) : undefined;
  return async (req: IncomingMessage, res: ServerResponse) => {
    if (!expected) return sendJson(res, 503, { error: "gate_disabled", message: "set CHATOPS_TOKEN on the bot to enable the plugin's gate" });
    const given = Buffer.from(req.headers.authorization ?? "");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return sendJson(res, 401, { error: "unauthorized", message: "the plugin's CHATOPS_TOKEN does not match the bot's" });
    }
    let json: unknown;
    try {
      const body = await readBody(req);
      if (body === undefined) return sendJson(res, 413, { error: "too_large", message: `body is larger than ${MAX_BODY_BYTES} bytes` });
      json = JSON.parse(body);
    } catch (error) {
      return sendJson(res, 400, { error: "bad_request", message: `body is not JSON: ${(error as Error).message}` });
    }
    const parsed = gateBody.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return sendJson(res, 400, { error: "bad_request", message: `${issue.path.join(".") || "body"}: ${issue.message}` });
    }
    const call = parsed.data;
    try {
      const first = await options.engine.gate({
        directory: call.directory,
        sessionId: call.sessionID,
        callId: call.callID,
        tool: call.tool,
        args: call.args,
      });
      const answer = first.status === "pending" && call.wait ? ((await options.engine.waitForGate(first.requestId, call.wait)) ?? first) : first;
      sendJson(res, 200, answer);
    } catch (error) {
      options.logger.error({ err: error, callID: call.callID }, "gate failed");
      // The plugin treats this as "bot unreachable": it retries, then fails closed.
      sendJson(res, 503, { error: "unavailable", message: "opencode-chatops could not record this call" });
    }
  };
}

/**
 * The body as text, or undefined when it is over the limit. The rest of a body over the limit is read
 * and dropped: leaving the loop early destroys the socket, and the client would get a reset, not the 413.
 */
async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk as Buffer);
  }
  return size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString("utf8");
}
