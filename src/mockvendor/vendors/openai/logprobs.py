"""Log-probabilities (``Completion.logprobs``, see engines/logprobs.py) in OpenAI's shapes: chat
completions' ``logprobs.content`` and the legacy completions' parallel lists."""

from __future__ import annotations

from ...errors import InvalidRequest
from ...types import TokenLogprob
from . import wire


def chat_ask(logprobs: bool | None, top: int | None) -> int | None:
    """Chat's ``logprobs`` / ``top_logprobs`` as the neutral request's ``logprobs``."""
    if top is not None and not logprobs:
        raise InvalidRequest(
            "Invalid value for 'top_logprobs': 'logprobs' must be set to true when 'top_logprobs' is specified.",
            param="top_logprobs",
        )
    return (top or 0) if logprobs else None


def _top(t: TokenLogprob) -> wire.TopLogprob:
    return wire.TopLogprob(t.token, t.logprob, list(t.bytes))


def token(t: TokenLogprob) -> wire.TokenLogprob:
    return wire.TokenLogprob(t.token, t.logprob, list(t.bytes), [_top(a) for a in t.top])


def chat(tokens: list[TokenLogprob] | None) -> wire.ChoiceLogprobs | None:
    """A choice's (or a chunk's) ``logprobs``; None when not asked."""
    if tokens is None:
        return None
    return wire.ChoiceLogprobs(content=[token(t) for t in tokens])


def text(tokens: list[TokenLogprob] | None, *, offset: int = 0, top: int = 0,
         prompt: list[TokenLogprob] | None = None) -> wire.TextLogprobs | None:
    """A legacy completion's ``logprobs``; ``offset``: characters before the first token's text
    (the text streamed so far); ``prompt``: the echoed prompt's tokens, first (the very first
    has no context: null, as OpenAI sends it)."""
    if tokens is None:
        return None
    every = [*(prompt or ()), *tokens]
    offsets, data = [], b""
    for t in every:
        offsets.append(offset + len(data.decode("utf-8", "ignore")))
        data += t.bytes
    values: list[float | None] = [t.logprob for t in every]
    tops: list[dict[str, float] | None] = [{a.token: a.logprob for a in t.top} for t in every]
    if prompt:
        values[0] = tops[0] = None
    return wire.TextLogprobs(tokens=[t.token for t in every], token_logprobs=values,
                             top_logprobs=tops if top else None, text_offset=offsets)


LOGPROBS_INCLUDE = "message.output_text.logprobs"


def responses_ask(include: list[str] | None, top: int | None) -> int | None:
    """Responses' ``include`` / ``top_logprobs`` as the neutral request's ``logprobs``."""
    return (top or 0) if include and LOGPROBS_INCLUDE in include else None


def responses(tokens: list[TokenLogprob] | None) -> list[wire.ResponseLogprob]:
    """``output_text.logprobs`` (empty when not asked, as OpenAI sends it)."""
    return [wire.ResponseLogprob(t.token, list(t.bytes), t.logprob,
                                 [wire.ResponseTopLogprob(a.token, list(a.bytes), a.logprob) for a in t.top])
            for t in tokens or ()]


def responses_delta(tokens: list[TokenLogprob] | None) -> list[wire.DeltaLogprob]:
    """A ``response.output_text.delta`` event's ``logprobs``."""
    return [wire.DeltaLogprob(t.token, t.logprob, [wire.DeltaTopLogprob(a.token, a.logprob) for a in t.top])
            for t in tokens or ()]
