/**
 * Files in the fake Slack: those people attach in the client, and those the bot uploads through
 * Slack's external upload flow, as @slack/web-api 8.2.0's `filesUploadV2` drives it:
 * 1. `files.getUploadURLExternal` (filename, length) for every file at once → `{ upload_url, file_id }`;
 * 2. a POST of the bytes to each upload_url. WebClient sends multipart/form-data with one part named
 *    `body` (filename "Untitled") and its bearer token; Slack takes raw bytes too. Slack answers 200,
 *    here `OK - <bytes>`; WebClient treats any other status as a failure and retries it like an API
 *    call (for up to half an hour by default), so a wrong length fails the completion instead;
 * 3. one `files.completeUploadExternal` per group of files with the same channel_id, thread_ts,
 *    initial_comment and blocks.
 * Slack shares the files after answering step 3 (a maintainer: "in many cases, the API response does
 * not yet have complete shares"; files.info has them later). The fake posts the message at once, but
 * answers with the files as they were before the share: no `shares`, not yet public.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { FakeMessage, Json } from "./fake-slack.ts";

/** A message that carries the file. */
export type FileShare = { channel: string; ts: string; thread_ts?: string };
/** A file in Slack; `content` is what url_private serves. */
export type FakeFile = {
  id: string;
  name: string;
  title: string;
  mimetype: string;
  filetype: string;
  pretty_type: string;
  /** Who shared it: a person's id, or the bot's user id for an upload. */
  user: string;
  created: number;
  isPublic: boolean;
  content: Buffer;
  /** Attached by a person in the client, or uploaded by the bot through files.completeUploadExternal. */
  via: "client" | "upload";
  /** Every message that carries it, oldest first; empty for an upload completed without a channel. */
  shares: FileShare[];
  alt_txt?: string;
  snippet_type?: string;
};
/** A file as a person attaches it in the client; the mimetype defaults from the name, as Slack guesses it. */
export type FileInput = { name: string; mimetype?: string; title?: string; content: Buffer | string };
/** One upload_url handed out by files.getUploadURLExternal, followed until files.completeUploadExternal. */
export type FakeUpload = {
  fileId: string;
  filename: string;
  /** The length announced to files.getUploadURLExternal. */
  length: number;
  alt_txt?: string;
  snippet_type?: string;
  uploadUrl: string;
  /** The last POST to uploadUrl: its bytes, how they came, and the bearer token if one was sent. */
  received?: { content: Buffer; encoding: "multipart" | "raw"; token?: string; at: number };
  state: "issued" | "uploaded" | "completed";
  at: number;
};

/** The bot's message sharing uploaded files: `text` is the initial_comment (blocks are used without one). */
export type FileShareInput = { channel: string; thread_ts?: string; text: string; blocks?: Json[]; files: FakeFile[] };

export type FileStoreDeps = {
  url: string;
  team: { id: string; name: string };
  botUserId: string;
  botToken: string;
  slackId(prefix: string): string;
  channelType(channel: string): "im" | "group" | "channel";
  channelName(channel: string): string;
  resolveChannel(raw: unknown): string | undefined;
  /** chat.postMessage's answer to these blocks if it would refuse them, else undefined. */
  blocksError(blocks: unknown): Json | undefined;
  /** Posts the bot's message carrying `files`. */
  shareFiles(share: FileShareInput): FakeMessage;
  changed(): void;
};

export type FileStore = ReturnType<typeof createFileStore>;

// getUploadURLExternal's page: alt_txt_too_large past 1000 characters, snippet_too_large past 1 MB.
const MAX_ALT_TXT = 1000;
const MAX_SNIPPET_BYTES = 1024 * 1024;
// completeUploadExternal's page: channels_limit_exceeded past 100 channels.
const MAX_SHARE_CHANNELS = 100;

export function createFileStore(deps: FileStoreDeps) {
  const files: FakeFile[] = [];
  const uploads: FakeUpload[] = [];
  const file = (id: string) => files.find((f) => f.id === id);

  const fileUrl = (f: FakeFile, download = false) => `${deps.url}/files-pri/${deps.team.id}-${f.id}/${download ? "download/" : ""}${encodeURIComponent(f.name)}`;
  /** A file object as messages and events carry it. */
  const fileJson = (f: FakeFile): Json => ({
    id: f.id,
    created: f.created,
    timestamp: f.created,
    name: f.name,
    title: f.title,
    mimetype: f.mimetype,
    filetype: f.filetype,
    pretty_type: f.pretty_type,
    user: f.user,
    user_team: deps.team.id,
    editable: false,
    size: f.content.length,
    mode: "hosted",
    is_external: false,
    external_type: "",
    is_public: f.isPublic,
    public_url_shared: false,
    display_as_bot: false,
    username: "",
    url_private: fileUrl(f),
    url_private_download: fileUrl(f, true),
    media_display_type: "unknown",
    permalink: `${deps.url}/files/${f.user}/${f.id}/${encodeURIComponent(f.name)}`,
    permalink_public: `https://slack-files.com/${deps.team.id}-${f.id}-${f.id.slice(2).toLowerCase()}`,
    is_starred: false,
    has_rich_preview: false,
    file_access: "visible",
    ...(f.alt_txt ? { alt_txt: f.alt_txt } : {}),
  });
  /** A file object as files.info and the upload methods answer it: with where it is shared. */
  const fileInfoJson = (f: FakeFile): Json => {
    const shares: Record<"public" | "private", Record<string, Json[]>> = { public: {}, private: {} };
    const lists: Record<"channels" | "groups" | "ims", string[]> = { channels: [], groups: [], ims: [] };
    for (const s of f.shares) {
      const type = deps.channelType(s.channel);
      const scope = type === "channel" ? shares.public : shares.private;
      const share = { ts: s.ts, ...(s.thread_ts ? { thread_ts: s.thread_ts } : {}), channel_name: deps.channelName(s.channel), team_id: deps.team.id, share_user_id: f.user };
      (scope[s.channel] ??= []).push(share);
      const list = type === "channel" ? lists.channels : type === "group" ? lists.groups : lists.ims;
      if (!list.includes(s.channel)) list.push(s.channel);
    }
    const shared = Object.fromEntries(Object.entries(shares).filter(([, byChannel]) => Object.keys(byChannel).length));
    return { ...fileJson(f), shares: shared, ...lists };
  };

  const newFile = (name: string, fields: Pick<FakeFile, "title" | "user" | "via" | "content"> & Partial<FakeFile>): FakeFile => {
    const type = fileTypeOf(name);
    const f: FakeFile = { id: deps.slackId("F"), name, mimetype: type.mimetype, filetype: type.filetype, pretty_type: type.pretty, created: Math.floor(Date.now() / 1000), isPublic: false, shares: [], ...fields };
    files.push(f);
    return f;
  };
  /** A file a person attaches; `recordShare` once its message is stored. */
  const storeFile = (input: FileInput, user: string): FakeFile =>
    newFile(input.name, {
      title: input.title ?? input.name,
      user,
      via: "client",
      content: typeof input.content === "string" ? Buffer.from(input.content, "utf8") : input.content,
      ...(input.mimetype ? { mimetype: input.mimetype } : {}),
    });
  /** Notes that message `m` carries `shared`; a file in a public channel becomes public. */
  const recordShare = (shared: FakeFile[], m: FakeMessage) => {
    for (const f of shared) {
      f.shares.push({ channel: m.channel, ts: m.ts, ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}) });
      if (deps.channelType(m.channel) === "channel") f.isPublic = true;
    }
  };

  // ── Web API methods ────────────────────────────────────────────────────────────────────────────
  const methods: Record<string, (p: Json) => Json> = {
    "files.getUploadURLExternal": (p) => {
      const filename = str(p.filename);
      if (!filename) return refuse("invalid_arguments", "missing required field: filename");
      if (str(p.length) === "") return refuse("invalid_arguments", "missing required field: length");
      const length = Number(str(p.length));
      if (!Number.isInteger(length) || length < 0) return refuse("invalid_arguments", "length must be a whole number of bytes");
      if (length === 0) return fail("missing_argument");
      const alt = str(p.alt_txt);
      if (alt.length > MAX_ALT_TXT) return fail("alt_txt_too_large");
      const snippet = str(p.snippet_type);
      if (snippet && length > MAX_SNIPPET_BYTES) return fail("snippet_too_large");
      const upload: FakeUpload = {
        fileId: deps.slackId("F"),
        filename,
        length,
        ...(alt ? { alt_txt: alt } : {}),
        ...(snippet ? { snippet_type: snippet } : {}),
        uploadUrl: `${deps.url}/upload/v1/${randomBytes(24).toString("base64url")}`,
        state: "issued",
        at: Date.now(),
      };
      uploads.push(upload);
      return { ok: true, upload_url: upload.uploadUrl, file_id: upload.fileId };
    },
    "files.completeUploadExternal": (p) => {
      const entries = fileEntries(p.files);
      if (!entries) return refuse("invalid_arguments", 'files must be a non-empty JSON array like [{"id":"F…","title":"…"}]');
      const targets = [...new Set([str(p.channel_id), ...str(p.channels).split(",")].map((c) => c.trim()).filter(Boolean))];
      if (targets.length > MAX_SHARE_CHANNELS) return fail("channels_limit_exceeded");
      // Channel ids only (a DM by its user id); a name such as #general is not found.
      const channels = targets.map((c) => (/^[CGDUW][A-Z0-9]+$/.test(c) ? deps.resolveChannel(c) : undefined));
      if (channels.some((c) => c === undefined)) return fail("channel_not_found");
      const thread_ts = str(p.thread_ts) || undefined;
      if (thread_ts && channels.length !== 1) return refuse("invalid_arguments", "thread_ts needs exactly one channel");
      const comment = str(p.initial_comment);
      // "If the initial_comment field is provided, the blocks field is ignored."
      const blocks = comment || p.blocks === undefined ? undefined : p.blocks;
      const blocksError = blocks === undefined ? undefined : deps.blocksError(blocks);
      if (blocksError) return blocksError;

      const tickets: FakeUpload[] = [];
      for (const entry of entries) {
        const ticket = uploads.find((u) => u.fileId === entry.id);
        if (!ticket) return refuse("file_not_found", `no upload_url was handed out for file ${entry.id}`);
        if (tickets.includes(ticket)) return refuse("invalid_arguments", `file ${entry.id} is listed twice`);
        if (ticket.state === "completed") return refuse("file_not_found", `the upload of file ${entry.id} was completed already; it can be completed once`);
        if (!ticket.received) return refuse("file_not_found", `nothing was uploaded to the upload_url of file ${entry.id}`);
        // Slack documents no error for this; the fake refuses rather than keep a file cut short.
        if (ticket.received.content.length !== ticket.length) {
          return refuse("invalid_arguments", `file ${entry.id}: ${ticket.received.content.length} bytes were uploaded, ${ticket.length} announced to files.getUploadURLExternal`);
        }
        tickets.push(ticket);
      }
      const done = tickets.map((ticket, i) => {
        ticket.state = "completed";
        return newFile(ticket.filename, {
          id: ticket.fileId,
          title: entries[i]?.title || ticket.filename,
          user: deps.botUserId,
          via: "upload",
          content: ticket.received!.content,
          ...(ticket.alt_txt ? { alt_txt: ticket.alt_txt } : {}),
          ...(ticket.snippet_type ? { snippet_type: ticket.snippet_type } : {}),
        });
      });
      const answer = { ok: true, files: done.map(fileInfoJson) };
      for (const channel of channels as string[]) {
        const m = deps.shareFiles({ channel, ...(thread_ts ? { thread_ts } : {}), text: comment, ...(blocks ? { blocks: blocks as Json[] } : {}), files: done });
        recordShare(done, m);
      }
      return answer;
    },
    "files.info": (p) => {
      const f = file(str(p.file));
      return f ? { ok: true, file: fileInfoJson(f), comments: [], response_metadata: { next_cursor: "" } } : fail("file_not_found");
    },
  };

  // ── HTTP ───────────────────────────────────────────────────────────────────────────────────────
  /** Answers requests for files (url_private, permalinks, upload_urls); false for any other path. */
  async function handleHttp(req: IncomingMessage, target: URL, body: Buffer, res: ServerResponse): Promise<boolean> {
    const path = target.pathname;
    if (path.startsWith("/upload/v1/") && req.method === "POST") await receiveUpload(req, target, body, res);
    else if (path.startsWith("/files-pri/") && req.method === "GET") serveFile(req, target, res);
    else if (path.startsWith("/files/") && req.method === "GET") toSignIn(target, res);
    else if (path === "/" && req.method === "GET") signInPage(res);
    else return false;
    return true;
  }

  /** The bytes for an upload_url, as a multipart form's first file part or the raw body. */
  async function receiveUpload(req: IncomingMessage, target: URL, body: Buffer, res: ServerResponse): Promise<void> {
    const ticket = uploads.find((u) => u.uploadUrl === `${deps.url}${target.pathname}`);
    if (!ticket || ticket.state === "completed") {
      res.writeHead(404, { "content-type": "text/plain" }).end("upload_not_found");
      return;
    }
    const contentType = req.headers["content-type"] ?? "";
    const multipart = /^multipart\/form-data/i.test(contentType);
    const content = multipart ? await firstFilePart(contentType, body) : body;
    if (!content) {
      res.writeHead(400, { "content-type": "text/plain" }).end("invalid_form_data");
      return;
    }
    const header = req.headers.authorization;
    const token = header?.startsWith("Bearer ") ? header.slice("Bearer ".length) : undefined;
    ticket.received = { content, encoding: multipart ? "multipart" : "raw", ...(token ? { token } : {}), at: Date.now() };
    ticket.state = "uploaded";
    res.writeHead(200, { "content-type": "text/plain; charset=utf-8" }).end(`OK - ${content.length}`);
    deps.changed();
  }

  /** url_private(_download): the bytes for the bot token; anyone else is sent to sign in, as Slack does. */
  function serveFile(req: IncomingMessage, target: URL, res: ServerResponse): void {
    if (req.headers.authorization !== `Bearer ${deps.botToken}`) return toSignIn(target, res);
    const match = /^\/files-pri\/([A-Z0-9]+)-([A-Z0-9]+)\/(download\/)?[^/]+$/.exec(target.pathname);
    const f = match && match[1] === deps.team.id ? file(match[2] ?? "") : undefined;
    if (!match || !f) {
      res.writeHead(404, { "content-type": "text/plain" }).end("file_not_found");
      return;
    }
    const disposition = `${match[3] ? "attachment" : "inline"}; filename="${f.name.replace(/"/g, "")}"`;
    res.writeHead(200, { "content-type": f.mimetype, "content-length": String(f.content.length), "content-disposition": disposition }).end(f.content);
  }

  // Without a token Slack answers 302 to the workspace's sign-in page, which answers 200 in HTML.
  function toSignIn(target: URL, res: ServerResponse): void {
    const location = `${deps.url}/?redir=${encodeURIComponent(target.pathname)}`;
    res.writeHead(302, { location, "content-type": "text/html; charset=utf-8" }).end(`<a href="${location}">Found</a>.`);
  }

  function signInPage(res: ServerResponse): void {
    const page = `<!DOCTYPE html><html lang="en-US"><head><title>Sign in | Slack</title></head><body><h1>Sign in to ${deps.team.name}</h1></body></html>`;
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(page);
  }

  return {
    /** Every file people shared and every upload completed, oldest first. */
    files,
    /** Every upload_url handed out, oldest first, with what was sent to it. */
    uploads,
    file,
    /** A file's bytes as UTF-8 text; throws for an unknown id. */
    fileText(id: string): string {
      const f = file(id);
      if (!f) throw new Error(`fake Slack: no file ${id}`);
      return f.content.toString("utf8");
    },
    fileJson,
    storeFile,
    recordShare,
    methods,
    handleHttp,
  };
}

const fail = (error: string): Json => ({ ok: false, error });
/** An error with the reason in response_metadata, which WebClient logs. */
const refuse = (error: string, reason: string): Json => ({ ok: false, error, response_metadata: { messages: [`[ERROR] ${reason}`] } });
const str = (v: unknown): string => (typeof v === "string" ? v : typeof v === "number" ? String(v) : "");

/** `files` as a form sends it (a JSON string) or a JSON body does (an array): each entry needs an id. */
function fileEntries(raw: unknown): Array<{ id: string; title?: string }> | undefined {
  let value = raw;
  if (typeof raw === "string") {
    try {
      value = JSON.parse(raw);
    } catch {
      return undefined;
    }
  }
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const entries: Array<{ id: string; title?: string }> = [];
  for (const entry of value as unknown[]) {
    if (typeof entry !== "object" || entry === null) return undefined;
    const { id, title } = entry as { id?: unknown; title?: unknown };
    if (typeof id !== "string" || id === "") return undefined;
    entries.push({ id, ...(typeof title === "string" ? { title } : {}) });
  }
  return entries;
}

async function firstFilePart(contentType: string, body: Buffer): Promise<Buffer | undefined> {
  const form = await new Request("http://fake-slack.invalid/", { method: "POST", headers: { "content-type": contentType }, body: new Uint8Array(body) })
    .formData()
    .catch(() => undefined);
  for (const [, value] of form ?? []) {
    if (typeof value !== "string") return Buffer.from(await value.arrayBuffer());
  }
  return undefined;
}

const FILE_TYPES: Record<string, { filetype: string; pretty: string; mimetype: string }> = {
  txt: { filetype: "text", pretty: "Plain Text", mimetype: "text/plain" },
  log: { filetype: "text", pretty: "Plain Text", mimetype: "text/plain" },
  md: { filetype: "markdown", pretty: "Markdown (raw)", mimetype: "text/plain" },
  json: { filetype: "json", pretty: "JSON", mimetype: "application/json" },
  diff: { filetype: "diff", pretty: "Diff", mimetype: "text/plain" },
  patch: { filetype: "diff", pretty: "Diff", mimetype: "text/plain" },
  png: { filetype: "png", pretty: "PNG", mimetype: "image/png" },
  jpg: { filetype: "jpg", pretty: "JPEG", mimetype: "image/jpeg" },
  jpeg: { filetype: "jpg", pretty: "JPEG", mimetype: "image/jpeg" },
  gif: { filetype: "gif", pretty: "GIF", mimetype: "image/gif" },
  pdf: { filetype: "pdf", pretty: "PDF", mimetype: "application/pdf" },
  zip: { filetype: "zip", pretty: "Zip", mimetype: "application/zip" },
};

function fileTypeOf(name: string): { filetype: string; pretty: string; mimetype: string } {
  const extension = /\.([^.]+)$/.exec(name)?.[1]?.toLowerCase() ?? "";
  return FILE_TYPES[extension] ?? { filetype: "binary", pretty: "Binary", mimetype: "application/octet-stream" };
}
