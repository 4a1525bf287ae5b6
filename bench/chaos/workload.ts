/**
 * The requests: sessions on the real OpenCode server, each asking `perSession` bash permissions in
 * one turn (the fake model's `RUN2:`), started while fewer than `window` requests are unanswered, so
 * that asks keep arriving at the pace the bot answers them, and keep arriving while it is down.
 */
import type { OpencodeFixture } from "../../test/support/opencode-fixture.ts";
import { waitFor } from "../../test/support/wait-for.ts";
import type { Tally } from "./opencode-tally.ts";

export type Workload = ReturnType<typeof startWorkload>;

export function startWorkload(deps: { fixture: OpencodeFixture; tally: Tally; total: number; perSession: number; window: number }) {
  const sessions: string[] = [];
  let launched = 0;
  let stopped = false;
  const done = (async () => {
    for (let s = 0; launched < deps.total; s++) {
      const count = Math.min(deps.perSession, deps.total - launched);
      await waitFor(() => stopped || launched - deps.tally.replied() + count <= deps.window, {
        what: `fewer than ${deps.window - count + 1} unanswered requests, to start session ${s + 1}`,
        timeout: 4 * 3600_000,
        interval: 100,
      });
      if (stopped) return;
      const commands = Array.from({ length: count }, (_, j) => `echo chaos-${s}-${j} > /dev/null`);
      const text = count === 1 ? `RUN: ${commands[0]}` : `RUN2: ${commands.join(" ;; ")}`;
      sessions.push(await deps.fixture.prompt(text, `chaos ${s + 1}`));
      launched += count;
    }
  })();
  done.catch(() => undefined); // the scenario awaits it
  return {
    /** The sessions started so far, in order. */
    sessions,
    /** Requests the started sessions ask for, in all. */
    launched: () => launched,
    /** Resolves once every session is started (or the workload was stopped). */
    done,
    stop() {
      stopped = true;
    },
  };
}
