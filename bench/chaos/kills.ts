/**
 * The bot killed with SIGKILL `kills` times while the requests come and are clicked, each time
 * started again at once on the same data and port; with two processes, the kills alternate between
 * them. Half the kills land at a random moment, half just after a click was acknowledged, where a
 * decision is on its way to the store and to OpenCode.
 */
import { waitFor } from "../../test/support/wait-for.ts";
import type { ChaosContext, ChaosOutcome } from "./drive.ts";
import { pause } from "./seeded-random.ts";

const HOUR = 3600_000;

export function killChaos(options: { kills: number; requests: number }) {
  return async (ctx: ChaosContext): Promise<ChaosOutcome> => {
    const { rig, tally, clicker, random } = ctx;
    const moments = Array.from({ length: options.kills }, () => Math.floor((0.03 + 0.94 * random()) * options.requests)).sort((a, b) => a - b);
    let aimed = 0;
    let slowestRestartMs = 0;
    for (const [i, moment] of moments.entries()) {
      await waitFor(() => ctx.stopped() || tally.asked() >= moment, { what: `${moment} requests asked, for kill ${i + 1}`, timeout: 6 * HOUR, interval: 100 });
      if (ctx.stopped()) break;
      const slot = rig.slots[i % rig.slots.length]!;
      const afterClick = random() < 0.5;
      if (afterClick) {
        aimed++;
        await Promise.race([clicker.nextAck(), pause(5_000)]);
        await pause(random() * 40);
      } else {
        await pause(random() * 3_000);
      }
      const askedThen = tally.asked();
      await rig.kill(slot);
      const killedAt = Date.now();
      await rig.restart(slot);
      const downMs = Date.now() - killedAt;
      slowestRestartMs = Math.max(slowestRestartMs, downMs);
      ctx.log(`  kill ${i + 1}/${options.kills}: bot ${slot.index} ${afterClick ? "just after a click" : "at a random moment"} (${askedThen} asked); back in ${(downMs / 1000).toFixed(1)} s`);
    }
    return { extra: { "kills just after a click": aimed, "slowest restart (s)": (slowestRestartMs / 1000).toFixed(1) } };
  };
}
