import { describe, expect, it } from "vitest";
import { createApproverCheck } from "../src/core/approvers.ts";
import type { ChatAdapter } from "../src/core/ports.ts";
import { slackLimits } from "../adapters/slack/limits.ts";

/** The part of an adapter the check uses: whether a user is in a group. */
const withGroups = (platform: ChatAdapter["platform"], groups: Record<string, string[]>): ChatAdapter =>
  ({ platform, limits: slackLimits, isMember: async (group: string, userId: string) => groups[group]?.includes(userId) ?? false }) as ChatAdapter;

const actor = (platform: "slack" | "discord", userId: string, roles?: string[]) => ({ platform, userId, name: userId, roles });

describe("who may decide (approvers)", () => {
  it("with no list for a platform, anyone there may", async () => {
    const mayDecide = createApproverCheck({ slack: ["U1"] }, []);
    expect(await mayDecide(actor("discord", "123"))).toBe(true);
  });

  it("a listed user, a listed role sent with the interaction, or a member of a listed group", async () => {
    const mayDecide = createApproverCheck(
      { slack: ["U1", "S0LEADS"], discord: ["999"] },
      [withGroups("slack", { S0LEADS: ["U2"] }), withGroups("discord", {})],
    );
    expect(await mayDecide(actor("slack", "U1"))).toBe(true);
    expect(await mayDecide(actor("slack", "U2"))).toBe(true);
    expect(await mayDecide(actor("slack", "U3"))).toBe(false);
    expect(await mayDecide(actor("discord", "555", ["111", "999"]))).toBe(true);
    expect(await mayDecide(actor("discord", "555", ["111"]))).toBe(false);
  });
});
