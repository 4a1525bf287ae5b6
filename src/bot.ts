import { once } from "node:events";
import type { AddressInfo } from "node:net";
import type { Config } from "./config.ts";
import { createApprovalEngine } from "./core/approval-engine.ts";
import { createApproverCheck } from "./core/approvers.ts";
import { releaseHeld, tellUnsettled } from "./core/chat-messages.ts";
import { createCommandRouter } from "./core/command-router.ts";
import { createAdminCheck } from "./core/projects.ts";
import { createHttpServer, sendJson, type Route } from "./http-server.ts";
import { createGateRoute } from "./gate-route.ts";
import { createLimiterFactory } from "./rate-limits.ts";
import { createMetrics } from "./metrics.ts";
import { createOpencodeServers } from "./opencode/servers.ts";
import type { Actor, ChatAdapter } from "./core/ports.ts";
import { createPolicyHolder } from "./core/policy/policy-holder.ts";
import { createAlwaysRuleStore } from "./store/always-store.ts";
import { createRedactor } from "./core/redaction.ts";
import { createLogger } from "./logging.ts";
import { randomBytes } from "node:crypto";
import { generatePassword, hashPassword } from "../adapters/web/auth.ts";
import { webLimits } from "../adapters/web/limits.ts";
import { createWebAdapter } from "../adapters/web/web-adapter.ts";
import { buildCard } from "./core/card-text.ts";
import { verifyChain } from "./core/audit-chain.ts";
import type { ProjectStore } from "./core/projects.ts";
import { sessionRows, type SessionRow } from "./core/session-commands.ts";
import { costsCommand } from "./core/cost-commands.ts";
import { spendChartFor } from "./core/digest.ts";
import { parsePeriod } from "./core/periods.ts";
import type { Logger } from "./core/logger.ts";
import type { Redactor } from "./core/redaction.ts";
import { createConsoleSettings } from "./store/console-settings.ts";
import { openDatabase, type Database } from "./store/database.ts";
import { redactingAdapter, redactingCommands } from "./core/redacting-adapter.ts";
import type { ApprovalStore } from "./core/store-port.ts";
import { createApprovalStore, SETTLED_CHANNEL } from "./store/approval-store.ts";
import { createProjectStore } from "./store/project-store.ts";
import { createOwnedSessionStore } from "./store/session-store.ts";
import { createSessionProgress } from "./core/session-progress.ts";
import { progressEvents } from "./opencode/progress-events.ts";
import { completedMessageOf } from "./opencode/ledger-events.ts";
import { createLedger, type LedgerStore } from "./core/ledger.ts";
import { createLedgerStore } from "./store/ledger-store.ts";
import { createDigest } from "./core/digest.ts";
import { createDigestSlots } from "./store/digest-store.ts";
import { createBudgetWatch } from "./core/budgets.ts";
import { createBudgetAlerts } from "./store/budget-store.ts";

/**
 * The web console's adapter: its session secret and password hash from the database (a password
 * generated on the first start without CONSOLE_PASSWORD is printed once, on stderr, never logged).
 */
async function startConsole(deps: {
  config: Config;
  database: Database;
  store: ApprovalStore;
  projects: ProjectStore;
  redactor: Redactor;
  sessions: () => Promise<SessionRow[]>;
  costs: (period?: string, project?: string) => Promise<{ text: string; chart?: { png: Uint8Array; title: string } }>;
  logger: Logger;
}) {
  const settings = createConsoleSettings(deps.database);
  const secret = (await settings.getOrCreate("session_secret", async () => randomBytes(32).toString("base64url"))).value;
  let passwordHash: string;
  if (deps.config.console.password) passwordHash = await hashPassword(deps.config.console.password);
  else {
    let generated = "";
    const stored = await settings.getOrCreate("password_hash", () => hashPassword((generated = generatePassword())));
    passwordHash = stored.value;
    if (stored.created) console.error(`opencode-chatops console: CONSOLE_PASSWORD is unset, so this password was generated and stored hashed (it is not shown again): ${generated}`);
  }
  return createWebAdapter({
    passwordHash,
    secret,
    openTo: deps.config.console.host,
    pending: async () => (await deps.store.pendingRequests()).map((record) => deps.redactor.maskDeep(buildCard(record, webLimits))),
    audit: async () => (await deps.store.decisionsBetween({ from: new Date(0), to: new Date(Date.now() + 60_000) })).map((entry) => deps.redactor.maskDeep(entry)),
    chain: async () => verifyChain(await deps.store.auditChain()),
    directoryOf: async (project) => (await deps.projects.getProject(project))?.directory,
    sessions: async () => deps.redactor.maskDeep(await deps.sessions()),
    costs: async (period, project) => deps.redactor.maskDeep(await deps.costs(period, project)),
    logger: deps.logger,
  });
}

export type Bot = {
  /** The port the HTTP server listens on (useful with PORT=0). */
  port: number;
  /** Re-reads the policy file (SIGHUP); a broken file keeps the policy in force, and the log says why. */
  reloadPolicy(): Promise<void>;
  /** The bot's own store, for reading the audit trail (PGlite allows one process on its files). */
  store: ApprovalStore;
  /** The cost ledger's store, for reading it the same way. */
  ledgerStore: LedgerStore;
  stop(): Promise<void>;
};

/** Builds and starts everything; the one place that wires store → engine → adapters → connector. */
export async function startBot(config: Config, options: { silenceMs?: number } = {}): Promise<Bot> {
  // Each platform's SDK is loaded only for a bot on that platform (@slack/bolt adds ~18 MB,
  // discord.js ~35 MB and ~200 ms), from here on, while the database opens.
  const platformModules = {
    slack: config.slack ? import("../adapters/slack/slack-adapter.ts") : undefined,
    discord: config.discord ? import("../adapters/discord/discord-adapter.ts") : undefined,
  };
  for (const loading of Object.values(platformModules)) loading?.catch(() => undefined); // awaited below
  // Before anything starts: a broken policy file stops the start, naming its line.
  const policy = await createPolicyHolder(config.policyFile);
  const redactor = createRedactor(() => policy.current()?.redact ?? []);
  const logger = createLogger(config.logLevel, redactor);
  if (policy.file) logger.info({ file: policy.file, rules: policy.current()?.rules.length }, "policy loaded");
  const database = await openDatabase(config.database);
  const store = createApprovalStore(database, config.redactAudit ? { redact: (value) => redactor.maskDeep(value) } : {});
  const projects = createProjectStore(database);
  // OPENCODE_URL and each server a project names; OPENCODE_URL's credentials apply to each.
  const servers = createOpencodeServers({
    base: config.opencode,
    projects,
    store,
    loggerFor: (url) => logger.child({ component: "opencode", server: url }),
    silenceMs: options.silenceMs,
    leases: database,
    onProgress: (url, directory, payload) => {
      metrics.event(url);
      for (const event of progressEvents(directory, payload)) void progress.handle(event);
      const message = completedMessageOf(directory, payload);
      if (!message) return;
      void ledger
        .completed(url, message)
        .then((entry) => entry && budgets.check(entry.projectName))
        .catch((error: unknown) => logger.error({ err: error, messageId: message.messageId }, "could not record a message's cost"));
    },
    onConnect: (url) => metrics.connected(url),
    onConnected: async (url, directories) => {
      await progress.relink(url);
      await ledger.backfill(url, directories).catch((error: unknown) => logger.warn({ err: error, url }, "the cost backfill failed; the next connect tries again"));
    },
  });
  const gatewayFor = servers.gatewayFor;
  const limiters = await createLimiterFactory({ redisUrl: config.redisUrl, prefix: "opencode-chatops" });
  const metrics = createMetrics({
    pending: () => store.pendingRequests(),
    streams: () => servers.states(),
    holdsLease: (url) => servers.holdsLease(url),
    chats: () => Object.fromEntries(adapters.map((adapter) => [adapter.platform, adapter.status()])),
  });
  const slack = config.slack
    ? (await platformModules.slack!).createSlackAdapter({ config: config.slack, logger: logger.child({ adapter: "slack" }), limiters, onRateLimited: () => metrics.rateLimited("slack") })
    : undefined;
  const discord = config.discord
    ? (await platformModules.discord!).createDiscordAdapter({
        config: config.discord,
        logger: logger.child({ adapter: "discord" }),
        // Of several processes on one database, the holder of this lease alone connects to the gateway.
        leases: database,
        // After a gateway resume, as after an OpenCode reconnect: re-read what is pending and refresh its cards.
        onReconnected: () => void servers.resyncNow(),
      })
    : undefined;
  const web = await startConsole({
    config,
    database,
    store,
    projects,
    redactor,
    // Read when a page asks, once everything below exists.
    sessions: () => sessionRows({ sessions: ownedSessions, store, sessionApiFor: gatewayFor, adapters, overview: () => servers.overview() }, 50),
    costs: async (period, project) => {
      const costDeps = { ledgerStore, store, sessions: ownedSessions, adapters, timeZone: config.digest.timeZone };
      const text = await costsCommand(costDeps, "web", { ...(period ? { period } : {}), ...(project ? { project } : {}) });
      let range;
      try {
        range = parsePeriod(period, config.digest.timeZone, new Date());
      } catch {
        return { text };
      }
      return { text, chart: await spendChartFor(costDeps, range, project) };
    },
    logger: logger.child({ adapter: "web" }),
  });
  // Everything posted to chat goes through the mask (cards, threads, progress, answers, digests).
  const adapters: ChatAdapter[] = [slack, discord, web].filter((adapter) => adapter !== undefined).map((adapter) => metrics.metered(redactingAdapter(adapter, redactor)));
  const alwaysStore = createAlwaysRuleStore(database);
  const engine = createApprovalEngine({ store, alwaysStore, opencode: servers.api, adapters, approvers: config.approvers, policy: policy.current, redactor, logger });
  servers.attach(engine);
  engine.observe((event) => metrics.observe(event));
  // A decision made by another process on this database wakes the plugin's long polls waiting here.
  const unlisten = await database.listen(SETTLED_CHANNEL, (requestId) => engine.settledElsewhere(requestId));
  const ownedSessions = createOwnedSessionStore(database);
  const progress = createSessionProgress({ sessions: ownedSessions, adapters, sessionApiFor: gatewayFor, logger: logger.child({ component: "progress" }) });
  // Outside a request (commands), the policy's default approvers stand in for the platform lists, as on cards.
  const approverCheck = createApproverCheck(config.approvers, adapters);
  const mayDecide = (actor: Actor) => approverCheck(actor, policy.current()?.defaults.approvers);
  const ledgerStore = createLedgerStore(database);
  const ledger = createLedger({ store: ledgerStore, sessions: ownedSessions, projects, sourceFor: gatewayFor, logger: logger.child({ component: "ledger" }) });
  const digestTargets = [
    ...(slack && config.digest.slackChannel ? [{ platform: "slack" as const, channel: config.digest.slackChannel }] : []),
    ...(discord && config.digest.discordChannel ? [{ platform: "discord" as const, channel: config.digest.discordChannel }] : []),
  ];
  const budgets = createBudgetWatch({
    budgets: config.budgets,
    ledgerStore,
    alerts: createBudgetAlerts(database),
    adapters,
    targets: digestTargets,
    timeZone: config.digest.timeZone,
    logger: logger.child({ component: "budgets" }),
  });
  const digest = createDigest({
    ledgerStore,
    store,
    sessions: ownedSessions,
    adapters,
    timeZone: config.digest.timeZone,
    cron: config.digest.cron,
    slots: createDigestSlots(database),
    targets: digestTargets,
    logger: logger.child({ component: "digest" }),
  });
  const commands = redactingCommands(redactor, createCommandRouter({
    projects,
    sessions: ownedSessions,
    sessionApiFor: gatewayFor,
    adapters,
    logger: logger.child({ component: "commands" }),
    inspectDirectory: (url, directory) => gatewayFor(url).inspectDirectory(directory),
    defaultServerUrl: config.opencode.url,
    mayAdminister: createAdminCheck(config.admins, mayDecide),
    mayDecide,
    admins: config.admins,
    store,
    ledgerStore,
    timeZone: config.digest.timeZone,
    postDigestNow: (platform, channel) => digest.postNow(platform, channel),
    overview: () => servers.overview(),
    adopt: progress.adopt,
    onProjectAdded: (project) => {
      if (project.serverUrl) servers.follow(project.serverUrl);
    },
    stoppedBy: progress.stoppedBy,
    overBudget: (project) => budgets.overBudget(project),
    holdPrompt: (hold) => engine.holdPrompt(hold),
    policy,
    alwaysRules: alwaysStore,
  }));

  const routes: Record<string, Route> = {
    "GET /healthz": async (_req, res) => {
      const database = await store.ping().then(
        () => "ok",
        (error: unknown) => `error: ${(error as Error).message}`,
      );
      const chat = Object.fromEntries(adapters.map((adapter) => [adapter.platform, adapter.status()]));
      // 200 only while the database answers and every chat platform is connected (here, or in the process holding its connection); OpenCode's state is reported beside.
      const healthy = database === "ok" && Object.values(chat).every((status) => status === "ready" || status === "standby");
      sendJson(res, healthy ? 200 : 503, { status: healthy ? "ok" : "degraded", database, chat, opencode: servers.baseState, opencodeServers: servers.states() });
    },
  };
  routes["GET /metrics"] = metrics.route;
  if (slack?.httpHandler) routes["POST /slack/events"] = slack.httpHandler;
  Object.assign(routes, web.routes);
  routes["POST /opencode/gate"] = createGateRoute({ token: config.chatopsToken, engine, logger: logger.child({ component: "gate" }) });
  // Chat first: a click that arrives before Bolt has verified its token would find it unready.
  for (const adapter of adapters) await adapter.start(engine.decisions, commands);
  const server = createHttpServer(routes, logger);
  server.listen(config.port);
  await once(server, "listening");
  engine.onHeldDecided((record) => releaseHeld({ sessions: ownedSessions, sessionApiFor: gatewayFor, adapters }, record));
  await servers.start();
  await engine.start();
  await digest.start();
  const telling = tellUnsettled({ sessions: ownedSessions, adapters }).catch((error: unknown) => logger.warn({ err: error }, "could not tell of messages left unsent by a restart"));
  const port = (server.address() as AddressInfo).port;
  const platforms = adapters.map((adapter) => adapter.platform);
  logger.info({ port, database: database.kind, opencode: config.opencode.url, platforms }, `opencode-chatops started on ${platforms.join(" and ")}; the console is at http://127.0.0.1:${port}/`);

  return {
    port,
    async reloadPolicy() {
      const result = await policy.reload();
      if (result.ok) logger.info({ file: result.policy.file, rules: result.policy.rules.length }, "policy reloaded");
      else logger.error({ error: result.error }, "the policy file was not reloaded; the policy in force stays");
    },
    store,
    ledgerStore,
    async stop() {
      // No new clicks, no new events; then let what is under way finish before the chat and the database go.
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeIdleConnections();
      await digest.stop();
      await servers.stop();
      await telling;
      // Long polls answer at once, and queued events finish, before the database goes.
      await engine.stop();
      await progress.idle();
      server.closeAllConnections();
      await closed;
      for (const adapter of adapters) await adapter.stop();
      await limiters.disconnect();
      await unlisten();
      await database.close();
    },
  };
}
