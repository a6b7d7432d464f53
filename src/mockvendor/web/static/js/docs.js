// The API docs page, generated from the server's own /openapi.json: every operation with
// its description, parameters, schemas, examples, simulated failures, code samples and a
// live "Try it".

import { LANGUAGES } from "./docs-samples.js";
import { paramsTable, schemaTable } from "./docs-schema.js";
import { $, copyButton, fmtMs, getJSON, h, pretty, replace, richInline, richText, statusClass } from "./dom.js";
import { send } from "./http.js";
import { bodyOf, deref, operations, paramDefault } from "./wire.js";

const FAULT_HEADER = "x-mockvendor-fault";
const DELAY_HEADER = "x-mockvendor-delay-ms";
let servedModels = []; // model names the server answers to, for model path parameters

async function load() {
  let doc;
  try {
    doc = await getJSON("/openapi.json");
  } catch (err) {
    $("#doc-meta").textContent = `Could not load /openapi.json: ${err.message}`;
    return;
  }
  const info = doc.info || {};
  $("#doc-title").textContent = `${info.title || "API"} API`;
  $("#doc-meta").textContent = `Version ${info.version || "?"} · OpenAPI ${doc.openapi || "?"} · generated from /openapi.json`;
  replace($("#doc-description"), richText(info.description || ""));
  const ops = operations(doc);
  try {
    servedModels = (await getJSON("/admin/vendors")).models || [];
  } catch { /* only used to prefill model parameters */ }
  replace($("#fault-help"), faultHelp(doc, ops));
  renderToc(ops);
  replace($("#ops"), ops.map((e) => operation(doc, e)));
  if (location.hash) document.getElementById(location.hash.slice(1))?.scrollIntoView();
}

/** One paragraph on forcing failures, from the fault headers the operations document. */
function faultHelp(doc, ops) {
  const seen = new Map();
  for (const e of ops) for (const p of e.params) if (p.name.startsWith("x-mockvendor-") && !seen.has(p.name)) seen.set(p.name, p);
  if (!seen.size) return null;
  return h(
    "div",
    { class: "faults" },
    h("h2", { text: "Simulated failures" }),
    h("p", { text: "Vendors fail at random at their configured rates, and any request can force an outcome with these headers. Every simulated failure answers with the header x-mockvendor-fault, so it is never mistaken for a real bug." }),
    h("ul", {}, [...seen.values()].map((p) => h("li", {}, h("code", { text: p.name }), ": ", richInline(p.description || "")))),
  );
}

function renderToc(ops) {
  const groups = new Map();
  for (const e of ops) {
    const tag = (e.op.tags && e.op.tags[0]) || "Other";
    if (!groups.has(tag)) groups.set(tag, []);
    groups.get(tag).push(e);
  }
  const list = $("#toc-list");
  replace(
    list,
    [...groups].map(([tag, entries]) => [
      h("div", { class: "group", text: tag }),
      h(
        "ul",
        {},
        entries.map((e) =>
          h("li", { dataset: { search: `${tag} ${e.method} ${e.path} ${e.op.summary || ""}`.toLowerCase() } },
            h("a", { href: `#${e.id}` }, h("span", { class: `method ${e.method.toLowerCase()}`, text: e.method }), " ", e.path)),
        ),
      ),
    ]),
  );
  $("#filter").addEventListener("input", (ev) => {
    const q = ev.target.value.trim().toLowerCase();
    for (const li of list.querySelectorAll("li")) li.classList.toggle("hidden", Boolean(q) && !li.dataset.search.includes(q));
    for (const sec of document.querySelectorAll(".op")) sec.classList.toggle("hidden", Boolean(q) && !sec.dataset.search.includes(q));
  });
  if (window.matchMedia("(max-width: 760px)").matches) $("#toc").open = false;
}

function operation(doc, entry) {
  const { op, params } = entry;
  const { schema, example } = bodyOf(doc, op);
  const hasBody = Boolean(op.requestBody);
  const tag = (op.tags && op.tags[0]) || "";
  const tryIt = new TryIt(doc, entry, hasBody ? example : undefined);
  const section = h(
    "section",
    { class: "panel op", id: entry.id, "aria-labelledby": `${entry.id}-title`, dataset: { search: `${tag} ${entry.method} ${entry.path} ${op.summary || ""}`.toLowerCase() } },
    h("header", {}, h("span", { class: `method ${entry.method.toLowerCase()}`, text: entry.method }), h("h2", { class: "path", id: `${entry.id}-title`, text: entry.path }), tag ? h("span", { class: "badge s-3", text: tag }) : null),
    op.summary ? h("p", { class: "summary", text: op.summary }) : null,
    richText(withoutSummary(op)),
    simulated(entry, tryIt),
    params.length ? [h("h3", { text: "Parameters" }), paramsTable(doc, params)] : null,
    h(
      "div",
      { class: "cols" },
      h(
        "div",
        {},
        hasBody ? [h("h3", { text: "Request body" }), schemaTable(doc, schema)] : null,
        example !== undefined ? [h("h3", { text: "Example" }), h("pre", {}, h("code", { text: pretty(example) }))] : null,
        responses(doc, op),
      ),
      h("div", {}, samples(tryIt), tryIt.el),
    ),
  );
  return section;
}

/** The description, less a first paragraph that only repeats the summary. */
function withoutSummary(op) {
  const d = (op.description || "").trim();
  if (!op.summary || !d.startsWith(op.summary.trim())) return d;
  return d.slice(op.summary.trim().length).trim();
}

/** The failures this operation can simulate, with buttons that set Try it's headers. */
function simulated(entry, tryIt) {
  if (!entry.params.some((p) => p.name.toLowerCase() === FAULT_HEADER)) return null;
  const statuses = Object.keys(entry.op.responses || {}).filter((s) => s === "429" || s.startsWith("5"));
  const force = (label, headers) => h("button", { type: "button", class: "small", text: label, onclick: () => tryIt.setFaultHeaders(headers) });
  return h(
    "div",
    { class: "faults" },
    h("strong", { text: "Simulate a failure: " }),
    h("span", { class: "small muted", text: "sets the headers of Try it below." }),
    h(
      "div",
      { class: "buttons" },
      statuses.map((s) => force(s === "429" ? "Rate limit 429" : `Error ${s}`, { [FAULT_HEADER]: s === "429" ? "rate-limit" : s })),
      entry.params.some((p) => p.name.toLowerCase() === DELAY_HEADER) ? force("Slow (2 s)", { [FAULT_HEADER]: "slow", [DELAY_HEADER]: "2000" }) : null,
      force("No fault", { [FAULT_HEADER]: "none" }),
    ),
  );
}

function responses(doc, op) {
  const entries = Object.entries(op.responses || {});
  if (!entries.length) return null;
  const ok = entries.filter(([s]) => !/^[45]/.test(s));
  const errors = entries.filter(([s]) => /^[45]/.test(s));
  const errorSchemas = new Set(errors.map(([, r]) => JSON.stringify(deref(doc, r).content?.["application/json"]?.schema || null)));
  const out = [h("h3", { text: "Responses" })];
  for (const [status, raw] of ok) {
    const r = deref(doc, raw);
    const media = r.content?.["application/json"];
    out.push(
      h("details", { open: true }, h("summary", {}, h("span", { class: `badge ${statusClass(status)}`, text: status }), " ", richInline(r.description || "")),
        media?.schema ? schemaTable(doc, media.schema) : null,
        media?.example !== undefined ? h("pre", {}, h("code", { text: pretty(media.example) })) : null),
    );
  }
  if (errors.length) {
    out.push(
      h("details", {}, h("summary", {}, "Errors ", errors.map(([s]) => [h("span", { class: `badge ${statusClass(s)}`, text: s }), " "])),
        h("ul", { class: "small" }, errors.map(([s, r]) => h("li", {}, h("strong", { text: s }), " ", richInline(deref(doc, r).description || "")))),
        errorSchemas.size === 1 && [...errorSchemas][0] !== "null"
          ? [h("p", { class: "small muted", text: "Error body (every error status):" }), schemaTable(doc, JSON.parse([...errorSchemas][0]))]
          : errors.map(([s, r]) => { const sc = deref(doc, r).content?.["application/json"]?.schema; return sc ? [h("p", { class: "small", text: s }), schemaTable(doc, sc)] : null; })),
    );
  }
  return out;
}

function samples(tryIt) {
  const code = h("code");
  const pre = h("pre", { class: "sample" }, code);
  let lang = LANGUAGES[0];
  const tabs = LANGUAGES.map((l) =>
    h("button", { type: "button", role: "tab", class: "small", "aria-selected": String(l === lang), dataset: { lang: l[0] }, text: l[1], onclick: (ev) => {
      lang = l;
      for (const t of tabs) t.setAttribute("aria-selected", String(t === ev.currentTarget));
      update();
    } }),
  );
  const update = () => { code.textContent = lang[2](tryIt.request(true)); };
  tryIt.onChange = update;
  queueMicrotask(update);
  return h("div", { class: "samples" },
    h("h3", { text: "Code" }),
    h("div", { class: "tabs" }, h("div", { role: "tablist", class: "tabs", "aria-label": "Language" }, tabs), h("span", { class: "spacer" }), copyButton(() => code.textContent)),
    pre);
}

/** The "Try it" form of one operation: parameters, headers and body, sent live. */
class TryIt {
  constructor(doc, entry, example) {
    this.entry = entry;
    this.onChange = () => {};
    this.inputs = {};
    const paramInputs = entry.params.filter((p) => p.in === "path" || p.in === "query").map((p) => {
      const id = `${entry.id}-p-${p.name}`;
      const fallback = /model/i.test(p.name) && p.in === "path" ? servedModels[0] || "" : "";
      this.inputs[p.name] = h("input", { type: "text", id, value: paramDefault(p) || fallback, required: Boolean(p.required), oninput: () => this.onChange() });
      return h("div", {}, h("label", { for: id, text: `${p.name} (${p.in}${p.required ? ", required" : ""})` }), this.inputs[p.name]);
    });
    const headers = { ...(example !== undefined ? { "content-type": "application/json" } : {}) };
    for (const p of entry.params) if (p.in === "header" && p.required) headers[p.name] = paramDefault(p);
    this.headers = h("textarea", { class: "code", rows: "3", id: `${entry.id}-headers`, spellcheck: "false", oninput: () => this.onChange() });
    this.headers.value = Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join("\n");
    this.body = null;
    if (example !== undefined) {
      this.body = h("textarea", { class: "code", rows: "8", id: `${entry.id}-body`, spellcheck: "false", oninput: () => { this.validate(); this.onChange(); } });
      this.body.value = pretty(example);
    }
    this.jsonError = h("div", { class: "json-error", role: "alert" });
    this.sendBtn = h("button", { type: "button", class: "primary send", text: "Send", onclick: () => this.send() });
    this.cancelBtn = h("button", { type: "button", class: "hidden", text: "Cancel", onclick: () => this.controller?.abort() });
    this.result = h("div", { class: "result", "aria-live": "polite" });
    this.el = h(
      "div",
      { class: "tryit" },
      h("h3", { text: "Try it" }),
      paramInputs,
      h("label", { for: this.headers.id, text: "Headers (one per line, Name: value)" }),
      this.headers,
      this.body ? [h("label", { for: this.body.id, text: "JSON body" }), this.body] : null,
      this.jsonError,
      h("div", { class: "row" }, this.sendBtn, this.cancelBtn),
      this.result,
    );
  }

  validate() {
    for (const p of this.entry.params) {
      const input = this.inputs[p.name];
      if (input && p.required && !input.value.trim()) {
        this.jsonError.textContent = `${p.name} is required.`;
        input.focus();
        return false;
      }
    }
    if (!this.body) { this.jsonError.textContent = ""; return true; }
    try {
      JSON.parse(this.body.value);
      this.jsonError.textContent = "";
      return true;
    } catch (err) {
      this.jsonError.textContent = `Not valid JSON: ${err.message}`;
      return false;
    }
  }

  headerMap() {
    const out = {};
    for (const line of this.headers.value.split("\n")) {
      const i = line.indexOf(":");
      if (i > 0) out[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    return out;
  }

  setFaultHeaders(extra) {
    const map = this.headerMap();
    for (const k of Object.keys(map)) if (k.startsWith("x-mockvendor-") && k !== "x-mockvendor-test-id") delete map[k];
    Object.assign(map, extra);
    this.headers.value = Object.entries(map).map(([k, v]) => `${k}: ${v}`).join("\n");
    this.onChange();
    this.headers.focus();
  }

  /** The request as the form stands: {method, url, headers, body}. */
  request(absolute = false) {
    let path = this.entry.path;
    const query = new URLSearchParams();
    for (const p of this.entry.params) {
      const v = this.inputs[p.name]?.value ?? "";
      if (p.in === "path") path = path.replace(`{${p.name}}`, encodeURIComponent(v));
      else if (p.in === "query" && v !== "") query.set(p.name, v);
    }
    const qs = query.toString();
    const url = (absolute ? location.origin : "") + path + (qs ? `?${qs}` : "");
    return { method: this.entry.method, url, headers: this.headerMap(), body: this.body ? this.body.value : null };
  }

  async send() {
    if (!this.validate()) { if (this.body && document.activeElement?.tagName !== "INPUT") this.body.focus(); return; }
    const req = this.request();
    this.controller = new AbortController();
    this.sendBtn.disabled = true;
    this.cancelBtn.classList.remove("hidden");
    const live = h("pre", { class: "body" });
    const status = h("div", { class: "status-line" }, h("span", { class: "muted", text: "Sending…" }));
    replace(this.result, status, live);
    try {
      const resp = await send({ ...req, signal: this.controller.signal, onChunk: (t) => live.append(t) });
      const fault = resp.headers["x-mockvendor-fault"];
      const rid = resp.headers["x-request-id"];
      replace(
        status,
        h("span", { class: `badge status ${statusClass(resp.status)}`, text: `HTTP ${resp.status}` }),
        fault ? h("span", { class: "badge fault", text: `${fault} (simulated)` }) : null,
        h("span", { class: "latency" }, "latency ", h("b", { text: fmtMs(resp.latencyMs) })),
        h("span", { class: "muted small", text: `first byte ${fmtMs(resp.ttfbMs)}` }),
        rid ? h("a", { class: "small", href: `/requests#${rid}`, text: "in the request log" }) : null,
      );
      if (resp.json !== undefined) live.textContent = pretty(resp.json);
      this.result.insertBefore(
        h("details", { class: "headers" }, h("summary", { text: `Response headers (${Object.keys(resp.headers).length})` }),
          h("pre", { text: Object.entries(resp.headers).map(([k, v]) => `${k}: ${v}`).join("\n") })),
        live,
      );
    } catch (err) {
      replace(status, h("span", { class: "json-error", text: err.name === "AbortError" ? "Cancelled." : `Network error: ${err.message}` }));
    } finally {
      this.sendBtn.disabled = false;
      this.cancelBtn.classList.add("hidden");
    }
  }
}

load();
