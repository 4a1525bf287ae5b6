import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { AssistantMessage, GlobalEvent } from "@opencode-ai/sdk/v2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeLlm, type FakeLlm } from "./support/fake-llm.ts";
import { startOpencode, type OpencodeHandle } from "./support/opencode-server.ts";
import { waitFor } from "./support/wait-for.ts";

const model = { providerID: "fake", modelID: "fake-model" };
const timed = () => ({ throwOnError: true as const, signal: AbortSignal.timeout(10_000) });

let llm: FakeLlm;
let opencode: OpencodeHandle;
const events: GlobalEvent[] = [];
const stopEvents = new AbortController();

beforeAll(async () => {
  llm = await startFakeLlm();
  opencode = await startOpencode({ llmUrl: llm.url });
  const { stream } = await opencode.client.global.event({ signal: stopEvents.signal, sseMaxRetryAttempts: 1 });
  void (async () => {
    for await (const event of stream) events.push(event);
  })().catch(() => undefined);
  await waitFor(() => events.some((e) => e.payload.type === "server.connected"), { what: "server.connected" });
});

afterAll(async () => {
  stopEvents.abort();
  await opencode?.stop();
  await llm?.close();
});

async function prompt(text: string): Promise<string> {
  const session = await opencode.client.session.create({ title: "harness" }, timed());
  const sessionID = session.data.id;
  await opencode.client.session.promptAsync({ sessionID, parts: [{ type: "text", text }], model }, timed());
  return sessionID;
}

function asked(sessionID: string) {
  return events.flatMap((e) =>
    e.payload.type === "permission.asked" && e.payload.properties.sessionID === sessionID ? [{ ...e.payload.properties, directory: e.directory }] : [],
  );
}

async function pending(sessionID: string) {
  const list = await opencode.client.permission.list({}, timed());
  return list.data.filter((request) => request.sessionID === sessionID);
}

describe("real OpenCode server with the fake model", () => {
  it("asks bash permission, runs the command once approved, and reports a cost", async () => {
    const sessionID = await prompt("RUN: echo hello > out.txt");
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
    const sessionID = await prompt("RUN2: echo one ;; echo two");
    const both = await waitFor(async () => {
      const list = await pending(sessionID);
      return list.length === 2 && list;
    }, { what: "two pending permissions" });
    expect(both.map((r) => r.metadata.command).sort()).toEqual(["echo one", "echo two"]);
    expect(asked(sessionID)).toHaveLength(2);
  });

  it("comes back after a restart with no pending permissions", async () => {
    expect((await opencode.client.permission.list({}, timed())).data.length).toBeGreaterThan(0);
    await opencode.restart();
    expect((await opencode.client.permission.list({}, timed())).data).toEqual([]);
    const sessions = await opencode.client.session.list({}, timed());
    expect(sessions.data.map((s) => s.title)).toContain("harness");
  });
});
