"""OpenAPI path items of the OpenAI-compatible API."""

from __future__ import annotations

from typing import Any

from ..openapi import (  # noqa: F401
    FAULT_HEADERS,
    INT,
    NULL_STR,
    OPENAI_ERROR,
    SSE_EVENT,
    STR,
    TOOLS_DOC,
    _json,
    _not_a_chat,
    _obj,
    _operation,
)
from .responses import responses_path_item

# -- OpenAI ---------------------------------------------------------------------------
OPENAI_ERRORS = {
    "400": "invalid_request_error (code context_length_exceeded when the prompt is too long), with `param`.",
    "401": "invalid_api_key (only when MOCKVENDOR_API_KEYS is set, or simulated).",
    "404": "model_not_found.",
    "413": "Body over MOCKVENDOR_MAX_BODY_BYTES.",
    "415": "Content-Type is not JSON.",
    "429": "rate_limit_exceeded with `retry-after`, `retry-after-ms`, `x-ratelimit-*` (simulated).",
    "500": "server_error (simulated only).",
    "503": "server_error: overloaded (simulated, or the model queue is full).",
}
OPENAI_SAMPLING = {
    "temperature": {"type": "number", "minimum": 0, "maximum": 2},
    "top_p": {"type": "number", "minimum": 0, "maximum": 1},
    "seed": {"type": "integer", "description": "Same seed and prompt: same text."},
    "n": {"type": "integer", "enum": [1]},
    "stop": {"oneOf": [STR, {"type": "array", "items": STR, "maxItems": 4}]},
    "stream": {"type": "boolean"},
    "stream_options": _obj({"include_usage": {"type": "boolean"}}, description="Only with `stream: true`, else a 400."),
}
OPENAI_USAGE = _obj(
    {"prompt_tokens": INT, "completion_tokens": INT, "total_tokens": INT},
    ["prompt_tokens", "completion_tokens", "total_tokens"],
)
FINISH_OPENAI = {"type": "string", "enum": ["stop", "length"]}
FINISH_OPENAI_CHAT = {"type": "string", "enum": ["stop", "length", "tool_calls"]}
OPENAI_TOOL_CALL = _obj(
    {
        "id": STR,
        "type": {"const": "function"},
        "function": _obj({"name": STR, "arguments": {"type": "string", "description": "A JSON object, as text."}},
                         ["name", "arguments"]),
    },
    ["id", "type", "function"],
)
OPENAI_STREAM = (
    "with `stream: true`, data-only server-sent events of `chat.completion.chunk` objects (a usage chunk "
    "with `stream_options.include_usage`), ending with `data: [DONE]`."
)


def openai_paths(vendor: Any) -> dict[str, Any]:
    content_part = _obj({"type": {"type": "string", "enum": ["text"]}, "text": STR}, ["type", "text"])
    message = _obj(
        {
            "role": {"type": "string", "enum": ["system", "developer", "user", "assistant", "tool"]},
            "content": {"oneOf": [STR, {"type": "array", "items": content_part}, {"type": "null"}]},
            "tool_calls": {"type": "array", "items": OPENAI_TOOL_CALL,
                           "description": "An assistant turn's calls; each must be answered by a `tool` turn."},
            "tool_call_id": {**STR, "description": "A `tool` turn: the call it answers."},
        },
        ["role"],
    )
    tool = _obj(
        {
            "type": {"const": "function"},
            "function": _obj(
                {
                    "name": {"type": "string", "pattern": "^[a-zA-Z0-9_-]{1,64}$"},
                    "description": STR,
                    "parameters": {"type": "object", "description": "The arguments' JSON Schema."},
                    "strict": {"type": "boolean"},
                },
                ["name"],
            ),
        },
        ["type", "function"],
    )
    tool_choice = {
        "oneOf": [
            {"type": "string", "enum": ["none", "auto", "required"]},
            _obj({"type": {"const": "function"}, "function": _obj({"name": STR}, ["name"])}, ["type", "function"]),
        ],
        "description": "Only with `tools`, else a 400.",
    }
    chat_request = _obj(
        {
            "model": {"type": "string", "minLength": 1, "examples": ["gpt-4o-mini"]},
            "messages": {"type": "array", "items": message, "minItems": 1},
            "max_tokens": {"type": "integer", "minimum": 1, "maximum": 1000000},
            "max_completion_tokens": {"type": "integer", "minimum": 1, "maximum": 1000000},
            "tools": {"type": "array", "items": tool, "maxItems": 128, "description": TOOLS_DOC},
            "tool_choice": tool_choice,
            "parallel_tool_calls": {"type": "boolean"},
            **OPENAI_SAMPLING,
        },
        ["model", "messages"],
    )
    chat_response = _obj(
        {
            "id": STR,
            "object": {"const": "chat.completion"},
            "created": INT,
            "model": STR,
            "choices": {
                "type": "array",
                "items": _obj(
                    {
                        "index": INT,
                        "message": _obj(
                            {"role": {"const": "assistant"}, "content": NULL_STR,
                             "tool_calls": {"type": "array", "items": OPENAI_TOOL_CALL}},
                            ["role", "content"],
                        ),
                        "finish_reason": FINISH_OPENAI_CHAT,
                    },
                    ["index", "message", "finish_reason"],
                ),
            },
            "usage": OPENAI_USAGE,
        },
        ["id", "object", "created", "model", "choices", "usage"],
    )
    completion_request = _obj(
        {
            "model": {"type": "string", "minLength": 1},
            "prompt": {"oneOf": [STR, {"type": "array", "items": STR, "minItems": 1, "maxItems": 1}]},
            "max_tokens": {"type": "integer", "minimum": 1, "maximum": 1000000, "default": 16},
            **OPENAI_SAMPLING,
        },
        ["model", "prompt"],
    )
    completion_response = _obj(
        {
            "id": STR,
            "object": {"const": "text_completion"},
            "created": INT,
            "model": STR,
            "choices": {
                "type": "array",
                "items": _obj({"text": STR, "index": INT, "finish_reason": FINISH_OPENAI}, ["text", "index"]),
            },
            "usage": OPENAI_USAGE,
        },
        ["id", "object", "choices", "usage"],
    )
    return {
        "/v1/chat/completions": {
            "post": _operation(
                vendor, "openai_chat_completions", "OpenAI chat completions (streaming or not).",
                request=chat_request,
                example={
                    "model": "gpt-4o-mini",
                    "messages": [
                        {"role": "system", "content": "You are a helpful assistant."},
                        {"role": "user", "content": "Say hello."},
                    ],
                    "max_tokens": 32,
                    "seed": 1,
                },
                response=chat_response, error=OPENAI_ERROR, errors=OPENAI_ERRORS, stream_doc=OPENAI_STREAM,
            )
        },
        "/v1/completions": {
            "post": _operation(
                vendor, "openai_completions", "OpenAI legacy text completion (raw continuation).",
                request=completion_request,
                example={"model": "gpt-3.5-turbo", "prompt": "Once upon a time", "max_tokens": 16},
                response=completion_response, error=OPENAI_ERROR, errors=OPENAI_ERRORS,
                stream_doc="with `stream: true`, data-only `text_completion` chunks ending with `data: [DONE]`.",
            )
        },
        "/v1/responses": responses_path_item(vendor),
        "/v1/embeddings": {
            "post": _operation(
                vendor, "openai_embeddings", "OpenAI embeddings: unit vectors from the model (mean pooling).",
                request=_obj(
                    {
                        "model": {"type": "string", "minLength": 1, "examples": ["text-embedding-3-small"]},
                        "input": {"oneOf": [{"type": "string", "minLength": 1},
                                            {"type": "array", "items": {"type": "string", "minLength": 1},
                                             "minItems": 1, "maxItems": 2048}],
                                  "description": "Text; token arrays are a 400."},
                        "encoding_format": {"type": "string", "enum": ["float", "base64"], "default": "float"},
                        "dimensions": {"type": "integer", "minimum": 1,
                                       "description": "Shorten, then unit length again; above the model's a 400."},
                        "user": STR,
                    },
                    ["model", "input"],
                ),
                example={"model": "text-embedding-3-small", "input": ["The cat sat on the mat."]},
                response=_obj(
                    {
                        "object": {"const": "list"},
                        "data": {"type": "array", "items": _obj(
                            {"object": {"const": "embedding"}, "index": INT,
                             "embedding": {"oneOf": [{"type": "array", "items": {"type": "number"}}, STR]}},
                            ["object", "index", "embedding"])},
                        "model": STR,
                        "usage": _obj({"prompt_tokens": INT, "total_tokens": INT}, ["prompt_tokens", "total_tokens"]),
                    },
                    ["object", "data", "model", "usage"],
                ),
                error=OPENAI_ERROR, errors=OPENAI_ERRORS, stream_doc=None,
            )
        },
    }


