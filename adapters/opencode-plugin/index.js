// opencode-chatops plugin for OpenCode: holds each tool call the bot gates (bash, write, edit) until a
// teammate decides in chat, then runs exactly the approved (possibly edited) arguments, or blocks the
// call with the rejection's reason for the model.
//
// Install: add its absolute path to opencode.json,  "plugin": ["file:///path/to/adapters/opencode-plugin/index.js"]
// and start OpenCode with CHATOPS_URL (the bot's base URL) and CHATOPS_TOKEN (the bot's CHATOPS_TOKEN).
// Optional: CHATOPS_FAIL_OPEN=1 runs calls unchecked when the bot cannot be reached (default: refuse
// them), CHATOPS_RECONNECT_SECONDS (default 300) how long a waiting call keeps trying to reach a bot
// that went away (a restart) before it is refused, CHATOPS_FIRST_CONTACT_SECONDS (default 5) how long
// a new call keeps trying to reach a bot it has not reached yet.
//
// Self-contained on purpose: only `fetch` and timers, so OpenCode loads it without installing anything.

const UNREACHABLE = "opencode-chatops is unreachable; nothing was run";
/** Each request asks the bot to hold it this long waiting for a decision. */
const LONG_POLL_MS = 20_000;

class Refused extends Error {}

/** @type {import("@opencode-ai/plugin").Plugin} */
export const OpencodeChatops = async ({ directory }) => {
  const url = (process.env.CHATOPS_URL ?? "").replace(/\/+$/, "");
  const token = process.env.CHATOPS_TOKEN ?? "";
  const failOpen = process.env.CHATOPS_FAIL_OPEN === "1";
  const reconnectMs = Number(process.env.CHATOPS_RECONNECT_SECONDS ?? 300) * 1000;
  // How long the first contact may keep failing before the call is refused (or, fail-open, run).
  const firstContactMs = Number(process.env.CHATOPS_FIRST_CONTACT_SECONDS ?? 5) * 1000;

  return {
    "tool.execute.before": async (input, output) => {
      const call = { directory, sessionID: input.sessionID, callID: input.callID, tool: input.tool, args: output.args ?? {} };
      let answer;
      try {
        answer = await ask(url, token, call, { reconnectMs, firstContactMs });
      } catch (error) {
        if (error instanceof Refused) throw new Error(error.message);
        if (failOpen) return;
        throw new Error(UNREACHABLE);
      }
      if (answer.status === "reject") throw new Error(answer.message);
      // OpenCode keeps its own reference to output.args: change that object, never replace it.
      for (const key of Object.keys(output.args)) if (!(key in answer.args)) delete output.args[key];
      Object.assign(output.args, answer.args);
    },
  };
};

/** Asks until the bot answers allow or reject; throws Refused for a definite no, anything else for unreachable. */
async function ask(url, token, call, { reconnectMs, firstContactMs }) {
  if (!url) throw new Refused(`CHATOPS_URL is not set; ${UNREACHABLE}`);
  let acknowledged = false;
  let unreachableSince;
  let delay = 250;
  for (;;) {
    let response;
    try {
      response = await fetch(`${url}/opencode/gate`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ ...call, wait: acknowledged ? LONG_POLL_MS : 0 }),
        signal: AbortSignal.timeout(LONG_POLL_MS + 10_000),
      });
    } catch {
      response = undefined;
    }
    if (response && response.status === 200) {
      const answer = await response.json();
      if (answer.status === "allow" || answer.status === "reject") return answer;
      acknowledged = true;
      unreachableSince = undefined;
      delay = 250;
      continue;
    }
    if (response) {
      const body = await response.json().catch(() => ({}));
      if ((response.status >= 400 && response.status < 500) || body.error === "gate_disabled") {
        throw new Refused(`opencode-chatops refused the call (${body.message ?? `HTTP ${response.status}`}); nothing was run`);
      }
    }
    // Down, restarting, or its database is: keep trying for a while, then give up closed.
    unreachableSince ??= Date.now();
    const left = unreachableSince + (acknowledged ? reconnectMs : firstContactMs) - Date.now();
    if (left <= 0) throw new Error(UNREACHABLE);
    // One last try at the deadline rather than a backoff step past it.
    await new Promise((resolve) => setTimeout(resolve, Math.min(delay, left)));
    delay = Math.min(delay * 2, 5_000);
  }
}
