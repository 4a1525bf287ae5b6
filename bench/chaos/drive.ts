/**
 * One scenario from start to verdict: the rig, the requests, the clicker and the scenario's chaos
 * run together until every request is answered (or nothing has moved for `settleMs`); then the
 * clicks stop, Slack goes quiet, the bots stop, and what OpenCode, Slack and the store say is judged.
 */
import { waitFor } from "../../test/support/wait-for.ts";
import { MAX_CLICKS_PER_REQUEST, startClicker, type Clicker } from "./clicker.ts";
import { createTally, type Tally } from "./opencode-tally.ts";
import { startRig, type Rig, type RigOptions } from "./rig.ts";
import { seededRandom, type Random } from "./seeded-random.ts";
import { readSlack } from "./slack-threads.ts";
import { readStore } from "./store-snapshot.ts";
import { askOrder, judge, type Asked, type Counts } from "./verdict.ts";
import { startWorkload, type Workload } from "./workload.ts";

export type Settings = {
  requests: number;
  perSession: number;
  window: number;
  rejectShare: number;
  seed: number;
  /** With no request asked or answered for this long, the run is over. */
  settleMs: number;
};

export type ChaosContext = {
  rig: Rig;
  tally: Tally;
  workload: Workload;
  clicker: Clicker;
  random: Random;
  stopped(): boolean;
  log(line: string): void;
};

/** What a scenario's chaos adds: its own counts, and its own checks run after the common ones. */
export type ChaosOutcome = {
  extra: Record<string, string | number>;
  check?: (facts: { asked: Asked[]; replies: (id: string) => string[]; clicker: Clicker; rig: Rig }) => string[];
};

export type ScenarioResult = {
  name: string;
  counts: Counts & { kills: number; restarts: number; seconds: number };
  extra: Record<string, string | number>;
  problems: string[];
  warnings: string[];
  logFile?: string;
};

const HOUR = 3600_000;
/** Slack's chat.update allowance per minute, as the bot's edit bucket keeps it (adapters/slack/limits.ts: 20, then one per 1.2 s). */
const EDITS_PER_MINUTE = 60;

export async function drive(
  name: string,
  rigOptions: RigOptions,
  settings: Settings,
  options: { postsMustHold: boolean; log: (line: string) => void },
  chaos: (ctx: ChaosContext) => Promise<ChaosOutcome>,
): Promise<ScenarioResult> {
  const began = Date.now();
  const rig = await startRig(rigOptions);
  options.log(`  up in ${((Date.now() - began) / 1000).toFixed(1)} s: OpenCode at ${rig.fixture.opencode.url}, ${rig.slots.length} bot process(es) on ${rigOptions.database}`);
  let keepLogs = true;
  try {
    const run = await runUntilSettled(rig, settings, options.log, began, chaos);
    const verdict = await judgeRun(rig, run, options.postsMustHold);
    const problems = [...run.problems, ...verdict.problems];
    const warnings = [...run.warnings, ...verdict.warnings];
    keepLogs = problems.length > 0 || warnings.length > 0;
    return {
      name,
      counts: { ...verdict.counts, kills: sum(rig, "kills"), restarts: sum(rig, "restarts"), seconds: (Date.now() - began) / 1000 },
      extra: run.outcome.extra,
      problems,
      warnings,
      ...(keepLogs ? { logFile: rig.logFile } : {}),
    };
  } finally {
    await rig.stop(keepLogs);
  }
}

const sum = (rig: Rig, key: "kills" | "restarts") => rig.slots.reduce((n, slot) => n + slot[key], 0);

type Run = { workload: Workload; clicker: Clicker; tally: Tally; outcome: ChaosOutcome; problems: string[]; warnings: string[]; waiting: Set<string> };

/** Requests, clicks and chaos until every request is answered or nothing moves; then the clicks stop and the bots stop. */
async function runUntilSettled(rig: Rig, settings: Settings, log: (line: string) => void, began: number, chaos: (ctx: ChaosContext) => Promise<ChaosOutcome>): Promise<Run> {
  const random = seededRandom(settings.seed);
  const tally = createTally(rig.fixture.events);
  const workload = startWorkload({ fixture: rig.fixture, tally, total: settings.requests, perSession: settings.perSession, window: settings.window });
  const clicker = startClicker({ rig, tally, random, rejectShare: settings.rejectShare });
  const problems: string[] = [];
  let stopped = false;
  const progress = setInterval(() => {
    log(`  … ${Math.round((Date.now() - began) / 1000)} s: ${tally.asked()}/${settings.requests} asked, ${tally.replied()} replied, ${clicker.actions.length} clicks, ${sum(rig, "kills")} kills`);
  }, 30_000);
  let outcome: ChaosOutcome = { extra: {} };
  let chaosOver = false;
  const chaosDone = chaos({ rig, tally, workload, clicker, random, stopped: () => stopped, log })
    .then((o) => void (outcome = o))
    .catch((error: Error) => void problems.push(`the chaos itself failed: ${error.message}`))
    .finally(() => (chaosOver = true));
  try {
    let moved = { mark: -1, at: Date.now() };
    await waitFor(
      () => {
        const mark = tally.asked() * 1_000_000 + tally.replied();
        if (mark !== moved.mark) moved = { mark, at: Date.now() };
        const complete = tally.asked() >= settings.requests && tally.replied() >= settings.requests && chaosOver;
        return complete || Date.now() - moved.at > settings.settleMs || (chaosOver && problems.length > 0);
      },
      { what: "every request answered", timeout: 6 * HOUR, interval: 200 },
    );
  } finally {
    stopped = true;
    workload.stop();
    await chaosDone;
    clearInterval(progress);
  }
  await workload.done.catch((error: Error) => problems.push(`the workload failed: ${error.message}`));
  const lastCall = () => rig.slack.calls.at(-1)?.at ?? 0;
  const warnings: string[] = [];
  await waitFor(() => Date.now() - lastCall() > 3_000, { what: "Slack to go quiet", timeout: 5 * 60_000, interval: 200 }).catch(() => {
    // Say what kept it busy: the methods of the last minute's calls, and how they were answered.
    const recent = rig.slack.calls.filter((c) => c.at > Date.now() - 60_000);
    const counts = new Map<string, number>();
    for (const c of recent) counts.set(`${c.method} ${c.status}`, (counts.get(`${c.method} ${c.status}`) ?? 0) + 1);
    const said = `its last minute: ${[...counts].map(([k, n]) => `${n}× ${k}`).join(", ")}`;
    // Card edits at Slack's limit for chat.update (about 50 a minute) are the bot's queue of edits
    // draining, slower than the clicker decides: untidy, not wrong (a card left stale is counted below).
    const edits = recent.filter((c) => c.method === "chat.update").length;
    const draining = recent.every((c) => c.method === "chat.update" || c.method === "chat.postEphemeral") && edits <= EDITS_PER_MINUTE;
    (draining ? warnings : problems).push(`Slack still busy 5 min after the last request; ${said}${draining ? " (card edits draining at Slack's chat.update limit)" : ""}`);
  });
  await clicker.stop();
  const listed = await rig.fixture.opencode.client.permission.list({}, { signal: AbortSignal.timeout(10_000) });
  const waiting = new Set((listed.data ?? []).map((p) => p.id));
  await rig.stopBots();
  clicker.settleAll();
  return { workload, clicker, tally, outcome, problems, warnings, waiting };
}

/** What the event clock, the fake Slack and the store say, judged. */
async function judgeRun(rig: Rig, run: Run, postsMustHold: boolean) {
  const stamped = await rig.clock.asked(run.workload.sessions, 0);
  const asked: Asked[] = stamped.map((s) => ({ id: s.request.id, sessionId: s.request.sessionID, at: s.at }));
  const problems: string[] = run.clicker.gaveUp.map((id) => `${id}: the clicker gave up after clicking its card ${MAX_CLICKS_PER_REQUEST} times`);
  if (asked.length < run.tally.asked()) problems.push(`the event clock heard ${asked.length} asks, the fixture's watcher ${run.tally.asked()}: the clock lost its stream`);
  const replies = (id: string) => rig.clock.replies(id).flatMap((s) => (s.event.payload.type === "permission.replied" ? [s.event.payload.properties.reply] : []));
  const store = await readStore({ url: rig.databaseUrl, dataDir: rig.dataDir });
  const slack = readSlack(rig.slack);
  const verdict = judge({ asked, replies, waiting: run.waiting, store, slack, actions: run.clicker.actions, order: askOrder(asked), postsMustHold });
  problems.push(...verdict.problems, ...(run.outcome.check?.({ asked, replies, clicker: run.clicker, rig }) ?? []));
  return { ...verdict, problems };
}
