/**
 * One OpenCode server per vitest worker, started before the tests and shared by the files that
 * need nothing of OpenCode's own process (its env, a restart), with one project directory on it
 * that those files take turns in (a worker runs one file at a time): starting a server costs
 * seconds of CPU, and so does a directory's first prompt. The project's model is whichever fake
 * model listens on its port at the time: each file starts its own there (opencode-fixture.ts).
 */
import { inject } from "vitest";
import { startFakeLlm } from "./fake-llm.ts";
import { openProject, startOpencode, TEST_PERMISSION, warmUp, type KeptProject, type OpencodeHandle, type RunningOpencode } from "./opencode-server.ts";
import { steadyPort } from "./ports.ts";

/** Every shared server runs behind OPENCODE_SERVER_PASSWORD, so every bot and client on one authenticates. */
export const SHARED_OPENCODE_PASSWORD = "s3cret-for-tests";

/** A shared server and the project its worker's files take turns in. */
export type PooledOpencode = RunningOpencode & { project: KeptProject };

declare module "vitest" {
  export interface ProvidedContext {
    /** The shared servers, the one at index i for the worker with VITEST_POOL_ID i + 1. */
    opencodePool: PooledOpencode[];
  }
}

/** Starts `count` servers, each with its project loaded and warmed up (globalSetup, in vitest's main process). */
export async function startOpencodePool(count: number): Promise<{ servers: PooledOpencode[]; stop(): Promise<void> }> {
  const handles: OpencodeHandle[] = [];
  const stop = async () => {
    await Promise.all(handles.map((handle) => handle.stop()));
  };
  const started = await Promise.allSettled(
    Array.from({ length: count }, async (): Promise<PooledOpencode> => {
      // Nothing prompts in a server's own directory: its model's address is never called.
      const server = await startOpencode({ llmUrl: "http://127.0.0.1:9/v1", password: SHARED_OPENCODE_PASSWORD });
      handles.push(server);
      const running = { url: server.url, password: SHARED_OPENCODE_PASSWORD };
      const project = await keptProject(running);
      handles.unshift(project.handle);
      return { ...running, project: { dir: project.handle.projectDir, llmPort: project.llmPort } };
    }),
  );
  const failed = started.find((result) => result.status === "rejected");
  if (failed) {
    await stop();
    throw new Error("a shared OpenCode server did not start", { cause: failed.reason });
  }
  return { servers: started.flatMap((result) => (result.status === "fulfilled" ? [result.value] : [])), stop };
}

/** A project whose model is at a port that stays free for it (below the range port 0 picks from), warmed up. */
async function keptProject(server: RunningOpencode): Promise<{ handle: OpencodeHandle; llmPort: number }> {
  const llmPort = await steadyPort();
  const llm = await startFakeLlm(undefined, llmPort);
  try {
    const handle = await openProject(server, { llmUrl: `http://127.0.0.1:${llmPort}/v1`, permission: TEST_PERMISSION });
    await warmUp(handle.client);
    return { handle, llmPort };
  } finally {
    await llm.close();
  }
}

/** The shared server of the running worker. */
export function workerOpencode(): PooledOpencode {
  const id = Number(process.env.VITEST_POOL_ID);
  const server = inject("opencodePool")[id - 1];
  if (!server) throw new Error(`no shared OpenCode server for VITEST_POOL_ID=${process.env.VITEST_POOL_ID} (test/support/global-setup.ts starts one per worker)`);
  return server;
}
