import { defineConfig } from "vitest/config";

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
  },
});
