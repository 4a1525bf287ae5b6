import type { App, BlockAction, ButtonAction } from "@slack/bolt";
import { parseCommandText } from "../../src/core/commands.ts";
import type { Logger } from "../../src/core/logger.ts";
import type { CommandPort, CommandReply } from "../../src/core/ports.ts";
import { escapeMrkdwn } from "./render.ts";
import { STOP_ACTION } from "./render-progress.ts";

/**
 * `/opencode …`: acknowledged at once (Slack wants it within 3 s), then run by the core, whose
 * answer goes back on the command's response_url, seen by the caller alone.
 */
export function registerCommands(app: App, deps: { commands: CommandPort; logger: Logger }) {
  const { commands, logger } = deps;
  app.command("/opencode", async ({ command, ack, respond }) => {
    await ack();
    let reply: CommandReply;
    try {
      reply = await commands.run({
        actor: { platform: "slack", userId: command.user_id, name: command.user_name },
        channel: command.channel_id,
        command: parseCommandText(command.text),
      });
    } catch (error) {
      logger.error({ err: error, user: command.user_id, text: command.text }, "/opencode failed");
      reply = { text: commands.failedNotice };
    }
    await respond({ response_type: "ephemeral", text: escapeMrkdwn(reply.text) });
  });

  // The Stop button of a status message: the status message itself shows the stop; a refusal is told privately.
  app.action<BlockAction<ButtonAction>>(STOP_ACTION, async ({ ack, body, action, respond }) => {
    await ack();
    const actor = { platform: "slack" as const, userId: body.user.id, name: body.user.username ?? body.user.name ?? body.user.id };
    let reply: CommandReply | undefined;
    try {
      reply = await commands.stop({ actor, sessionId: action.value ?? "" });
    } catch (error) {
      logger.error({ err: error, user: body.user.id }, "Stop failed");
      reply = { text: commands.failedNotice };
    }
    if (reply) await respond({ response_type: "ephemeral", replace_original: false, text: escapeMrkdwn(reply.text) });
  });
}
