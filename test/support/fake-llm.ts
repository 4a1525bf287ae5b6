/**
 * A scripted OpenAI-compatible model for the real OpenCode server (provider "fake" in opencode.json).
 *
 * DEFAULT SCRIPT (`defaultScript`), driven by the conversation OpenCode sends:
 * - Title requests (OpenCode asks the small model for a session title; its system prompt starts
 *   "You are a title generator" and it sends no tools) → text: the user's first line, ≤ 50 chars.
 * - Last message from the user; directives are tried in this order, the first that matches wins:
 *     `RUN2: <cmd1> ;; <cmd2>`     → two (or more, split on ";;") bash calls in ONE turn, so OpenCode
 *                                    asks two permissions in the same millisecond
 *     `RUN: <command>`             → one bash call `{command, description}`; the command is the rest of
 *                                    the message (it may span lines)
 *     `WRITE <path>: <content>`    → one write call `{filePath, content}`; a relative path is resolved
 *                                    against the "Working directory:" OpenCode puts in the system prompt
 *     `ASK: <question> ;; <a> | <b>` → one question call with options a, b
 *     `LONG: <n> IN <k>`           → a text answer of n characters (numbered lines), streamed in k deltas
 *     `SAY: <text>`                → exactly that text (to the end of its line)
 *     `FAIL: <message>`            → HTTP 400 with that error message (OpenCode does not retry a 400)
 *     anything else                → text "ok"
 * - Last message(s) are tool results (`role: "tool"`):
 *     a result containing "Run exactly this command instead" followed by a ``` fenced ``` or `backticked`
 *     command (the bot's edit fallback, sent as a reject message) → a new bash call with exactly it;
 *     otherwise → text "done: <tool result text>" (several results joined by newlines), finish "stop".
 * Every answer carries usage (1000 prompt, 100 completion tokens) so OpenCode computes a cost > 0.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { isAbsolute, resolve } from "node:path";

export type ChatContent = string | null | Array<{ type: string; text?: string }>;

export interface ChatMessage {
  role: "system" | "user" | "assistant" | "tool";
  content?: ChatContent;
  tool_calls?: Array<{ id: string; type: "function"; function: { name: string; arguments: string } }>;
  tool_call_id?: string;
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  tools?: Array<{ type: "function"; function: { name: string; description?: string; parameters?: unknown } }>;
  stream?: boolean;
  [key: string]: unknown;
}

export interface ToolCall {
  name: string;
  arguments: Record<string, unknown>;
  id?: string;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
}

export type LlmTurn = ({ text: string; chunks?: number } | { toolCalls: ToolCall[] } | { error: { status: number; message: string } }) & { usage?: Usage };

/** Decides the model's answer to one request; may be async to hold the model back. */
export type LlmScript = (req: ChatRequest) => LlmTurn | Promise<LlmTurn>;

export interface FakeLlm {
  /** Base URL ending in /v1, for opencode.json `options.baseURL`. */
  url: string;
  /** Every chat request body received, in order (title requests included). */
  requests: ChatRequest[];
  setScript(script: LlmScript): void;
  close(): Promise<void>;
}

const DEFAULT_USAGE: Usage = { prompt_tokens: 1000, completion_tokens: 100 };
const EDIT_FALLBACK = /Run exactly this command instead[\s\S]*?(?:```[^\n]*\n([\s\S]*?)\n?```|`([^`\n]+)`)/;

/** Starts the fake model on 127.0.0.1, on `port` or a free one. */
export async function startFakeLlm(script: LlmScript = defaultScript, port = 0): Promise<FakeLlm> {
  let current = script;
  let callCount = 0;
  const requests: ChatRequest[] = [];
  const nextCallId = () => `call_${++callCount}_${Math.random().toString(36).slice(2, 8)}`;

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: String(error), type: "fake_llm_error" } }));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === "GET" && req.url?.endsWith("/models")) {
      return json(res, 200, { object: "list", data: [{ id: "fake-model", object: "model", owned_by: "fake" }] });
    }
    if (req.method !== "POST" || !req.url?.endsWith("/chat/completions")) {
      return json(res, 404, { error: { message: `no route ${req.method} ${req.url}` } });
    }
    const body = JSON.parse(await readBody(req)) as ChatRequest;
    requests.push(body);
    const turn = await current(body);
    if ("error" in turn) return json(res, turn.error.status, { error: { message: turn.error.message, type: "invalid_request_error", code: null } });
    const calls = "toolCalls" in turn ? turn.toolCalls.map((c) => ({ ...c, id: c.id ?? nextCallId() })) : [];
    const answer = { id: `chatcmpl-${requests.length}`, created: Math.floor(Date.now() / 1000), model: body.model };
    const usage = { ...(turn.usage ?? DEFAULT_USAGE), total_tokens: 0 };
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
    const toolCalls = calls.map((c, index) => ({
      index,
      id: c.id,
      type: "function" as const,
      function: { name: c.name, arguments: JSON.stringify(c.arguments) },
    }));
    const text = "text" in turn ? turn.text : null;
    const finish = calls.length > 0 ? "tool_calls" : "stop";
    if (!body.stream) {
      const message = { role: "assistant", content: text, ...(calls.length ? { tool_calls: toolCalls } : {}) };
      return json(res, 200, { ...answer, object: "chat.completion", choices: [{ index: 0, message, finish_reason: finish }], usage });
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
    const chunk = (choices: unknown[], extra: object = {}) =>
      res.write(`data: ${JSON.stringify({ ...answer, object: "chat.completion.chunk", choices, ...extra })}\n\n`);
    chunk([{ index: 0, delta: { role: "assistant" }, finish_reason: null }]);
    if (text !== null) for (const piece of pieces(text, "chunks" in turn ? turn.chunks : undefined)) chunk([{ index: 0, delta: { content: piece }, finish_reason: null }]);
    for (const call of toolCalls) chunk([{ index: 0, delta: { tool_calls: [call] }, finish_reason: null }]);
    chunk([{ index: 0, delta: {}, finish_reason: finish }]);
    chunk([], { usage });
    res.end("data: [DONE]\n\n");
  }

  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(port, "127.0.0.1", () => ok());
  });
  const listening = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${listening}/v1`,
    requests,
    setScript: (next) => {
      current = next;
    },
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}

/** The conversation-driven script documented at the top of this file. */
export const defaultScript: LlmScript = (req) => {
  const last = req.messages.at(-1);
  if (isTitleRequest(req)) return { text: titleFor(textOf(last?.content)) };
  if (last?.role === "tool") return answerToolResults(toolResults(req.messages));
  if (last?.role !== "user") return { text: "ok" };
  return answerDirective(textOf(last.content), workingDirectory(req));
};

/** True for OpenCode's session-title request to the small model. */
export function isTitleRequest(req: ChatRequest): boolean {
  const system = req.messages.find((m) => m.role === "system");
  return !req.tools?.length && /title generator/i.test(textOf(system?.content));
}

/** Plain text of a message's content, whether a string or an array of parts. */
export function textOf(content: ChatContent | undefined): string {
  if (typeof content === "string") return content;
  return (content ?? []).map((part) => part.text ?? "").join("\n");
}

/** The project directory OpenCode announces in its system prompt ("Working directory: …"). */
export function workingDirectory(req: ChatRequest): string | undefined {
  const system = req.messages.filter((m) => m.role === "system").map((m) => textOf(m.content)).join("\n");
  return /Working directory: (.+)/.exec(system)?.[1]?.trim();
}

/** `text` in `count` pieces of about equal size (one piece by default). */
function pieces(text: string, count = 1): string[] {
  const size = Math.max(1, Math.ceil(text.length / count));
  const out: string[] = [];
  for (let at = 0; at < text.length; at += size) out.push(text.slice(at, at + size));
  return out;
}

/** A text of exactly `n` characters in numbered lines, so any cut or loss shows. */
export function longText(n: number): string {
  let text = "";
  for (let line = 1; text.length < n; line++) text += `line ${line}: the quick brown fox jumps over the lazy dog\n`;
  return text.slice(0, n);
}

function answerDirective(text: string, cwd: string | undefined): LlmTurn {
  const long = /LONG:\s*(\d+)\s+IN\s+(\d+)/.exec(text);
  if (long?.[1] && long[2]) return { text: longText(Number(long[1])), chunks: Number(long[2]) };
  const say = /SAY:[ \t]*([^\n]*)/.exec(text);
  if (say?.[1] !== undefined) return { text: say[1] };
  const fail = /FAIL:\s*(.+)/.exec(text);
  if (fail?.[1]) return { error: { status: 400, message: fail[1].trim() } };
  const run2 = /RUN2:\s*([\s\S]+)/.exec(text);
  if (run2?.[1]) return { toolCalls: run2[1].split(";;").map((cmd) => bash(cmd.trim())) };
  const run = /RUN:\s*([\s\S]+)/.exec(text);
  if (run?.[1]) return { toolCalls: [bash(run[1].trim())] };
  const write = /WRITE ([^\s:]+): ?([\s\S]*)/.exec(text);
  if (write?.[1]) {
    const filePath = isAbsolute(write[1]) ? write[1] : resolve(cwd ?? process.cwd(), write[1]);
    return { toolCalls: [{ name: "write", arguments: { filePath, content: write[2] ?? "" } }] };
  }
  const ask = /ASK:\s*([^\n]+?)\s*;;\s*([^\n]+)/.exec(text);
  if (ask?.[1] && ask[2]) {
    const options = ask[2].split("|").map((label) => ({ label: label.trim(), description: label.trim() }));
    return { toolCalls: [{ name: "question", arguments: { questions: [{ question: ask[1], header: "Question", options }] } }] };
  }
  return { text: "ok" };
}

function answerToolResults(results: string[]): LlmTurn {
  for (const result of results) {
    const edited = EDIT_FALLBACK.exec(result);
    const command = edited?.[1] ?? edited?.[2];
    if (command !== undefined) return { toolCalls: [bash(command)] };
  }
  return { text: `done: ${results.join("\n")}` };
}

/** The trailing run of tool results (one per tool call of the previous assistant turn). */
function toolResults(messages: ChatMessage[]): string[] {
  const results: string[] = [];
  for (let i = messages.length - 1; i >= 0 && messages[i]?.role === "tool"; i--) {
    results.unshift(textOf(messages[i]?.content));
  }
  return results;
}

function bash(command: string): ToolCall {
  return { name: "bash", arguments: { command, description: `Run ${command.split("\n")[0]}` } };
}

function titleFor(text: string): string {
  return (text.split("\n").find((line) => line.trim()) ?? "Untitled").trim().slice(0, 50);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((ok, fail) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => ok(body));
    req.on("error", fail);
  });
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(value));
}
