"""A rule from a logged request: "answer this the same way next time".

The request log keeps each vendor's own JSON; the last user message and the answer (text
and tool calls) are read back from the shapes the vendors speak.
"""

from __future__ import annotations

from typing import Any

from ..errors import InvalidRequest
from ..tracking.record import Record


def rule_from_record(rec: Record) -> dict[str, Any]:
    """A rule document matching ``rec``'s vendor, model and last user message, answering as it was answered."""
    if rec.status != 200 or rec.request_body is None or rec.response_body is None:
        raise InvalidRequest("Only a logged request answered with 200, with its bodies captured "
                             "(MOCKVENDOR_CAPTURE_BODIES), can become a rule.")
    user = last_user(rec.request_body)
    text, calls = answer_of(rec.response_body)
    if user is None or (text is None and not calls):
        raise InvalidRequest("This request's last user message or answer could not be read back.")
    answer: dict[str, Any] = {}
    if text:
        answer["text"] = text
    if calls:
        answer["tool_calls"] = calls
    match: dict[str, Any] = {"user": {"equals": user}}
    if rec.vendor:
        match["vendor"] = rec.vendor
    if rec.model:
        match["model"] = rec.model
    return {"name": f"from-{rec.id}", "match": match, "answer": answer or {"text": ""}}


def _text(content: Any) -> str | None:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)]
        return "".join(parts) if parts else None
    return None


def last_user(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    if isinstance(body.get("prompt"), str):
        return str(body["prompt"])
    inp = body.get("input")
    if isinstance(inp, str):
        return inp
    for key in ("messages", "input", "contents"):
        turns = body.get(key)
        if isinstance(turns, list):
            for t in reversed(turns):
                if isinstance(t, dict) and t.get("role", "user") == "user":
                    found = _text(t.get("content")) if "content" in t else _text(t.get("parts"))
                    if found is not None:
                        return found
    return None


def answer_of(body: Any) -> tuple[str | None, list[dict[str, Any]]]:
    """The answer's text and tool calls, from any vendor's answer (or a stream's summary)."""
    if not isinstance(body, dict):
        return None, []
    if "text" in body and "finish_reason" in body:  # a streamed answer, as the log keeps it
        return body.get("text"), [{"name": c["name"], "arguments": c.get("arguments", {})}
                                  for c in body.get("tool_calls") or []]
    calls: list[dict[str, Any]] = []
    if isinstance(body.get("choices"), list) and body["choices"]:  # OpenAI chat, vendor B
        msg = body["choices"][0].get("message") or {}
        for c in msg.get("tool_calls") or []:
            f = c.get("function") or {}
            calls.append({"name": f.get("name"), "arguments": f.get("arguments") or "{}"})
        return msg.get("content"), calls
    if isinstance(body.get("content"), list):  # Anthropic
        texts = []
        for block in body["content"]:
            if block.get("type") == "text":
                texts.append(block.get("text", ""))
            elif block.get("type") == "tool_use":
                calls.append({"name": block.get("name"), "arguments": block.get("input") or {}})
        return "".join(texts), calls
    if isinstance(body.get("candidates"), list) and body["candidates"]:  # Gemini
        texts = []
        for part in (body["candidates"][0].get("content") or {}).get("parts") or []:
            if "text" in part:
                texts.append(part["text"])
            elif "functionCall" in part:
                calls.append({"name": part["functionCall"].get("name"),
                              "arguments": part["functionCall"].get("args") or {}})
        return "".join(texts), calls
    if isinstance(body.get("output"), list):  # OpenAI Responses
        texts = []
        for item in body["output"]:
            if item.get("type") == "message":
                texts.extend(c.get("text", "") for c in item.get("content") or [] if isinstance(c, dict))
            elif item.get("type") == "function_call":
                calls.append({"name": item.get("name"), "arguments": item.get("arguments") or "{}"})
        return "".join(texts), calls
    for key in ("text", "completion", "response", "answer"):  # the seed vendors
        if isinstance(body.get(key), str):
            return str(body[key]), []
    return None, []
