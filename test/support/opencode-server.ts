/**
 * Runs the real `opencode serve` (node_modules/.bin/opencode) against a fake model for tests: each
 * server gets its own temp project and XDG dirs, its own process group, and is killed with the test
 * process however that ends.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { createOpencodeClient, type OpencodeClient } from "@opencode-ai/sdk/v2";
import { freePort } from "./ports.ts";
import { timeLeft, waitFor } from "./wait-for.ts";

export interface StartOpencodeOptions {
  /** Base URL of the fake model, ending in /v1. */
  llmUrl: string;
  /** Absolute paths of plugin files, loaded as file:// URLs. */
  plugins?: string[];
  env?: Record<string, string>;
  /** Sets OPENCODE_SERVER_PASSWORD; the handle's client then sends HTTP Basic auth. */
  password?: string;
  /** Use this project directory instead of a fresh temp one (its opencode.json is overwritten). */
  projectDir?: string;
  /**
   * Make the fresh project a git repo with one empty commit (default true; never done to a given
   * `projectDir`). Without git OpenCode takes "/" as the worktree: edit patterns then read
   * "tmp/opencode-chatops-x/project/a.txt" instead of "a.txt" and the project id is "global".
   */
  git?: boolean;
  /** opencode.json `permission`; default `{ bash: "ask", edit: "ask" }`. */
  permission?: object;
}

export interface OpencodeHandle {
  url: string;
  port: number;
  projectDir: string;
  /** SDK client bound to `url` and `projectDir` (with Basic auth when a password is set). */
  client: OpencodeClient;
  /** SIGTERM the process group, SIGKILL after a 2 s grace, resolve once it has exited. */
  stop(): Promise<void>;
  /** False once the server was killed (and not restarted): nothing is pending on it then. */
  running(): boolean;
  /** SIGKILL the process group now and wait for the exit. */
  kill(): Promise<void>;
  /** Kill, then start again on the same port, project and XDG dirs; resolves when warmed up. */
  restart(): Promise<void>;
  /** Captured stdout/stderr (started with --print-logs, so OpenCode's INFO log is in it). */
  logs(): string;
}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const BIN = join(REPO_ROOT, "node_modules/.bin/opencode");
const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, "node_modules/opencode-ai/package.json"), "utf8")) as { version: string }).version;
const MAX_LOG = 1_000_000;
const live = new Set<number>();
const run = promisify(execFile);

process.on("exit", () => {
  for (const pgid of live) killGroup(pgid, "SIGKILL");
});

/** Starts an OpenCode server; resolves once it is healthy and its project directory is loaded. */
export async function startOpencode(opts: StartOpencodeOptions): Promise<OpencodeHandle> {
  const root = await mkdtemp(join(tmpdir(), "opencode-chatops-"));
  const projectDir = opts.projectDir ?? join(root, "project");
  const xdg = { data: join(root, "data"), config: join(root, "config"), state: join(root, "state"), cache: join(root, "cache") };
  await Promise.all([projectDir, ...Object.values(xdg)].map((dir) => mkdir(dir, { recursive: true })));
  await writeProject(projectDir, opts, !opts.projectDir && opts.git !== false);
  await stubPluginInstall(join(xdg.config, "opencode"));

  let port = await freePort();
  let url = `http://127.0.0.1:${port}`;
  const headers = basicAuth(opts.password, opts.env?.OPENCODE_SERVER_USERNAME);
  const env: NodeJS.ProcessEnv = {
    ...inheritedEnv(),
    XDG_DATA_HOME: xdg.data,
    XDG_CONFIG_HOME: xdg.config,
    XDG_STATE_HOME: xdg.state,
    XDG_CACHE_HOME: xdg.cache,
    OPENCODE_DISABLE_MODELS_FETCH: "1",
    ...(opts.password ? { OPENCODE_SERVER_PASSWORD: opts.password } : {}),
    ...opts.env,
  };
  let output = "";
  let server: Server;

  const launch = async () => {
    server = spawnServer(port, projectDir, env, (text) => {
      output = (output + text).slice(-MAX_LOG);
    });
    try {
      await untilExit(server, waitReady(url, projectDir, headers), () => output);
    } catch (error) {
      await server.halt("SIGKILL");
      throw error;
    }
  };

  // A port found free can be taken before OpenCode binds it (it then exits with a ServeError): try another.
  for (let attempt = 1; ; attempt++) {
    try {
      await launch();
      break;
    } catch (error) {
      if (attempt >= 3 || !/ServeError|EADDRINUSE/.test(output)) throw error;
      output = "";
      port = await freePort();
      url = `http://127.0.0.1:${port}`;
    }
  }
  return {
    url,
    port,
    projectDir,
    client: createOpencodeClient({ baseUrl: url, directory: projectDir, headers }),
    stop: async () => {
      await server.halt("SIGTERM");
      await rm(root, { recursive: true, force: true });
    },
    running: () => live.has(server.pgid),
    kill: () => server.halt("SIGKILL"),
    restart: async () => {
      await server.halt("SIGKILL");
      await launch();
    },
    logs: () => output,
  };
}

/** An OpenCode server started elsewhere (test/support/opencode-pool.ts), which a test must not stop. */
export interface RunningOpencode {
  url: string;
  password?: string;
}

/** A project directory kept on a running server by whoever started it; its model is at `llmPort`. */
export interface KeptProject {
  dir: string;
  llmPort: number;
}

/**
 * A fresh project directory (git, its own opencode.json) on a running server, loaded once it
 * resolves. OpenCode reads each directory's opencode.json, so the project's model and permission
 * rules are its own. `stop()` removes the directory; the server cannot be killed or restarted
 * through this handle.
 */
export async function openProject(server: RunningOpencode, opts: StartOpencodeOptions): Promise<OpencodeHandle> {
  const root = await mkdtemp(join(tmpdir(), "opencode-chatops-"));
  const projectDir = join(root, "project");
  await mkdir(projectDir);
  await writeProject(projectDir, opts, opts.git !== false);
  await waitReady(server.url, projectDir, basicAuth(server.password));
  const handle = projectHandle(server, projectDir);
  return {
    ...handle,
    stop: async () => {
      // Ends the directory's instance (its sessions, watchers) on the server, which outlives it.
      await handle.client.instance.dispose({}, { signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** The permission rules of every test project: each gated tool asks. */
export const TEST_PERMISSION = { bash: "ask", edit: "ask", webfetch: "ask" };

/**
 * A project's first prompt: OpenCode spends seconds of CPU loading a directory's instance on it
 * (done ahead, it overlaps other work, or is paid once for many files).
 */
export async function warmUp(client: OpencodeClient, timeoutMs = 30_000): Promise<void> {
  const created = await client.session.create({ title: "warm-up" }, { signal: AbortSignal.timeout(timeLeft(10_000)), throwOnError: true });
  await client.session.prompt(
    { sessionID: created.data.id, parts: [{ type: "text", text: "warm up" }], model: { providerID: "fake", modelID: "fake-model" } },
    { signal: AbortSignal.timeout(timeLeft(timeoutMs)), throwOnError: true },
  );
}

/** A handle on a project kept on a running server by someone else: `stop()` leaves both as they are. */
export function keptProjectHandle(server: RunningOpencode, project: KeptProject): OpencodeHandle {
  return { ...projectHandle(server, project.dir), stop: async () => {} };
}

function projectHandle(server: RunningOpencode, projectDir: string): OpencodeHandle {
  const refuse = async () => {
    throw new Error("this project is on a shared OpenCode server, which a test may not kill or restart: give the test a server of its own");
  };
  return {
    url: server.url,
    port: Number(new URL(server.url).port),
    projectDir,
    client: createOpencodeClient({ baseUrl: server.url, directory: projectDir, headers: basicAuth(server.password) }),
    stop: refuse,
    running: () => true,
    kill: refuse,
    restart: refuse,
    logs: () => "(the shared OpenCode server logs into the vitest main process, not here)",
  };
}

async function writeProject(projectDir: string, opts: StartOpencodeOptions, git: boolean): Promise<void> {
  if (git) await initGit(projectDir);
  await writeFile(join(projectDir, "opencode.json"), JSON.stringify(projectConfig(opts), null, 2));
}

function basicAuth(password: string | undefined, username = "opencode"): Record<string, string> {
  return password ? { Authorization: `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}` } : {};
}

function projectConfig(opts: StartOpencodeOptions): object {
  return {
    $schema: "https://opencode.ai/config.json",
    provider: {
      fake: {
        npm: "@ai-sdk/openai-compatible",
        name: "Fake",
        options: { baseURL: opts.llmUrl, apiKey: "x" },
        models: { "fake-model": { name: "Fake", cost: { input: 3, output: 15 } } },
      },
    },
    model: "fake/fake-model",
    small_model: "fake/fake-model",
    permission: opts.permission ?? { bash: "ask", edit: "ask" },
    plugin: (opts.plugins ?? []).map((file) => pathToFileURL(file).href),
    autoupdate: false,
    share: "disabled",
    // No undo snapshots (a git write-tree before and after every step): no test reverts, and they
    // doubled the CPU of every tool call (0.7 s → 1.7 s on a 2-core VM).
    snapshot: false,
  };
}

async function initGit(dir: string): Promise<void> {
  const identity = ["-c", "user.name=test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false"];
  await run("git", ["init", "-q"], { cwd: dir });
  await run("git", [...identity, "commit", "-q", "--allow-empty", "-m", "empty"], { cwd: dir });
}

/** The test process's env without OPENCODE_* settings of whoever runs the tests. */
function inheritedEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("OPENCODE_")));
}

interface Server {
  pgid: number;
  exited: Promise<number | null>;
  halt(signal: "SIGTERM" | "SIGKILL"): Promise<void>;
}

function spawnServer(port: number, cwd: string, env: NodeJS.ProcessEnv, log: (text: string) => void): Server {
  const args = ["serve", "--print-logs", "--hostname", "127.0.0.1", "--port", String(port)];
  const child = spawn(BIN, args, { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const pgid = child.pid;
  if (pgid === undefined) throw new Error(`could not spawn ${BIN}`);
  live.add(pgid);
  const watchdog = startWatchdog(pgid);
  child.stdout?.setEncoding("utf8").on("data", log);
  child.stderr?.setEncoding("utf8").on("data", log);
  const exited = new Promise<number | null>((ok) => {
    child.once("exit", (code, signal) => {
      log(`\n[harness] opencode exited: code=${code} signal=${signal}\n`);
      killGroup(pgid, "SIGKILL"); // bash tool children outlive the server otherwise
      live.delete(pgid);
      watchdog.stdin?.end("done\n");
      ok(code);
    });
  });
  return {
    pgid,
    exited,
    halt: async (signal) => {
      if (!live.has(pgid)) return;
      killGroup(pgid, signal);
      if (signal === "SIGTERM") {
        const grace = setTimeout(() => killGroup(pgid, "SIGKILL"), 2_000);
        await exited;
        clearTimeout(grace);
      }
      await exited;
    },
  };
}

/**
 * A detached `sh` that SIGKILLs the server's group when our end of its stdin closes without a
 * line: that is how a test process killed by a signal (no 'exit' handler runs) still cleans up.
 */
function startWatchdog(pgid: number): ChildProcess {
  const watchdog = spawn("sh", ["-c", `read _ || kill -s KILL -- -${pgid} 2>/dev/null`], {
    detached: true,
    stdio: ["pipe", "ignore", "ignore"],
  });
  watchdog.unref();
  if (watchdog.stdin instanceof Socket) watchdog.stdin.unref();
  watchdog.stdin?.on("error", () => undefined); // EPIPE if it is already gone
  return watchdog;
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

async function untilExit(server: Server, ready: Promise<void>, logs: () => string): Promise<void> {
  const died = server.exited.then((code) => {
    throw new Error(`opencode exited (code ${code}) before it was ready:\n${logs()}`);
  });
  died.catch(() => undefined);
  await Promise.race([ready, died]);
}

/** Health first (requests sent while it boots can hang for minutes), then load the project. */
async function waitReady(url: string, projectDir: string, headers: Record<string, string>): Promise<void> {
  await waitFor(
    async () => {
      const res = await fetch(`${url}/global/health`, { headers, signal: AbortSignal.timeout(1_000) });
      return res.ok && ((await res.json()) as { healthy?: boolean }).healthy === true;
    },
    // 60 s: a loaded machine (two suites side by side, each starting servers) has taken over 20 s.
    { timeout: 60_000, interval: 50, what: `opencode /global/health at ${url}` },
  );
  const what = `opencode at ${url} to load ${projectDir} (GET /permission)`;
  const timeout = timeLeft(30_000);
  const res = await fetch(`${url}/permission?directory=${encodeURIComponent(projectDir)}`, {
    headers,
    signal: AbortSignal.timeout(timeout),
  }).catch((error: Error) => {
    const failed = error.name === "TimeoutError" ? `timed out after ${timeout}ms waiting for` : `${error.message} while waiting for`;
    throw new Error(`${failed} ${what}`, { cause: error });
  });
  if (!res.ok) throw new Error(`warm-up GET /permission answered ${res.status}: ${await res.text()}`);
}

/**
 * On the first request for a directory OpenCode npm-installs `@opencode-ai/plugin` into
 * $XDG_CONFIG_HOME/opencode (3–7 s, and the request waits for it when plugins are configured),
 * unless that dir has a `node_modules` folder and a package-lock.json whose root dependencies name
 * everything in package.json (its whole check in 1.18.33, `Npm.install`). Nothing loaded from there:
 * file:// plugins resolve their imports beside their own file. So a stub skips the install.
 */
async function stubPluginInstall(configDir: string): Promise<void> {
  const dependencies = { "@opencode-ai/plugin": VERSION };
  await mkdir(join(configDir, "node_modules"), { recursive: true });
  await writeFile(join(configDir, "package.json"), JSON.stringify({ dependencies }));
  await writeFile(join(configDir, "package-lock.json"), JSON.stringify({ lockfileVersion: 3, packages: { "": { dependencies } } }));
}
