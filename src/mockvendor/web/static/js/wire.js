// Wire formats, read from the server's own OpenAPI document: which documented operations
// can hold a chat, how to put a conversation into their body, and how to read text and
// token counts back out of their JSON or their server-sent events. Keyed by the shape of
// the request body (prompt / OpenAI messages / Anthropic messages / Gemini contents), never
// by vendor name, so vendors added on the server show up here without a change.

const METHODS = ["get", "post", "put", "patch", "delete"];

/** Follow a local "$ref" ("#/components/schemas/X") in the document. */
export function deref(doc, node, depth = 0) {
  if (!node || typeof node !== "object" || !node.$ref || depth > 20) return node || {};
  const target = node.$ref.replace(/^#\//, "").split("/").reduce((o, k) => (o ? o[k] : undefined), doc);
  return deref(doc, target, depth + 1);
}

/** Every operation in the document: [{method, path, op, id}]. */
export function operations(doc) {
  const out = [];
  for (const [path, item] of Object.entries(doc.paths || {})) {
    for (const method of METHODS) {
      if (item[method]) {
        const op = item[method];
        const params = [...(item.parameters || []), ...(op.parameters || [])].map((p) => deref(doc, p));
        out.push({ method: method.toUpperCase(), path, op, params, id: opId(method, path, op) });
      }
    }
  }
  return out;
}

function opId(method, path, op) {
  return (op.operationId || `${method}-${path}`).replace(/[^A-Za-z0-9_-]+/g, "-");
}

/** The JSON request body's schema and example of an operation (either may be {}). */
export function bodyOf(doc, op) {
  const media = deref(doc, op.requestBody).content?.["application/json"] || {};
  const schema = deref(doc, media.schema);
  let example = media.example;
  if (example === undefined && media.examples) {
    const first = Object.values(media.examples)[0];
    example = deref(doc, first)?.value;
  }
  if (example === undefined) example = schema.example;
  return { schema, example };
}

/** The body shape a chat can be written in, or null if the operation is not a chat. */
export function shapeOf(doc, entry) {
  const { schema, example } = bodyOf(doc, entry.op);
  const keys = new Set([...Object.keys(schema.properties || {}), ...Object.keys(example || {})]);
  if (keys.has("contents")) return "contents";
  if (keys.has("messages")) {
    const anthropicLike = keys.has("system") || entry.params.some((p) => p.name === "anthropic-version");
    return anthropicLike ? "anthropic" : "openai";
  }
  const prompt = schema.properties?.prompt;
  if (keys.has("prompt") && (!prompt || !prompt.type || prompt.type === "string" || prompt.oneOf || prompt.anyOf)) {
    return "prompt";
  }
  return null;
}

/**
 * The chat targets per vendor: [{vendor, targets: [{method, path, op, params, shape, keys,
 * example, streamFlag, streamsAlways}]}], in the server's vendor order.
 */
export function chatTargets(doc, vendorsDoc) {
  const all = operations(doc);
  const result = [];
  for (const vendor of vendorsDoc.vendors || []) {
    const mine = all.filter((e) => belongsTo(e, vendor));
    const targets = [];
    for (const entry of mine) {
      if (entry.op["x-mockvendor-chat"] === false) continue; // e.g. token counting
      const shape = shapeOf(doc, entry);
      if (!shape) continue;
      const { schema, example } = bodyOf(doc, entry.op);
      const keys = new Set([...Object.keys(schema.properties || {}), ...Object.keys(example || {})]);
      const streamsAlways = /stream/i.test(entry.path) && !keys.has("stream");
      targets.push({ ...entry, vendor, shape, keys, example: example || {}, streamFlag: keys.has("stream"), streamsAlways });
    }
    if (targets.length) result.push({ vendor, targets });
  }
  return result;
}

function belongsTo(entry, vendor) {
  if (Array.isArray(vendor.operations) && vendor.operations.length) {
    return vendor.operations.some((o) => o.path === entry.path && o.method.toUpperCase() === entry.method);
  }
  return entry.op["x-mockvendor-vendor"] === vendor.name || (vendor.path && entry.path === vendor.path);
}

/** A parameter's fill-in value: default, example, first enum value, or "". */
export function paramDefault(p) {
  const s = p.schema || {};
  for (const v of [p.example, s.default, s.example, Array.isArray(s.enum) ? s.enum[0] : undefined]) {
    if (v !== undefined && v !== null) return String(v);
  }
  if (p.examples) {
    const first = Object.values(p.examples)[0];
    if (first && first.value !== undefined) return String(first.value);
  }
  return "";
}

/** The model the target will use by default (body example, or path parameter default). */
export function defaultModel(target) {
  if (typeof target.example.model === "string") return target.example.model;
  const p = target.params.find((x) => x.in === "path" && x.name === "model");
  return p ? paramDefault(p) : "";
}

/** Where the target takes a JSON schema for structured output, or null if it takes none. */
export function schemaField(target) {
  if (target.shape === "contents") return "generationConfig";
  if (target.shape === "openai" && target.keys.has("response_format")) return "response_format";
  if (target.shape === "anthropic" && target.keys.has("output_config")) return "output_config";
  if (target.keys.has("format")) return "format"; // Ollama: the schema itself
  return null;
}

/** Put ``schema`` (a JSON Schema object) where the target's wire format asks for it. */
function putSchema(target, body, schema) {
  switch (schemaField(target)) {
    case "generationConfig":
      body.generationConfig = { ...(body.generationConfig || {}), responseMimeType: "application/json", responseJsonSchema: schema };
      break;
    case "response_format":
      body.response_format = { type: "json_schema", json_schema: { name: "answer", schema } };
      break;
    case "output_config":
      body.output_config = { ...(body.output_config || {}), format: { type: "json_schema", schema } };
      break;
    case "format":
      body.format = schema;
      break;
  }
}

export const usesModel = (target) =>
  target.keys.has("model") || target.params.some((p) => p.in === "path" && p.name === "model");

/**
 * The request for a conversation. chat: {history: [{role: "user"|"assistant", text}],
 * system, maxTokens, model, stream, headers (extra), schema (a JSON Schema object, optional)}. Returns {method, url, headers, body}.
 */
export function buildRequest(target, chat) {
  const body = structuredClone(target.example || {});
  const history = chat.history;
  const last = history[history.length - 1]?.text || "";
  const system = (chat.system || "").trim();
  switch (target.shape) {
    case "prompt":
      body.prompt = last;
      if (system && target.keys.has("system_prompt")) body.system_prompt = system;
      else delete body.system_prompt;
      break;
    case "openai":
      body.messages = [
        ...(system ? [{ role: "system", content: system }] : []),
        ...history.map((m) => ({ role: m.role, content: m.text })),
      ];
      break;
    case "anthropic":
      body.messages = history.map((m) => ({ role: m.role, content: m.text }));
      if (system) body.system = system;
      else delete body.system;
      break;
    case "contents":
      body.contents = history.map((m) => ({ role: m.role === "assistant" ? "model" : "user", parts: [{ text: m.text }] }));
      if (system) body.systemInstruction = { parts: [{ text: system }] };
      else delete body.systemInstruction;
      break;
  }
  if (chat.model && target.keys.has("model")) body.model = chat.model;
  if (chat.maxTokens) {
    if (target.shape === "contents") {
      body.generationConfig = { ...(body.generationConfig || {}), maxOutputTokens: chat.maxTokens };
    } else if (target.keys.has("max_tokens")) {
      body.max_tokens = chat.maxTokens;
    } else if (target.keys.has("max_completion_tokens")) {
      body.max_completion_tokens = chat.maxTokens;
    } else if (target.keys.has("options")) {
      body.options = { ...(body.options || {}), num_predict: chat.maxTokens }; // Ollama
    }
  }
  if (chat.schema) putSchema(target, body, chat.schema);
  if (target.streamFlag) {
    if (chat.stream) {
      body.stream = true;
      if (target.keys.has("stream_options")) body.stream_options = { include_usage: true };
    } else {
      // A route that streams unless told not to (Ollama's) says so in its example.
      if (target.example?.stream === false) body.stream = false;
      else delete body.stream;
      delete body.stream_options;
    }
  }
  const headers = { "content-type": "application/json", ...(chat.headers || {}) };
  let path = target.path;
  const query = new URLSearchParams();
  for (const p of target.params) {
    if (p.in === "path") {
      const v = p.name === "model" && chat.model ? chat.model : paramDefault(p);
      path = path.replace(`{${p.name}}`, encodeURIComponent(v));
    } else if (p.required && p.in === "query") {
      query.set(p.name, paramDefault(p));
    } else if (p.in === "query" && p.name === "alt" && target.streamsAlways) {
      query.set("alt", paramDefault(p) || "sse");
    } else if (p.required && p.in === "header" && !(p.name.toLowerCase() in headers)) {
      headers[p.name.toLowerCase()] = paramDefault(p);
    }
  }
  const qs = query.toString();
  return { method: target.method, url: path + (qs ? `?${qs}` : ""), headers, body: JSON.stringify(body) };
}

/** Token counts found in a JSON answer or event: {in, out}, either may be undefined. */
export function usageOf(j) {
  if (!j || typeof j !== "object") return {};
  const u = j.usage || j.message?.usage;
  const m = j.usageMetadata;
  const pick = (...vals) => vals.find((v) => Number.isFinite(v));
  return {
    in: pick(j.tokensIn, u?.input_tokens, u?.prompt_tokens, m?.promptTokenCount, u?.tokens?.input_tokens, j.prompt_eval_count,
      j.delta?.usage?.tokens?.input_tokens),
    out: pick(j.tokensOut, u?.output_tokens, u?.completion_tokens, m?.candidatesTokenCount, u?.tokens?.output_tokens, j.eval_count,
      j.delta?.usage?.tokens?.output_tokens),
  };
}

/** The answer text of a whole (non-streamed) JSON answer, or null if none is found. */
export function answerText(j) {
  if (Array.isArray(j)) {
    const parts = j.map(answerText).filter((t) => t !== null);
    return parts.length ? parts.join("") : null;
  }
  if (!j || typeof j !== "object") return null;
  if (typeof j.outputText === "string") return j.outputText;
  if (typeof j.response === "string") return j.response;
  if (typeof j.message?.content === "string") return j.message.content; // Ollama's chat
  const choice = Array.isArray(j.choices) ? j.choices[0] : undefined;
  if (choice) {
    if (typeof choice.message?.content === "string") return choice.message.content;
    if (typeof choice.text === "string") return choice.text;
  }
  if (Array.isArray(j.content)) {
    return j.content.filter((b) => b && b.type === "text").map((b) => b.text).join("");
  }
  if (Array.isArray(j.candidates)) return partsText(j.candidates[0]);
  if (Array.isArray(j.message?.content)) {  // Cohere v2: message.content text parts
    return j.message.content.filter((b) => b && b.type === "text").map((b) => b.text).join("");
  }
  return null;
}

function partsText(candidate) {
  const parts = candidate?.content?.parts;
  return Array.isArray(parts) ? parts.map((p) => (typeof p.text === "string" ? p.text : "")).join("") : "";
}

/** The usage of a whole answer (the last counts found, for arrays of chunks). */
export function answerUsage(j) {
  if (Array.isArray(j)) return j.reduce((acc, x) => mergeUsage(acc, usageOf(x)), {});
  return usageOf(j);
}

export function mergeUsage(a, b) {
  return { in: b.in ?? a.in, out: b.out ?? a.out };
}

/**
 * Read one server-sent event of any supported format:
 * {delta?: string, usage: {in, out}, error?: object, done?: true, text?: string (whole answer)}.
 */
export function readEvent(ev) {
  if (ev.data === "[DONE]") return { done: true, usage: {} };
  let j;
  try { j = JSON.parse(ev.data); } catch { return { usage: {} }; }
  const out = { usage: usageOf(j) };
  if (ev.event === "error" || j?.type === "error" || (j && (typeof j.error === "object" || typeof j.error === "string") && j.error)
      || j?.object === "error" || (j?.type === "message-end" && j.delta?.finish_reason === "ERROR")) {
    out.error = j;
    return out;
  }
  if (typeof j.delta === "string") out.delta = j.delta;
  else if (j.type === "content_block_delta" && typeof j.delta?.text === "string") out.delta = j.delta.text;
  else if (j.type === "content-delta") out.delta = j.delta?.message?.content?.text;
  else if (Array.isArray(j.choices) && j.choices[0]) {
    const c = j.choices[0];
    out.delta = c.delta?.content ?? (typeof c.text === "string" ? c.text : undefined);
  } else if (Array.isArray(j.candidates)) out.delta = partsText(j.candidates[0]);
  else if (typeof j.done === "boolean") out.delta = j.message?.content ?? j.response; // an Ollama NDJSON line
  if (j.done === true || j.type === "message_stop" || j.type === "message-end") out.done = true;
  const whole = answerText(j);
  if (out.delta === undefined && whole !== null && j.done) out.text = whole;
  return out;
}

/** The error message inside any vendor's error JSON (or the raw text). */
export function errorMessage(body, text) {
  const e = body && typeof body === "object" ? body.error : undefined;
  if (e && typeof e === "object" && typeof e.message === "string") return e.message;
  if (typeof e === "string") return e;
  if (body && typeof body.message === "string") return body.message;
  return (text || "").slice(0, 500);
}
