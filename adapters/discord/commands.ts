import {
  ApplicationCommandOptionType,
  Events,
  MessageFlags,
  type APIApplicationCommandStringOption,
  type AutocompleteInteraction,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Client,
  type Interaction,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from "discord.js";
import type { Command } from "../../src/core/commands.ts";
import type { Logger } from "../../src/core/logger.ts";
import type { CommandPort, CommandReply } from "../../src/core/ports.ts";
import { discordNumbers } from "./limits.ts";
import { actorOf } from "./interactions.ts";
import { encodeRef } from "./refs.ts";
import { stopPrefix } from "./render-progress.ts";

const Subcommand = ApplicationCommandOptionType.Subcommand as const;
const SubcommandGroup = ApplicationCommandOptionType.SubcommandGroup as const;
const text = (name: string, description: string, required = false, autocomplete = false): APIApplicationCommandStringOption =>
  autocomplete
    ? { type: ApplicationCommandOptionType.String, name, description, required, autocomplete: true }
    : { type: ApplicationCommandOptionType.String, name, description, required };

/** `/opencode` as registered with Discord (`npm run discord:register`): the same words as Slack's, as subcommands. */
export const opencodeCommand: RESTPostAPIChatInputApplicationCommandsJSONBody = {
  name: "opencode",
  description: "Start and steer OpenCode sessions",
  options: [
    {
      type: Subcommand,
      name: "run",
      description: "Start a session with a prompt, in a thread of its own",
      options: [
        text("prompt", "What the agent should do", true),
        text("project", "The project to work in (default: this channel's)", false, true),
        text("agent", "The OpenCode agent (default: the project's)", false, true),
        text("model", "provider/model (default: the project's)", false, true),
      ],
    },
    {
      type: SubcommandGroup,
      name: "project",
      description: "The directories the bot may start work in",
      options: [
        { type: Subcommand, name: "add", description: "Add a project", options: [text("name", "A short name", true), text("path", "Its absolute path on the OpenCode server", true), text("url", "The OpenCode server's URL, if not OPENCODE_URL")] },
        { type: Subcommand, name: "list", description: "List the projects" },
        { type: Subcommand, name: "remove", description: "Remove a project", options: [text("name", "The project", true, true)] },
        { type: Subcommand, name: "default", description: "Make a project this channel's default", options: [text("name", "The project", true, true)] },
      ],
    },
    { type: Subcommand, name: "sessions", description: "Recent sessions", options: [text("project", "Only this project's", false, true)] },
    { type: Subcommand, name: "status", description: "The OpenCode servers, the stream, what is pending" },
    { type: Subcommand, name: "stop", description: "Stop this thread's session" },
    {
      type: Subcommand,
      name: "costs",
      description: "What was spent: today, yesterday, week, month or YYYY-MM-DD..YYYY-MM-DD",
      options: [text("period", "today (default), yesterday, week, month or YYYY-MM-DD..YYYY-MM-DD"), text("project", "Only this project's", false, true)],
    },
    { type: Subcommand, name: "digest", description: "Post the cost digest of the period so far here" },
    {
      type: SubcommandGroup,
      name: "policy",
      description: "The team's approval policy",
      options: [
        { type: Subcommand, name: "show", description: "The rules in force" },
        {
          type: Subcommand,
          name: "why",
          description: "Which rule decides a command (or, with tool edit, a file) and what it requires",
          options: [text("command", "The command or file", true), text("project", "A project or an absolute directory (default: this channel's)", false, true), text("tool", "bash (default), edit, webfetch, …")],
        },
        { type: Subcommand, name: "reload", description: "Read the policy file again" },
        {
          type: Subcommand,
          name: "always",
          description: "The Always rules in force, or revoke one",
          options: [{ type: ApplicationCommandOptionType.Integer, name: "revoke", description: "The id of the rule to revoke", required: false, min_value: 1 }],
        },
      ],
    },
    { type: Subcommand, name: "help", description: "What /opencode can do" },
  ],
};

/** The core's command for a `/opencode` interaction. */
export function toCommand(interaction: ChatInputCommandInteraction): Command {
  const options = interaction.options;
  const optional = (name: string) => options.getString(name) ?? undefined;
  const group = options.getSubcommandGroup(false);
  const sub = options.getSubcommand(true);
  if (group === "project") {
    switch (sub) {
      case "add": {
        const url = optional("url");
        return { name: "project.add", project: options.getString("name", true), path: options.getString("path", true), ...(url ? { url } : {}) };
      }
      case "list":
        return { name: "project.list" };
      case "remove":
        return { name: "project.remove", project: options.getString("name", true) };
      case "default":
        return { name: "project.default", project: options.getString("name", true) };
    }
  }
  if (group === "policy") {
    switch (sub) {
      case "show":
        return { name: "policy.show" };
      case "why": {
        const flags = Object.fromEntries(Object.entries({ project: optional("project"), tool: optional("tool") }).filter(([, value]) => value !== undefined));
        return { name: "policy.why", command: options.getString("command", true), ...flags };
      }
      case "reload":
        return { name: "policy.reload" };
      case "always": {
        const revoke = options.getInteger("revoke") ?? undefined;
        return { name: "policy.always", ...(revoke ? { revoke } : {}) };
      }
    }
  }
  switch (sub) {
    case "run": {
      const flags = { project: optional("project"), agent: optional("agent"), model: optional("model") };
      const defined = Object.fromEntries(Object.entries(flags).filter(([, value]) => value !== undefined));
      return { name: "run", prompt: options.getString("prompt", true), ...defined };
    }
    case "sessions": {
      const project = optional("project");
      return { name: "sessions", ...(project ? { project } : {}) };
    }
    case "costs": {
      const period = optional("period");
      const project = optional("project");
      return { name: "costs", ...(period ? { period } : {}), ...(project ? { project } : {}) };
    }
    case "status":
    case "stop":
    case "digest":
    case "help":
      return { name: sub };
  }
  return { name: "invalid", usage: "/opencode help", problem: `there is no "${[group, sub].filter(Boolean).join(" ")}"` };
}

/**
 * `/opencode` interactions: deferred at once as a reply only the caller sees (Discord wants an
 * answer within 3 s), run by the core, and the deferred reply replaced by its answer.
 */
export function registerCommands(client: Client, deps: { commands: CommandPort; logger: Logger }): void {
  const { commands, logger } = deps;
  client.on(Events.InteractionCreate, (interaction: Interaction) => {
    if (interaction.isChatInputCommand() && interaction.commandName === opencodeCommand.name) void run(interaction);
    else if (interaction.isButton() && interaction.customId.startsWith(stopPrefix)) void stop(interaction);
    else if (interaction.isAutocomplete() && interaction.commandName === opencodeCommand.name) void complete(interaction);
  });

  /** Autocomplete for project, agent and model (and the project of remove/default): the core's suggestions. */
  async function complete(interaction: AutocompleteInteraction): Promise<void> {
    const focused = interaction.options.getFocused(true);
    const option = focused.name === "name" ? "project" : focused.name;
    if (option !== "project" && option !== "agent" && option !== "model") return void (await interaction.respond([]).catch(() => undefined));
    try {
      const values = await commands.suggest({
        actor: actorOf(interaction),
        channel: interaction.channelId,
        option,
        typed: String(focused.value),
        project: interaction.options.getString("project") ?? undefined,
      });
      await interaction.respond(values.filter((value) => value.length <= CHOICE_MAX).map((value) => ({ name: value, value })));
    } catch (error) {
      logger.error({ err: error, user: interaction.user.id }, "could not suggest values on Discord");
      await interaction.respond([]).catch(() => undefined);
    }
  }

  /** The Stop button of a status message: deferred at once; what the core says is told privately. */
  async function stop(interaction: ButtonInteraction): Promise<void> {
    try {
      await interaction.deferUpdate();
      const actor = actorOf(interaction);
      let reply: CommandReply | undefined;
      try {
        reply = await commands.stop({ actor, sessionId: interaction.customId.slice(stopPrefix.length) });
      } catch (error) {
        logger.error({ err: error, user: interaction.user.id }, "Stop failed");
        reply = { text: commands.failedNotice };
      }
      if (reply) await interaction.followUp({ content: fit(reply.text), flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
    } catch (error) {
      logger.error({ err: error, user: interaction.user.id }, "could not answer Stop on Discord");
    }
  }

  async function run(interaction: ChatInputCommandInteraction): Promise<void> {
    try {
      await interaction.deferReply({ flags: MessageFlags.Ephemeral });
      let reply: CommandReply;
      try {
        reply = await commands.run({
          actor: actorOf(interaction),
          ...where(interaction),
          command: toCommand(interaction),
        });
      } catch (error) {
        logger.error({ err: error, user: interaction.user.id, command: interaction.toString() }, "/opencode failed");
        reply = { text: commands.failedNotice };
      }
      await interaction.editReply({ content: fit(reply.text), allowedMentions: { parse: [] } });
    } catch (error) {
      logger.error({ err: error, user: interaction.user.id }, "could not answer /opencode on Discord");
    }
  }
}

/** The channel a command was typed in; in a thread, the thread (as openThread encodes it) and its parent channel. */
function where(interaction: ChatInputCommandInteraction): { channel: string; thread?: string } {
  const channel = interaction.channel;
  if (channel?.isThread()) return { channel: channel.parentId ?? channel.id, thread: encodeRef({ channel: channel.id, message: channel.id }) };
  return { channel: interaction.channelId };
}

/** An autocomplete choice's name and value hold 100 characters. */
const CHOICE_MAX = 100;

/** Message content holds 2,000 characters. */
function fit(content: string, max: number = discordNumbers.content): string {
  return content.length <= max ? content : `${content.slice(0, max - 1)}…`;
}
