import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|js|mjs)$/.test(name) ? [path] : [];
  });
}

/** What a file imports, comments left out (a JSDoc `import("…")` type is no import). */
function imports(file: string): string[] {
  const text = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  return [...text.matchAll(/(?:import|export)[^'"]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|^\s*import\s+["']([^"']+)["']/gm)].map(
    (m) => m[1] ?? m[2] ?? m[3]!,
  );
}

function violations(dir: string, forbidden: (spec: string, file: string) => boolean): string[] {
  return sources(join(root, dir)).flatMap((file) =>
    imports(file)
      .filter((spec) => forbidden(spec, file))
      .map((spec) => `${relative(root, file)} imports ${spec}`),
  );
}

const chatSdk = /^@slack\/|^discord\.js|^@discordjs\//;
const databaseCode = /^postgres$|^@electric-sql\/|^drizzle-orm|\/store\//;
const adapterFolders = readdirSync(join(root, "adapters")).filter((name) => statSync(join(root, "adapters", name)).isDirectory());

describe("architecture boundaries", () => {
  it("the core imports no chat SDK, no database driver, no adapter and nothing outside src/core", () => {
    const outside = (spec: string, file: string) => spec.startsWith(".") && !resolve(dirname(file), spec).startsWith(join(root, "src", "core") + sep);
    expect(violations("src/core", (spec, file) => chatSdk.test(spec) || databaseCode.test(spec) || /adapters\//.test(spec) || outside(spec, file))).toEqual([]);
  });

  it("adapters import no database code", () => {
    expect(violations("adapters", (spec) => databaseCode.test(spec))).toEqual([]);
  });

  it("adapters never import each other", () => {
    expect(adapterFolders.length).toBeGreaterThan(1);
    const crossings = adapterFolders.flatMap((own) =>
      violations(`adapters/${own}`, (spec) => adapterFolders.some((other) => other !== own && new RegExp(`(^|/)${other}(/|$)`).test(spec))),
    );
    expect(crossings).toEqual([]);
  });

  it("the OpenCode plugin stays one self-contained file: no imports at all, only fetch and timers", () => {
    expect(readdirSync(join(root, "adapters/opencode-plugin"))).toEqual(["index.js"]);
    expect(imports(join(root, "adapters/opencode-plugin/index.js"))).toEqual([]);
    expect(readFileSync(join(root, "adapters/opencode-plugin/index.js"), "utf8")).not.toMatch(/\brequire\(/);
  });
});
