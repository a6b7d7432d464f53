"""OpenAPI path items of the Anthropic-compatible API: operation metadata; every schema comes
from the declarations in :mod:`.wire`."""

from __future__ import annotations

from typing import Any

from ...wire import schema
from ..openapi import STR, _not_a_chat, _operation
from . import wire

ANTHROPIC_ERRORS = {
    "400": "invalid_request_error (a missing `max_tokens`, a too long prompt, ...).",
    "401": "authentication_error (only when MOCKVENDOR_API_KEYS is set, or simulated).",
    "404": "not_found_error: unknown model.",
    "413": "request_too_large.",
    "429": "rate_limit_error with `retry-after` and `anthropic-ratelimit-*` (simulated).",
    "500": "api_error (simulated only).",
    "529": "overloaded_error (simulated, or the model queue is full).",
}
ANTHROPIC_STREAM = (
    "with `stream: true`, named events message_start, content_block_start, ping, content_block_delta..., "
    "content_block_stop, message_delta, message_stop."
)
HEADERS = [
    {"name": "x-api-key", "in": "header", "required": False, "schema": STR},
    {"name": "anthropic-version", "in": "header", "required": False,
     "schema": {"type": "string", "default": "2023-06-01"}},
]
EXAMPLE = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 64,
    "system": "You are terse.",
    "messages": [{"role": "user", "content": "Say hello."}],
}


def anthropic_paths(vendor: Any) -> dict[str, Any]:
    error = schema(wire.ErrorBody)
    return {
        "/v1/messages": {
            "post": _operation(
                vendor, "anthropic_messages", "Anthropic Messages (streaming or not).",
                request=schema(wire.MessagesRequest), example=EXAMPLE, response=schema(wire.Message),
                error=error, errors=ANTHROPIC_ERRORS, stream_doc=ANTHROPIC_STREAM, parameters=HEADERS,
            )
        },
        "/v1/messages/count_tokens": {
            "post": _not_a_chat(_operation(
                vendor, "anthropic_count_tokens",
                "Count a Messages request's input tokens with the model's own tokenizer (no generation).",
                request=schema(wire.CountTokensRequest),
                example={k: v for k, v in EXAMPLE.items() if k != "max_tokens"},
                response=schema(wire.CountTokensResponse), error=error, errors=ANTHROPIC_ERRORS,
                stream_doc=None, parameters=HEADERS,
            ))
        },
    }
