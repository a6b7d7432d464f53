"""OpenAPI path items of the Anthropic-compatible API."""

from __future__ import annotations

from typing import Any

from ..openapi import (  # noqa: F401
    ANTHROPIC_ERROR,
    FAULT_HEADERS,
    INT,
    NULL_STR,
    SSE_EVENT,
    STR,
    TOOLS_DOC,
    _json,
    _not_a_chat,
    _obj,
    _operation,
)

# -- Anthropic -------------------------------------------------------------------------
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


def anthropic_paths(vendor: Any) -> dict[str, Any]:
    block = _obj({"type": {"type": "string", "enum": ["text"]}, "text": STR}, ["type", "text"])
    blocks = {"type": "array", "items": block}
    tool_use = _obj({"type": {"const": "tool_use"}, "id": STR, "name": STR, "input": {"type": "object"}},
                    ["type", "id", "name", "input"])
    tool_result = _obj(
        {"type": {"const": "tool_result"}, "tool_use_id": STR, "content": {"oneOf": [STR, blocks]},
         "is_error": {"type": "boolean"}},
        ["type", "tool_use_id"],
        description="In a user turn: answers a tool_use of the previous assistant turn.",
    )
    turn_blocks = {"type": "array", "items": {"oneOf": [block, tool_use, tool_result]}, "minItems": 1}
    tool = _obj(
        {"name": {"type": "string", "pattern": "^[a-zA-Z0-9_-]{1,64}$"}, "description": STR,
         "input_schema": _obj({"type": {"const": "object"}}, ["type"]), "type": {"const": "custom"}},
        ["name", "input_schema"],
    )
    tool_choice = _obj(
        {"type": {"type": "string", "enum": ["auto", "any", "tool", "none"]}, "name": STR,
         "disable_parallel_tool_use": {"type": "boolean"}},
        ["type"],
        description="Only with `tools`; `name` with type `tool`.",
    )
    request = _obj(
        {
            "model": {"type": "string", "minLength": 1, "examples": ["claude-3-5-haiku-latest"]},
            "max_tokens": {"type": "integer", "minimum": 1, "maximum": 1000000},
            "messages": {
                "type": "array",
                "minItems": 1,
                "items": _obj(
                    {
                        "role": {"type": "string", "enum": ["user", "assistant"]},
                        "content": {"oneOf": [STR, turn_blocks]},
                    },
                    ["role", "content"],
                ),
            },
            "system": {"oneOf": [STR, blocks]},
            "stop_sequences": {"type": "array", "items": STR},
            "temperature": {"type": "number", "minimum": 0, "maximum": 1},
            "top_p": {"type": "number", "minimum": 0, "maximum": 1},
            "top_k": {"type": "integer", "minimum": 1, "maximum": 1000000},
            "tools": {"type": "array", "items": tool,
                      "description": TOOLS_DOC + " Server tools (web_search, bash, ...) are a 400."},
            "tool_choice": tool_choice,
            "stream": {"type": "boolean"},
            "seed": {"type": "integer", "description": "mockvendor extension: reproducible sampling."},
        },
        ["model", "max_tokens", "messages"],
    )
    response = _obj(
        {
            "id": STR,
            "type": {"const": "message"},
            "role": {"const": "assistant"},
            "model": STR,
            "content": {"type": "array", "items": {"oneOf": [block, tool_use]}},
            "stop_reason": {"type": "string", "enum": ["end_turn", "max_tokens", "stop_sequence", "tool_use"]},
            "stop_sequence": NULL_STR,
            "usage": _obj({"input_tokens": INT, "output_tokens": INT}, ["input_tokens", "output_tokens"]),
        },
        ["id", "type", "role", "model", "content", "stop_reason", "usage"],
    )
    headers = [
        {"name": "x-api-key", "in": "header", "required": False, "schema": STR},
        {"name": "anthropic-version", "in": "header", "required": False, "schema": {"type": "string",
         "default": "2023-06-01"}},
    ]
    return {
        "/v1/messages": {
            "post": _operation(
                vendor, "anthropic_messages", "Anthropic Messages (streaming or not).",
                request=request,
                example={
                    "model": "claude-3-5-haiku-latest",
                    "max_tokens": 64,
                    "system": "You are terse.",
                    "messages": [{"role": "user", "content": "Say hello."}],
                },
                response=response, error=ANTHROPIC_ERROR, errors=ANTHROPIC_ERRORS, stream_doc=ANTHROPIC_STREAM,
                parameters=headers,
            )
        },
        "/v1/messages/count_tokens": {
            "post": _not_a_chat(_operation(
                vendor, "anthropic_count_tokens",
                "Count a Messages request's input tokens with the model's own tokenizer (no generation).",
                request={**request, "required": ["model", "messages"]},
                example={"model": "claude-3-5-haiku-latest", "messages": [{"role": "user", "content": "Say hello."}]},
                response=_obj({"input_tokens": INT}, ["input_tokens"]), error=ANTHROPIC_ERROR,
                errors=ANTHROPIC_ERRORS,
                stream_doc=None, parameters=headers,
            ))
        },
    }


