import { HTTPReceiver, LogLevel } from "@slack/bolt";
import type { IncomingMessage, ServerResponse } from "node:http";
import { parse } from "node:querystring";
import type { Logger } from "../../src/core/logger.ts";

/** Bolt's own body limit (HTTPModuleFunctions.defaultBodyLimit), kept here because the body is read here first. */
const BODY_LIMIT = 4 * 1024 * 1024;

/**
 * Bolt's receiver for `POST /slack/events` (it checks the signature), and its request listener behind
 * two guards for bodies Slack never sends. A body that is JSON but not an object (`null`, or
 * `payload=null`) made Bolt throw outside any handler: an unhandled rejection, which ends the
 * process, and no answer; it is refused 400 here. A payload that breaks Bolt before any listener
 * runs (a block_actions without `user`, a view_submission without `view`) got a 500; it gets a 400.
 */
export function createHttpReceiver(signingSecret: string, logger: Logger) {
  const receiver = new HTTPReceiver({
    signingSecret,
    endpoints: "/slack/events",
    logLevel: LogLevel.WARN,
    processEventErrorHandler: async ({ error, response }) => {
      if (response.headersSent) return false;
      logger.warn({ err: error }, "a Slack payload Bolt could not process: refused as malformed");
      response.writeHead(error.name === "AuthorizationError" ? 401 : 400).end();
      return true;
    },
  });

  async function listener(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size <= BODY_LIMIT) chunks.push(chunk as Buffer);
    }
    if (size > BODY_LIMIT) return void res.writeHead(413).end();
    const rawBody = Buffer.concat(chunks);
    if (notAnObject(rawBody.toString(), req.headers["content-type"])) return void res.writeHead(400).end();
    // Bolt reads a body already buffered from `rawBody` (HTTPModuleFunctions.bufferIncomingMessage).
    receiver.requestListener(Object.assign(req, { rawBody }), res);
  }

  return { receiver, listener };
}

/** Whether the body parses, the way Bolt parses it, to JSON that is not an object. */
function notAnObject(body: string, contentType: string | undefined): boolean {
  let parsed: unknown;
  try {
    const form = contentType === "application/x-www-form-urlencoded" ? parse(body) : undefined;
    if (form && typeof form.payload !== "string") return false;
    parsed = JSON.parse(form ? (form.payload as string) : body);
  } catch {
    return false; // Bolt answers 400 for that itself
  }
  return typeof parsed !== "object" || parsed === null;
}
