"""The engine for a request a rule answers: the rule's text, tool calls or structured object
(templated), or the model's own answer, cut and timed as the rule says.

It speaks the Engine contract exactly as :class:`mockvendor.tools.ToolCaller` does (text
``Chunk``s, tool-call chunks, one ``Completion``), so every vendor's renderer turns it into
its own wire format, streamed or not. Tokens are counted with the model's own tokenizer.
"""

from __future__ import annotations

import hashlib
import random
import re
import string
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from ..errors import MockVendorError
from ..tools import arguments_json
from ..types import Chunk, Completion, GenerateRequest, ToolCall, Usage
from .spec import Answer, Stream, render_template, render_value

Sleep = Callable[[float], Awaitable[Any]]
_WORD_PIECE = re.compile(r"\S+\s*|\s+")
_ARG_PIECE = re.compile(r"\w+|\W+")
_ID_CHARS = string.ascii_letters + string.digits


def pieces(text: str, stream: Stream | None) -> list[str]:
    """``text`` cut as the rule's stream says (words by default)."""
    if stream is not None and stream.chunks is not None:
        return [c for c in stream.chunks if c]
    size = stream.chunk_size if stream is not None else 0
    if size:
        return [text[i:i + size] for i in range(0, len(text), size)]
    return _WORD_PIECE.findall(text)


def count_text(inner: Any, model: str, text: str) -> int:
    """``text``'s tokens with the model's own tokenizer (as ToolCaller counts calls)."""
    if not text:
        return 0
    try:
        return int(inner.prompt_tokens(GenerateRequest(model, prompt=text)))
    except MockVendorError:  # longer than the model's window: still an answer, counted by words
        return len(re.findall(r"\w+|[^\w\s]", text))


class RuleEngine:
    """Answers with a rule's content (``fixed``) or the inner engine's, with the rule's timing."""

    name = "rule"
    can_stream = True

    def __init__(self, inner: Any, answer: Answer, lookup: Callable[[str], Any], call_seed: str,
                 sleep: Sleep) -> None:
        self.inner = inner
        self.answer = answer
        self.context_window = getattr(inner, "context_window", 0)
        self.sleep = sleep
        self.fixed = answer.fixed
        self.text = render_template(answer.text, lookup) if answer.text is not None else ""
        rng = random.Random(call_seed)
        self.calls = [
            ToolCall(c.get("id") or "".join(rng.choice(_ID_CHARS) for _ in range(24)), c["name"],
                     render_value(c["arguments"], lookup))
            for c in answer.tool_calls
        ]
        # Vendor O passes its upstream's own JSON through: a rule's answer is given that shape.
        self.raw_openai = bool(getattr(inner, "handles_tools", False)) and self.fixed
        if self.fixed and not (answer.stream is not None and answer.stream.timed):
            self.complete = self._complete

    def prompt_tokens(self, req: GenerateRequest) -> int:
        return int(self.inner.prompt_tokens(req))

    def stats(self) -> dict[str, Any]:
        return self.inner.stats()  # type: ignore[no-any-return]

    def _complete(self, req: GenerateRequest) -> Completion:
        out = count_text(self.inner, req.model, self.text)
        out += sum(count_text(self.inner, req.model, c.name + arguments_json(c)) for c in self.calls)
        usage = Usage(self.prompt_tokens(req), out)
        finish = "tool_calls" if self.calls else "stop"
        done = Completion(self.text, usage, finish, None, 0.0, req.model, tool_calls=list(self.calls))
        if self.raw_openai:
            done.raw = _openai_completion(req, done)
        return done

    def _events(self, req: GenerateRequest) -> list[Chunk | Completion]:
        done = self._complete(req)
        out: list[Chunk | Completion] = []
        for piece in pieces(self.text, self.answer.stream) if self.text else []:
            out.append(Chunk(piece, raw=_openai_chunk(req, {"content": piece}) if self.raw_openai else None))
        for i, call in enumerate(self.calls):
            opening = {"tool_calls": [{"index": i, "id": "call_" + call.id, "type": "function",
                                       "function": {"name": call.name, "arguments": ""}}]}
            out.append(Chunk("", raw=_openai_chunk(req, opening) if self.raw_openai else None,
                             tool_call=call, tool_index=i))
            for piece in _ARG_PIECE.findall(arguments_json(call)):
                delta = {"tool_calls": [{"index": i, "function": {"arguments": piece}}]}
                out.append(Chunk(piece, raw=_openai_chunk(req, delta) if self.raw_openai else None,
                                 tool_call=call, tool_index=i))
        out.append(done)
        return out

    async def stream(self, req: GenerateRequest) -> AsyncIterator[Chunk | Completion]:
        s = self.answer.stream
        if self.fixed:
            source: AsyncIterator[Chunk | Completion] = _aiter(self._events(req))
        else:
            source = self.inner.stream(req)
        k = 0
        try:
            async for ev in source:
                if s is not None and s.timed and isinstance(ev, Chunk):
                    ms = _wait_ms(s, k)
                    if ms > 0:
                        await self.sleep(ms / 1000)
                    k += 1
                yield ev
        finally:
            await source.aclose()  # type: ignore[attr-defined]


def _wait_ms(s: Stream, k: int) -> float:
    if s.delays_ms is not None:
        return s.delays_ms[k] if k < len(s.delays_ms) else 0.0
    return s.ttft_ms if k == 0 else s.delay_ms


async def _aiter(items: list[Chunk | Completion]) -> AsyncIterator[Chunk | Completion]:
    for item in items:
        yield item


def _openai_id(req: GenerateRequest) -> str:
    return "chatcmpl-" + hashlib.sha256(repr(req.messages).encode()).hexdigest()[:24]


def _openai_completion(req: GenerateRequest, c: Completion) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": c.text or None}
    if c.tool_calls:
        message["tool_calls"] = [{"id": "call_" + t.id, "type": "function",
                                  "function": {"name": t.name, "arguments": arguments_json(t)}}
                                 for t in c.tool_calls]
    return {"id": _openai_id(req), "object": "chat.completion", "created": int(time.time()), "model": req.model,
            "choices": [{"index": 0, "message": message, "finish_reason": c.finish_reason}],
            "usage": {"prompt_tokens": c.usage.input_tokens, "completion_tokens": c.usage.output_tokens,
                      "total_tokens": c.usage.total_tokens}}


def _openai_chunk(req: GenerateRequest, delta: dict[str, Any]) -> dict[str, Any]:
    return {"id": _openai_id(req), "object": "chat.completion.chunk", "created": int(time.time()),
            "model": req.model, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
