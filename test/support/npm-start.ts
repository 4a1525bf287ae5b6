import { readFileSync } from "node:fs";
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");

/**
 * The node arguments of `npm start` (package.json's script, `node <flags> --import tsx src/main.ts`),
 * so that the bot processes of the tests, the bench and the chaos run as users run it.
 */
export function npmStartArgs(): string[] {
  const { scripts } = JSON.parse(readFileSync(resolve(ROOT, "package.json"), "utf8")) as { scripts: { start: string } };
  const [command, ...args] = scripts.start.trim().split(/\s+/);
  if (command !== "node") throw new Error(`npm start runs "${scripts.start}"; the bot's processes here expect it to start with node`);
  return args;
}
