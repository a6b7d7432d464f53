// The chat's message bubbles: the user's turn, an answer that may stream in, and the
// failure cards (server error with a retry button, rate limit with a countdown).
// All text goes in as text nodes.

import { fmtMs, h, pretty, replace } from "./dom.js";

const SLOW_AFTER_MS = 1000; // waiting longer than this for a first byte shows "slow"

export function userBubble(text) {
  return h("div", { class: "msg user" }, h("div", { class: "who", text: "You" }), h("div", { class: "text", text }));
}

/** A pending answer: elapsed time, then a progress bar when it is slow; text can stream in. */
export class AnswerBubble {
  constructor(vendorTitle, expectedDelayMs) {
    this.vendorTitle = vendorTitle;
    this.expectedDelayMs = expectedDelayMs;
    this.textNode = document.createTextNode("");
    this.textEl = h("div", { class: "text" }, this.textNode);
    // The ticking timer is for eyes only; screen readers hear "waiting" once, not every 100 ms.
    this.waitEl = h("div", { class: "waiting muted small", "aria-hidden": "true" });
    this.srWait = h("span", { class: "sr-only", text: `Waiting for ${vendorTitle}.` });
    this.bar = h("div", { class: "progress hidden", role: "progressbar", "aria-label": "Waiting for the answer" }, h("div"));
    this.metaEl = h("div", { class: "meta" });
    this.el = h(
      "div",
      { class: "msg assistant pending", "aria-busy": "true" },
      h("div", { class: "who", text: vendorTitle }),
      this.textEl,
      this.srWait,
      this.waitEl,
      this.bar,
      this.metaEl,
    );
    this.t0 = performance.now();
    this.firstByte = false;
    this.timer = setInterval(() => this.tick(), 100);
    this.tick();
  }

  tick() {
    const elapsed = performance.now() - this.t0;
    if (this.firstByte) return;
    const slow = elapsed >= SLOW_AFTER_MS;
    this.el.classList.toggle("slow", slow);
    this.waitEl.textContent = slow
      ? `Slow answer: waiting ${fmtMs(elapsed)}${this.expectedDelayMs ? ` of ~${fmtMs(this.expectedDelayMs)}` : ""}…`
      : `Waiting for ${this.vendorTitle}… ${fmtMs(elapsed)}`;
    if (slow) {
      this.bar.classList.remove("hidden");
      const determinate = this.expectedDelayMs > 0;
      this.bar.classList.toggle("indeterminate", !determinate);
      if (determinate) {
        const pct = Math.min(100, (elapsed / this.expectedDelayMs) * 100);
        this.bar.firstChild.style.width = `${pct}%`;
        this.bar.setAttribute("aria-valuenow", String(Math.round(pct)));
      }
    }
  }

  /** The first byte arrived (headers): stop the waiting indicator, show a cursor if streaming. */
  started(streaming) {
    this.firstByte = true;
    this.waitEl.classList.add("hidden");
    this.srWait.remove();
    this.bar.classList.add("hidden");
    if (streaming) this.textEl.classList.add("cursor");
  }

  append(delta) {
    this.textNode.appendData(delta);
    this.el.dataset.chunks = String(Number(this.el.dataset.chunks || 0) + 1);
  }

  get text() {
    return this.textNode.data;
  }

  setText(text) {
    this.textNode.data = text;
  }

  /** The answer is complete: show tokens, latency and any simulated fault. */
  finish(info) {
    this.stopTimer();
    this.textEl.classList.remove("cursor");
    this.el.classList.remove("pending", "slow");
    this.el.removeAttribute("aria-busy");
    Object.assign(this.el.dataset, {
      status: String(info.status),
      requestId: info.requestId || "",
      tokensIn: info.usage.in ?? "",
      tokensOut: info.usage.out ?? "",
    });
    const tokens = (n) => (Number.isFinite(n) ? String(n) : "?");
    replace(
      this.metaEl,
      h("span", { class: "tokens" }, "tokens ", h("b", { text: tokens(info.usage.in) }), " in · ", h("b", { text: tokens(info.usage.out) }), " out"),
      h("span", { class: "latency" }, "latency ", h("b", { text: fmtMs(info.latencyMs) })),
      info.ttftMs !== undefined ? h("span", {}, "first token ", h("b", { text: fmtMs(info.ttftMs) })) : null,
      info.model ? h("span", { class: "model", text: info.model }) : null,
      info.fault ? h("span", { class: "badge fault", text: `${info.fault} (simulated)` }) : null,
    );
    if (!this.text) this.textEl.append(h("span", { class: "muted", text: "(empty answer)" }));
  }

  /** Structured output: the answer's JSON shown as the parsed object (or why it is not one). */
  showParsed() {
    let value;
    try {
      value = JSON.parse(this.text);
    } catch (err) {
      this.el.append(h("p", { class: "parsed-error small", role: "status", text: `Not valid JSON: ${err.message}` }));
      return;
    }
    this.el.dataset.parsed = "true";
    this.el.append(
      h("details", { class: "parsed", open: "" }, h("summary", { text: "Parsed object" }),
        h("pre", { text: JSON.stringify(value, null, 2) })),
    );
  }

  stopTimer() {
    clearInterval(this.timer);
  }
}

/**
 * A failed answer. kind: "server" (5xx), "rate-limit" (429), "client" (other 4xx) or
 * "network". onRetry is called by the retry button; a rate limit with a hint keeps the
 * button disabled while it counts down.
 */
export function failureCard({ kind, status, fault, message, body, retryAfterMs, requestId, latencyMs, onRetry }) {
  const titles = {
    server: `Server error (HTTP ${status})`,
    "rate-limit": status === 429 ? "Rate limited (HTTP 429)" : "Rate limited",
    client: `Request rejected (HTTP ${status})`,
    stream: "Error inside the stream",
    network: "No answer",
  };
  const retry = h("button", { type: "button", class: "retry", text: "Retry", onclick: onRetry });
  const card = h(
    "div",
    { class: `msg error ${kind === "rate-limit" ? "rate-limited" : ""}`, role: "alert", dataset: { status: String(status || 0), requestId: requestId || "" } },
    h("div", { class: "title" }, titles[kind], " ", fault ? h("span", { class: "badge fault", text: `${fault} (simulated)` }) : null),
    h("div", { class: "text", text: message || "" }),
  );
  if (kind === "rate-limit" && retryAfterMs > 0) {
    const count = h("span", { class: "countdown", "aria-hidden": "true" });
    const bar = h("div", { class: "progress", "aria-hidden": "true" }, h("div"));
    const said = `Retry possible in ${Math.ceil(retryAfterMs / 1000)} seconds.`;
    const line = h("div", { class: "retry-hint" }, h("span", { "aria-hidden": "true" }, "Retry in ", count), h("span", { class: "sr-only", text: said }));
    card.append(line, bar);
    retry.disabled = true;
    const end = performance.now() + retryAfterMs;
    const tick = () => {
      const left = Math.max(0, end - performance.now());
      count.textContent = `${(left / 1000).toFixed(1)} s`;
      bar.firstChild.style.width = `${(left / retryAfterMs) * 100}%`;
      if (left <= 0) {
        clearInterval(timer);
        replace(line, "The server's retry hint has passed: you can retry now.");
        bar.remove();
        retry.disabled = false;
      }
    };
    const timer = setInterval(tick, 100);
    tick();
  } else if (kind === "rate-limit") {
    card.append(h("div", { class: "retry-hint muted", text: "No retry hint in the answer." }));
  }
  card.append(
    h("div", { class: "actions" }, retry, latencyMs !== undefined ? h("span", { class: "muted small", text: `after ${fmtMs(latencyMs)}` }) : null),
  );
  if (body !== undefined) {
    card.append(h("details", {}, h("summary", { text: "Response body" }), h("pre", { text: pretty(body) })));
  }
  return card;
}
