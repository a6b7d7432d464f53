"""The echo engine: answers with the user's own text, instantly. Tokens are counted
with a cheap word-and-punctuation split, since there is no model. A structured request
(``response_format``) is answered with the schema's smallest valid instance (``{}`` for
any JSON object), so that tests wanting instant answers still parse."""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import time
from collections.abc import AsyncIterator
from typing import Any

from ..errors import InvalidRequest
from ..jsonschema_instance import Unbuildable, smallest_instance
from ..types import Chunk, Completion, GenerateRequest, TokenLogprob, Usage
from . import register

_TOKEN = re.compile(r"\w+|[^\w\s]")
_PIECE = re.compile(r"\S+\s*")  # what a stream chunk carries


def _certain(piece: str, top: int) -> TokenLogprob:
    """A piece of the echoed text: certain (logprob 0.0, probability 1), its own only alternative.
    Token ids mean nothing without a vocabulary: -1."""
    t = TokenLogprob(-1, piece.encode("utf-8"), 0.0)
    t.top = [TokenLogprob(-1, t.bytes, 0.0)] if top else []
    return t


_COUNTED: dict[str, int] = {}  # text -> count, for the texts seen last (a prompt is counted, then echoed)


def count_tokens(text: str) -> int:
    """Approximate token count: words and punctuation marks."""
    n = _COUNTED.get(text)
    if n is None:
        if len(_COUNTED) >= 4096:
            _COUNTED.clear()
        n = _COUNTED[text] = len(_TOKEN.findall(text))
    return n


class EchoEngine:
    """Echo the last user message (or raw prompt), cut to ``max_tokens`` words."""

    name = "echo"
    can_stream = True
    context_window = 0

    def __init__(self, settings: Any = None, options: dict[str, Any] | None = None) -> None:
        self.options = options or {}

    async def start(self) -> None:
        return None

    def ready(self) -> bool:
        return True

    async def aclose(self) -> None:
        return None

    def prompt_tokens(self, req: GenerateRequest) -> int:
        if req.prompt is not None:
            return count_tokens(req.prompt)
        n = 0
        for m in req.messages:
            n += count_tokens(m.content)
        return n

    def stats(self) -> dict[str, Any]:
        return {"engine": self.name}

    def complete(self, req: GenerateRequest) -> Completion:
        """The whole answer at once (the fast path used by the echo vendor)."""
        t0 = time.perf_counter()
        text = req.last_user_text() if req.response_format is None else structured_text(req)
        finish = "stop"
        n = count_tokens(text)
        if req.max_tokens is not None and n > req.max_tokens:
            # Keep the original spacing up to the max_tokens-th token.
            end = [m.end() for m in _TOKEN.finditer(text)][req.max_tokens - 1] if req.max_tokens else 0
            text, finish, n = text[:end], "length", req.max_tokens
        usage = Usage(self.prompt_tokens(req), n)
        done = Completion(text, usage, finish, None, (time.perf_counter() - t0) * 1000, req.model)
        if req.logprobs is not None:
            done.logprobs = [_certain(p, req.logprobs) for p in _PIECE.findall(text)]
        return done

    async def stream(self, req: GenerateRequest) -> AsyncIterator[Chunk | Completion]:
        done = self.complete(req)
        for i, m in enumerate(_PIECE.finditer(done.text)):
            yield Chunk(m.group(0), logprobs=None if done.logprobs is None else [done.logprobs[i]])
        yield done


    # -- embeddings: a unit vector per text, from its hash (same text, same vector) --------
    dimensions = 64

    def embedding_tokens(self, texts: list[str]) -> int:
        return sum(count_tokens(t) for t in texts)

    async def embed(self, texts: list[str]) -> list[list[float]]:
        return [hashed_vector(t, self.dimensions) for t in texts]


def structured_text(req: GenerateRequest) -> str:
    """The smallest JSON valid for ``req.response_format``, compact as vendors send it."""
    fmt = req.response_format
    assert fmt is not None
    if fmt.kind != "json_schema" or fmt.schema is None:
        return "{}"
    try:
        value = smallest_instance(fmt.schema)
    except (Unbuildable, KeyError, IndexError, TypeError, ValueError) as e:
        raise InvalidRequest(f"No JSON value can be built for this schema: {e}", param="response_format") from None
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def hashed_vector(text: str, dimensions: int) -> list[float]:
    rng = random.Random(hashlib.sha256(text.encode("utf-8")).digest())
    v = [rng.gauss(0.0, 1.0) for _ in range(dimensions)]
    norm = math.sqrt(sum(x * x for x in v)) or 1.0
    return [x / norm for x in v]


register("echo", EchoEngine)
