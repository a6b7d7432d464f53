// The live request log: /admin/requests for what happened so far, /admin/requests/stream
// (server-sent events) for what happens next, /admin/requests/{id} for one request in full.

import { adminHeaders, askAdminToken } from "./admin-token.js";
import { colour, lineChart } from "./chart.js";
import { $, copyButton, fmtMs, fmtTime, getJSON, h, pretty, replace, statusClass } from "./dom.js";
import { SSEParser } from "./http.js";

const KEEP = 500; // records kept in the page
const RECONNECT_MS = 2000; // as EventSource would, after the live feed drops
const ui = {
  live: $("#live"),
  vendor: $("#f-vendor"),
  status: $("#f-status"),
  test: $("#f-test"),
  fault: $("#f-fault"),
  pause: $("#pause"),
  counts: $("#counts"),
  rows: $("#rows"),
  noRows: $("#no-rows"),
  detail: $("#detail"),
  stats: $("#stats"),
  rules: $("#rules"),
  rulesCount: $("#rules-count"),
};

const state = {
  records: [], // newest first
  ids: new Set(),
  fresh: new Set(), // ids to flash once
  held: [], // arrivals while paused
  paused: false,
  titles: new Map(), // vendor name -> title
  selected: null,
  renderQueued: false,
  statsQueued: false,
};

function add(rec, { live }) {
  if (state.ids.has(rec.id)) return;
  state.ids.add(rec.id);
  if (live) state.fresh.add(rec.id);
  state.records.push(rec);
  state.records.sort((a, b) => b.time - a.time);
  for (const old of state.records.splice(KEEP)) state.ids.delete(old.id);
}

function onLive(rec) {
  if (state.paused) {
    state.held.push(rec);
    counts();
    return;
  }
  add(rec, { live: true });
  schedule();
}

/** Batch re-renders: a burst of requests redraws once per frame, stats at most every 2 s. */
function schedule() {
  if (!state.renderQueued) {
    state.renderQueued = true;
    requestAnimationFrame(() => { state.renderQueued = false; render(); });
  }
  if (!state.statsQueued) {
    state.statsQueued = true;
    setTimeout(() => { state.statsQueued = false; loadStats(); loadRules(); }, 2000);
  }
}

function visible() {
  const vendor = ui.vendor.value;
  const status = ui.status.value;
  const test = ui.test.value.trim();
  return state.records.filter((r) =>
    (!vendor || r.vendor === vendor) &&
    (!status || String(r.status).startsWith(status)) &&
    (!test || (r.test_id || "").includes(test)) &&
    (!ui.fault.checked || r.fault));
}

function render() {
  const recs = visible();
  replace(ui.rows, recs.map(row));
  state.fresh.clear();
  ui.noRows.classList.toggle("hidden", recs.length > 0);
  counts(recs.length);
  charts(recs);
}

function counts(shown) {
  const n = shown ?? visible().length;
  const held = state.held.length ? ` · ${state.held.length} new while paused` : "";
  ui.counts.textContent = `${n} shown of ${state.records.length} kept${held}`;
}

const title = (name) => state.titles.get(name) || name || "–";

function row(r) {
  const tr = h(
    "tr",
    {
      tabindex: "0",
      class: state.fresh.has(r.id) ? "new" : "",
      "aria-selected": String(state.selected === r.id),
      dataset: { id: r.id, vendor: r.vendor || "", status: String(r.status) },
      onclick: () => open(r.id),
      onkeydown: (e) => {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); open(r.id); }
        if (e.key === "ArrowDown") { e.preventDefault(); tr.nextElementSibling?.focus(); }
        if (e.key === "ArrowUp") { e.preventDefault(); tr.previousElementSibling?.focus(); }
      },
    },
    h("td", { class: "time", text: fmtTime(r.time) }),
    h("td", { class: "vendor", text: title(r.vendor) }),
    h("td", { class: "route", title: `${r.method} ${r.route}` }, `${r.method} ${r.route}`, r.stream ? h("span", { class: "muted small", title: "streamed (server-sent events)", text: " SSE" }) : null),
    h("td", { class: "status" }, h("span", { class: `badge ${statusClass(r.status)}`, text: String(r.status) })),
    h("td", { class: "fault" }, r.fault ? h("span", { class: "badge fault", text: r.fault }) : ""),
    h("td", { class: "rule hide-narrow" }, r.rule ? h("span", { class: "badge", title: "answered by this rule", text: r.rule }) : ""),
    h("td", { class: "tokens", title: "tokens in / out", text: `${r.tokens_in} / ${r.tokens_out}` }),
    h("td", { class: "latency", text: fmtMs(r.latency_ms) }),
    h("td", { class: "model hide-narrow", text: r.model || "" }),
    h("td", { class: "test hide-narrow", text: r.test_id || "" }),
  );
  return tr;
}

function charts(recs) {
  const byVendor = new Map();
  for (const r of recs.slice(0, 200)) {
    if (!byVendor.has(r.vendor)) byVendor.set(r.vendor, []);
    byVendor.get(r.vendor).push(r);
  }
  const order = [...state.titles.keys()];
  const rank = (name) => (order.includes(name) ? order.indexOf(name) : order.length);
  const groups = [...byVendor].sort((a, b) => rank(a[0]) - rank(b[0])); // the server's vendor order
  const series = (value) => groups.map(([name, rs]) => ({ name, label: title(name), points: rs.map((r) => ({ t: r.time, v: value(r) })) }));
  lineChart($("#chart-latency"), series((r) => r.latency_ms), { format: (v) => fmtMs(v).replace(" ", ""), title: "Latency per request, by vendor" });
  lineChart($("#chart-tokens"), series((r) => r.tokens_in + r.tokens_out), { title: "Tokens per request, by vendor" });
}

/** Show one request in full, fetched from /admin/requests/{id}. */
async function open(id) {
  state.selected = id;
  for (const tr of ui.rows.children) tr.setAttribute("aria-selected", String(tr.dataset.id === id));
  history.replaceState(null, "", `#${id}`);
  replace(ui.detail, h("p", { class: "muted", text: "Loading…" }));
  if (!ui.detail.open) ui.detail.showModal(); // a modal: Escape closes it, focus comes back
  let r;
  try {
    r = await getJSON(`/admin/requests/${encodeURIComponent(id)}`);
  } catch (err) {
    replace(ui.detail, h("p", { class: "json-error", text: `Could not load ${id}: ${err.message}` }), closeButton());
    return;
  }
  const fields = [
    ["Request id", r.id], ["Time", `${new Date(r.time * 1000).toLocaleString()} (${fmtTime(r.time)})`],
    ["Route", `${r.method} ${r.route}`], ["Vendor", title(r.vendor)], ["Model", r.model], ["Status", r.status],
    ["Simulated fault", r.fault], ["Answered by rule", r.rule], ["Streamed", r.stream ? "yes" : "no"], ["Tokens in", r.tokens_in], ["Tokens out", r.tokens_out],
    ["Latency", fmtMs(r.latency_ms)], ["First token", r.ttft_ms !== null ? fmtMs(r.ttft_ms) : null], ["Test id", r.test_id],
    ["Retry count", r.retry_count], ["API key", r.key_fingerprint ? `fingerprint ${r.key_fingerprint}` : null], ["Error", r.error],
  ].filter(([, v]) => v !== null && v !== undefined && v !== "");
  const body = (label, value) => [
    h("h3", {}, label, " ", value !== null && value !== undefined ? copyButton(() => pretty(value)) : null),
    value !== null && value !== undefined ? h("pre", { class: "mono", text: pretty(value) }) : h("p", { class: "muted small", text: "Not captured." }),
  ];
  replace(
    ui.detail,
    h("header", {}, h("h2", {}, h("span", { class: `badge ${statusClass(r.status)}`, text: String(r.status) }), " ", `${r.method} ${r.route}`), closeButton()),
    h("dl", {}, fields.map(([k, v]) => [h("dt", { text: k }), h("dd", { text: String(v) })])),
    body("Request body", r.request_body),
    body("Response body", r.response_body),
    r.status === 200 && r.request_body && r.response_body ? sameWayButton(r) : null,
  );
  ui.detail.querySelector("button")?.focus();
}

/** "Answer this the same way next time": a rule from this request (POST /admin/rules/from-request/{id}). */
function sameWayButton(r) {
  const note = h("span", { class: "muted small", role: "status" });
  const button = h("button", {
    type: "button", class: "small", text: "Answer this the same way next time",
    onclick: async () => {
      const resp = await fetch(`/admin/rules/from-request/${encodeURIComponent(r.id)}`, { method: "POST", headers: adminHeaders() });
      const body = await resp.json().catch(() => ({}));
      note.textContent = resp.ok ? ` Rule ${body.rules[0].name} added: the same last message gets this answer.`
        : ` Not added: ${(body.error && body.error.message) || resp.status}`;
      if (resp.ok) loadRules();
    },
  });
  return h("p", {}, button, note);
}

function closeButton() {
  return h("button", { type: "button", class: "small", text: "Close", "aria-label": "Close the request detail", onclick: () => ui.detail.close() });
}

/** After the dialog closed (button, Escape or a click outside): back to the row. */
function closed() {
  const id = state.selected;
  state.selected = null;
  history.replaceState(null, "", location.pathname + location.search);
  for (const tr of ui.rows.children) tr.setAttribute("aria-selected", "false");
  ui.rows.querySelector(`tr[data-id="${CSS.escape(id || "")}"]`)?.focus();
}

/** The rules in force: global first, then each test id's, with what they match and answer,
 * how often each answered and how many uses remain; each can be deleted. */
async function loadRules() {
  let resp;
  try { resp = await fetch("/admin/rules", { headers: adminHeaders(), cache: "no-store" }); } catch { return; }
  if (!resp.ok) return;
  const body = await resp.json();
  const rows = [...(body.rules || []).map((r) => [null, r])];
  for (const [test, rules] of Object.entries(body.tests || {})) for (const r of rules) rows.push([test, r]);
  ui.rulesCount.textContent = rows.length ? `${rows.length} in force` : "";
  if (!rows.length) {
    replace(ui.rules, h("p", { class: "muted small", text: "No rules. Add them with a rules file, POST /admin/rules, the pytest plugin, or a request's \u201cAnswer this the same way next time\u201d." }));
    return;
  }
  const compact = (v) => (v === undefined ? "–" : typeof v === "string" ? v : JSON.stringify(v));
  const head = ["Scope", "Name", "Match", "Answer", "Used", "Remaining", ""];
  replace(ui.rules, h("table", { id: "rules-table" },
    h("thead", {}, h("tr", {}, head.map((t) => h("th", { scope: "col", text: t })))),
    h("tbody", {}, rows.map(([test, r]) => h("tr", { "data-rule": r.name },
      h("td", { text: test === null ? "global" : `test ${test}` }),
      h("td", {}, h("span", { class: "badge", text: r.name })),
      h("td", { class: "mono small", text: compact(r.match) }),
      h("td", { class: "mono small", text: compact(r.answer) }),
      h("td", { class: "used", text: String(r.used) }),
      h("td", { text: r.remaining === undefined ? "∞" : String(r.remaining) }),
      h("td", {}, h("button", {
        type: "button", class: "small", text: "Delete", "aria-label": `Delete rule ${r.name}`,
        onclick: async () => {
          const q = test === null ? "" : `?test_id=${encodeURIComponent(test)}`;
          await fetch(`/admin/rules/${encodeURIComponent(r.name)}${q}`, { method: "DELETE", headers: adminHeaders() });
          loadRules();
        },
      })),
    )))));
}

async function loadStats() {
  let s;
  try { s = await getJSON("/admin/stats"); } catch { return; }
  const groups = s.groups || [];
  if (!groups.length) { replace(ui.stats, h("p", { class: "muted small", text: "No requests yet." })); return; }
  const head = ["Vendor", "Model", "Requests", "By status", "Faults", "Tokens in", "Tokens out", "p50", "p95"];
  replace(ui.stats, h("table", {},
    h("thead", {}, h("tr", {}, head.map((t) => h("th", { scope: "col", text: t })))),
    h("tbody", {}, groups.map((g) => h("tr", {},
      h("td", { text: title(g.vendor) }), h("td", { text: g.model }), h("td", { text: String(g.requests) }),
      h("td", { text: Object.entries(g.by_status).map(([k, v]) => `${k}: ${v}`).join(", ") }),
      h("td", { text: Object.entries(g.by_fault).map(([k, v]) => `${k}: ${v}`).join(", ") || "–" }),
      h("td", { text: String(g.tokens_in) }), h("td", { text: String(g.tokens_out) }),
      h("td", { text: fmtMs(g.latency_ms.p50) }), h("td", { text: fmtMs(g.latency_ms.p95) }),
    )))));
}

/** Live feed first, then the backlog, so nothing falls between the two (ids dedupe).
 * fetch() rather than EventSource, which cannot send the admin token header. */
async function connect() {
  for (;;) {
    try {
      const resp = await fetch("/admin/requests/stream", {
        headers: { accept: "text/event-stream", ...adminHeaders() },
        cache: "no-store",
      });
      if (resp.status === 401) {
        ui.live.className = "live off";
        ui.live.textContent = "admin token needed";
        askAdminToken();
        return;
      }
      if (!resp.ok || !resp.body) throw new Error(`HTTP ${resp.status}`);
      ui.live.className = "live on";
      ui.live.textContent = "live";
      backlog(); // after a reconnect too: fills what was missed
      const parser = new SSEParser(({ event, data }) => { if (event === "request") onLive(JSON.parse(data)); });
      const reader = resp.body.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.feed(decoder.decode(value, { stream: true }));
      }
    } catch { /* the server went away: reconnect below */ }
    ui.live.className = "live off";
    ui.live.textContent = "reconnecting…";
    await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
  }
}

async function backlog() {
  try {
    const list = await getJSON(`/admin/requests?limit=${KEEP}`);
    for (const r of list.data || []) add(r, { live: false });
  } catch (err) {
    ui.counts.textContent = `Could not load the log: ${err.message}`;
    return;
  }
  render();
  loadStats();
  loadRules();
  const id = location.hash.slice(1);
  if (id && !state.selected) open(id);
}

async function init() {
  try {
    const v = await getJSON("/admin/vendors");
    for (const vendor of v.vendors || []) {
      state.titles.set(vendor.name, vendor.title || vendor.name);
      colour(vendor.name); // colours follow the server's vendor order, the same on every visit
      ui.vendor.append(h("option", { value: vendor.name, text: vendor.title || vendor.name }));
    }
  } catch { /* the log works without titles */ }
  for (const el of [ui.vendor, ui.status, ui.fault]) el.addEventListener("change", render);
  ui.test.addEventListener("input", render);
  $("#filters").addEventListener("submit", (e) => e.preventDefault());
  ui.pause.addEventListener("click", () => {
    state.paused = !state.paused;
    ui.pause.setAttribute("aria-pressed", String(state.paused));
    ui.pause.textContent = state.paused ? "Resume" : "Pause";
    if (!state.paused) {
      for (const r of state.held.splice(0)) add(r, { live: true });
      schedule();
    }
    counts();
  });
  ui.detail.addEventListener("close", closed);
  ui.detail.addEventListener("click", (e) => { if (e.target === ui.detail) ui.detail.close(); }); // the backdrop
  let resizeTimer;
  window.addEventListener("resize", () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(() => charts(visible()), 150); });
  connect();
}

init();
