import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Card } from "../../src/core/card.ts";
import type { Logger } from "../../src/core/logger.ts";
import type { Actor, Answer, CardAction, ChatAdapter, DecisionPort } from "../../src/core/ports.ts";
import type { Route } from "../../src/http-server.ts";
import type { ChainCheck } from "../../src/core/audit-chain.ts";
import { auditCsv, auditFilterOf, auditJsonl, filterAudit } from "../../src/core/audit-view.ts";
import type { AuditEntry } from "../../src/core/types.ts";
import type { SessionRow } from "../../src/core/session-commands.ts";
import { auditPage } from "./audit-page.ts";
import { costsPage, sessionsPage } from "./session-pages.ts";
import { createSessions, passwordMatches } from "./auth.ts";
import { webLimits } from "./limits.ts";
import { cardId, escapeHtml, page, renderCard, renderForm, renderNotice } from "./render.ts";

/** Who decides from the console: recorded as platform `web`, user `console`. */
export const consoleActor: Actor = { platform: "web", userId: "console", name: "console" };

const CHOICES = new Set<CardAction>(["once", "always", "reject", "edit", "answer", "dismiss", "view"]);
const require = createRequire(import.meta.url);

export type WebAdapter = ChatAdapter & { routes: Record<string, Route> };

/**
 * The console: the bot's own approvals page on PORT, a third renderer of the core's cards beside
 * Slack's and Discord's. Pending cards are read from the core at each page load and pushed to open
 * pages over Server-Sent Events as they are posted or change; decisions are POSTed forms carrying a
 * CSRF token, made through the same decision port as chat. Nothing is shown or decided without a
 * login (one password, a signed HTTP-only cookie). Unless `openTo` is set (CONSOLE_HOST) only
 * clients on this machine reach it.
 */
export function createWebAdapter(options: {
  passwordHash: string;
  secret: string;
  /** The pending requests' cards as they stand now, secrets masked. */
  pending: () => Promise<Card[]>;
  /** Every audit row, oldest first, secrets masked; and the chain's check. */
  audit: () => Promise<AuditEntry[]>;
  chain: () => Promise<ChainCheck>;
  /** The newest sessions started from chat, as `/opencode sessions` lists them. */
  sessions: () => Promise<SessionRow[]>;
  /** `/opencode costs [period] [project]`'s report, and the chart of its days. */
  costs: (period?: string, project?: string) => Promise<{ text: string; chart?: { png: Uint8Array; title: string } }>;
  /** A project's directory by name, for the audit's project filter. */
  directoryOf: (project: string) => Promise<string | undefined>;
  /** CONSOLE_HOST: the address the console answers on besides loopback ("0.0.0.0": any). */
  openTo?: string;
  logger: Logger;
}): WebAdapter {
  const { logger } = options;
  const sessions = createSessions(options.secret);
  const streams = new Set<ServerResponse>();
  let decisions: DecisionPort | undefined;

  /** Sends one SSE event to every open page; each of its lines a `data:` line, as the format wants. */
  function broadcast(event: string, html: string): void {
    const message = `event: ${event}\n${html.split("\n").map((line) => `data: ${line}`).join("\n")}\n\n`;
    for (const stream of streams) stream.write(message);
  }

  const reachable = (req: IncomingMessage) => {
    const local = req.socket.localAddress ?? "";
    const loopback = (address: string) => address === "127.0.0.1" || address === "::1" || address === "::ffff:127.0.0.1";
    if (loopback(req.socket.remoteAddress ?? "")) return true;
    return options.openTo !== undefined && (options.openTo === "0.0.0.0" || options.openTo === "::" || local.endsWith(options.openTo));
  };

  /** Runs `handler` for a logged-in request; others go to the login page (or get 401 on a fetch). */
  const guarded = (handler: (req: IncomingMessage, res: ServerResponse, session: string) => Promise<void> | void): Route => async (req, res) => {
    if (!reachable(req)) return void res.writeHead(403, { "content-type": "text/plain" }).end("The console answers on this machine only; set CONSOLE_HOST to open it to others.");
    const session = sessions.session(req);
    if (!session) {
      if (req.method === "GET" && req.headers.accept?.includes("text/html")) return void res.writeHead(303, { location: "/login" }).end();
      return void res.writeHead(401, { "content-type": "text/plain" }).end("Log in first.");
    }
    await handler(req, res, session);
  };

  /** A POST's form fields, refused (403) without the CSRF token of the request's login. */
  async function formOf(req: IncomingMessage, res: ServerResponse, session: string): Promise<URLSearchParams | undefined> {
    const fields = new URLSearchParams(await bodyOf(req));
    const token = req.headers["x-csrf-token"];
    if (sessions.csrfMatches(session, typeof token === "string" ? token : (fields.get("csrf") ?? undefined))) return fields;
    logger.warn({ path: req.url }, "a console form without its CSRF token was refused");
    res.writeHead(403, { "content-type": "text/html" }).end(renderNotice("This form has expired or did not come from the console; reload the page. Nothing was done."));
    return undefined;
  }

  /** What the decision port answered, as the dialog's new content. */
  async function answer(res: ServerResponse, reply: Answer): Promise<void> {
    const html = (text: string) => void res.writeHead(200, { "content-type": "text/html" }).end(text);
    switch (reply.kind) {
      case "notice":
        return html(renderNotice(reply.text));
      case "form":
        return html(renderForm(reply.form));
      case "view":
        return html(`<div class="dialog"><h2>${escapeHtml(reply.view.title)}</h2><pre class="body">${escapeHtml(reply.view.text)}</pre></div>`);
      case "invalid":
        return html(renderNotice(`${reply.field}: ${reply.message}`));
      case "decide": {
        const told = await reply.commit();
        return html(told ? renderNotice(told) : "");
      }
    }
  }

  /** The audit rows the page's query asks for, newest first. */
  async function auditRows(req: IncomingMessage): Promise<{ query: URLSearchParams; entries: AuditEntry[] }> {
    const query = new URL(req.url ?? "/", "http://console").searchParams;
    const project = query.get("project")?.trim();
    const directory = project ? await options.directoryOf(project) : undefined;
    const entries = filterAudit(await options.audit(), auditFilterOf(query, () => directory)).reverse();
    return { query, entries };
  }
  const download = (type: string, name: string, render: (entries: AuditEntry[]) => string): Route =>
    guarded(async (req, res) => {
      const { entries } = await auditRows(req);
      res.writeHead(200, { "content-type": type, "content-disposition": `attachment; filename="${name}"` }).end(render(entries));
    });

  const asset = (path: string): Route => async (_req, res) => {
    res.writeHead(200, { "content-type": "text/javascript", "cache-control": "max-age=3600" }).end(await readFile(require.resolve(path)));
  };

  const routes: Record<string, Route> = {
    "GET /login": (req, res) => {
      if (!reachable(req)) return void res.writeHead(403).end();
      res.writeHead(200, { "content-type": "text/html" }).end(loginPage());
    },
    "POST /login": async (req, res) => {
      if (!reachable(req)) return void res.writeHead(403).end();
      const password = new URLSearchParams(await bodyOf(req)).get("password") ?? "";
      if (!(await passwordMatches(password, options.passwordHash))) {
        logger.warn({ from: req.socket.remoteAddress }, "a console login with a wrong password was refused");
        return void res.writeHead(401, { "content-type": "text/html" }).end(loginPage("Wrong password."));
      }
      const { cookie } = sessions.login(false);
      res.writeHead(303, { location: "/", "set-cookie": cookie }).end();
    },
    "POST /logout": (_req, res) => void res.writeHead(303, { location: "/login", "set-cookie": sessions.logout() }).end(),
    "GET /": guarded(async (_req, res, session) => {
      const cards = await options.pending();
      const list = cards.map(renderCard).join("");
      const main = `<h1>Pending approvals</h1><div id="dialog"></div><div hx-ext="sse" sse-connect="/console/events"><section id="cards" sse-swap="new-card" hx-swap="afterbegin">${list}</section><p class="empty">Nothing waits for a decision. Requests appear here as OpenCode asks.</p></div><form method="post" action="/logout"><button>Log out</button></form>`;
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(page("Pending approvals", main, { csrf: sessions.csrfFor(session) }));
    }),
    "GET /console/events": guarded((req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
      res.write(": connected\n\n");
      streams.add(res);
      req.on("close", () => streams.delete(res));
    }),
    "POST /console/decide": guarded(async (req, res, session) => {
      const fields = await formOf(req, res, session);
      if (!fields || !decisions) return;
      const requestId = fields.get("request") ?? "";
      const option = fields.get("option");
      const choice = fields.get("action") as CardAction | null;
      const action: CardAction | undefined = option !== null ? { option: Number(option) } : choice && CHOICES.has(choice) ? choice : undefined;
      if (!action) return void res.writeHead(400, { "content-type": "text/html" }).end(renderNotice("Unknown choice; nothing was done."));
      await answer(res, await decisions.click({ actor: consoleActor, requestId, action, via: requestId }));
    }),
    "POST /console/submit": guarded(async (req, res, session) => {
      const fields = await formOf(req, res, session);
      if (!fields || !decisions) return;
      const form = fields.get("form");
      if (form !== "reject" && form !== "edit" && form !== "answer") return void res.writeHead(400, { "content-type": "text/html" }).end(renderNotice("Unknown form; nothing was done."));
      const values: Record<string, string | string[]> = {};
      for (const key of new Set(fields.keys())) if (!["csrf", "form", "request"].includes(key)) values[key] = fields.getAll(key).length > 1 ? fields.getAll(key) : fields.get(key)!;
      await answer(res, await decisions.submit({ actor: consoleActor, requestId: fields.get("request") ?? "", form, values, via: fields.get("request") ?? undefined }));
    }),
    "GET /audit": guarded(async (req, res) => {
      const { query, entries } = await auditRows(req);
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(page("Audit", auditPage(entries, query, await options.chain())));
    }),
    "GET /sessions": guarded(async (_req, res) => {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(page("Sessions", sessionsPage(await options.sessions())));
    }),
    "GET /costs": guarded(async (req, res) => {
      const query = new URL(req.url ?? "/", "http://console").searchParams;
      const report = await options.costs(query.get("period")?.trim() || undefined, query.get("project")?.trim() || undefined);
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(page("Costs", costsPage(report, query)));
    }),
    "GET /audit.csv": download("text/csv; charset=utf-8", "audit.csv", auditCsv),
    "GET /audit.jsonl": download("application/jsonl; charset=utf-8", "audit.jsonl", auditJsonl),
    "GET /console/htmx.js": asset("htmx.org/dist/htmx.min.js"),
    "GET /console/htmx-sse.js": asset("htmx-ext-sse/dist/sse.min.js"),
  };

  return {
    platform: "web",
    limits: webLimits,
    showsEverySession: true,
    routes,
    status: () => "ready",
    async start(port) {
      decisions = port;
    },
    async stop() {
      for (const stream of streams) stream.end();
      streams.clear();
    },
    openThread: async (parent) => `thread:${parent.sessionId}`,
    // One card per message (webLimits.cardsPerMessage): a card's reference is its request's id.
    async postCard(_thread, take) {
      const [card] = take();
      broadcast("new-card", renderCard(card!));
      return card!.requestId;
    },
    async updateCard(ref, message) {
      for (const card of message.cards) broadcast(cardId(ref), renderCard(card));
    },
    // The console shows approvals; a session's progress and answers stay in its chat thread.
    postProgress: async (thread) => `progress:${thread}`,
    updateProgress: async () => undefined,
    postAnswer: async () => undefined,
    postDigest: async () => undefined,
    threadLink: async () => undefined,
  };
}

function loginPage(error?: string): string {
  return page("Log in", `<h1>opencode-chatops console</h1><form class="login" method="post" action="/login">${error ? renderNotice(error) : ""}<label for="password">Password</label> <input id="password" type="password" name="password" autofocus required> <button>Log in</button></form>`);
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  let body = "";
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 1_000_000) throw new Error("form body over 1 MB");
  }
  return body;
}
