"""OpenAPI path items of the Gemini-compatible API."""

from __future__ import annotations

from typing import Any

from ..openapi import (  # noqa: F401
    FAULT_HEADERS,
    GEMINI_ERROR,
    GEMINI_ERRORS,
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

# -- Gemini ----------------------------------------------------------------------------


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
