import pino, { type DestinationStream, type Logger } from "pino";
import type { Redactor } from "./core/redaction.ts";

/** The bot's logger: JSON lines on stdout (or `destination`), every string of a line, and its message, with secrets masked. */
export function createLogger(level: string, redactor: Redactor, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: "opencode-chatops" },
    formatters: { log: (fields: Record<string, unknown>) => redactor.maskDeep(fields) },
    // An error is serialized after the formatter has run: its own words are masked here.
    serializers: {
      err: (error: Error) => {
        const serialized = pino.stdSerializers.err(error);
        return { ...serialized, message: redactor.mask(serialized.message), stack: redactor.mask(serialized.stack) };
      },
    },
    hooks: {
      logMethod(this: Logger, args: Parameters<Logger["info"]>, method: (...args: unknown[]) => void) {
        method.apply(this, args.map((arg) => (typeof arg === "string" ? redactor.mask(arg) : arg)));
      },
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
