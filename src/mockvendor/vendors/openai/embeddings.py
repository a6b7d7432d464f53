"""OpenAI's ``POST /v1/embeddings``: parsing into a neutral request and the list of
embedding objects back, as floats or as base64 (little-endian float32, what the openai SDK
asks for by default and decodes itself)."""

from __future__ import annotations

import base64
import math
import struct
from dataclasses import dataclass
from typing import Any

from ...errors import InvalidRequest
from ...types import GenerateRequest
from ..base import integer, obj, string

MAX_INPUTS = 2048  # OpenAI's limit on the array form


@dataclass(slots=True)
class EmbeddingRequest(GenerateRequest):
    """An embeddings request: ``embed_input`` holds the texts."""

    encoding_format: str = "float"
    dimensions: int | None = None


def parse(body: Any) -> EmbeddingRequest:
    b = obj(body)
    model = string(b, "model", required=True, nonempty=True, max_len=256) or ""
    raw = b.get("input")
    if raw is None:
        raise InvalidRequest("Missing required parameter: 'input'.", param="input")
    texts = [raw] if isinstance(raw, str) else raw
    if not isinstance(texts, list) or not texts:
        raise InvalidRequest("Invalid 'input': expected a string or a non-empty array of strings.", param="input")
    if len(texts) > MAX_INPUTS:
        raise InvalidRequest(
            f"Invalid 'input': array too long. Expected an array with maximum length {MAX_INPUTS}, but got an "
            f"array with length {len(texts)} instead.",
            param="input",
        )
    for i, text in enumerate(texts):
        where = "input" if isinstance(raw, str) else f"input[{i}]"
        if isinstance(text, (int, list)) and not isinstance(text, bool):
            raise InvalidRequest(
                f"Invalid '{where}': mockvendor embeds text; token arrays are not supported. Send strings.",
                param=where,
            )
        if not isinstance(text, str):
            raise InvalidRequest(f"Invalid type for '{where}': expected a string.", param=where)
        if not text:
            raise InvalidRequest(f"Invalid '{where}': string too short. Expected a non-empty string.", param=where)
    fmt = string(b, "encoding_format") or "float"
    if fmt not in ("float", "base64"):
        raise InvalidRequest(
            f"Invalid value for 'encoding_format': {fmt!r}. Expected 'float' or 'base64'.", param="encoding_format"
        )
    string(b, "user")
    return EmbeddingRequest(
        model, embed_input=list(texts), encoding_format=fmt,
        dimensions=integer(b, "dimensions", lo=1, hi=1_000_000),
    )


def render(req: EmbeddingRequest, vectors: list[list[float]], tokens: int) -> dict[str, Any]:
    native = len(vectors[0])
    if req.dimensions is not None and req.dimensions > native:
        raise InvalidRequest(
            f"Invalid value for 'dimensions' = {req.dimensions}. Must be less than or equal to {native}.",
            param="dimensions",
        )
    data = []
    for i, v in enumerate(vectors):
        if req.dimensions is not None:
            v = _unit(v[: req.dimensions])  # OpenAI shortens, and the result is unit length again
        value: Any = base64.b64encode(struct.pack(f"<{len(v)}f", *v)).decode() if req.encoding_format == "base64" else v
        data.append({"object": "embedding", "index": i, "embedding": value})
    return {"object": "list", "data": data, "model": req.model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


def _unit(v: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in v)) or 1.0
    return [x / norm for x in v]
