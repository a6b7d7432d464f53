"""OpenAPI path items of the OpenAI-compatible API: operation metadata only; every schema is
the declared body's (``wire.py``)."""

from __future__ import annotations

from typing import Any

from ...wire import schema
from ..openapi import _not_a_chat, _operation
from . import wire

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
OPENAI_STREAM = (
    "with `stream: true`, data-only server-sent events of `chat.completion.chunk` objects (a usage chunk "
    "with `stream_options.include_usage`), ending with `data: [DONE]`."
)
RESPONSES_STREAM = (
    "with `stream: true`, named server-sent events (`event: <type>`), each `data` a JSON event with `type` and "
    "an increasing `sequence_number`: response.created, response.in_progress, per output item "
    "response.output_item.added, its deltas (response.output_text.delta or "
    "response.function_call_arguments.delta) and response.output_item.done, then response.completed "
    "(response.incomplete when `max_output_tokens` cut the answer); an error mid-stream is an `error` event."
)


def _op(vendor: Any, op_id: str, summary: str, request: Any, example: Any, response: Any,
        stream_doc: str | None) -> dict[str, Any]:
    return {"post": _operation(vendor, op_id, summary, request=schema(request), example=example,
                               response=schema(response), error=schema(wire.ErrorBody), errors=OPENAI_ERRORS,
                               stream_doc=stream_doc)}


def openai_paths(vendor: Any) -> dict[str, Any]:
    return {
        "/v1/chat/completions": _op(
            vendor, "openai_chat_completions", "OpenAI chat completions (streaming or not).", wire.ChatRequest,
            {
                "model": "gpt-4o-mini",
                "messages": [
                    {"role": "system", "content": "You are a helpful assistant."},
                    {"role": "user", "content": "Say hello."},
                ],
                "max_tokens": 32,
                "seed": 1,
            },
            wire.ChatCompletion, OPENAI_STREAM,
        ),
        "/v1/completions": _op(
            vendor, "openai_completions", "OpenAI legacy text completion (raw continuation).", wire.CompletionRequest,
            {"model": "gpt-3.5-turbo", "prompt": "Once upon a time", "max_tokens": 16}, wire.TextCompletion,
            "with `stream: true`, data-only `text_completion` chunks ending with `data: [DONE]`.",
        ),
        "/v1/responses": responses_path_item(vendor),
        "/v1/responses/input_tokens": {"post": _not_a_chat(_op(
            vendor, "openai_responses_input_tokens", "OpenAI Responses: count a request's input tokens.",
            wire.InputTokensRequest, {"model": "gpt-4o-mini", "input": "Say hello."}, wire.InputTokens, None,
        )["post"])},
        "/v1/responses/{response_id}": {
            "get": _stored(vendor, "openai_response_get", "A stored response (`store`, on by default).",
                           wire.Response),
            "delete": _stored(vendor, "openai_response_delete", "Delete a stored response.", wire.Deleted),
        },
        "/v1/responses/{response_id}/input_items": {
            "get": _stored(vendor, "openai_response_input_items", "A stored response's input items, newest first "
                           "(`order`, `after`, `limit`).", wire.ItemList, [
                               _query("order", {"type": "string", "enum": ["asc", "desc"], "default": "desc"}),
                               _query("after", {"type": "string"}),
                               _query("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20})]),
        },
        "/v1/embeddings": _op(
            vendor, "openai_embeddings", "OpenAI embeddings: unit vectors from the model (mean pooling).",
            wire.EmbeddingRequest, {"model": "text-embedding-3-small", "input": ["The cat sat on the mat."]},
            wire.EmbeddingList, None,
        ),
    }


def _query(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema}


def _stored(vendor: Any, op_id: str, summary: str, response: Any,
            query: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    rid = {"name": "response_id", "in": "path", "required": True, "schema": {"type": "string"},
           "example": "resp_123"}
    errors = {"401": OPENAI_ERRORS["401"], "404": "No stored response with this id (never stored, deleted or "
                                                  "expired)."}
    return _operation(vendor, op_id, summary, request=None, example=None, response=schema(response),
                      error=schema(wire.ErrorBody), errors=errors, stream_doc=None, parameters=[rid, *(query or [])])


def responses_path_item(vendor: Any) -> dict[str, Any]:
    """The path item of ``/v1/responses``."""
    item = _op(
        vendor, "openai_responses", "OpenAI Responses API (streaming or not; function tools).",
        wire.ResponsesRequest,
        {"model": "gpt-4o-mini", "instructions": "You are a helpful assistant.", "input": "Say hello.",
         "max_output_tokens": 32, "seed": 1},
        wire.Response, RESPONSES_STREAM,
    )
    # A message item may leave out its `type` (the parser fills it in): the tag is not required there.
    items = item["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]["input"]["anyOf"]
    for kind in next(s for s in items if s.get("type") == "array")["items"]["anyOf"]:
        if kind["properties"]["type"].get("enum") == ["message"]:
            kind["required"].remove("type")
    return item
