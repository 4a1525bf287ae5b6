import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|js|mjs)$/.test(name) ? [path] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/(?:import|export)[^'"]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g)].map(
    (m) => m[1] ?? m[2]!,
  );
}

function violations(dir: string, forbidden: RegExp): string[] {
  return sources(join(root, dir)).flatMap((file) =>
    imports(file)
      .filter((spec) => forbidden.test(spec))
      .map((spec) => `${relative(root, file)} imports ${spec}`),
  );
}

describe("architecture boundaries", () => {
  it("the core imports no chat SDK, no database driver and no adapter", () => {
    expect(violations("src/core", /^@slack\/|^discord\.js|^postgres$|^@electric-sql\/|^drizzle-orm|\/store\/|adapters\//)).toEqual([]);
  });

  it("adapters import no database code", () => {
    expect(violations("adapters", /^postgres$|^@electric-sql\/|^drizzle-orm|\/store\//)).toEqual([]);
  });
});
