"""OpenAPI path items of the Mistral-compatible API: operation metadata; every schema comes from
the declarations in :mod:`.wire`."""

from __future__ import annotations

from typing import Any

from ...wire import schema
from ..openapi import _operation
from . import wire

ERRORS = {
    "400": "invalid_request_error (e.g. `Invalid model: ...`, type invalid_model, code 1500): the SDK's SDKError.",
    "401": "authentication_error (only when MOCKVENDOR_API_KEYS is set, or simulated).",
    "422": "A body that does not fit: pydantic's `detail` items (the SDK's HTTPValidationError).",
    "429": "rate_limited (simulated).",
    "500": "internal_server_error (simulated only).",
    "503": "Simulated, or the model queue is full.",
}
STREAM = ("with `stream: true`, data-only `chat.completion.chunk` events (a tool call whole in one chunk, usage "
          "on the last) ending with `data: [DONE]`.")
HEADERS = [{"name": "Authorization", "in": "header", "required": False, "schema": {"type": "string"},
            "description": "`Bearer <key>`."}]


def mistral_paths(vendor: Any) -> dict[str, Any]:
    error = schema(wire.ErrorBody)
    return {
        "/mistral/v1/chat/completions": {"post": _operation(
            vendor, "mistral_chat_completions", "Mistral chat completions (streaming or not).",
            request=schema(wire.ChatRequest),
            example={"model": "mistral-small-latest", "messages": [{"role": "user", "content": "Say hello."}],
                     "max_tokens": 64, "random_seed": 1},
            response=schema(wire.ChatCompletion), error=error, errors=ERRORS, stream_doc=STREAM, parameters=HEADERS)},
        "/mistral/v1/embeddings": {"post": _operation(
            vendor, "mistral_embeddings", "Mistral embeddings: unit vectors from the model.",
            request=schema(wire.EmbeddingRequest), example={"model": "mistral-embed", "input": ["hello", "world"]},
            response=schema(wire.EmbeddingList), error=error, errors=ERRORS, stream_doc=None, parameters=HEADERS)},
    }
