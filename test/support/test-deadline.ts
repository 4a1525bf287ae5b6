/**
 * vitest setupFile: tells waitFor (test/support/wait-for.ts) when each test hits its limit, so that
 * every inner wait gives up first and names what it awaited. The deadline is counted from before
 * the test's beforeEach hooks, so a test and its per-test setup share the limit.
 */
import { afterEach, beforeEach } from "vitest";
import { setTestDeadline } from "./wait-for.ts";

beforeEach(({ task }) => {
  setTestDeadline(Date.now() + task.timeout);
});

afterEach(() => {
  setTestDeadline(undefined);
});
