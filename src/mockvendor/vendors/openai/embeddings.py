"""OpenAI's ``POST /v1/embeddings``: the declared request as a neutral one, and the list of
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
from ...wire import decode
from . import wire
from .common import model


@dataclass(slots=True)
class EmbeddingRequest(GenerateRequest):
    """An embeddings request: ``embed_input`` holds the texts."""

    encoding_format: str = "float"
    dimensions: int | None = None


def parse(body: Any) -> EmbeddingRequest:
    b = decode(wire.EmbeddingRequest, body, wire.EMBEDDING_WORDS)
    texts = [b.input] if isinstance(b.input, str) else b.input
    return EmbeddingRequest(model(b.model), embed_input=texts, encoding_format=b.encoding_format or "float",
                            dimensions=b.dimensions)


def render(req: EmbeddingRequest, vectors: list[list[float]], tokens: int) -> wire.EmbeddingList:
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
        data.append(wire.Embedding(index=i, embedding=value))
    return wire.EmbeddingList(data=data, model=req.model, usage=wire.EmbeddingUsage(tokens, tokens))


def _unit(v: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in v)) or 1.0
    return [x / norm for x in v]
