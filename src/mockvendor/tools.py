"""Tool calls: when to call a tool, with which arguments, and how tool turns reach a model.

A 135M local model cannot call tools reliably, and a test of a gateway's tool handling needs
calls it can predict. So the decision is a rule, in the vendor's own terms:

- ``tool_choice`` ``none``: never call; ``required`` (OpenAI), ``any`` (Anthropic), ``ANY``
  (Gemini): always call; a named tool: call that one.
- ``auto`` (the default when tools are given): call a tool when the conversation's last turn
  is the user's, and answer in text (from the model, which sees the tool results) once the
  last turn is a tool result. An agent loop therefore runs: question, call, result, answer.

The tool is the one whose name and description share the most words with the user's last
message (the first one on a tie). Its arguments follow its JSON Schema: required properties
(and every property when the schema lists none as required), enums, formats, bounds, nested
objects and arrays; strings are taken from the user's words (capitalised words first, so
"the weather in Paris" gives ``"Paris"``). Everything is derived from the request's seed and
text: the same request gives the same call, id included.

:func:`prepare` is the one entry point, called by the request path between the vendor's parse
and the engine.
"""

from __future__ import annotations

import json
import random
import re
import string
from collections.abc import AsyncIterator
from typing import Any

from .types import Chunk, Completion, GenerateRequest, Message, Tool, ToolCall, Usage

_WORD = re.compile(r"[A-Za-z0-9]+")
_PIECE = re.compile(r"\w+|\W+")  # how a call's arguments JSON is cut into stream chunks
_ID_CHARS = string.ascii_letters + string.digits
MAX_DEPTH = 6  # nested schemas deeper than this get an empty object or array


def prepare(engine: Any, req: GenerateRequest) -> Any:
    """The engine that answers ``req``: a :class:`ToolCaller` when a tool is to be called,
    else ``engine`` itself. Either way tool turns in ``req.messages`` become plain turns."""
    if getattr(engine, "handles_tools", False):
        return engine  # an upstream model decides, and sees the tool turns as they are
    calls = decide(req)
    if any(m.role == "tool" or m.tool_calls for m in req.messages):
        req.messages = plain_messages(req.messages)
    if calls:
        return ToolCaller(engine, calls)
    return engine


def decide(req: GenerateRequest) -> list[ToolCall]:
    """The tool calls this request is answered with (none: answer in text)."""
    if not req.tools or req.tool_choice == "none":
        return []
    if req.tool_choice.startswith("tool:"):
        wanted = req.tool_choice[len("tool:") :]
        tool = next(t for t in req.tools if t.name == wanted)  # vendors check the name exists
    else:
        last = req.messages[-1] if req.messages else None
        if req.tool_choice == "auto" and (last is None or last.role != "user"):
            return []
        tool = best_tool(req.tools, req.last_user_text())
    rng = random.Random(f"{req.seed}|{tool.name}|{_conversation_key(req)}")
    words = _candidate_words(req.last_user_text())
    args = value_for(tool.parameters or {"type": "object"}, rng, words, "")
    if not isinstance(args, dict):
        args = {}
    call_id = "".join(rng.choice(_ID_CHARS) for _ in range(24))
    return [ToolCall(call_id, tool.name, args)]


def arguments_json(call: ToolCall) -> str:
    """A call's arguments as the JSON text vendors send (compact, as OpenAI's are)."""
    return json.dumps(call.arguments, ensure_ascii=False, separators=(",", ":"))


def best_tool(tools: list[Tool], text: str) -> Tool:
    def words(s: str) -> set[str]:
        return {w.lower() for w in _WORD.findall(s)} - _COMMON

    said = words(text)

    def score(t: Tool) -> int:
        return len(words(_split_name(t.name) + " " + t.description) & said)

    return max(tools, key=score)  # max keeps the first of equals


def _split_name(name: str) -> str:
    return re.sub(r"([a-z])([A-Z])", r"\1 \2", name).replace("_", " ").replace("-", " ")


def _conversation_key(req: GenerateRequest) -> str:
    return "\n".join(f"{m.role}:{m.content}" for m in req.messages)


_COMMON = {
    "a", "an", "the", "is", "are", "was", "what", "whats", "s", "in", "on", "at", "of", "for", "to", "and",
    "or", "me", "my", "i", "you", "please", "can", "could", "would", "will", "do", "does", "it", "this",
    "that", "with", "how", "tell", "give", "get", "find", "show", "about", "now", "today",
}


def _candidate_words(text: str) -> list[str]:
    """Words worth putting in a string argument: capitalised ones (not the sentence's first
    word) and acronyms first, then the rest; common words never."""
    kept = [(i, w) for i, w in enumerate(_WORD.findall(text)) if w.lower() not in _COMMON]
    capital = [w for i, w in kept if (i > 0 and w[0].isupper()) or (len(w) > 1 and w.isupper())]
    return capital + [w for _, w in kept if w not in capital] or ["example"]


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _num(value: Any, default: float) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default


def value_for(schema: Any, rng: random.Random, words: list[str], path: str, depth: int = 0) -> Any:
    """A value that satisfies ``schema`` (the JSON Schema subset tools use)."""
    if not isinstance(schema, dict):
        return None
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return rng.choice(schema["enum"])
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            typed = [o for o in options if isinstance(o, dict) and o.get("type") != "null"] or options
            return value_for(typed[0], rng, words, path, depth)
    if isinstance(schema.get("allOf"), list) and schema["allOf"]:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            if isinstance(part, dict):
                merged = {**merged, **part,
                          "properties": {**_dict(merged.get("properties")), **_dict(part.get("properties"))},
                          "required": [*_list(merged.get("required")), *_list(part.get("required"))]}
        return value_for(merged, rng, words, path, depth)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
    kind = str(kind).lower()  # Gemini writes OBJECT, STRING, ...
    if kind == "object":
        if depth >= MAX_DEPTH:
            return {}
        props = _dict(schema.get("properties"))
        required = [k for k in _list(schema.get("required")) if isinstance(k, str)]
        names = required or list(props)
        return {k: value_for(props.get(k, {}), rng, words, k, depth + 1) for k in names}
    if kind == "array":
        if depth >= MAX_DEPTH:
            return []
        lo = min(max(int(_num(schema.get("minItems"), 1)), 0), 8)  # a schema cannot make it huge
        hi = max(lo, min(int(_num(schema.get("maxItems"), 2)), lo + 2))
        return [value_for(schema.get("items", {}), rng, words, path, depth + 1) for _ in range(rng.randint(lo, hi))]
    if kind in ("integer", "number"):
        lo = _num(schema.get("minimum"), _num(schema.get("exclusiveMinimum"), 1.0 if kind == "integer" else 0.0))
        hi = _num(schema.get("maximum"), _num(schema.get("exclusiveMaximum"), lo + 10))
        if kind == "integer":
            ilo = int(lo) + (1 if "minimum" not in schema and "exclusiveMinimum" in schema else 0)
            ihi = int(hi) - (1 if "maximum" not in schema and "exclusiveMaximum" in schema else 0)
            return rng.randint(ilo, max(ilo, ihi))
        return round(rng.uniform(lo, max(lo, hi)), 2)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "null":
        return None
    return _string(schema, rng, words)


def _string(schema: dict[str, Any], rng: random.Random, words: list[str]) -> str:
    fmt = schema.get("format")
    formats = {
        "date": "2026-01-15", "date-time": "2026-01-15T09:30:00Z", "time": "09:30:00",
        "email": "user@example.com", "uri": "https://example.com/", "url": "https://example.com/",
        "uuid": "123e4567-e89b-42d3-a456-426614174000", "ipv4": "192.0.2.1",
    }
    if isinstance(fmt, str) and fmt in formats:
        return formats[fmt]
    text = words[0] if words else "example"
    lo = min(max(int(_num(schema.get("minLength"), 0)), 0), 1000)
    hi = schema.get("maxLength")
    while len(text) < lo:
        text += " " + rng.choice(words or ["example"])
    if isinstance(hi, int) and hi >= 0:
        text = text[:hi]
    return text


def plain_messages(messages: list[Message]) -> list[Message]:
    """Tool turns as plain text turns, for engines that only know system, user and assistant."""
    out = []
    for m in messages:
        if m.role == "tool":
            who = m.name or "the tool"
            out.append(Message("user", f"Result of {who}: {m.content}"))
        elif m.tool_calls:
            calls = "\n".join(f"[called {c.name} with {json.dumps(c.arguments)}]" for c in m.tool_calls)
            out.append(Message(m.role, (m.content + "\n" if m.content else "") + calls))
        else:
            out.append(m)
    return out


class ToolCaller:
    """The engine for a request answered with tool calls: it streams each call's arguments
    JSON in small pieces, then a Completion with ``finish_reason="tool_calls"``. Tokens are
    counted with the model's own tokenizer (``inner.prompt_tokens`` on the JSON)."""

    name = "tools"
    can_stream = True

    def __init__(self, inner: Any, calls: list[ToolCall]) -> None:
        self.inner = inner
        self.calls = calls
        self.context_window = getattr(inner, "context_window", 0)

    def prompt_tokens(self, req: GenerateRequest) -> int:
        return int(self.inner.prompt_tokens(req))

    def complete(self, req: GenerateRequest) -> Completion:
        out = sum(self._count(req, c.name + arguments_json(c)) for c in self.calls)
        usage = Usage(self.prompt_tokens(req), out)
        return Completion("", usage, "tool_calls", None, 0.0, req.model, tool_calls=list(self.calls))

    def _count(self, req: GenerateRequest, text: str) -> int:
        return int(self.inner.prompt_tokens(GenerateRequest(req.model, prompt=text)))

    async def stream(self, req: GenerateRequest) -> AsyncIterator[Chunk | Completion]:
        done = self.complete(req)
        for i, call in enumerate(self.calls):
            yield Chunk("", tool_call=call, tool_index=i)
            for piece in _PIECE.findall(arguments_json(call)):
                yield Chunk(piece, tool_call=call, tool_index=i)
        yield done

    def stats(self) -> dict[str, Any]:
        return self.inner.stats()  # type: ignore[no-any-return]
