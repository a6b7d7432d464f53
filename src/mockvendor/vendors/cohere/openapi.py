"""OpenAPI path items of the Cohere-compatible API: operation metadata; every schema comes from
the declarations in :mod:`.wire`."""

from __future__ import annotations

from typing import Any

from ...wire import schema
from ..openapi import _operation
from . import wire

ERRORS = {
    "400": "BadRequestError: a body that does not fit (`invalid request: ...`).",
    "401": "UnauthorizedError: no or unknown key (only when MOCKVENDOR_API_KEYS is set, or simulated).",
    "404": "NotFoundError: unknown model.",
    "429": "TooManyRequestsError (simulated): the SDK retries it twice.",
    "500": "InternalServerError (simulated only).",
    "503": "ServiceUnavailableError (simulated, or the model queue is full).",
}
STREAM = ("with `stream: true`, named events message-start, content-start, content-delta..., content-end "
          "(or tool-plan-delta, tool-call-start, tool-call-delta..., tool-call-end per call), message-end with "
          "`delta.finish_reason` and `delta.usage`.")
HEADERS = [{"name": "Authorization", "in": "header", "required": False, "schema": {"type": "string"},
            "description": "`Bearer <key>`."}]
CHAT_EXAMPLE = {"model": "command-a-03-2025", "messages": [{"role": "user", "content": "Say hello."}],
                "max_tokens": 64}
EMBED_EXAMPLE = {"model": "embed-english-v3.0", "input_type": "search_document", "texts": ["hello", "world"],
                 "embedding_types": ["float"]}


def cohere_paths(vendor: Any) -> dict[str, Any]:
    error = schema(wire.ErrorBody)
    out: dict[str, Any] = {}
    for prefix in ("", "/cohere"):
        suffix = "_prefixed" if prefix else ""
        out[f"{prefix}/v2/chat"] = {"post": _operation(
            vendor, f"cohere_chat{suffix}", "Cohere v2 chat (streaming or not).", request=schema(wire.ChatRequest),
            example=CHAT_EXAMPLE, response=schema(wire.ChatResponse), error=error, errors=ERRORS, stream_doc=STREAM,
            parameters=HEADERS)}
        out[f"{prefix}/v2/embed"] = {"post": _operation(
            vendor, f"cohere_embed{suffix}", "Cohere v2 embed: unit vectors by type.",
            request=schema(wire.EmbedRequest), example=EMBED_EXAMPLE, response=schema(wire.EmbedResponse),
            error=error, errors=ERRORS, stream_doc=None, parameters=HEADERS)}
    return out
