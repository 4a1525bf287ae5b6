/**
 * vitest wiring for the common case: one OpenCode server for the tests of a file (or describe), and
 * a fresh bot, fake Slack and database for each test. A fresh bot starts with a full Slack rate-limit
 * budget and an empty database, so no test waits on, or inherits from, the one before it.
 */
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { startOpencodeFixture, type OpencodeFixture, type OpencodeFixtureOptions } from "./opencode-fixture.ts";
import { startStack, type Stack, type StackOptions } from "./stack.ts";

/** Starts an OpenCode fixture before the tests of the enclosing file or describe, stops it after them. */
export function sharedOpencode(options: OpencodeFixtureOptions = {}): () => OpencodeFixture {
  let fixture: OpencodeFixture | undefined;
  beforeAll(async () => {
    fixture = await startOpencodeFixture(options);
  });
  afterAll(async () => {
    await fixture?.stop();
  });
  return () => {
    if (!fixture) throw new Error("the shared OpenCode fixture is not running (outside its tests?)");
    return fixture;
  };
}

/**
 * A stack for each test of the enclosing file or describe, on `opencode` (by default one server
 * shared by those tests). The returned object stands for the running test's stack.
 */
export function stackPerTest(options: StackOptions = {}, opencode = sharedOpencode(options)): Stack {
  let current: Stack | undefined;
  beforeEach(async () => {
    current = await startStack(options, opencode());
  });
  afterEach(async () => {
    await current?.stop();
    current = undefined;
  });
  return new Proxy({} as Stack, {
    get(_target, key) {
      if (!current) throw new Error(`stack.${String(key)} used outside a test`);
      return Reflect.get(current, key, current) as unknown;
    },
  });
}
