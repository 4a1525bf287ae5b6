import { duration } from "./core/policy/matching.ts";

/** `--since 7d` (a duration back from now) or `--since 2026-11-01` (a UTC date); undefined for neither. */
export function sinceOf(text: string, now = new Date()): Date | undefined {
  const back = duration(text);
  if (back !== undefined) return new Date(now.getTime() - back);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return undefined;
  const date = new Date(`${text}T00:00:00Z`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** The bot's database as the command-line tools open it: DATABASE_URL, else the embedded one under DATA_DIR (stop the bot first). */
export const databaseOptions = () => ({ url: process.env.DATABASE_URL?.trim() || undefined, dataDir: process.env.DATA_DIR?.trim() || "./data" });

/** Runs a command-line tool's `main` when the file is the one node started. */
export function runCli(name: string, url: string, main: (argv: string[]) => Promise<number>): void {
  if (url !== `file://${process.argv[1]}`) return;
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`${name}: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}

/** Where a command-line tool writes: a line of output, raw output, a line of error. Tests hand their own. */
export type CliOutput = { out(line: string): void; write(text: string): void; err(line: string): void };

export const consoleOutput: CliOutput = {
  out: (line) => console.log(line),
  write: (text) => void process.stdout.write(text),
  err: (line) => console.error(line),
};
