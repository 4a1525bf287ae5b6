/**
 * vitest wiring for the common case: one OpenCode project (on the worker's shared server) for the
 * tests of a file (or describe), and a fresh bot, fake Slack and database for each test. A fresh
 * bot starts with a full Slack rate-limit budget and an empty database, so no test waits on, or
 * inherits from, the one before it.
 */
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { startOpencodeFixture, type OpencodeFixture, type OpencodeFixtureOptions } from "./opencode-fixture.ts";
import { SHARED_OPENCODE_PASSWORD, workerOpencode } from "./opencode-pool.ts";
import { startStack, type Stack, type StackOptions } from "./stack.ts";

/**
 * An OpenCode fixture for the tests of the enclosing file or describe, from before them to after
 * them: the worker's project on its shared server (test/support/opencode-pool.ts, behind
 * SHARED_OPENCODE_PASSWORD), a fresh project there with `ownProject`, or a server of its own with
 * `plugin` (it reads the bot's address from OpenCode's env), `ownServer` (to kill or restart it)
 * or another password. Each stack leaves the project empty and with nothing pending.
 */
export function sharedOpencode(options: OpencodeFixtureOptions & { ownProject?: boolean } = {}): () => OpencodeFixture {
  let fixture: OpencodeFixture | undefined;
  const own = options.plugin || options.ownServer || (options.opencodePassword ?? SHARED_OPENCODE_PASSWORD) !== SHARED_OPENCODE_PASSWORD;
  beforeAll(async () => {
    const worker = workerOpencode();
    const server = options.ownProject ? { url: worker.url, password: worker.password } : worker;
    fixture = await startOpencodeFixture(own ? options : { ...options, server });
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
