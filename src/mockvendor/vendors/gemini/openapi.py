"""OpenAPI path items of the Gemini-compatible API: operation metadata; every schema comes
from the declarations in :mod:`.wire`."""

from __future__ import annotations

from typing import Any

from ...wire import schema
from ..openapi import GEMINI_ERRORS, STR, _not_a_chat, _operation
from . import wire

MODEL_PARAM = {"name": "model", "in": "path", "required": True, "schema": STR, "example": "gemini-2.0-flash"}
KEY_HEADER = {"name": "x-goog-api-key", "in": "header", "required": False, "schema": STR}
ALT = {"name": "alt", "in": "query", "required": False, "schema": {"type": "string", "enum": ["sse"]},
       "description": "`sse`: server-sent events; without it, one JSON array."}
GENERATE_EXAMPLE = {
    "systemInstruction": {"parts": [{"text": "You are terse."}]},
    "contents": [{"role": "user", "parts": [{"text": "Say hello."}]}],
    "generationConfig": {"maxOutputTokens": 32, "seed": 1},
}
EMBED_EXAMPLE = {"content": {"parts": [{"text": "The cat sat on the mat."}]}}
STREAM_DOC = ("with `alt=sse`, `data: <GenerateContentResponse>` events (no [DONE]); the last one carries "
              "finishReason and usageMetadata.")


def gemini_paths(vendor: Any) -> dict[str, Any]:
    error = schema(wire.ErrorBody)
    answer = schema(wire.GenerateContentResponse)
    # Without alt=sse a stream is one JSON array of responses.
    answers = {"type": "array", "items": answer, "description": wire.ResponseArray.__doc__}
    base = [MODEL_PARAM, KEY_HEADER]
    paths: dict[str, Any] = {}
    for version in ("v1beta", "v1"):
        for method, stream in (("generateContent", False), ("streamGenerateContent", True)):
            paths[f"/{version}/models/{{model}}:{method}"] = {
                "post": _operation(
                    vendor, f"gemini_{version}_{method}", f"Gemini {method} ({version}).",
                    request=schema(wire.GenerateContentRequest), example=GENERATE_EXAMPLE, error=error,
                    response=answers if stream else answer, errors=GEMINI_ERRORS,
                    parameters=[*base, ALT] if stream else base, stream_doc=STREAM_DOC if stream else None,
                )
            }
        paths[f"/{version}/models/{{model}}:embedContent"] = {
            "post": _operation(
                vendor, f"gemini_{version}_embedContent",
                f"Gemini embedContent ({version}): the model's vector (cut to outputDimensionality, not rescaled).",
                request=schema(wire.EmbedContentRequest), example=EMBED_EXAMPLE,
                response=schema(wire.EmbedContentResponse), error=error, errors=GEMINI_ERRORS,
                parameters=base, stream_doc=None,
            )
        }
        paths[f"/{version}/models/{{model}}:batchEmbedContents"] = {
            "post": _operation(
                vendor, f"gemini_{version}_batchEmbedContents", f"Gemini batchEmbedContents ({version}).",
                request=schema(wire.BatchEmbedContentsRequest), example={"requests": [EMBED_EXAMPLE]},
                response=schema(wire.BatchEmbedContentsResponse), error=error, errors=GEMINI_ERRORS,
                parameters=base, stream_doc=None,
            )
        }
        paths[f"/{version}/models/{{model}}:countTokens"] = {
            "post": _not_a_chat(_operation(
                vendor, f"gemini_{version}_countTokens",
                f"Gemini countTokens ({version}): the model's own tokenizer, no generation.",
                request=schema(wire.CountTokensRequest), example={"contents": GENERATE_EXAMPLE["contents"]},
                response=schema(wire.CountTokensResponse), error=error, errors=GEMINI_ERRORS,
                parameters=base, stream_doc=None,
            ))
        }
    return paths
