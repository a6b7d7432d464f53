// JSON Schema (as found in an OpenAPI document) rendered as a table of fields.

import { h, richText } from "./dom.js";
import { deref } from "./wire.js";

const MAX_DEPTH = 6;

/** A short type label: string, integer ≥ 1, array<object>, "a" | "b", ... */
export function typeLabel(doc, schema) {
  const s = deref(doc, schema);
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
  for (const key of ["oneOf", "anyOf"]) {
    if (Array.isArray(s[key])) return s[key].map((x) => typeLabel(doc, x)).join(" | ");
  }
  if (s.type === "array") return `array<${typeLabel(doc, s.items || {})}>`;
  if (Array.isArray(s.type)) return s.type.join(" | ");
  return s.type || (s.properties ? "object" : "any");
}

function constraints(s) {
  const out = [];
  if (s.minimum !== undefined) out.push(`≥ ${s.minimum}`);
  if (s.maximum !== undefined) out.push(`≤ ${s.maximum}`);
  if (s.minLength !== undefined) out.push(`min length ${s.minLength}`);
  if (s.maxLength !== undefined) out.push(`max length ${s.maxLength}`);
  if (s.default !== undefined) out.push(`default ${JSON.stringify(s.default)}`);
  return out.join(", ");
}

function rows(doc, schema, prefix, depth, out) {
  const s = deref(doc, schema);
  if (depth > MAX_DEPTH) return;
  const required = new Set(s.required || []);
  for (const [name, raw] of Object.entries(s.properties || {})) {
    const p = deref(doc, raw);
    const path = prefix ? `${prefix}.${name}` : name;
    out.push({ path, name, depth, type: typeLabel(doc, p), required: required.has(name), description: p.description || "", extra: constraints(p) });
    if (p.properties) rows(doc, p, path, depth + 1, out);
    const items = p.type === "array" ? deref(doc, p.items) : null;
    if (items && items.properties) rows(doc, items, `${path}[]`, depth + 1, out);
  }
}

/** A table of a schema's fields, or a one-line description for schemas without fields. */
export function schemaTable(doc, schema) {
  const s = deref(doc, schema);
  const list = [];
  rows(doc, s, "", 0, list);
  if (!list.length) {
    return h("p", { class: "muted small" }, `Type: ${typeLabel(doc, s)}`, s.description ? ". " : "", s.description || "");
  }
  return h(
    "div",
    { class: "scroll-x" },
    h(
      "table",
      { class: "schema" },
      h("thead", {}, h("tr", {}, h("th", { text: "Field" }), h("th", { text: "Type" }), h("th", { text: "Description" }))),
      h(
        "tbody",
        {},
        list.map((r) =>
          h(
            "tr",
            {},
            h("td", { title: r.path, style: { "padding-left": `${8 + r.depth * 16}px` } }, r.depth ? h("span", { class: "muted", text: "↳ " }) : null, r.name, r.required ? h("span", { class: "req", text: "required" }) : null),
            h("td", {}, h("span", { class: "type", text: r.type })),
            h("td", {}, richText(r.description), r.extra ? h("div", { class: "muted small", text: r.extra }) : null),
          ),
        ),
      ),
    ),
  );
}

/** The parameters of an operation (path, query, header) as a table. */
export function paramsTable(doc, params) {
  return h(
    "div",
    { class: "scroll-x" },
    h(
      "table",
      { class: "schema" },
      h("thead", {}, h("tr", {}, h("th", { text: "Name" }), h("th", { text: "In" }), h("th", { text: "Type" }), h("th", { text: "Description" }))),
      h(
        "tbody",
        {},
        params.map((p) =>
          h(
            "tr",
            {},
            h("td", {}, p.name, p.required ? h("span", { class: "req", text: "required" }) : null),
            h("td", { text: p.in }),
            h("td", {}, h("span", { class: "type", text: typeLabel(doc, p.schema || {}) })),
            h("td", {}, richText(p.description || ""), constraints(deref(doc, p.schema || {})) ? h("div", { class: "muted small", text: constraints(deref(doc, p.schema)) }) : null),
          ),
        ),
      ),
    ),
  );
}
