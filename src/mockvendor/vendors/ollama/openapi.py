"""OpenAPI path items of the Ollama-compatible API: operation metadata; every schema comes
from the declarations in :mod:`.wire`. A streamed answer is documented as
``application/x-ndjson`` (OpenAPI 3.1 reads its schema as the schema of each line)."""

from __future__ import annotations

from typing import Any

from ...wire import schema
from ..openapi import _not_a_chat, _operation
from . import wire

NDJSON = "application/x-ndjson"
ERRORS = {
    "400": "Bad input: `{\"error\": \"...\"}` naming the problem (e.g. `model is required`).",
    "401": "`unauthorized` (only when MOCKVENDOR_API_KEYS is set: send it as a Bearer token).",
    "404": "`model \"x\" not found, try pulling it first`.",
    "429": "Simulated rate limit, with `retry-after`.",
    "500": "Simulated only.",
    "503": "Simulated, or the model queue is full.",
}
MODEL_ERRORS = {k: v for k, v in ERRORS.items() if k in ("400", "401", "404")}
STREAM = "by default a stream of NDJSON lines (`done: false` with a piece of text, then one with `done: true` " \
         "and the figures); with `stream: false` one JSON object. A stream that fails midway ends with a line " \
         "`{\"error\": \"...\"}`."
PULL_STREAM = "by default NDJSON progress lines (`{\"status\": \"pulling manifest\"}` ... " \
              "`{\"status\": \"success\"}`); with `stream: false` the last one alone."
CHAT_EXAMPLE = {"model": "llama3.2", "messages": [{"role": "user", "content": "Say hello."}], "stream": False,
                "options": {"num_predict": 32}}
GENERATE_EXAMPLE = {"model": "llama3.2", "prompt": "Say hello.", "stream": False, "options": {"num_predict": 32}}


def _streamed(op: dict[str, Any], line: Any) -> dict[str, Any]:
    """An operation whose 200 is NDJSON by default: each line's schema instead of an SSE event."""
    content = op["responses"]["200"]["content"]
    content.pop("text/event-stream", None)
    content[NDJSON] = {"schema": schema(line)}
    return op


def ollama_paths(vendor: Any) -> dict[str, Any]:
    error = schema(wire.ErrorBody)

    def op(op_id: str, summary: str, request: Any, example: Any, response: Any, errors: dict[str, str],
           stream: str | None = None) -> dict[str, Any]:
        return _operation(vendor, op_id, summary, request=None if request is None else schema(request),
                          example=example, response=schema(response), error=error, errors=errors,
                          stream_doc=stream)

    def info(op_id: str, summary: str, response: Any) -> dict[str, Any]:
        return _not_a_chat(op(op_id, summary, None, None, response, MODEL_ERRORS))

    return {
        "/api/chat": {"post": _streamed(op(
            "ollama_chat", "Ollama chat (NDJSON stream by default).", wire.ChatRequest, CHAT_EXAMPLE,
            wire.ChatResponse, ERRORS, stream=STREAM), wire.ChatResponse)},
        "/api/generate": {"post": _streamed(op(
            "ollama_generate", "Ollama completion of a prompt (NDJSON stream by default).", wire.GenerateRequest,
            GENERATE_EXAMPLE, wire.GenerateResponse, ERRORS, stream=STREAM), wire.GenerateResponse)},
        "/api/embed": {"post": _not_a_chat(op(
            "ollama_embed", "Unit vectors, one per input text.", wire.EmbedRequest,
            {"model": "nomic-embed-text", "input": ["first text", "second text"]}, wire.EmbedResponse, ERRORS))},
        "/api/embeddings": {"post": _not_a_chat(op(
            "ollama_embeddings", "One vector (deprecated by Ollama for /api/embed).", wire.EmbeddingsRequest,
            {"model": "nomic-embed-text", "prompt": "a text"}, wire.EmbeddingsResponse, ERRORS))},
        "/api/tags": {"get": info("ollama_tags", "The models 'pulled': configured names and Ollama's tags.",
                                  wire.TagsResponse)},
        "/api/show": {"post": _not_a_chat(op(
            "ollama_show", "One model's details, context length and capabilities.", wire.ShowRequest,
            {"model": "llama3.2"}, wire.ShowResponse, MODEL_ERRORS))},
        "/api/pull": {"post": _not_a_chat(_streamed(op(
            "ollama_pull", "Pull a model: every name mockvendor answers is already here (a 404 otherwise).",
            wire.PullRequest, {"model": "llama3.2", "stream": False}, wire.PullStatus, MODEL_ERRORS,
            stream=PULL_STREAM), wire.PullStatus))},
        "/api/ps": {"get": info("ollama_ps", "The models 'loaded' (the configured ones).", wire.PsResponse)},
        "/api/version": {"get": info("ollama_version", "The Ollama version this API follows.",
                                     wire.VersionResponse)},
    }
