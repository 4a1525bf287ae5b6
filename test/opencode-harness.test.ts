import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { AssistantMessage } from "@opencode-ai/sdk/v2";
import { describe, expect, it } from "vitest";
import { sharedOpencode } from "./support/stack-per-test.ts";
import { waitFor } from "./support/wait-for.ts";

// The harness itself: the real server (the worker's) with the scripted fake model, no bot. That a
// restart drops what is pending is shown in restart-opencode.test.ts, on a server of its own.
const fixture = sharedOpencode();
const timed = () => ({ throwOnError: true as const, signal: AbortSignal.timeout(10_000) });

function asked(sessionID: string) {
  return fixture().events.flatMap((e) =>
    e.payload.type === "permission.asked" && e.payload.properties.sessionID === sessionID ? [{ ...e.payload.properties, directory: e.directory }] : [],
  );
}

async function pending(sessionID: string) {
  const list = await fixture().opencode.client.permission.list({}, timed());
  return list.data.filter((request) => request.sessionID === sessionID);
}

describe("real OpenCode server with the fake model", () => {
  it("asks bash permission, runs the command once approved, and reports a cost", async () => {
    const { opencode, llm } = fixture();
    const sessionID = await fixture().prompt("RUN: echo hello > out.txt", "harness");
    const [request] = await waitFor(() => asked(sessionID).length > 0 && asked(sessionID), { what: "permission.asked" });
    expect(request).toMatchObject({ permission: "bash", metadata: { command: "echo hello > out.txt" } });

    await opencode.client.permission.reply({ requestID: request!.id, reply: "once", directory: request!.directory }, timed());

    const out = join(opencode.projectDir, "out.txt");
    expect(await waitFor(() => readFile(out, "utf8"), { what: "out.txt written" })).toBe("hello\n");
    const finished = await waitFor(
      async () => {
        const messages = await opencode.client.session.messages({ sessionID }, timed());
        const last = messages.data.at(-1);
        return last?.info.role === "assistant" && last.info.time.completed ? last : undefined;
      },
      { what: "the final assistant message" },
    );
    expect((finished.info as AssistantMessage).cost).toBeGreaterThan(0);
    expect(finished.parts).toContainEqual(expect.objectContaining({ type: "text", text: "done: (no output)" }));
    expect(llm.requests.at(-1)?.messages.at(-1)).toMatchObject({ role: "tool", content: "(no output)" });
  });

  it("has two permissions pending at once for two tool calls in one turn", async () => {
    const sessionID = await fixture().prompt("RUN2: echo one ;; echo two", "harness");
    const both = await waitFor(async () => {
      const list = await pending(sessionID);
      return list.length === 2 && list;
    }, { what: "two pending permissions" });
    expect(both.map((r) => r.metadata.command).sort()).toEqual(["echo one", "echo two"]);
    // Listed as pending a moment before the watcher's stream has brought both events (a full run here heard none at once).
    const heard = await waitFor(() => asked(sessionID).length >= 2 && asked(sessionID), { what: "both permission.asked events" });
    expect(heard.map((r) => r.id).sort()).toEqual(both.map((r) => r.id).sort());
  });
});
