/**
 * Requests for `POST /slack/events`: forged ones (another secret, a stale or missing timestamp, a
 * signature of another body, an ssl_check smuggling a payload) and correctly signed malformed ones
 * (not JSON, truncated, megabytes, wrong content type, JSON scalars, garbled block_actions,
 * view_submission, slash commands, events). Signed ones never come from the approver.
 */
import fc from "fast-check";
import { anyJson, anyString, bigString, hugeBody, oddString, tampered, type Body } from "./garbage.ts";
import type { FuzzTargets } from "./fuzz-targets.ts";

/** How the request is signed: with the bot's secret, or forged. */
export type Signing =
  | { as: "valid" }
  | { as: "secret"; secret: string }
  | { as: "stale"; ageSec: number }
  | { as: "other-body"; body: string }
  | { as: "headers"; signature?: string; timestamp?: string };

export type SlackCase =
  | { target: "slack"; via: "http"; kind: string; forged: boolean; contentType?: string; body: Body; signing: Signing }
  /** A real card's button clicked by the approver through the Slack client sim, with the signing forged. */
  | { target: "slack"; via: "sim"; kind: "forged-click"; forged: true; card: number; actionId: string; forge: { signingSecretOverride: string } | { timestampOverride: number } };

/** Bolt's body limit (HTTPModuleFunctions.defaultBodyLimit): a larger body is answered 413 before anything else. */
export const SLACK_BODY_LIMIT = 4 * 1024 * 1024;
/** Where a generated payload's response_url or trigger_id is one the fake Slack issues, at send time. */
export const FAKE_ISSUED = "@fake-issued";

const FORM = "application/x-www-form-urlencoded";
const JSON_TYPE = "application/json";
const ACTIONS = ["once", "always", "reject", "edit", "answer", "dismiss", "view"];
const CALLBACK_IDS = ["approval_reject", "approval_edit", "question_answer"];

export function slackCases(t: FuzzTargets): fc.Arbitrary<SlackCase> {
  const s = t.slack;
  const user = fc.oneof(fc.constantFrom(...s.others).map((id) => ({ id, username: id.toLowerCase(), name: "x", team_id: "T0FAKETEAM" })), fc.constant(undefined), fc.record({ id: fc.constantFrom(...s.others), username: oddString(), name: anyString() }));
  const requestId = fc.oneof(fc.constantFrom(...t.requestIds), tampered(t.requestIds), anyString(), fc.constant(""));
  const channel = fc.oneof(fc.constant(s.channel), fc.constantFrom("C0NOWHERE", "D0DIRECT", "", "G0GROUP"), oddString(12));
  const issued = fc.oneof(fc.constant(FAKE_ISSUED), fc.constantFrom("http://127.0.0.1:9/nothing", "not a url", ""), oddString());
  const card = fc.nat(s.cards.length - 1).map((i) => s.cards[i]!);

  const action = fc.record({
    action_id: fc.oneof(fc.constantFrom(...ACTIONS).map((a) => `approval:${a}`), fc.nat(12).map((n) => `question:option:${n}`), fc.constantFrom("approval:", "approval:nope", "question:option:-1", "question:option:1e9", "session:stop"), oddString()),
    block_id: fc.oneof(fc.constantFrom("approval_actions", "question_options"), oddString()),
    value: fc.option(requestId, { nil: undefined }),
    type: fc.constantFrom("button", "static_select", "overflow", "datepicker", ""),
    action_ts: fc.constant("1700000000.000001"),
  });
  const blockActions = fc.record({
    type: fc.constant("block_actions"),
    user,
    api_app_id: fc.constantFrom("A0FAKEAPP", "A0OTHER"),
    team: fc.option(fc.constant({ id: "T0FAKETEAM", domain: "fake-workspace" }), { nil: undefined }),
    container: fc.option(fc.record({ type: fc.constant("message"), message_ts: fc.oneof(card.map((c) => c.ts), oddString()), channel_id: channel }), { nil: undefined }),
    channel: fc.option(fc.record({ id: channel, name: oddString() }), { nil: undefined }),
    message: fc.option(fc.record({ ts: fc.oneof(card.map((c) => c.ts), oddString()), text: anyString(), blocks: fc.array(anyJson, { maxLength: 3 }) }), { nil: undefined }),
    trigger_id: fc.option(issued, { nil: undefined }),
    response_url: fc.option(issued, { nil: undefined }),
    actions: fc.oneof({ weight: 6, arbitrary: fc.array(action, { minLength: 1, maxLength: 3 }) }, fc.constant([]), fc.constant(null), fc.array(anyJson, { maxLength: 2 })),
  });
  const modalContext = fc.record({ requestId, channel, messageTs: fc.oneof(card.map((c) => c.ts), oddString()) }).map((c) => JSON.stringify(c));
  const stateValues = fc.oneof(
    fc.dictionary(fc.constantFrom("reason", "command", "description", "filePath", "content", "json", "answer", "x"), fc.record({ value: fc.oneof(fc.record({ type: fc.constantFrom("plain_text_input", "static_select", "multi_static_select"), value: fc.option(anyString(), { nil: null }), selected_option: fc.option(fc.record({ value: oddString() }), { nil: null }), selected_options: fc.option(fc.array(fc.record({ value: oddString() }), { maxLength: 3 }), { nil: undefined }) }), anyJson) })),
    anyJson,
  );
  const viewSubmission = fc.record({
    type: fc.constantFrom("view_submission", "view_closed"),
    user,
    team: fc.constant({ id: "T0FAKETEAM", domain: "fake-workspace" }),
    api_app_id: fc.constant("A0FAKEAPP"),
    trigger_id: issued,
    view: fc.option(
      fc.record({
        id: fc.oneof(fc.constant("V0NOSUCH"), oddString()),
        type: fc.constant("modal"),
        callback_id: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...CALLBACK_IDS) }, oddString()),
        private_metadata: fc.oneof({ weight: 3, arbitrary: modalContext }, fc.constantFrom("", "null", "[]", "1", "\"x\"", "{", "{\"requestId\":{}}"), anyString()),
        state: fc.option(fc.record({ values: stateValues }), { nil: undefined }),
        hash: oddString(),
      }),
      { nil: undefined },
    ),
  });
  const slashText = fc.oneof(
    fc.constantFrom("", "help", "status", "stop", "sessions", "costs", "costs 2024-13-45..x", "digest", "policy show", "policy reload", "policy always", "policy always revoke 1", "project list", "project remove web", "project default web"),
    fc.tuple(fc.constantFrom("project add", "policy why", "costs", "run", "project remove", "fix"), anyString()).map(([a, b]) => `${a} ${b}`),
    anyString(),
  );
  const slash = fc.record({
    token: fc.constant("fakeVerificationToken0000"),
    team_id: fc.constantFrom("T0FAKETEAM", "T0OTHER", ""),
    channel_id: channel,
    user_id: fc.oneof(fc.constantFrom(...s.others), fc.constant("")),
    user_name: oddString(),
    command: fc.oneof({ weight: 4, arbitrary: fc.constant("/opencode") }, fc.constantFrom("/other", "", "/OPENCODE"), oddString()),
    text: slashText,
    response_url: issued,
    trigger_id: issued,
  });
  const event = fc.record({
    type: fc.constantFrom("event_callback", "url_verification", "app_rate_limited", "nonsense"),
    token: fc.constant("fakeVerificationToken0000"),
    team_id: fc.constant("T0FAKETEAM"),
    api_app_id: fc.constant("A0FAKEAPP"),
    challenge: fc.option(oddString(), { nil: undefined }),
    event_id: fc.oneof(fc.stringMatching(/^Ev0[A-Z0-9]{8}$/), oddString()),
    event_time: fc.integer(),
    event: fc.option(
      fc.record({
        type: fc.constantFrom("message", "app_mention", "reaction_added", "member_joined_channel", "nonsense"),
        subtype: fc.option(fc.constantFrom("file_share", "message_changed", "bot_message", "thread_broadcast"), { nil: undefined }),
        user: fc.option(fc.constantFrom(...s.others), { nil: undefined }),
        text: fc.oneof(anyString(), fc.constant("<@U0FAKEBOT> fix the failing test")),
        ts: fc.constantFrom("1700000001.000100", "1700000001.000200"),
        thread_ts: fc.option(fc.oneof(card.map((c) => c.threadTs), oddString()), { nil: undefined }),
        channel,
        files: fc.option(fc.array(fc.record({ name: oddString(), url_private_download: fc.constantFrom("http://127.0.0.1:9/file", "not a url"), size: fc.integer() }), { maxLength: 2 }), { nil: undefined }),
      }),
      { nil: undefined },
    ),
  });

  const form = (fields: fc.Arbitrary<Record<string, string>>) => fields.map((f) => new URLSearchParams(f).toString());
  const asPayload = (payload: fc.Arbitrary<unknown>) => payload.map((p) => new URLSearchParams({ payload: JSON.stringify(p) }).toString());
  const interactive = fc.oneof(asPayload(blockActions), asPayload(viewSubmission));
  const signed = (kind: string, body: fc.Arbitrary<Body>, contentType: fc.Arbitrary<string | undefined>) =>
    fc.record({ target: fc.constant("slack" as const), via: fc.constant("http" as const), kind: fc.constant(kind), forged: fc.constant(false), contentType, body, signing: fc.constant<Signing>({ as: "valid" }) });
  const forged = (kind: string, signing: fc.Arbitrary<Signing>) =>
    fc.record({ target: fc.constant("slack" as const), via: fc.constant("http" as const), kind: fc.constant(kind), forged: fc.constant(true), contentType: fc.constant(FORM), body: interactive, signing });

  return fc.oneof(
    // Forged: each must be refused (401), whatever it carries.
    { weight: 3, arbitrary: fc.record({ target: fc.constant("slack" as const), via: fc.constant("sim" as const), kind: fc.constant("forged-click" as const), forged: fc.constant(true as const), card: fc.nat(s.cards.length - 1), actionId: fc.constantFrom("approval:once", "approval:always", "approval:reject", "approval:edit"), forge: fc.oneof(fc.record({ signingSecretOverride: oddString(64) }), fc.record({ timestampOverride: fc.integer({ min: 0, max: Math.floor(Date.now() / 1000) - 310 }) })) }) },
    { weight: 2, arbitrary: forged("wrong-secret", fc.record({ as: fc.constant("secret" as const), secret: oddString(64) })) },
    { weight: 2, arbitrary: forged("stale-timestamp", fc.record({ as: fc.constant("stale" as const), ageSec: fc.integer({ min: 310, max: 10 * 365 * 86_400 }) })) },
    { weight: 1, arbitrary: forged("signature-of-another-body", fc.record({ as: fc.constant("other-body" as const), body: oddString() })) },
    { weight: 2, arbitrary: forged("bad-headers", fc.record({ as: fc.constant("headers" as const), signature: fc.option(fc.oneof(fc.stringMatching(/^v0=[0-9a-f]{64}$/), fc.stringMatching(/^v1=[0-9a-f]{64}$/), oddString()), { nil: undefined }), timestamp: fc.option(fc.oneof(fc.constant(String(Math.floor(Date.now() / 1000))), oddString(12)), { nil: undefined }) })) },
    { weight: 1, arbitrary: fc.record({ target: fc.constant("slack" as const), via: fc.constant("http" as const), kind: fc.constant("ssl-check-smuggling"), forged: fc.constant(true), contentType: fc.constant(FORM), body: asPayload(blockActions).map((b) => `ssl_check=1&${b}`), signing: fc.constant<Signing>({ as: "headers" }) }) },
    { weight: 1, arbitrary: fc.record({ target: fc.constant("slack" as const), via: fc.constant("http" as const), kind: fc.constant("forged-huge"), forged: fc.constant(true), contentType: fc.constant(JSON_TYPE), body: hugeBody(100_000, 5_000_000), signing: fc.constant<Signing>({ as: "secret", secret: "not-the-secret" }) }) },
    // Signed with the real secret, malformed: answered, never with a 5xx, never deciding.
    { weight: 2, arbitrary: signed("not-json", fc.oneof(anyString(), fc.constant("")), fc.constantFrom(JSON_TYPE, FORM, "text/plain", undefined, "application/json; charset=utf-8", "multipart/form-data; boundary=x")) },
    { weight: 2, arbitrary: signed("truncated", fc.tuple(fc.oneof(interactive, blockActions.map((b) => JSON.stringify(b))), fc.double({ min: 0, max: 1, noNaN: true })).map(([b, at]) => b.slice(0, Math.floor(b.length * at))), fc.constantFrom(JSON_TYPE, FORM)) },
    { weight: 1, arbitrary: signed("huge", hugeBody(500_000, 5_000_000), fc.constantFrom(JSON_TYPE, FORM, "text/plain")) },
    { weight: 1, arbitrary: signed("wrong-content-type", fc.oneof(interactive, blockActions.map((b) => JSON.stringify(b))), fc.constantFrom(JSON_TYPE, FORM, "text/plain", undefined)) },
    { weight: 2, arbitrary: signed("json-scalar", fc.oneof(fc.constantFrom("null", "1", "true", "\"x\"", "[]", "[null]", "{}"), fc.constantFrom("payload=null", "payload=1", "payload=%22x%22", "payload=[]", "payload=", "payload=%7B%7D", "ssl_check=0")), fc.constantFrom(JSON_TYPE, FORM)) },
    { weight: 6, arbitrary: signed("block_actions", asPayload(blockActions), fc.constant(FORM)) },
    { weight: 4, arbitrary: signed("view_submission", asPayload(viewSubmission), fc.constant(FORM)) },
    { weight: 4, arbitrary: signed("slash-command", form(slash), fc.constant(FORM)) },
    { weight: 3, arbitrary: signed("event", event.map((e) => JSON.stringify(e)), fc.constant(JSON_TYPE)) },
    { weight: 1, arbitrary: signed("other-payload", asPayload(fc.record({ type: fc.constantFrom("shortcut", "message_action", "block_suggestion", "dialog_submission", "interactive_message", "nonsense"), callback_id: oddString(), user, value: bigString(1, 5_000) })), fc.constant(FORM)) },
  );
}
