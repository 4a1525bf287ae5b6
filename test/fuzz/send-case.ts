/**
 * Puts one generated case on the wire: an HTTP request to the bot (signed as the case says), or an
 * INTERACTION_CREATE on the fake Discord's gateway. Returns the outcome: the HTTP status, `error:…`
 * when the connection failed, or for Discord whether the bot answered the interaction.
 */
import { createHmac } from "node:crypto";
import { request } from "node:http";
import type { FakeDiscord } from "../support/fake-discord.ts";
import type { FakeSlack } from "../support/fake-slack.ts";
import type { SlackUserSim } from "../support/slack-client-sim.ts";
import type { DiscordCase } from "./discord-cases.ts";
import type { FuzzTargets } from "./fuzz-targets.ts";
import { GOOD_TOKEN, type GateCase } from "./gate-cases.ts";
import { bodyText } from "./garbage.ts";
import { FAKE_ISSUED, type SlackCase, type Signing } from "./slack-cases.ts";

export type FuzzCase = SlackCase | DiscordCase | GateCase;
export type Outcome = string;

export type Wire = {
  botUrl: string;
  signingSecret: string;
  gateToken: string;
  slack: FakeSlack;
  slackUser: SlackUserSim;
  discord: FakeDiscord;
  targets: FuzzTargets;
  /** How long the bot has to answer an interaction of its own (Discord allows 3 s; a loaded machine needs more). */
  answerWithinMs: number;
};

const HTTP_TIMEOUT_MS = 20_000;

export function sendCase(c: FuzzCase, wire: Wire): Promise<Outcome> {
  if (c.target === "gate") return sendGate(c, wire);
  if (c.target === "discord") return sendDiscord(c, wire);
  return sendSlack(c, wire);
}

/**
 * One request on a connection of its own (node:http, no agent): a pooled connection can be closed by
 * the server's keep-alive timer just as the next request goes out on it, and that reset would be the
 * client's doing, not the bot's. An answer that arrives before the body is all sent (a 401 or 413)
 * counts, whatever becomes of the rest of the upload.
 */
function post(url: string, headers: Record<string, string>, body: string): Promise<Outcome> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    const sized = { ...headers, "content-length": String(Buffer.byteLength(body)) };
    const req = request(url, { method: "POST", headers: sized, agent: false, timeout: HTTP_TIMEOUT_MS }, (res) => {
      res.resume();
      res.on("close", () => done(String(res.statusCode)));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (error: NodeJS.ErrnoException) => done(`error:${error.code ?? error.message}`));
    req.end(body);
  });
}

async function sendSlack(c: SlackCase, wire: Wire): Promise<Outcome> {
  if (c.via === "sim") {
    const card = wire.targets.slack.cards[c.card]!;
    // The sim refuses a click on a button the card no longer shows: a card changed by the run says so.
    const res = await Promise.resolve()
      .then(() => wire.slackUser.clickButton({ user: { id: wire.targets.slack.approver }, channel: wire.targets.slack.channel, messageTs: card.ts, actionId: c.actionId, ...c.forge }))
      .catch((error: Error) => ({ status: `error:${error.message}` }));
    return String(res.status);
  }
  let body = bodyText(c.body);
  if (body.includes(FAKE_ISSUED) || body.includes(encodeURIComponent(FAKE_ISSUED))) {
    const issued = wire.slack.issueResponseUrl({ kind: "command", channel: wire.targets.slack.channel, user: wire.targets.slack.others[0]! });
    body = body.replaceAll(encodeURIComponent(FAKE_ISSUED), encodeURIComponent(issued)).replaceAll(FAKE_ISSUED, issued);
  }
  const headers: Record<string, string> = { "user-agent": "Slackbot 1.0 (+https://api.slack.com/robots)", ...signatureHeaders(c.signing, body, wire.signingSecret) };
  if (c.contentType) headers["content-type"] = c.contentType;
  return post(`${wire.botUrl}/slack/events`, headers, body);
}

function signatureHeaders(signing: Signing, body: string, secret: string): Record<string, string> {
  const now = Math.floor(Date.now() / 1000);
  const sign = (key: string, timestamp: number, signed = body) => ({
    "x-slack-request-timestamp": String(timestamp),
    "x-slack-signature": `v0=${createHmac("sha256", key).update(`v0:${timestamp}:${signed}`).digest("hex")}`,
  });
  switch (signing.as) {
    case "valid":
      return sign(secret, now);
    case "secret":
      return sign(signing.secret, now);
    case "stale":
      return sign(secret, now - signing.ageSec);
    case "other-body":
      return sign(secret, now, signing.body === body ? `${body} ` : signing.body);
    case "headers": {
      // Header values must be ISO-8859-1 without line breaks for fetch to send them at all.
      const safe = (v: string) => v.replace(/[^\x20-\x7e]/g, "?");
      return {
        ...(signing.signature !== undefined ? { "x-slack-signature": safe(signing.signature) } : {}),
        ...(signing.timestamp !== undefined ? { "x-slack-request-timestamp": safe(signing.timestamp) } : {}),
      };
    }
  }
}

function sendGate(c: GateCase, wire: Wire): Promise<Outcome> {
  const headers: Record<string, string> = {};
  if (c.authorization !== undefined) headers.authorization = c.authorization === GOOD_TOKEN ? `Bearer ${wire.gateToken}` : c.authorization.replace(/[^\x20-\x7e]/g, "?");
  if (c.contentType) headers["content-type"] = c.contentType;
  return post(`${wire.botUrl}/opencode/gate`, headers, bodyText(c.body));
}

async function sendDiscord(c: DiscordCase, wire: Wire): Promise<Outcome> {
  const { discord } = wire;
  // The fake keeps a small record to answer the callback by; the payload itself goes out on the gateway only.
  const record = discord.registerInteraction({ type: c.type, userId: c.userId, channelId: c.channelId, customId: c.customId.slice(0, 100), messageId: c.messageId, payload: {} });
  discord.dispatch("INTERACTION_CREATE", { ...c.payload, id: record.id, token: record.token });
  if (!c.ours) return "dispatched";
  const answered = await discord.waitFor(() => discord.callbacks.find((cb) => cb.interactionId === record.id), `an answer to interaction ${record.id}`, wire.answerWithinMs).then(
    (cb) => `answered:${String(cb.type)}:${cb.status}`,
    () => "unanswered",
  );
  return answered;
}
