import { choiceLabels, renderStatus, type Card } from "../../src/core/card.ts";
import type { Form } from "../../src/core/form.ts";
import type { Decider } from "../../src/core/types.ts";

/** Text as HTML: the five characters that could start markup are escaped. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

const name = (decider: Decider) => `<strong>${escapeHtml(decider.name)}</strong>`;

/** The element id of a request's card in the page (SSE events of the same name replace it). */
export const cardId = (requestId: string) => `card-${requestId.replace(/[^A-Za-z0-9_-]/g, "_")}`;

/**
 * A card as HTML: the same words and buttons as in chat, from the core's card model. Each button
 * posts the request and the choice (the page's CSRF token goes as a header, see `page`); the answer
 * lands in the dialog.
 */
export function renderCard(card: Card): string {
  const fields = card.fields.map((field) => `<dt>${escapeHtml(field.label)}</dt><dd>${escapeHtml(field.value)}</dd>`).join("");
  const body = card.body ? `<pre class="body ${card.body.kind}">${escapeHtml(card.body.text)}</pre>` : "";
  const status = card.status
    .map((line) => {
      const text = renderStatus({ ...line, text: escapeHtml(line.text) }, name);
      return `<p class="status ${line.tone}">${text}</p>${line.code ? `<pre class="body diff">${escapeHtml(line.code)}</pre>` : ""}`;
    })
    .join("");
  const buttons = card.actions
    .map((action) => `<button name="action" value="${action}" class="${action}">${escapeHtml(choiceLabels[action])}</button>`)
    .join("");
  const options = (card.options ?? []).map((label, index) => `<button name="option" value="${index}">${escapeHtml(label)}</button>`).join("");
  const actions = buttons || options
    ? `<form class="actions" hx-post="/console/decide" hx-target="#dialog" hx-swap="innerHTML"><input type="hidden" name="request" value="${escapeHtml(card.requestId)}">${options}${buttons}</form>`
    : "";
  const decided = card.actions.length === 0 ? " decided" : "";
  return `<article class="card${decided}" id="${cardId(card.requestId)}" data-request="${escapeHtml(card.requestId)}" sse-swap="${cardId(card.requestId)}" hx-swap="outerHTML"><h2>${escapeHtml(card.title)}</h2><dl>${fields}</dl>${body}${status}${actions}<footer>${escapeHtml(card.reference)}</footer></article>`;
}

/** A form (Reject's reason, Edit's fields, a question's answers) as a dialog posting to /console/submit. */
export function renderForm(form: Form): string {
  const fields = form.fields
    .map((field) => {
      const label = `<label for="f-${field.id}">${escapeHtml(field.label)}</label>${field.hint ? `<small>${escapeHtml(field.hint)}</small>` : ""}`;
      if (field.kind === "text") {
        const value = escapeHtml(field.value ?? "");
        const input = field.multiline
          ? `<textarea id="f-${field.id}" name="${field.id}" maxlength="${field.maxLength}"${field.optional ? "" : " required"}>${value}</textarea>`
          : `<input id="f-${field.id}" name="${field.id}" value="${value}" maxlength="${field.maxLength}"${field.optional ? "" : " required"}>`;
        return `<div class="field">${label}${input}</div>`;
      }
      const options = field.options.map((o) => `<option value="${escapeHtml(o.value)}">${escapeHtml(o.label)}</option>`).join("");
      return `<div class="field">${label}<select id="f-${field.id}" name="${field.id}"${field.multiple ? " multiple" : ""}><option value="">${escapeHtml(field.placeholder)}</option>${options}</select></div>`;
    })
    .join("");
  return `<form class="dialog" hx-post="/console/submit" hx-target="#dialog" hx-swap="innerHTML"><h2>${escapeHtml(form.title)}</h2><p>${escapeHtml(form.intro)}</p><input type="hidden" name="request" value="${escapeHtml(form.requestId)}"><input type="hidden" name="form" value="${form.kind}">${fields}<button type="submit">${escapeHtml(form.submit)}</button> <button type="button" onclick="this.closest('form').remove()">${escapeHtml(form.cancel)}</button></form>`;
}

export const renderNotice = (text: string) => `<p class="notice" role="status">${escapeHtml(text)}</p>`;

/** A whole page: the console's frame around `main`; with `csrf`, every htmx request of the page sends it as X-CSRF-Token. */
export function page(title: string, main: string, options: { csrf?: string } = {}): string {
  const scripts = options.csrf ? `<script src="/console/htmx.js"></script><script src="/console/htmx-sse.js"></script>` : "";
  const headers = options.csrf ? ` hx-headers='${escapeHtml(JSON.stringify({ "X-CSRF-Token": options.csrf }))}'` : "";
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)} · opencode-chatops</title><style>${STYLE}</style>${scripts}</head><body${headers}><header><strong>opencode-chatops</strong><nav><a href="/">Pending</a><a href="/sessions">Sessions</a><a href="/costs">Costs</a><a href="/audit">Audit</a></nav></header><main>${main}</main></body></html>`;
}

const STYLE = `body{font:15px/1.45 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}header{padding:10px 20px;background:#1d2330;color:#fff;display:flex;justify-content:space-between}main{max-width:900px;margin:20px auto;padding:0 16px}.card{background:#fff;border:1px solid #d8dce3;border-radius:8px;padding:14px 18px;margin:0 0 14px}.card.decided{opacity:.8}.card h2{font-size:16px;margin:0 0 8px}dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0 0 8px}dt{color:#5b6475}dd{margin:0}pre.body{background:#0f1420;color:#e7ecf3;padding:10px;border-radius:6px;overflow:auto;white-space:pre-wrap}.status.ok{color:#176b34}.status.rejected{color:#a1261c}.status.closed,.status.warning{color:#7a5a00}.actions button{margin-right:8px;padding:6px 12px;border-radius:6px;border:1px solid #b9c0cc;background:#fff;cursor:pointer}.actions button.once{background:#1f6feb;color:#fff;border-color:#1f6feb}.actions button.reject{color:#a1261c}footer{color:#8a93a3;font-size:12px;margin-top:8px}.dialog{background:#fff;border:2px solid #1f6feb;border-radius:8px;padding:14px 18px;margin:0 0 14px}.field{margin:8px 0}.field label{display:block;font-weight:600}.field textarea,.field input,.field select{width:100%;box-sizing:border-box;font:13px ui-monospace,monospace;padding:6px}.field textarea{min-height:90px}.notice{background:#fff8e1;border:1px solid #e9d38a;padding:8px 12px;border-radius:6px}.empty{color:#5b6475}#cards:not(:empty)+.empty{display:none}form.login{background:#fff;padding:20px;border-radius:8px;max-width:320px}nav a{color:#fff;margin-left:16px}main:has(table.audit){max-width:1200px}.scroll{overflow-x:auto}@media (max-width:600px){header{flex-direction:column}nav a{margin:0 12px 0 0}.card{padding:10px}}.filters{display:flex;flex-wrap:wrap;gap:8px 14px;margin:10px 0}.filters input,.filters select{font:inherit;padding:3px}table.audit{border-collapse:collapse;width:100%;background:#fff}table.audit td,table.audit th{border-bottom:1px solid #e3e6eb;padding:6px 8px;text-align:left;vertical-align:top}table.audit code{white-space:pre-wrap}pre.report{background:#fff;border:1px solid #d8dce3;border-radius:8px;padding:12px;white-space:pre-wrap}img.chart{max-width:100%;background:#fff;border-radius:8px}.badge{display:inline-block;padding:4px 10px;border-radius:12px}.badge.intact{background:#e3f4e8;color:#176b34}.badge.broken{background:#fbe4e2;color:#a1261c}`;
