import { adminHeaders, isAdminUrl } from "./admin-token.js";

// One way to send a request and read its answer, used by the chat and by "Try it":
// measures latency and time to first byte, reads JSON or server-sent events as they arrive.

/**
 * Send a request. opts: {method, url, headers, body (string), signal, onEvent, onChunk}.
 * onEvent({event, data}) is called for each server-sent event; onChunk(text) for each raw
 * piece of the body as it arrives. Resolves to
 * {status, headers (lower-case name -> value), text, json, sse, latencyMs, ttfbMs}.
 */
export async function send(opts) {
  const t0 = performance.now();
  // Admin routes (the fault lab's, tried from the docs) get this tab's admin token.
  const admin = isAdminUrl(opts.url) ? adminHeaders() : {};
  const resp = await fetch(opts.url, {
    method: opts.method || "POST",
    headers: { ...admin, ...(opts.headers || {}) },
    body: opts.body,
    signal: opts.signal,
    cache: "no-store",
  });
  const ttfbMs = performance.now() - t0;
  const headers = {};
  resp.headers.forEach((value, name) => { headers[name.toLowerCase()] = value; });
  const ctype = headers["content-type"] || "";
  const ndjson = ctype.startsWith("application/x-ndjson"); // Ollama's streams: one JSON object a line
  const sse = ndjson || ctype.startsWith("text/event-stream");
  const onEvent = opts.onEvent || (() => {});
  const parser = ndjson ? new LineParser(onEvent) : sse ? new SSEParser(onEvent) : null;
  let text = "";
  if (resp.body) {
    const reader = resp.body.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const piece = decoder.decode(value, { stream: true });
      text += piece;
      if (opts.onChunk) opts.onChunk(piece);
      if (parser) parser.feed(piece);
    }
    const rest = decoder.decode();
    text += rest;
    if (parser) parser.feed(rest + "\n\n");
  }
  let json;
  if (!sse) {
    try { json = JSON.parse(text); } catch { json = undefined; }
  }
  return { status: resp.status, headers, text, json, sse, latencyMs: performance.now() - t0, ttfbMs };
}

/** Incremental server-sent-events parser (the WHATWG framing: event/data lines, blank line ends). */
export class SSEParser {
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.buffer = "";
  }

  feed(text) {
    this.buffer += text.replace(/\r\n?/g, "\n");
    let end;
    while ((end = this.buffer.indexOf("\n\n")) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      this.dispatch(block);
    }
  }

  dispatch(block) {
    let event = "";
    const data = [];
    for (const line of block.split("\n")) {
      if (!line || line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
    }
    if (data.length) this.onEvent({ event, data: data.join("\n") });
  }
}

/** Incremental NDJSON parser: each non-empty line is one event's data. */
export class LineParser {
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.buffer = "";
  }

  feed(text) {
    this.buffer += text;
    let end;
    while ((end = this.buffer.indexOf("\n")) >= 0) {
      const line = this.buffer.slice(0, end).trim();
      this.buffer = this.buffer.slice(end + 1);
      if (line) this.onEvent({ event: "", data: line });
    }
  }
}

/**
 * How long the server asks us to wait, in ms, or null: the seed's `retryAfterMs` body
 * field, the `retry-after-ms` / `retry-after` headers, or Gemini's RetryInfo `retryDelay`.
 */
export function retryHintMs(headers, body) {
  if (body && typeof body === "object") {
    if (Number.isFinite(body.retryAfterMs)) return body.retryAfterMs;
    const details = body.error && Array.isArray(body.error.details) ? body.error.details : [];
    for (const d of details) {
      const m = d && typeof d.retryDelay === "string" && d.retryDelay.match(/^([\d.]+)s$/);
      if (m) return parseFloat(m[1]) * 1000;
    }
  }
  const ms = parseFloat(headers["retry-after-ms"]);
  if (Number.isFinite(ms)) return ms;
  const after = headers["retry-after"];
  if (after) {
    const secs = Number(after);
    if (Number.isFinite(secs)) return secs * 1000;
    const date = Date.parse(after);
    if (Number.isFinite(date)) return Math.max(0, date - Date.now());
  }
  return null;
}
