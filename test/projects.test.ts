import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatDriver, onePlatform, peopleOf, PLATFORMS } from "./support/chat-driver.ts";
import { sharedOpencode, stackPerTest } from "./support/stack-per-test.ts";

// `/opencode project …` on each platform, against the real OpenCode server: it is asked about every
// directory before the project is kept in the database.
let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "chatops-projects-"));
  await writeFile(join(scratch, "notes.txt"), "a file, not a directory\n");
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe.each(PLATFORMS)("projects on %s", (platform) => {
  const opencode = sharedOpencode();
  const stack = stackPerTest(onePlatform(platform), opencode);
  const chat = () => chatDriver(stack, platform);

  it("add, list, default and remove, each refusal saying why; OpenCode says what it found", async () => {
    const { alice, mallory } = chat().people;
    const say = (path: string, options?: Record<string, string>) => chat().command(alice, path, options);
    const url = stack.opencode.url;
    const dir = stack.opencode.projectDir;

    expect(await say("project list")).toMatch(/^No projects yet/);
    expect(await say("project add", { name: "web", path: "relative/web" })).toBe("`relative/web` is a relative path: give the project's absolute path on the OpenCode server.");
    expect(await say("project add", { name: "web", path: join(scratch, "missing") })).toBe(`${join(scratch, "missing")} does not exist on the OpenCode server at ${url}.`);
    expect(await say("project add", { name: "web", path: join(scratch, "notes.txt") })).toBe(`${join(scratch, "notes.txt")} is a file on the OpenCode server at ${url}, not a directory.`);
    expect(await chat().command(mallory, "project add", { name: "web", path: dir })).toMatch(/^You may not add projects/);

    expect(await say("project add", { name: "web", path: `${dir}/` })).toBe(`Project \`web\` added: ${dir} on ${url} (git branch master).`);
    expect(await say("project add", { name: "scratch", path: scratch })).toBe(`Project \`scratch\` added: ${scratch} on ${url} (no git).`);
    expect(await say("project add", { name: "web", path: scratch })).toBe(`A project named \`web\` exists already (${dir}).`);

    expect(await say("project list")).toBe([`Projects (2):`, `• \`scratch\` ${scratch}`, `• \`web\` ${dir}`].join("\n"));
    expect(await say("project default", { name: "nope" })).toBe("There is no project named `nope`. Projects: `scratch`, `web`.");
    expect(await say("project default", { name: "web" })).toBe(`\`web\` is now this channel's default project (${dir}).`);
    expect(await say("project list")).toContain(`• \`web\` ${dir} (default here)`);

    expect(await chat().command(mallory, "project remove", { name: "web" })).toMatch(/^You may not remove projects/);
    expect(await say("project remove", { name: "web" })).toBe("Project `web` removed. Its sessions and their threads stay as they are.");
    // With one project left, it is every channel's default.
    expect(await say("project list")).toBe([`Projects (1):`, `• \`scratch\` ${scratch} (default here)`].join("\n"));
    expect(await say("project remove", { name: "web" })).toBe("There is no project named `web`. Projects: `scratch`.");
  });
});

describe.each(PLATFORMS)("who may add projects on %s, with CHATOPS_ADMINS", (platform) => {
  const opencode = sharedOpencode();
  // Mallory is no approver, but the one admin; alice approves, but is no admin.
  const stack = stackPerTest(onePlatform(platform, { env: { CHATOPS_ADMINS: peopleOf(platform).mallory.id } }), opencode);
  const chat = () => chatDriver(stack, platform);

  it("an admin adds, an approver who is not one is refused, and anyone may list", async () => {
    const { alice, mallory } = chat().people;
    expect(await chat().command(alice, "project add", { name: "web", path: stack.opencode.projectDir })).toMatch(/^You may not add projects/);
    expect(await chat().command(mallory, "project add", { name: "web", path: stack.opencode.projectDir })).toMatch(/^Project `web` added/);
    expect(await chat().command(alice, "project list")).toContain("`web`");
  });
});
