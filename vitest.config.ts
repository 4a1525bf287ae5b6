import { accessSync, constants } from "node:fs";
import { defineConfig } from "vitest/config";

// Scratch (data directories, OpenCode projects) on tmpfs where there is one: on a VM's disk, copying
// one 39 MB database template took 0.5–0.8 s; on /dev/shm 0.1 s. Bots and OpenCode inherit it.
if (!process.env.TMPDIR && writable("/dev/shm")) process.env.TMPDIR = "/dev/shm";

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Migrates the template databases that every test copies (test/support/database-template.ts).
    globalSetup: ["test/support/global-setup.ts"],
    // Every wait gives up before its test's limit and says what it awaited.
    setupFiles: ["test/support/test-deadline.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests start real OpenCode servers and bot processes; two cores, so keep it modest.
    maxWorkers: 2,
    fileParallelism: true,
    isolate: false,
  },
});
