import { createHmac } from "node:crypto";
import { VERIFICATION_TOKEN, type EventRetry, type FakeMessage, type FakeSlack, type FileInput, type Json, type SentEvent } from "./fake-slack.ts";

/** Someone in the Slack client. `username`/`name` default to the fake's user record, then to the id. */
export type SimUser = { id: string; username?: string; name?: string };
/** For http: the bot's HTTP status and body (JSON parsed). For socket: 200 and the ack's payload. */
export type SimResponse = { status: number; body: unknown };
/** Forge the request signing (http transport only): another secret, or a timestamp in seconds. */
export type Forgery = { signingSecretOverride?: string; timestampOverride?: number };

export type ClickButtonInput = Forgery & {
  user: SimUser;
  channel: string;
  messageTs: string;
  actionId: string;
  /** Defaults to the button's own value; pass one only to forge it. */
  value?: string;
  blockId?: string;
  /** In a message holding several cards, the button of this one (whose value is the request id); a test must name it there. */
  forValue?: string;
  /** Click on an older version of the message (`history[n]`), as a client that has not re-rendered yet. */
  messageVersion?: number;
};
export type SubmitViewInput = Forgery & { user: SimUser; viewId: string; values?: Record<string, Record<string, string>> };
export type SlashCommandInput = Forgery & { user: SimUser; channel: string; command?: string; text?: string };
/** Typing `text` (Slack's wire format: `<@U…>` for a mention) in a channel, or in a thread with `thread_ts`. */
export type PostMessageInput = { user: SimUser; channel: string; text: string; thread_ts?: string; files?: FileInput[] };
export type EditMessageInput = { user: SimUser; channel: string; ts: string; text: string };
/** The stored message, the events delivered for it in order, and the bot's answer to each. */
export type PostedMessage = { message: FakeMessage; eventIds: string[]; responses: SimResponse[] };

export type SlackUserSimOptions = {
  fake: FakeSlack;
  transport?: "http" | "socket";
  /** http transport: the bot's Request URL, e.g. http://127.0.0.1:3000/slack/events */
  botEventsUrl?: string;
  signingSecret?: string;
  ackTimeoutMs?: number;
};

export type SlackUserSim = ReturnType<typeof createSlackUserSim>;

export { VERIFICATION_TOKEN };

/**
 * Acts as a user in the Slack client: builds the payloads Slack's servers would send the bot and
 * delivers them signed over HTTP, or as Socket Mode envelopes through the fake. Like the real client,
 * it refuses what a user cannot do (click a button that is not on the message, type into a field the
 * modal lacks, submit an empty required field) by throwing. It also becomes the fake's way of
 * delivering Events API envelopes (the last sim created for a fake does), so the bot's echoed own
 * messages travel the same transport.
 */
export function createSlackUserSim(opts: SlackUserSimOptions) {
  const { fake } = opts;
  const transport = opts.transport ?? "http";
  if (transport === "http" && (!opts.botEventsUrl || !opts.signingSecret)) {
    throw new Error("slack user sim: the http transport needs botEventsUrl and signingSecret");
  }
  const team = { id: fake.team.id, domain: fake.team.domain };

  const who = (user: SimUser) => {
    const known = fake.user(user.id);
    const handle = user.username ?? known?.name ?? user.id.toLowerCase();
    return { id: user.id, username: handle, name: user.name ?? known?.name ?? handle, team_id: fake.team.id };
  };

  async function deliver(kind: "interactive" | "slash_commands", payload: Json, forge: Forgery, acceptsResponsePayload: boolean): Promise<SimResponse> {
    if (transport === "socket") {
      if (forge.signingSecretOverride !== undefined || forge.timestampOverride !== undefined) {
        throw new Error("slack user sim: signatures can only be forged on the http transport");
      }
      const ack = await fake.socketSend(kind, payload, { timeoutMs: opts.ackTimeoutMs, acceptsResponsePayload });
      return { status: 200, body: ackBody(ack.payload) };
    }
    const form = kind === "slash_commands" ? new URLSearchParams(payload as Record<string, string>) : new URLSearchParams({ payload: JSON.stringify(payload) });
    return signedPost("application/x-www-form-urlencoded", form.toString(), forge);
  }

  /** An Events API envelope: JSON over HTTP, `events_api` over Socket Mode; a retry says so in headers or envelope fields. */
  async function deliverEvent(envelope: Json, retry?: EventRetry): Promise<SimResponse> {
    if (transport === "socket") {
      const ack = await fake.socketSend("events_api", envelope, {
        timeoutMs: opts.ackTimeoutMs,
        acceptsResponsePayload: false,
        retryAttempt: retry?.retryNum ?? 0,
        retryReason: retry?.reason ?? "",
      });
      return { status: 200, body: ackBody(ack.payload) };
    }
    const headers: Record<string, string> = retry ? { "x-slack-retry-num": String(retry.retryNum), "x-slack-retry-reason": retry.reason } : {};
    return signedPost("application/json", JSON.stringify(envelope), {}, headers);
  }
  fake.setEventDelivery(deliverEvent);

  async function signedPost(contentType: string, raw: string, forge: Forgery, headers: Record<string, string> = {}): Promise<SimResponse> {
    const timestamp = forge.timestampOverride ?? Math.floor(Date.now() / 1000);
    const secret = forge.signingSecretOverride ?? opts.signingSecret!;
    const signature = `v0=${createHmac("sha256", secret).update(`v0:${timestamp}:${raw}`).digest("hex")}`;
    const res = await fetch(opts.botEventsUrl!, {
      method: "POST",
      headers: {
        "content-type": contentType,
        "user-agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        "x-slack-request-timestamp": String(timestamp),
        "x-slack-signature": signature,
        ...headers,
      },
      body: raw,
      signal: AbortSignal.timeout(opts.ackTimeoutMs ?? 10_000),
    });
    const text = await res.text();
    const isJson = (res.headers.get("content-type") ?? "").includes("application/json");
    return { status: res.status, body: text === "" ? undefined : isJson ? JSON.parse(text) : text };
  }

  /** Delivers queued events one after another, as Slack's separate requests for one message. */
  async function deliverAll(events: SentEvent[]): Promise<Pick<PostedMessage, "eventIds" | "responses">> {
    const responses: SimResponse[] = [];
    for (const e of events) responses.push(await fake.deliverEvent(e.id));
    return { eventIds: events.map((e) => e.id), responses };
  }

  return {
    /** A button click on a message in the fake: a `block_actions` payload. */
    clickButton(input: ClickButtonInput): Promise<SimResponse> {
      const { channel, messageTs, actionId } = input;
      const m = fake.message(channel, messageTs);
      if (!m || m.deleted) throw new Error(`slack user sim: no message ${channel}/${messageTs} to click on`);
      const shown = fake.slackMessage(m, input.messageVersion);
      const hits = findButtons(shown.blocks as Json[], actionId, input.blockId).filter((h) => input.forValue === undefined || h.button.value === input.forValue);
      if (hits.length === 0) throw new Error(`slack user sim: message ${messageTs} shows no button "${actionId}"${input.forValue ? ` for ${input.forValue}` : ""}`);
      if (hits.length > 1) throw new Error(`slack user sim: message ${messageTs} shows ${hits.length} buttons "${actionId}" (several cards); say which with forValue`);
      const hit = hits[0]!;
      const user = who(input.user);
      const action: Json = {
        action_id: actionId,
        block_id: hit.blockId,
        text: hit.button.text,
        value: input.value ?? hit.button.value,
        ...(hit.button.style ? { style: hit.button.style } : {}),
        type: "button",
        action_ts: (Date.now() / 1000).toFixed(6),
      };
      const payload: Json = {
        type: "block_actions",
        user,
        api_app_id: fake.bot.appId,
        token: VERIFICATION_TOKEN,
        container: { type: "message", message_ts: messageTs, channel_id: channel, is_ephemeral: false, ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}) },
        trigger_id: fake.issueTriggerId(user.id),
        team,
        enterprise: null,
        is_enterprise_install: false,
        channel: { id: channel, name: fake.channel(channel)?.name ?? "" },
        message: shown,
        state: { values: {} },
        response_url: fake.issueResponseUrl({ kind: "message", channel, ts: messageTs, user: user.id }),
        actions: [action],
      };
      return deliver("interactive", payload, input, false);
    },

    /** Fills in and submits a modal the bot opened; Slack then applies the bot's answer to the modal. */
    async submitView(input: SubmitViewInput): Promise<SimResponse> {
      const v = fake.view(input.viewId);
      if (!v) throw new Error(`slack user sim: no view ${input.viewId}`);
      if (!v.open) throw new Error(`slack user sim: view ${v.id} is closed`);
      if (v.user !== input.user.id) throw new Error(`slack user sim: view ${v.id} was opened for ${v.user}, not ${input.user.id}`);
      const user = who(input.user);
      const payload: Json = {
        type: "view_submission",
        team,
        user,
        api_app_id: fake.bot.appId,
        token: VERIFICATION_TOKEN,
        trigger_id: fake.issueTriggerId(user.id, v.id),
        view: { ...v.view, state: { values: stateValues(v.view.blocks as Json[], input.values ?? {}) } },
        response_urls: [],
        is_enterprise_install: false,
        enterprise: null,
      };
      const res = await deliver("interactive", payload, input, true);
      if (res.status === 200) fake.applyViewResponse(v.id, res.body);
      return res;
    },

    /** Types `/command text` in a channel: the form fields Slack posts for a slash command. */
    async slashCommand(input: SlashCommandInput): Promise<SimResponse> {
      const user = who(input.user);
      const command = input.command ?? "/opencode";
      const fields: Record<string, string> = {
        token: VERIFICATION_TOKEN,
        team_id: team.id,
        team_domain: team.domain,
        channel_id: input.channel,
        channel_name: fake.channel(input.channel)?.name ?? "",
        user_id: user.id,
        user_name: user.username,
        command,
        text: input.text ?? "",
        api_app_id: fake.bot.appId,
        is_enterprise_install: "false",
        response_url: fake.issueResponseUrl({ kind: "command", channel: input.channel, user: user.id }),
        trigger_id: fake.issueTriggerId(user.id),
      };
      const res = await deliver("slash_commands", fields, input, true);
      if (res.status === 200) fake.applyCommandResponse(input.channel, user.id, res.body);
      return res;
    },

    /**
     * Sends a message as `user` (with files, if any): the fake stores it and the bot gets its
     * `message` event (subtype file_share with files), then an `app_mention` if it mentions the bot.
     */
    async postMessage(input: PostMessageInput): Promise<PostedMessage> {
      const { message, events } = fake.postAsUser({ user: input.user.id, channel: input.channel, text: input.text, thread_ts: input.thread_ts, files: input.files });
      return { message, ...(await deliverAll(events)) };
    },

    /** Edits `user`'s own message: the bot gets a message_changed event with message and previous_message. */
    async editMessage(input: EditMessageInput): Promise<PostedMessage> {
      const { message, events } = fake.editAsUser({ user: input.user.id, channel: input.channel, ts: input.ts, text: input.text });
      return { message, ...(await deliverAll(events)) };
    },

    /** Slack's retry of an event already sent: the same envelope, with X-Slack-Retry-Num/-Reason (or retry_attempt/retry_reason). */
    redeliver(eventId: string, retry: EventRetry): Promise<SimResponse> {
      return fake.deliverEvent(eventId, retry);
    },
  };
}

function ackBody(payload: Record<string, unknown> | undefined): Json | undefined {
  return payload && Object.keys(payload).length ? payload : undefined;
}

function findButtons(blocks: Json[], actionId: string, blockId?: string): Array<{ blockId: string; button: Json }> {
  const found: Array<{ blockId: string; button: Json }> = [];
  for (const block of blocks) {
    if (blockId !== undefined && block.block_id !== blockId) continue;
    const elements = [...(Array.isArray(block.elements) ? block.elements : []), block.accessory] as unknown[];
    for (const e of elements) {
      const element = e as Json | undefined;
      if (element?.type === "button" && element.action_id === actionId) found.push({ blockId: String(block.block_id), button: element });
    }
  }
  return found;
}

/** `view.state.values` as Slack sends it, checked the way the Slack client checks before submitting. */
function stateValues(blocks: Json[], typed: Record<string, Record<string, string>>): Json {
  const values: Record<string, Json> = {};
  const unused = new Set(Object.entries(typed).flatMap(([b, actions]) => Object.keys(actions).map((a) => `${b}/${a}`)));
  for (const block of blocks) {
    const element = block.element as Json | undefined;
    if (block.type !== "input" || !element) continue;
    const blockId = String(block.block_id);
    const actionId = String(element.action_id);
    const given = typed[blockId]?.[actionId];
    unused.delete(`${blockId}/${actionId}`);
    if (element.type === "static_select" || element.type === "multi_static_select") {
      values[blockId] = { [actionId]: selectState(element, blockId, given, block.optional === true) };
      continue;
    }
    if (element.type !== "plain_text_input") {
      if (given !== undefined) throw new Error(`slack user sim: can only type into plain_text_input or pick in a static select, not ${String(element.type)}`);
      continue;
    }
    const value = given ?? (typeof element.initial_value === "string" ? element.initial_value : "");
    if (value === "" && block.optional !== true) throw new Error(`slack user sim: the client will not submit with required field "${blockId}" empty`);
    if (typeof element.max_length === "number" && value.length > element.max_length) throw new Error(`slack user sim: "${blockId}" is longer than its max_length`);
    if (typeof element.min_length === "number" && value !== "" && value.length < element.min_length) throw new Error(`slack user sim: "${blockId}" is shorter than its min_length`);
    values[blockId] = { [actionId]: { type: "plain_text_input", value: value === "" ? null : value } };
  }
  if (unused.size) throw new Error(`slack user sim: the modal has no input ${[...unused].join(", ")}`);
  return values;
}

/**
 * A static select's state as Slack sends it: `given` holds the chosen option values, comma-separated
 * for a multi select; each must be one of the element's options, as the client allows nothing else.
 */
function selectState(element: Json, blockId: string, given: string | undefined, optional: boolean): Json {
  const options = (Array.isArray(element.options) ? element.options : []) as Json[];
  const multi = element.type === "multi_static_select";
  const wanted = given === undefined || given === "" ? [] : multi ? given.split(",") : [given];
  const chosen = wanted.map((value) => {
    const option = options.find((o) => o.value === value);
    if (!option) throw new Error(`slack user sim: "${blockId}" has no option with value ${value}`);
    return option;
  });
  if (chosen.length === 0 && !optional) throw new Error(`slack user sim: the client will not submit with required field "${blockId}" empty`);
  return multi ? { type: element.type, selected_options: chosen } : { type: element.type, selected_option: chosen[0] ?? null };
}
