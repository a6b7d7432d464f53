"""OpenAPI path items for the vendor-compatible APIs (OpenAI, Anthropic, Gemini).

Schemas say what the parsers accept and what the renderers send, so the docs page and
a schema-driven fuzzer see the same contract the SDK tests prove. The model listing
routes are in :mod:`.openapi_models`."""

from __future__ import annotations

from typing import Any

from .openai_responses import responses_path_item
from .openapi_docs import FAULT_HEADERS, SSE_EVENT

STR = {"type": "string"}
INT = {"type": "integer"}
NULL_STR = {"type": ["string", "null"]}


def _obj(props: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": props, **extra}
    if required:
        schema["required"] = required
    return schema


def _json(schema: dict[str, Any], example: Any = None) -> dict[str, Any]:
    media: dict[str, Any] = {"schema": schema}
    if example is not None:
        media["example"] = example
    return {"application/json": media}


def _operation(
    vendor: Any, op_id: str, summary: str, *, request: dict[str, Any] | None, example: Any,
    response: dict[str, Any], error: dict[str, Any], errors: dict[str, str], stream_doc: str | None,
    parameters: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    ok: dict[str, Any] = {"description": "The answer.", "content": _json(response)}
    if stream_doc:
        ok["description"] = "The answer; " + stream_doc
        ok["content"]["text/event-stream"] = {"schema": SSE_EVENT}
    responses: dict[str, Any] = {"200": ok}
    for status, what in errors.items():
        responses[status] = {"description": what, "content": _json(error)}
    op: dict[str, Any] = {
        "tags": [vendor.title],
        "summary": summary,
        "operationId": op_id,
        "parameters": [*(parameters or []), *FAULT_HEADERS],
        "responses": responses,
        "x-mockvendor-vendor": vendor.name,
    }
    if request is not None:
        op["requestBody"] = {"required": True, "content": _json(request, example)}
    return op


def _not_a_chat(op: dict[str, Any]) -> dict[str, Any]:
    """An operation whose body looks like a chat but answers no text (token counting): the
    chat page leaves it out (``x-mockvendor-chat: false``)."""
    return {**op, "x-mockvendor-chat": False}


# -- OpenAI ---------------------------------------------------------------------------
OPENAI_ERROR = _obj(
    {
        "error": _obj(
            {"message": STR, "type": STR, "param": NULL_STR, "code": NULL_STR},
            ["message", "type", "param", "code"],
        )
    },
    ["error"],
)
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
TOOLS_DOC = (
    "Function tools. mockvendor decides a call by rule (README \"Tool calls\"): with `auto`, a call when "
    "the last turn is the user's, text after a tool result; arguments follow the tool's JSON Schema."
)
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


# -- Anthropic -------------------------------------------------------------------------
ANTHROPIC_ERROR = _obj(
    {
        "type": {"const": "error"},
        "error": _obj({"type": STR, "message": STR}, ["type", "message"]),
        "request_id": STR,
    },
    ["type", "error"],
)
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


# -- Gemini ----------------------------------------------------------------------------
GEMINI_ERROR = _obj(
    {
        "error": _obj(
            {"code": INT, "message": STR, "status": STR, "details": {"type": "array", "items": {"type": "object"}}},
            ["code", "message", "status"],
        )
    },
    ["error"],
)
GEMINI_ERRORS = {
    "400": "INVALID_ARGUMENT (with MOCKVENDOR_API_KEYS set, a wrong key too: an ErrorInfo detail with reason "
           "API_KEY_INVALID, as Google answers).",
    "401": "UNAUTHENTICATED (simulated only).",
    "403": "PERMISSION_DENIED (with MOCKVENDOR_API_KEYS set, no key at all, as Google answers; or simulated).",
    "404": "NOT_FOUND: unknown model or method.",
    "429": "RESOURCE_EXHAUSTED with a google.rpc.RetryInfo detail (simulated).",
    "500": "INTERNAL (simulated only).",
    "503": "UNAVAILABLE (simulated, or the model queue is full).",
}


def gemini_paths(vendor: Any) -> dict[str, Any]:
    call = _obj({"name": STR, "args": {"type": "object"}, "id": STR}, ["name"])
    part = _obj(
        {
            "text": STR,
            "functionCall": {**call, "description": "In a `model` turn (ids from Gemini 3 model names on)."},
            "functionResponse": _obj({"name": STR, "response": {"type": "object"}, "id": STR}, ["name", "response"],
                                     description="In a `user` turn: a function's result."),
        },
        description="One of `text`, `functionCall`, `functionResponse`.",
    )
    declaration = _obj(
        {
            "name": {"type": "string", "pattern": "^[a-zA-Z_][a-zA-Z0-9_.:-]{0,63}$"},
            "description": STR,
            "parameters": {"type": "object", "description": "Google's OpenAPI schema subset (OBJECT, STRING, ...)."},
            "parametersJsonSchema": {"type": "object", "description": "Or plain JSON Schema (not both)."},
        },
        ["name"],
    )
    content = _obj(
        {"role": {"type": "string", "enum": ["user", "model"]}, "parts": {"type": "array", "items": part,
                                                                          "minItems": 1}},
        ["parts"],
    )
    request = _obj(
        {
            "contents": {"type": "array", "items": content, "minItems": 1},
            "systemInstruction": content,
            "tools": {"type": "array", "items": _obj({"functionDeclarations": {"type": "array", "items": declaration}}),
                      "description": TOOLS_DOC + " Built-in tools (googleSearch, codeExecution, ...) are a 400."},
            "toolConfig": _obj({"functionCallingConfig": _obj({
                "mode": {"type": "string", "enum": ["AUTO", "ANY", "NONE", "VALIDATED"]},
                "allowedFunctionNames": {"type": "array", "items": STR},
            })}),
            "generationConfig": _obj(
                {
                    "maxOutputTokens": {"type": "integer", "minimum": 1, "maximum": 1000000},
                    "temperature": {"type": "number", "minimum": 0, "maximum": 2},
                    "topP": {"type": "number", "minimum": 0, "maximum": 1},
                    "topK": {"type": "integer", "minimum": 1},
                    "stopSequences": {"type": "array", "items": STR, "maxItems": 5},
                    "seed": INT,
                    "candidateCount": {"type": "integer", "enum": [1]},
                }
            ),
        },
        ["contents"],
    )
    response = _obj(
        {
            "candidates": {
                "type": "array",
                "items": _obj(
                    {
                        "content": content,
                        "finishReason": {"type": "string", "enum": ["STOP", "MAX_TOKENS"]},
                        "index": INT,
                    },
                    ["content", "index"],
                ),
            },
            "usageMetadata": _obj(
                {"promptTokenCount": INT, "candidatesTokenCount": INT, "totalTokenCount": INT},
                ["promptTokenCount", "candidatesTokenCount", "totalTokenCount"],
            ),
            "modelVersion": STR,
            "responseId": STR,
        },
        ["candidates"],
    )
    example = {
        "systemInstruction": {"parts": [{"text": "You are terse."}]},
        "contents": [{"role": "user", "parts": [{"text": "Say hello."}]}],
        "generationConfig": {"maxOutputTokens": 32, "seed": 1},
    }
    model_param = {"name": "model", "in": "path", "required": True, "schema": STR,
                   "example": "gemini-2.0-flash"}
    key_header = {"name": "x-goog-api-key", "in": "header", "required": False, "schema": STR}
    alt = {"name": "alt", "in": "query", "required": False, "schema": {"type": "string", "enum": ["sse"]},
           "description": "`sse`: server-sent events; without it, one JSON array."}
    count_response = _obj(
        {"totalTokens": INT,
         "promptTokensDetails": {"type": "array", "items": _obj({"modality": STR, "tokenCount": INT})}},
        ["totalTokens"],
    )
    count_request = _obj(
        {"contents": request["properties"]["contents"],
         "generateContentRequest": {**request, "description": "Or the whole generateContent request."}},
    )
    embed_one = _obj(
        {"model": STR, "content": content,
         "taskType": {"type": "string", "enum": ["TASK_TYPE_UNSPECIFIED", "RETRIEVAL_QUERY", "RETRIEVAL_DOCUMENT",
                                                 "SEMANTIC_SIMILARITY", "CLASSIFICATION", "CLUSTERING",
                                                 "QUESTION_ANSWERING", "FACT_VERIFICATION", "CODE_RETRIEVAL_QUERY"]},
         "title": STR, "outputDimensionality": {"type": "integer", "minimum": 1}},
        ["content"],
    )
    values = _obj({"values": {"type": "array", "items": {"type": "number"}}}, ["values"])
    paths: dict[str, Any] = {}
    for version in ("v1beta", "v1"):
        for method, stream in (("generateContent", False), ("streamGenerateContent", True)):
            params = [model_param, key_header] + ([alt] if stream else [])
            paths[f"/{version}/models/{{model}}:{method}"] = {
                "post": _operation(
                    vendor, f"gemini_{version}_{method}", f"Gemini {method} ({version}).",
                    request=request, example=example, error=GEMINI_ERROR,
                    # Without alt=sse a stream is one JSON array of responses.
                    response={"type": "array", "items": response} if stream else response,
                    errors=GEMINI_ERRORS, parameters=params,
                    stream_doc="with `alt=sse`, `data: <GenerateContentResponse>` events (no [DONE]); the last "
                    "one carries finishReason and usageMetadata." if stream else None,
                )
            }
        paths[f"/{version}/models/{{model}}:embedContent"] = {
            "post": _operation(
                vendor, f"gemini_{version}_embedContent",
                f"Gemini embedContent ({version}): the model's vector (cut to outputDimensionality, not rescaled).",
                request=embed_one, example={"content": {"parts": [{"text": "The cat sat on the mat."}]}},
                response=_obj({"embedding": values}, ["embedding"]), error=GEMINI_ERROR, errors=GEMINI_ERRORS,
                parameters=[model_param, key_header], stream_doc=None,
            )
        }
        paths[f"/{version}/models/{{model}}:batchEmbedContents"] = {
            "post": _operation(
                vendor, f"gemini_{version}_batchEmbedContents", f"Gemini batchEmbedContents ({version}).",
                request=_obj({"requests": {"type": "array", "items": embed_one, "minItems": 1, "maxItems": 100}},
                             ["requests"]),
                example={"requests": [{"content": {"parts": [{"text": "The cat sat on the mat."}]}}]},
                response=_obj({"embeddings": {"type": "array", "items": values}}, ["embeddings"]),
                error=GEMINI_ERROR, errors=GEMINI_ERRORS, parameters=[model_param, key_header], stream_doc=None,
            )
        }
        paths[f"/{version}/models/{{model}}:countTokens"] = {
            "post": _not_a_chat(_operation(
                vendor, f"gemini_{version}_countTokens",
                f"Gemini countTokens ({version}): the model's own tokenizer, no generation.",
                request=count_request, example={"contents": [{"role": "user", "parts": [{"text": "Say hello."}]}]},
                response=count_response, error=GEMINI_ERROR, errors=GEMINI_ERRORS,
                parameters=[model_param, key_header], stream_doc=None,
            ))
        }
    return paths
