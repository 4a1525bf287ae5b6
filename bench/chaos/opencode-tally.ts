/**
 * A running count of what OpenCode asked and replied in the chaos's project, read incrementally
 * from the fixture's event log so that the workload and the clicker can look at it often and
 * cheaply. The verdict counts again from the event clock at the end.
 */
import type { GlobalEvent } from "@opencode-ai/sdk/v2";

export type Tally = ReturnType<typeof createTally>;

export function createTally(events: GlobalEvent[]) {
  /** Request id → its session, in the order asked. */
  const asked = new Map<string, string>();
  const replies = new Map<string, string[]>();
  let cursor = 0;
  let repliedRequests = 0;

  function update(): void {
    for (; cursor < events.length; cursor++) {
      const { payload } = events[cursor]!;
      if (payload.type === "permission.asked") {
        asked.set(payload.properties.id, payload.properties.sessionID);
      }
      if (payload.type === "permission.replied") {
        const seen = replies.get(payload.properties.requestID) ?? [];
        if (seen.length === 0) repliedRequests++;
        replies.set(payload.properties.requestID, [...seen, payload.properties.reply]);
      }
    }
  }

  return {
    asked(): number {
      update();
      return asked.size;
    },
    /** Requests with at least one `permission.replied`. */
    replied(): number {
      update();
      return repliedRequests;
    },
    isReplied(requestId: string): boolean {
      update();
      return replies.has(requestId);
    },
  };
}
