import { onChatMessage } from "./chat-messages.ts";
import { USAGE, type Command } from "./commands.ts";
import { runProjectCommand, type ProjectCommandDeps } from "./project-commands.ts";
import type { CommandPort, CommandReply, Invocation } from "./ports.ts";
import { startSession, type StartSessionDeps } from "./start-session.ts";
import { listSessions, statusReport, type SessionCommandDeps } from "./session-commands.ts";
import { stopSession, type StopSessionDeps } from "./stop-session.ts";
import { suggest, type SuggestionDeps } from "./suggestions.ts";
import { costsCommand, type CostDeps } from "./cost-commands.ts";
import { runPolicyCommand, type PolicyCommandDeps } from "./policy-commands.ts";
import type { ChatPlatform, ChatRef } from "./types.ts";

export type CommandRouterDeps = ProjectCommandDeps & StartSessionDeps & StopSessionDeps & SessionCommandDeps & SuggestionDeps & CostDeps & PolicyCommandDeps & {
  /** `/opencode digest`: posts the digest of the period so far into the channel; resolves to what the caller is told. */
  postDigestNow(platform: ChatPlatform, channel: ChatRef): Promise<string>;
};

/** The `/opencode` commands: each answered in the core's words, the same on every platform. */
export function createCommandRouter(deps: CommandRouterDeps): CommandPort {
  return {
    failedNotice: "Something went wrong running that command, so it may not have been done; the bot's log says why.",
    suggest: (input) => suggest(deps, input),
    async message(message) {
      const text = await onChatMessage(deps, message);
      return text === undefined ? undefined : { text };
    },
    async stop({ actor, sessionId }) {
      const text = await stopSession(deps, actor, { sessionId });
      return { text };
    },
    async run({ actor, channel, thread, command }: Invocation): Promise<CommandReply> {
      if (isProjectCommand(command)) return { text: await runProjectCommand(deps, actor, channel, command) };
      if (isPolicyCommand(command)) return { text: await runPolicyCommand(deps, actor, channel, command) };
      switch (command.name) {
        case "help":
          return { text: `Usage: ${USAGE.help}` };
        case "invalid":
          return { text: `${capitalize(command.problem)}. Usage: ${command.usage}` };
        case "run":
          if (command.prompt.trim() === "") return { text: `Give a prompt. Usage: ${USAGE.run}` };
          return { text: (await startSession(deps, actor, channel, command)).text };
        case "sessions":
          return { text: await listSessions(deps, command.project) };
        case "status":
          return { text: await statusReport(deps) };
        case "stop":
          return { text: await stopSession(deps, actor, { thread }) };
        case "costs":
          return { text: await costsCommand(deps, actor.platform, command) };
        case "digest":
          return { text: await deps.postDigestNow(actor.platform, channel) };
      }
    },
  };
}

const isProjectCommand = (command: Command): command is Extract<Command, { name: `project.${string}` }> => command.name.startsWith("project.");
const isPolicyCommand = (command: Command): command is Extract<Command, { name: `policy.${string}` }> => command.name.startsWith("policy.");
const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
