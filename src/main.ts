import { startBot } from "./bot.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { PolicyError } from "./core/policy/policy-file.ts";

try {
  const bot = await startBot(loadConfig());
  const shutdown = (signal: string) => {
    console.error(`opencode-chatops: ${signal}, stopping`);
    bot.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGHUP", () => void bot.reloadPolicy());
} catch (error) {
  if (error instanceof ConfigError || error instanceof PolicyError) {
    console.error(error.message);
    process.exit(1);
  }
  console.error(`opencode-chatops could not start: ${(error as Error).message}`);
  process.exit(1);
}
