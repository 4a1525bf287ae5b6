/**
 * One OpenCode server per vitest worker, started before the tests and shared by the files that
 * need nothing of OpenCode's own process (its env, a restart). A worker runs one file at a time,
 * and each file works in a fresh project directory of its own on its worker's server
 * (`sharedOpencode` in stack-per-test.ts): starting a server costs seconds of CPU, a directory little.
 */
import { inject } from "vitest";
import { startOpencode, type OpencodeHandle, type RunningOpencode } from "./opencode-server.ts";

/** Every shared server runs behind OPENCODE_SERVER_PASSWORD, so every bot and client on one authenticates. */
export const SHARED_OPENCODE_PASSWORD = "s3cret-for-tests";

declare module "vitest" {
  export interface ProvidedContext {
    /** The shared servers, the one at index i for the worker with VITEST_POOL_ID i + 1. */
    opencodePool: RunningOpencode[];
  }
}

/** Starts `count` servers (globalSetup, in vitest's main process, which they then outlive not). */
export async function startOpencodePool(count: number): Promise<{ servers: RunningOpencode[]; stop(): Promise<void> }> {
  const started = await Promise.allSettled(
    // Nothing prompts in a server's own directory: its model's address is never called.
    Array.from({ length: count }, () => startOpencode({ llmUrl: "http://127.0.0.1:9/v1", password: SHARED_OPENCODE_PASSWORD })),
  );
  const handles = started.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
  const stop = async () => {
    await Promise.all(handles.map((handle: OpencodeHandle) => handle.stop()));
  };
  const failed = started.find((result) => result.status === "rejected");
  if (failed) {
    await stop();
    throw new Error("a shared OpenCode server did not start", { cause: failed.reason });
  }
  return { servers: handles.map((handle) => ({ url: handle.url, password: SHARED_OPENCODE_PASSWORD })), stop };
}

/** The shared server of the running worker. */
export function workerOpencode(): RunningOpencode {
  const id = Number(process.env.VITEST_POOL_ID);
  const server = inject("opencodePool")[id - 1];
  if (!server) throw new Error(`no shared OpenCode server for VITEST_POOL_ID=${process.env.VITEST_POOL_ID} (test/support/global-setup.ts starts one per worker)`);
  return server;
}
