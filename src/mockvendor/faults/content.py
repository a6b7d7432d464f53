"""Content faults: the model misbehaving rather than the transport. The answer is well formed
on the wire (streamed or not, in the vendor's own shape), and its content is what an
application must survive:

- ``refusal``: the model declines (``finish_reason`` ``refusal``: OpenAI's ``refusal``
  field, Anthropic's ``stop_reason: "refusal"``, Gemini's ``finishReason: SAFETY``);
- ``invalid-json``: structured output or tool arguments that do not parse;
- ``schema-violation``: they parse, and fail the schema (a required property missing, a
  property of the wrong type);
- ``unknown-tool``: a call to a tool the request did not offer;
- ``truncated``: cut by ``max_tokens`` after a few tokens (``finish_reason`` ``length``);
- ``empty``: no text at all;
- ``repetition``: the answer loops on one phrase until ``max_tokens``.

:func:`misbehave` wraps the request's engine (the model, or the tool caller) in one that
answers so. Everything derives from the request, so the same request misbehaves the same way.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from ..engines import generate
from ..jsonschema_instance import Unbuildable, smallest_instance
from ..tools import ToolCaller, arguments_json, decide
from ..types import Chunk, Completion, GenerateRequest, ToolCall, Usage

REFUSAL = "I'm sorry, but I can't help with that request."
TRUNCATED_TOKENS = 3  # what a truncated answer keeps
REPETITION_TOKENS = 64  # how long a loop runs when the request sets no max_tokens
_PIECE = re.compile(r"\S+\s*|\s+")  # how a made-up answer is cut into stream chunks


def misbehave(engine: Any, kind: str) -> Misbehaving:
    return Misbehaving(engine, kind)


class Misbehaving:
    """The engine of a request hit by a content fault (see the module doc)."""

    name = "content-fault"
    can_stream = True

    def __init__(self, inner: Any, kind: str) -> None:
        self.inner = inner
        self.kind = kind
        self.context_window = getattr(inner, "context_window", 0)
        # The model itself, under a tool caller (truncated and repeated answers are its words).
        self.model = inner.inner if isinstance(inner, ToolCaller) else inner

    def prompt_tokens(self, req: GenerateRequest) -> int:
        return int(self.inner.prompt_tokens(req))

    def stats(self) -> dict[str, Any]:
        return self.inner.stats()  # type: ignore[no-any-return]

    def _tokens(self, req: GenerateRequest, text: str) -> int:
        return int(self.model.prompt_tokens(GenerateRequest(req.model, prompt=text))) if text else 0

    def _done(self, req: GenerateRequest, text: str, finish: str, calls: list[ToolCall] | None = None
              ) -> Completion:
        out = self._tokens(req, text) + sum(self._tokens(req, c.name + arguments_json(c)) for c in calls or [])
        return Completion(text, Usage(self.prompt_tokens(req), out), finish, model=req.model,
                          tool_calls=list(calls or []))

    async def stream(self, req: GenerateRequest) -> AsyncIterator[Chunk | Completion]:
        done = await self.answer(req)
        if done.tool_calls:
            async for item in ToolCaller(self.model, done.tool_calls).stream(req):
                if isinstance(item, Completion):
                    yield done
                else:
                    yield item
            return
        if done.finish_reason != "refusal":  # a refusal's words go where the vendor puts refusals
            for piece in _PIECE.findall(done.text):
                yield Chunk(piece)
        yield done

    async def answer(self, req: GenerateRequest) -> Completion:  # noqa: C901 - one branch per kind
        kind = self.kind
        calls = self.inner.calls if isinstance(self.inner, ToolCaller) else []
        if kind == "refusal":
            return self._done(req, REFUSAL, "refusal")
        if kind == "empty":
            return self._done(req, "", "stop")
        if kind == "unknown-tool":
            offered = {t.name for t in req.tools}
            name = next(n for n in (f"unknown_tool{i or ''}" for i in range(len(offered) + 1)) if n not in offered)
            base = calls[0].id if calls else "x" * 24
            return self._done(req, "", "tool_calls", [ToolCall(base[::-1], name, {})])
        if kind == "truncated":
            cut = replace(req, max_tokens=min(req.max_tokens or TRUNCATED_TOKENS, TRUNCATED_TOKENS),
                          engine_state=None)
            words = await generate(self.model, cut)
            return self._done(req, words.text, "length")
        if kind == "repetition":
            phrase = (await generate(self.model, replace(req, max_tokens=6, engine_state=None))).text.strip()
            phrase = phrase or "and so on"
            budget = req.max_tokens or REPETITION_TOKENS
            times = max(2, math.ceil(budget / max(1, self._tokens(req, phrase + " "))))
            return self._done(req, " ".join([phrase] * times), "length")
        # invalid-json and schema-violation: on the calls when there are calls, else on the answer.
        if calls or (req.tools and req.tool_choice != "none" and not req.response_format):
            calls = calls or decide(req) or [ToolCall("x" * 24, req.tools[0].name, {})]
            schemas = {t.name: t.parameters for t in req.tools}
            if kind == "invalid-json":
                broken = [replace(c, arguments={}, raw=_broken(arguments_json(c))) for c in calls]
            else:
                broken = [replace(c, arguments=violate(schemas.get(c.name) or {}, c.arguments)) for c in calls]
            return self._done(req, "", "tool_calls", broken)
        good = await generate(self.inner, replace(req, engine_state=None))
        if kind == "invalid-json":
            return self._done(req, _broken(good.text if req.response_format else json.dumps({"answer": good.text})),
                              "stop")
        fmt = req.response_format
        schema = fmt.schema if fmt is not None and fmt.schema is not None else {"type": "object"}
        try:
            value = json.loads(good.text)
        except ValueError:  # cut by max_tokens: start from the smallest valid value
            value = _smallest(schema)
        return self._done(req, json.dumps(violate(schema, value), separators=(",", ":")), "stop")


def _broken(text: str) -> str:
    """JSON that does not parse: the last character gone and a dangling comma."""
    text = text.rstrip()
    return (text[:-1] if text[-1:] in "}]" else text) + ","


def _smallest(schema: Any) -> Any:
    try:
        return smallest_instance(schema)
    except Unbuildable:
        return {}


_WRONG = {"string": 12345, "integer": "not a number", "number": "not a number", "boolean": "yes",
          "array": {"not": "a list"}, "object": "not an object", "null": "not null"}


def violate(schema: Any, value: Any) -> Any:
    """``value`` made to fail ``schema`` while still being JSON: a required property dropped,
    else a property of the wrong type, else a value of the wrong type altogether."""
    s = schema if isinstance(schema, dict) else {}
    if "$ref" in s and isinstance(s.get("$defs"), dict):  # a root that is a reference (Pydantic's)
        target = s["$defs"].get(str(s["$ref"]).rsplit("/", 1)[-1])
        if isinstance(target, dict):
            s = target
    required = [r for r in s.get("required") or [] if isinstance(r, str)]
    if isinstance(value, dict) and required:
        return {k: v for k, v in value.items() if k != required[0]}
    props = s.get("properties")
    if isinstance(value, dict) and isinstance(props, dict) and props:
        name, prop = next(iter(props.items()))
        kind = prop.get("type") if isinstance(prop, dict) else None
        wrong = _WRONG.get(kind if isinstance(kind, str) else "", {"unexpected": ["value"]})
        if isinstance(prop, dict) and ("enum" in prop or "const" in prop):
            wrong = "__not_an_allowed_value__"
        return {**value, name: wrong}
    kind = s.get("type")
    return _WRONG.get(kind if isinstance(kind, str) else "object", "not an object")
