import { adminHeaders, askAdminToken, isAdminUrl } from "./admin-token.js";

// DOM helpers shared by the pages. Everything user-supplied goes in as text nodes:
// h() never parses HTML, so a prompt such as <img src=x onerror=...> stays text.

/** Build an element: h("div", {class: "x", onclick: fn}, "text", child, [more]). */
export function h(tag, props, ...children) {
  const node = document.createElement(tag);
  setProps(node, props);
  append(node, children);
  return node;
}

/** The same for SVG elements (charts). */
export function svg(tag, props, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  setProps(node, props);
  append(node, children);
  return node;
}

function setProps(node, props) {
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else if (key === "text") {
      node.textContent = String(value);
    } else if (key === "dataset") {
      Object.assign(node.dataset, value);
    } else if (key === "style" && typeof value === "object") {
      for (const [prop, v] of Object.entries(value)) node.style.setProperty(prop, v);
    } else if (key === "value" || key === "checked" || key === "disabled" || key === "selected") {
      node[key] = value;
    } else {
      node.setAttribute(key, value === true ? "" : String(value));
    }
  }
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace a node's children. */
export function replace(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

export const $ = (sel, root = document) => root.querySelector(sel);

/** "1.23 s" / "850 ms". */
export function fmtMs(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "–";
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

/** Local wall-clock time with milliseconds, from epoch seconds. */
export function fmtTime(epochSeconds) {
  const d = new Date(epochSeconds * 1000);
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function pretty(value) {
  if (typeof value === "string") return value;
  return JSON.stringify(value, null, 2);
}

/** Status class for colouring: s-2 / s-4 / s-5. */
export const statusClass = (status) => `s-${String(status || 0)[0]}`;

/** A copy button for the text returned by getText(); says "Copied" for a moment. */
export function copyButton(getText, label = "Copy") {
  const btn = h("button", { type: "button", class: "small copy", text: label });
  btn.addEventListener("click", async () => {
    const text = getText();
    let ok = false;
    try {
      await navigator.clipboard.writeText(text);
      ok = true;
    } catch {
      ok = legacyCopy(text); // clipboard API needs a secure context; fall back
    }
    btn.textContent = ok ? "Copied" : "Copy failed";
    setTimeout(() => { btn.textContent = label; }, 1500);
  });
  return btn;
}

function legacyCopy(text) {
  const area = h("textarea", { class: "sr-only", "aria-hidden": "true" });
  area.value = text;
  document.body.append(area);
  area.select();
  let ok = false;
  try { ok = document.execCommand("copy"); } catch { ok = false; }
  area.remove();
  return ok;
}

/** GET a JSON document; throws with the status and body text on failure. Admin routes get
 * the admin token, and a 401 from one asks for it. */
export async function getJSON(url) {
  const admin = isAdminUrl(url);
  const resp = await fetch(url, { headers: { accept: "application/json", ...(admin ? adminHeaders() : {}) } });
  if (resp.status === 401 && admin) askAdminToken();
  if (!resp.ok) throw new Error(`GET ${url}: HTTP ${resp.status} ${await resp.text()}`);
  return resp.json();
}

/**
 * Tiny safe renderer for OpenAPI descriptions: paragraphs, "- " lists and `code`.
 * Builds nodes; never parses HTML.
 */
export function richText(text) {
  const out = document.createDocumentFragment();
  for (const block of String(text || "").split(/\n\s*\n/)) {
    const lines = block.split("\n").filter((l) => l.trim());
    if (!lines.length) continue;
    if (lines.every((l) => /^\s*[-*] /.test(l))) {
      out.append(h("ul", {}, lines.map((l) => h("li", {}, inline(l.replace(/^\s*[-*] /, ""))))));
    } else {
      out.append(h("p", {}, inline(lines.join(" "))));
    }
  }
  return out;
}

/** The same for one line: only `code` spans. */
export function richInline(text) {
  return inline(String(text));
}

function inline(text) {
  return text.split(/(`[^`]+`)/).map((part) =>
    part.startsWith("`") && part.endsWith("`") && part.length > 1 ? h("code", { text: part.slice(1, -1) }) : part,
  );
}
