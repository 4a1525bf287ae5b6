import { describe, expect, it } from "vitest";
import { explainReply } from "../src/core/following.ts";
import { record } from "./support/records.ts";

const alice = { platform: "slack" as const, userId: "U1", name: "alice" };
const opencode = { platform: "opencode" as const, userId: "opencode", name: "OpenCode" };
const pending = record({ id: "per_b" });

describe("the words for a reply the bot did not send (explainReply, pure)", () => {
  it("a reject after a teammate rejected or edited a sibling is OpenCode's cascade", () => {
    const rejected = record({ id: "per_a", state: "rejected", decider: alice });
    expect(explainReply(pending, "reject", [rejected])).toBe(
      "Rejected by OpenCode's cascade: alice rejected request per_a in this session, which rejects every pending request of the session. No reason reached the agent for this one.",
    );
    const edited = record({ id: "per_e", state: "edited", decider: alice });
    expect(explainReply(pending, "reject", [edited])).toContain("alice edited request per_e");
  });

  it("an approval after a teammate's Always is OpenCode applying that rule", () => {
    const always = record({ id: "per_a", state: "approved_always", decider: alice });
    expect(explainReply(pending, "once", [always])).toBe("Approved by OpenCode: it matches the “Always” rule alice gave on request per_a");
  });

  it("otherwise somebody answered in OpenCode itself; OpenCode's own closings and the request itself are no cause", () => {
    const closedByOpencode = record({ id: "per_x", state: "rejected", decider: opencode });
    const itself = record({ id: "per_b", state: "rejected", decider: alice });
    expect(explainReply(pending, "reject", [closedByOpencode, itself])).toBe("Rejected in OpenCode (TUI, web or API), not from chat");
    expect(explainReply(pending, "once", [])).toBe("Approved once in OpenCode (TUI, web or API), not from chat");
    expect(explainReply(pending, "always", [])).toBe("Always approved in OpenCode (TUI, web or API), not from chat");
  });
});
