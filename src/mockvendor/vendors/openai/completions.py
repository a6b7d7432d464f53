"""``POST /v1/completions``, the legacy text completion: a raw prompt continued without a chat
template, answered as a ``text_completion`` (streamed: the same object per piece)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from msgspec import UNSET

from ...errors import InvalidRequest
from ...http import sse
from ...types import Chunk, Completion, GenerateRequest, TokenLogprob
from ...wire import decode
from . import logprobs, wire
from .chat import OpenAIRequest, common, stop_list
from .common import DONE, FINISH, model, new_id, usage


def parse(body: Any) -> OpenAIRequest:
    b = decode(wire.CompletionRequest, body, wire.CHAT_WORDS)
    unsupported = {"suffix": bool(b.suffix), "best_of": b.best_of not in (None, 1)}
    for name, used in unsupported.items():
        if used:
            raise InvalidRequest(f"Field '{name}' is not supported by mockvendor.", param=name)
    prompt = b.prompt if isinstance(b.prompt, str) else b.prompt[0]
    return OpenAIRequest(
        model(b.model), prompt=prompt, max_tokens=b.max_tokens or wire.LEGACY_DEFAULT_MAX_TOKENS,
        stop=stop_list(b.stop), chat=False, logprobs=b.logprobs,
        echo_prompt=bool(b.echo), **common(b),
    )


def render(req: GenerateRequest, c: Completion) -> wire.TextCompletion:
    return wire.TextCompletion(
        id=new_id("cmpl-"), created=int(time.time()), model=req.model,
        choices=[_choice(req, x, i) for i, x in enumerate(c.all_choices())],
        usage=usage(c.usage),
    )


def _choice(req: GenerateRequest, x: Completion, i: int) -> wire.TextChoice:
    echo = (req.prompt or "") if req.echo_prompt else ""
    lp = logprobs.text(x.logprobs, top=req.logprobs or 0, prompt=x.prompt_logprobs if echo else None,
                       offset=len(echo) if x.prompt_logprobs is None else 0)
    return wire.TextChoice(text=echo + x.text, index=i, logprobs=lp,
                           finish_reason=FINISH[x.finish_reason])  # type: ignore[arg-type]


async def render_stream(req: GenerateRequest, events: AsyncIterator[Chunk | Completion]) -> AsyncIterator[bytes]:
    rid, created, model_name = new_id("cmpl-"), int(time.time()), req.model
    include_usage = isinstance(req, OpenAIRequest) and req.include_usage
    tail = None if include_usage else UNSET

    def chunk(choices: list[wire.TextChoice], use: Any = tail) -> bytes:
        return sse(wire.TextChunk(id=rid, created=created, model=model_name, choices=choices, usage=use))

    sent: dict[int, int] = {}  # characters streamed so far, per choice (logprobs' text_offset)
    def echoed(index: int, scored: list[TokenLogprob] | None) -> bytes:
        """The prompt first, as its own piece (scored when the engine could)."""
        echo = req.prompt or ""
        lp = None
        if req.logprobs is not None:
            lp = logprobs.text([], top=req.logprobs, prompt=scored, offset=0 if scored else len(echo))
        sent[index] = len(echo)
        return chunk([wire.TextChoice(text=echo, index=index, logprobs=lp, finish_reason=None)])

    async for ev in events:
        if req.echo_prompt and not isinstance(ev, Completion) and ev.index not in sent:
            yield echoed(ev.index, ev.prompt_logprobs)
        if isinstance(ev, Completion):
            for i, c in enumerate(ev.all_choices()):
                if req.echo_prompt and i not in sent:
                    yield echoed(i, c.prompt_logprobs)
                yield chunk([wire.TextChoice(text="", index=i, finish_reason=FINISH[c.finish_reason])])  # type: ignore[arg-type]
            if include_usage:
                yield chunk([], usage(ev.usage))
            yield DONE
        elif (ev.text or ev.logprobs) and ev.tool_call is None:  # no tools here: parse() sets none
            lp = logprobs.text(ev.logprobs, offset=sent.get(ev.index, 0), top=req.logprobs or 0)
            sent[ev.index] = sent.get(ev.index, 0) + len(ev.text)
            yield chunk([wire.TextChoice(text=ev.text, index=ev.index, logprobs=lp, finish_reason=None)])
