import {
  Events,
  MessageFlags,
  type APIInteractionGuildMember,
  type ButtonInteraction,
  type Client,
  type GuildMember,
  type Interaction,
  type ModalSubmitInteraction,
  type User,
} from "discord.js";
import type { Logger } from "../../src/core/logger.ts";
import type { Actor, Answer, CardAction, DecisionPort } from "../../src/core/ports.ts";
import { encodeRef } from "./refs.ts";
import { buttonPrefix, formValues, optionPrefix, parseFormId, renderForm, renderView } from "./render.ts";

type Answerable = ButtonInteraction | ModalSubmitInteraction;

/** Clicks that may open a modal: answered by the modal itself, so the core is asked first (it only reads). */
const mayOpenForm = new Set<CardAction>(["reject", "edit", "answer"]);

/**
 * Button clicks and modal submissions: each is acknowledged within Discord's 3 seconds (deferred
 * first, or answered with the modal the core asks for), handed to the core's decision port, and
 * its answer rendered (a modal, an ephemeral reply). No decision is made here.
 */
export function registerInteractions(client: Client, deps: { logger: Logger; decisions: DecisionPort }): void {
  const { logger, decisions } = deps;

  client.on(Events.InteractionCreate, (interaction: Interaction) => {
    if (interaction.isButton()) void guarded(interaction, () => clicked(interaction));
    else if (interaction.isModalSubmit()) void guarded(interaction, () => submitted(interaction));
  });

  async function clicked(interaction: ButtonInteraction): Promise<void> {
    const parsed = parseButtonId(interaction.customId);
    if (!parsed) return;
    if (typeof parsed.action !== "string" || !mayOpenForm.has(parsed.action)) await interaction.deferUpdate();
    await render(interaction, await decisions.click({ actor: actorOf(interaction), requestId: parsed.requestId, action: parsed.action, via: via(interaction) }));
  }

  async function submitted(interaction: ModalSubmitInteraction): Promise<void> {
    const parsed = parseFormId(interaction.customId);
    if (!parsed) return;
    // Discord cannot keep a modal open with an error under a field: a refusal comes as an ephemeral reply.
    await interaction.deferUpdate();
    const values = formValues(interaction.fields.fields.values() as Iterable<{ customId: string; value?: string; values?: readonly string[] }>);
    await render(interaction, await decisions.submit({ actor: actorOf(interaction), requestId: parsed.requestId, form: parsed.form, values, via: via(interaction) }));
  }

  async function render(interaction: Answerable, answer: Answer): Promise<void> {
    switch (answer.kind) {
      case "form":
        if (interaction.isButton() && !interaction.deferred && !interaction.replied) return void (await interaction.showModal(renderForm(answer.form)));
        throw new Error("a form can only answer a click that was not acknowledged yet");
      case "view":
        return tell(interaction, renderView(answer.view));
      case "notice":
      case "invalid":
        return tell(interaction, { content: answer.kind === "notice" ? answer.text : answer.message });
      case "decide": {
        if (!interaction.deferred && !interaction.replied) await interaction.deferUpdate();
        const text = await answer.commit();
        if (text) await tell(interaction, { content: text });
        return;
      }
    }
  }

  /** An ephemeral message to the person who acted: the interaction's reply, or a follow-up once acknowledged. */
  async function tell(interaction: Answerable, message: { content: string; files?: Array<{ attachment: Buffer; name: string }> }): Promise<void> {
    const ephemeral = { ...message, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } } as const;
    if (interaction.deferred || interaction.replied) await interaction.followUp(ephemeral);
    else await interaction.reply(ephemeral);
  }

  /** Runs one interaction's handling; a bug is logged and the person told, never left silent. */
  async function guarded(interaction: Answerable, handle: () => Promise<void>): Promise<void> {
    try {
      await handle();
    } catch (error) {
      logger.error({ err: error, customId: interaction.customId, user: interaction.user.id }, "handling a Discord interaction failed");
      await tell(interaction, { content: decisions.failedNotice }).catch((cause: unknown) =>
        logger.error({ err: cause, user: interaction.user.id }, "could not tell the person either"),
      );
    }
  }
}

/** The action and request a card button's custom_id names; undefined for a button not ours. */
export function parseButtonId(customId: string): { action: CardAction; requestId: string } | undefined {
  if (customId.startsWith(optionPrefix)) {
    const match = /^(\d+):(.+)$/.exec(customId.slice(optionPrefix.length));
    return match ? { action: { option: Number(match[1]) }, requestId: match[2]! } : undefined;
  }
  const match = /^(once|always|reject|edit|answer|dismiss|view):(.+)$/.exec(customId.slice(buttonPrefix.length));
  if (!customId.startsWith(buttonPrefix) || !match) return undefined;
  return { action: match[1] as CardAction, requestId: match[2]! };
}

/**
 * Who acted (clicked, typed a command, wrote a message), with the roles the member holds at this
 * moment as `role:<id>` (the form DISCORD_APPROVERS lists them in).
 */
export function actorOf(interaction: { user: User; member: GuildMember | APIInteractionGuildMember | null }): Actor {
  const member = interaction.member;
  const roleIds = !member ? [] : Array.isArray(member.roles) ? member.roles : [...member.roles.cache.keys()];
  return {
    platform: "discord",
    userId: interaction.user.id,
    name: interaction.user.username,
    roles: roleIds.map((id) => `role:${id}`),
  };
}

/** The card the interaction came from. */
function via(interaction: Answerable) {
  const message = interaction.message;
  return message ? encodeRef({ channel: message.channelId, message: message.id }) : undefined;
}
