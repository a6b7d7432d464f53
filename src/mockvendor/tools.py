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
import math
import random
import re
import string
from collections.abc import AsyncIterator
from typing import Any

from .jsonschema_instance import FORMATS, Unbuildable, bound, shortest_match, smallest_instance, smallest_instance_at
from .types import Chunk, Completion, GenerateRequest, Message, Tool, ToolCall, Usage

_WORD = re.compile(r"[A-Za-z0-9]+")
_PIECE = re.compile(r"\w+|\W+")  # how a call's arguments JSON is cut into stream chunks
_ID_CHARS = string.ascii_letters + string.digits
MAX_DEPTH = 6  # deeper than this, only what the schema requires (required properties, minItems)
HARD_DEPTH = 32  # deeper than any tool needs: an empty object or array, valid or not
MAX_ITEMS = 64  # an array never holds more, whatever its minItems says


def prepare(engine: Any, req: GenerateRequest) -> Any:
    """The engine that answers ``req``: a :class:`ToolCaller` when a tool is to be called,
    else ``engine`` itself. Either way tool turns in ``req.messages`` become plain turns."""
    if getattr(engine, "handles_tools", False):
        return engine  # an upstream model decides, and sees the tool turns as they are
    calls = decide(req)
    for m in req.messages:
        if m.role == "tool" or m.tool_calls:
            req.messages = plain_messages(req.messages)
            break
    if calls:
        return ToolCaller(engine, calls)
    return engine


def decide(req: GenerateRequest) -> list[ToolCall]:
    """The tool calls this request is answered with (none: answer in text)."""
    if not req.tools or req.tool_choice == "none":
        return []
    text = req.last_user_text()
    if req.tool_choice.startswith("tool:"):
        wanted = req.tool_choice[len("tool:") :]
        plan = [(next(t for t in req.tools if t.name == wanted), text)]  # vendors check the name exists
    else:
        last = req.messages[-1] if req.messages else None
        if req.tool_choice == "auto" and (last is None or last.role != "user"):
            return []
        plan = (_parallel(req.tools, text) if req.parallel_tool_calls else []) or [(best_tool(req.tools, text), text)]
    key = _conversation_key(req)
    calls = []
    for i, (tool, said) in enumerate(plan):
        rng = random.Random(f"{req.seed}|{tool.name}|{key}" + (f"|{i}" if i else ""))
        args = value_for(tool.parameters or {"type": "object"}, rng, _candidate_words(said, clause=i > 0), "")
        call_id = "".join(rng.choice(_ID_CHARS) for _ in range(24))
        calls.append(ToolCall(call_id, tool.name, args if isinstance(args, dict) else {}))
    return calls


_CLAUSE = re.compile(r"\s*(?:[,;&]|\band\b|\balso\b|\bthen\b)\s*", re.I)
MAX_PARALLEL = 8


def _parallel(tools: list[Tool], text: str) -> list[tuple[Tool, str]]:
    """Several calls when the user asks for several things: each clause ("the weather in
    Paris", "the time in Tokyo") naming a tool calls it, and a clause naming only a thing
    ("and New York") calls the tool before it again. Fewer than two: not parallel."""
    plan: list[tuple[Tool, str]] = []
    for clause in (c for c in _CLAUSE.split(text) if c.strip()):
        tool = best_tool(tools, clause)
        if _score(tool, clause):
            plan.append((tool, clause))
        elif plan and re.search(r"\b[A-Z0-9]", clause):
            plan.append((plan[-1][0], clause))
    return plan[:MAX_PARALLEL] if len(plan) > 1 else []


def arguments_json(call: ToolCall) -> str:
    """A call's arguments as the JSON text vendors send (compact, as OpenAI's are)."""
    if call.raw is not None:
        return call.raw
    return json.dumps(call.arguments, ensure_ascii=False, separators=(",", ":"))


def _words(s: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(s)} - _COMMON


def _score(tool: Tool, text: str) -> int:
    """How many of ``text``'s words the tool's name and description share."""
    return len(_words(_split_name(tool.name) + " " + tool.description) & _words(text))


def best_tool(tools: list[Tool], text: str) -> Tool:
    return max(tools, key=lambda t: _score(t, text))  # max keeps the first of equals


def _split_name(name: str) -> str:
    return re.sub(r"([a-z])([A-Z])", r"\1 \2", name).replace("_", " ").replace("-", " ")


def _conversation_key(req: GenerateRequest) -> str:
    return "\n".join(f"{m.role}:{m.content}" for m in req.messages)


_COMMON = {
    "a", "an", "the", "is", "are", "was", "what", "whats", "s", "in", "on", "at", "of", "for", "to", "and",
    "or", "me", "my", "i", "you", "please", "can", "could", "would", "will", "do", "does", "it", "this",
    "that", "with", "how", "tell", "give", "get", "find", "show", "about", "now", "today",
}


def _candidate_words(text: str, clause: bool = False) -> list[str]:
    """Words worth putting in a string argument: names first (runs of capitalised words,
    "New York", not counting a sentence's first word, but counting a later clause's; acronyms),
    then the other words; common words never."""
    words = list(_WORD.finditer(text))
    names: list[str] = []
    run: list[str] = []
    for i, m in enumerate(words):
        w = m.group()
        capital = ((i > 0 or clause) and w[0].isupper()) or (len(w) > 1 and w.isupper())
        joined = run and text[words[i - 1].end():m.start()].strip() == ""
        if capital and w.lower() not in _COMMON:
            run = [*run, w] if joined else [w]
            if not joined and len(run) == 1:
                names.append(w)
            else:
                names[-1] = " ".join(run)
        else:
            run = []
    named = {part for n in names for part in n.split()}
    rest = [w for w in (m.group() for m in words) if w.lower() not in _COMMON and w not in named]
    return names + rest or ["example"]


def value_for(schema: Any, rng: random.Random, words: list[str], path: str = "", depth: int = 0) -> Any:
    """A value valid against ``schema`` (a tool's JSON Schema, as SDK helpers write them:
    ``$ref`` / ``$defs`` with recursion, ``anyOf``, type lists, enums, formats, patterns,
    bounds, item counts, ``additionalProperties: false``), varied by ``rng`` and filled with
    the user's ``words`` where a string may hold them."""
    return _Maker(schema, rng, words).make(schema, depth, ())


class _Maker:
    def __init__(self, root: Any, rng: random.Random, words: list[str]) -> None:
        self.root, self.rng, self.words = root, rng, words or ["example"]

    def resolve(self, ref: str) -> Any:
        node = self.root
        for part in [p for p in ref.lstrip("#").split("/") if p]:
            part = part.replace("~1", "/").replace("~0", "~")
            node = node[int(part)] if isinstance(node, list) else node[part]
        return node

    def fallback(self, schema: Any) -> Any:
        """The schema's smallest valid value (what a branch too deep or too odd gets)."""
        try:
            return smallest_instance({**_dict(schema), "$defs": _dict(_dict(self.root).get("$defs")),
                                      "definitions": _dict(_dict(self.root).get("definitions"))})
        except Unbuildable:
            return None

    def make(self, schema: Any, depth: int, refs: tuple[str, ...]) -> Any:  # noqa: C901 - one branch per keyword
        if not isinstance(schema, dict):
            return None
        if "$ref" in schema and isinstance(schema["$ref"], str):
            ref = schema["$ref"]
            if refs.count(ref) >= 2 or depth >= MAX_DEPTH:
                try:
                    return smallest_instance_at(self.root, ref)
                except (Unbuildable, KeyError, IndexError, TypeError):
                    return None
            try:
                target = self.resolve(ref)
            except (KeyError, IndexError, TypeError):
                return None
            return self.make(target, depth, (*refs, ref))
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return self.rng.choice(schema["enum"])
        for key in ("anyOf", "oneOf"):
            options = schema.get(key)
            if isinstance(options, list) and any(isinstance(o, dict) for o in options):
                mappings = [o for o in options if isinstance(o, dict)]
                typed = [o for o in mappings if o.get("type") != "null"] or mappings
                # oneOf: the first option, whose values the others rarely share; anyOf: any.
                pick = typed[0] if key == "oneOf" else self.rng.choice(typed)
                rest = {k: v for k, v in schema.items() if k != key}
                return self.make({**rest, **pick} if rest else pick, depth, refs)
        if isinstance(schema.get("allOf"), list) and schema["allOf"]:
            merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
            for part in schema["allOf"]:
                if isinstance(part, dict) and isinstance(part.get("$ref"), str):
                    part = self.resolve(part["$ref"])
                if isinstance(part, dict):
                    merged = {**merged, **part,
                              "properties": {**_dict(merged.get("properties")), **_dict(part.get("properties"))},
                              "required": [*_list(merged.get("required")), *_list(part.get("required"))]}
            return self.make(merged, depth, refs)
        kind = schema.get("type")
        if isinstance(kind, list):
            typed = [k for k in kind if k != "null"]
            kind = self.rng.choice(typed) if typed else "null"
        if kind is None:
            kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
        kind = str(kind).lower()  # Gemini writes OBJECT, STRING, ...
        if kind == "object":
            return self.object(schema, depth, refs)
        if kind == "array":
            return self.array(schema, depth, refs)
        if kind in ("integer", "number"):
            return self.number(schema, kind == "integer")
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind == "null":
            return None
        return self.string(schema)

    def object(self, schema: dict[str, Any], depth: int, refs: tuple[str, ...]) -> dict[str, Any]:
        if depth >= HARD_DEPTH:
            return {}
        props = _dict(schema.get("properties"))
        required = [k for k in _list(schema.get("required")) if isinstance(k, str)]
        names = required or list(props)
        if depth >= MAX_DEPTH:
            names = required
        return {k: self.make(props.get(k, {"type": "string"}), depth + 1, refs) for k in names}

    def array(self, schema: dict[str, Any], depth: int, refs: tuple[str, ...]) -> list[Any]:
        if depth >= HARD_DEPTH:
            return []
        lo = min(max(int(_num(schema.get("minItems"), 0)), 0), MAX_ITEMS)
        top = schema.get("maxItems")
        hi = int(top) if isinstance(top, int) and not isinstance(top, bool) else lo + 2
        n = lo if depth >= MAX_DEPTH else self.rng.randint(lo, max(lo, min(hi, lo + 2, max(lo, 1) + 1)))
        prefix = _list(schema.get("prefixItems")) or (_list(schema.get("items")) if isinstance(
            schema.get("items"), list) else [])
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        out: list[Any] = []
        for i in range(max(n, len(prefix) if lo >= len(prefix) else 0)):
            value = self.make(prefix[i] if i < len(prefix) else items, depth + 1, refs)
            if schema.get("uniqueItems") is True and value in out:
                for _ in range(8):
                    value = self.make(prefix[i] if i < len(prefix) else items, depth + 1, refs)
                    if value not in out:
                        break
                else:
                    if len(out) >= lo:
                        break
            out.append(value)
        return out

    def number(self, schema: dict[str, Any], integer: bool) -> int | float:
        lo, lo_x = bound(schema, "minimum", "exclusiveMinimum")
        hi, hi_x = bound(schema, "maximum", "exclusiveMaximum")
        mult = schema.get("multipleOf")
        mult = mult if isinstance(mult, (int, float)) and not isinstance(mult, bool) and mult > 0 else None
        if lo is None and hi is None:
            lo, hi = (1, 10) if integer else (0.0, 10.0)
        elif lo is None:
            lo, lo_x = min(hi - 10, 1), False  # type: ignore[operator]
        elif hi is None:
            hi, hi_x = lo + 10, False
        if integer or mult is not None:
            step = mult if mult is not None else 1
            first = math.floor(lo / step) + 1 if lo_x and float(lo / step).is_integer() else math.ceil(lo / step)
            last = math.ceil(hi / step) - 1 if hi_x and float(hi / step).is_integer() else math.floor(hi / step)
            if last < first:
                return _smallest_number(schema, integer)
            k = self.rng.randint(first, last)
            value = k * step
            return int(value) if integer or float(value).is_integer() and isinstance(step, int) else value
        value = round(self.rng.uniform(lo, hi), 2)
        if value < lo or value > hi or (lo_x and value <= lo) or (hi_x and value >= hi):
            value = (lo + hi) / 2
        return value

    def string(self, schema: dict[str, Any]) -> str:
        lo = min(max(int(_num(schema.get("minLength"), 0)), 0), 10_000)
        top = schema.get("maxLength")
        hi = top if isinstance(top, int) and not isinstance(top, bool) and top >= lo else None
        fits = lambda t: len(t) >= lo and (hi is None or len(t) <= hi)  # noqa: E731
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            try:
                found = [w for w in self.words if re.search(pattern, w) and fits(w)]
            except re.error:
                found = []
            if found:
                return found[0]
            short = shortest_match(pattern)
            return short if short is not None and fits(short) else str(self.fallback(schema) or "")
        fmt = schema.get("format")
        if isinstance(fmt, str) and fmt in FORMATS:
            return FORMATS[fmt] if fits(FORMATS[fmt]) else str(self.fallback(schema) or "")
        text = self.words[0]
        while len(text) < lo:
            text += " " + self.rng.choice(self.words)
        return text[:hi] if hi is not None else text


def _smallest_number(schema: dict[str, Any], integer: bool) -> int | float:
    try:
        return smallest_instance({**schema, "type": "integer" if integer else "number"})  # type: ignore[no-any-return]
    except Unbuildable:
        return 0


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _num(value: Any, default: float) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default


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
