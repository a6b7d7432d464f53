// The chat page: vendors and their chat routes come from /admin/vendors and /openapi.json.

import { AnswerBubble, failureCard, userBubble } from "./chat-view.js";
import { $, getJSON, h, replace } from "./dom.js";
import { retryHintMs, send } from "./http.js";
import * as wire from "./wire.js";

const ui = {
  vendor: $("#vendor"),
  vendorSummary: $("#vendor-summary"),
  route: $("#route"),
  routeField: $("#route-field"),
  model: $("#model"),
  models: $("#models"),
  modelField: $("#model-field"),
  system: $("#system"),
  systemNote: $("#system-note"),
  maxTokens: $("#max-tokens"),
  maxField: $("#max-field"),
  schema: $("#schema"),
  schemaField: $("#schema-field"),
  schemaError: $("#schema-error"),
  stream: $("#stream"),
  streamField: $("#stream-field"),
  fault: $("#fault"),
  faultField: $("#fault-field"),
  faultMs: $("#fault-ms"),
  faultMsField: $("#fault-ms-field"),
  faultMsLabel: $("#fault-ms-label"),
  messages: $("#messages"),
  empty: $("#empty"),
  composer: $("#composer"),
  prompt: $("#prompt"),
  send: $("#send"),
  stop: $("#stop"),
  clear: $("#clear"),
  loadError: $("#load-error"),
};

const state = {
  vendors: [], // [{vendor, targets}]
  models: [], // model names the server answers to
  history: [], // answered turns: [{role, text}]
  pending: null, // the user's text awaiting an answer
  inFlight: null, // AbortController
};

async function load() {
  try {
    const [doc, vendorsDoc] = await Promise.all([getJSON("/openapi.json"), getJSON("/admin/vendors")]);
    state.vendors = wire.chatTargets(doc, vendorsDoc);
    state.models = vendorsDoc.models || [];
    replace(ui.models, state.models.map((m) => h("option", { value: m })));
  } catch (err) {
    ui.loadError.textContent = `Could not load the vendor list: ${err.message}`;
    return;
  }
  replace(ui.vendor, state.vendors.map((v, i) => h("option", { value: String(i), text: v.vendor.title || v.vendor.name })));
  ui.vendor.disabled = false;
  const wanted = new URLSearchParams(location.search).get("vendor");
  const idx = state.vendors.findIndex((v) => v.vendor.name === wanted);
  if (idx >= 0) ui.vendor.value = String(idx);
  onVendor();
}

const current = () => state.vendors[Number(ui.vendor.value)];
const target = () => current()?.targets[Number(ui.route.value) || 0];

function onVendor() {
  const v = current();
  if (!v) return;
  // Routes by their summary when each has its own (shorter than paths like /v1beta/models/{model}:...).
  const summaries = v.targets.map((t) => t.op.summary || "");
  const bySummary = summaries.every((x) => x) && new Set(summaries).size === summaries.length;
  replace(ui.route, v.targets.map((t, i) =>
    h("option", { value: String(i), title: `${t.method} ${t.path}`, text: bySummary ? summaries[i] : `${t.method} ${t.path}` })));
  ui.routeField.classList.toggle("hidden", v.targets.length < 2);
  onRoute();
}

function onRoute() {
  const t = target();
  if (!t) return;
  $("#settings-vendor").textContent = `· ${current().vendor.title || current().vendor.name}`;
  replace(ui.vendorSummary, t.op.summary ? [t.op.summary, h("br")] : null, h("code", { text: `${t.method} ${t.path}` }));
  ui.modelField.classList.toggle("hidden", !wire.usesModel(t));
  // A route whose model is a path parameter without a default still needs one.
  ui.model.value = wire.defaultModel(t) || ui.model.value || state.models[0] || "";
  const noSystem = t.shape === "prompt" && !t.keys.has("system_prompt");
  ui.system.disabled = noSystem;
  $("#system-field").classList.toggle("hidden", noSystem);
  ui.systemNote.classList.toggle("hidden", !noSystem);
  const hasMax = t.shape === "contents" || t.keys.has("max_tokens") || t.keys.has("max_completion_tokens");
  ui.maxField.classList.toggle("hidden", !hasMax);
  ui.streamField.classList.toggle("hidden", !t.streamFlag);
  ui.schemaField.classList.toggle("hidden", !wire.schemaField(t));
  ui.faultField.classList.toggle("hidden", !t.params.some((p) => p.name.toLowerCase() === "x-mockvendor-fault"));
  onFault();
}

function onFault() {
  const f = ui.fault.value;
  ui.faultMsField.classList.toggle("hidden", f !== "slow" && f !== "rate-limit");
  ui.faultMsLabel.textContent = f === "rate-limit" ? "Retry after (ms)" : "Delay (ms)";
}

/** The fault headers the "Simulate" control asks for, and the delay it implies. */
function faultHeaders() {
  const f = ui.faultField.classList.contains("hidden") ? "" : ui.fault.value;
  if (!f) return { headers: {}, delayMs: 0 };
  const ms = String(Math.max(0, Number(ui.faultMs.value) || 0));
  if (f === "slow") return { headers: { "x-mockvendor-fault": "slow", "x-mockvendor-delay-ms": ms }, delayMs: Number(ms) };
  if (f === "rate-limit") return { headers: { "x-mockvendor-fault": "rate-limit", "x-mockvendor-retry-after-ms": ms }, delayMs: 0 };
  return { headers: { "x-mockvendor-fault": f }, delayMs: 0 };
}

function show(node) {
  ui.empty.remove();
  ui.messages.append(node);
  follow(true);
}

/** Keep the newest message in view, unless the reader has scrolled up to read. */
function follow(force = false) {
  const m = ui.messages;
  if (force || m.scrollHeight - m.scrollTop - m.clientHeight < 80) m.scrollTop = m.scrollHeight;
}

/** The JSON schema typed in the settings (undefined when none or hidden); throws on bad JSON. */
function schema() {
  const text = ui.schemaField.classList.contains("hidden") ? "" : ui.schema.value.trim();
  if (!text) return undefined;
  const value = JSON.parse(text);
  if (!value || typeof value !== "object" || Array.isArray(value)) throw new Error("a JSON Schema is an object");
  return value;
}

function onSubmit(event) {
  event.preventDefault();
  const text = ui.prompt.value.trim();
  if (!text || state.inFlight) return;
  try {
    schema();
    ui.schemaError.textContent = "";
  } catch (err) {
    ui.schemaError.textContent = `The JSON schema does not parse: ${err.message}`;
    ui.schema.focus();
    return;
  }
  ui.prompt.value = "";
  state.pending = text; // an unanswered earlier turn is replaced, not sent twice
  show(userBubble(text));
  answer();
}

/** Ask the selected route for an answer to the history plus the pending turn. */
async function answer() {
  const t = target();
  if (!t || state.pending === null) return;
  const fault = faultHeaders();
  const chat = {
    history: [...state.history, { role: "user", text: state.pending }],
    system: ui.system.disabled ? "" : ui.system.value,
    maxTokens: Number(ui.maxTokens.value) || 0,
    model: ui.model.value.trim(),
    stream: t.streamFlag && ui.stream.checked,
    headers: fault.headers,
    schema: schema(),
  };
  const req = wire.buildRequest(t, chat);
  const title = current().vendor.title || current().vendor.name;
  const bubble = new AnswerBubble(title, fault.delayMs);
  show(bubble.el);
  setBusy(new AbortController());
  let usage = {};
  let streamError = null;
  let ttft;
  const t0 = performance.now();
  try {
    const resp = await send({
      ...req,
      signal: state.inFlight.signal,
      onEvent: (ev) => {
        const r = wire.readEvent(ev);
        usage = wire.mergeUsage(usage, r.usage);
        if (r.error) streamError = r.error;
        if (r.delta) {
          if (ttft === undefined) ttft = performance.now() - t0;
          bubble.started(true);
          bubble.append(r.delta);
          follow();
        } else if (r.text && !bubble.text) bubble.setText(r.text);
      },
      onChunk: () => bubble.started(true),
    });
    bubble.started(false);
    const requestId = resp.headers["x-request-id"];
    const faultLabel = resp.headers["x-mockvendor-fault"];
    if (resp.status >= 400 || streamError) {
      bubble.stopTimer();
      const body = streamError || resp.json;
      bubble.el.replaceWith(failure(resp, body, requestId, faultLabel));
      return;
    }
    if (!resp.sse) {
      bubble.setText(wire.answerText(resp.json) ?? resp.text);
      usage = wire.answerUsage(resp.json);
    }
    if (!Number.isFinite(usage.in) || !Number.isFinite(usage.out)) usage = await recordUsage(requestId, usage);
    bubble.finish({
      status: resp.status,
      requestId,
      usage,
      latencyMs: resp.latencyMs,
      ttftMs: resp.sse ? ttft : undefined,
      model: resp.json?.model || resp.json?.modelVersion || (wire.usesModel(t) ? chat.model : ""),
      fault: faultLabel && faultLabel !== "none" ? faultLabel : "",
    });
    if (chat.schema) bubble.showParsed();
    follow();
    state.history.push({ role: "user", text: state.pending }, { role: "assistant", text: bubble.text });
    state.pending = null;
  } catch (err) {
    bubble.stopTimer();
    const stopped = err.name === "AbortError";
    bubble.el.replaceWith(
      failureCard({ kind: "network", message: stopped ? "Stopped." : `Network error: ${err.message}`, onRetry: retry }),
    );
  } finally {
    follow();
    setBusy(null);
  }
}

function failure(resp, body, requestId, fault) {
  const status = resp.status;
  const rateLimited = status === 429 || /rate|exhausted/i.test(String(body?.error?.type ?? body?.error?.status ?? ""));
  const kind = rateLimited ? "rate-limit" : status < 400 ? "stream" : status >= 500 ? "server" : "client";
  return failureCard({
    kind,
    status,
    fault,
    requestId,
    message: wire.errorMessage(body, resp.text),
    body: body ?? resp.text,
    retryAfterMs: kind === "rate-limit" ? retryHintMs(resp.headers, body) : null,
    latencyMs: resp.latencyMs,
    onRetry: retry,
  });
}

/** Token counts the server recorded for this request, for answers that carry none. */
async function recordUsage(requestId, usage) {
  if (!requestId) return usage;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const rec = await getJSON(`/admin/requests/${encodeURIComponent(requestId)}`);
      return { in: usage.in ?? rec.tokens_in, out: usage.out ?? rec.tokens_out };
    } catch {
      await new Promise((r) => setTimeout(r, 150)); // logged as the response ends: may lag a moment
    }
  }
  return usage;
}

function retry(event) {
  if (state.inFlight) return;
  event.currentTarget.closest(".msg").remove();
  answer();
}

function setBusy(controller) {
  state.inFlight = controller;
  ui.send.disabled = Boolean(controller);
  ui.stop.classList.toggle("hidden", !controller);
}

ui.vendor.addEventListener("change", onVendor);
ui.route.addEventListener("change", onRoute);
ui.fault.addEventListener("change", onFault);
ui.composer.addEventListener("submit", onSubmit);
ui.prompt.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    ui.composer.requestSubmit();
  }
});
ui.stop.addEventListener("click", () => state.inFlight?.abort());
ui.clear.addEventListener("click", () => {
  state.inFlight?.abort();
  state.history = [];
  state.pending = null;
  replace(ui.messages, ui.empty);
  ui.prompt.focus();
});

// On a phone the settings would fill the first screen: start with them folded.
if (window.matchMedia("(max-width: 760px)").matches) $("#settings").open = false;
load();
