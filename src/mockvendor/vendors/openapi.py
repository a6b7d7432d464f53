"""OpenAPI fragments shared by the vendors' routes: the API docs page and the fuzzer read
the server's own document, so it is built from the same vendor classes that serve."""

from __future__ import annotations

from typing import Any


def _header(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": False, "description": description, "schema": schema}


# The fault lab's per-request controls (README "Fault lab"); off with MOCKVENDOR_ALLOW_FAULT_HEADERS=false.
FAULT_HEADERS = [
    _header(
        "x-mockvendor-fault",
        "Force a simulated fault for this request: a status 400-599 (`503`, `error-500`), `rate-limit`, "
        "`quota` (429 insufficient_quota, not retryable), `overloaded` (529), `slow`, `stream-error`, "
        "`disconnect`, `no-terminator`, `malformed`, `stall`, the content faults `refusal`, `invalid-json`, "
        "`schema-violation`, `unknown-tool`, `truncated`, `empty`, `repetition`, or `none`.",
        {"type": "string"},
    ),
    _header("x-mockvendor-delay-ms", "Delay the answer by this many milliseconds.",
            {"type": "integer", "minimum": 0, "maximum": 600000}),
    _header("x-mockvendor-retry-after-ms", "The retry hint (`retry-after-ms`, `retry-after`) of a forced error.",
            {"type": "integer", "minimum": 0, "maximum": 3600000}),
    _header("x-mockvendor-should-retry", "The `x-should-retry` hint of a forced error.",
            {"type": "string", "enum": ["true", "false"]}),
    _header("x-mockvendor-fault-after-chunks",
            "Strike a stream fault after this many text chunks; alone, the vendor's in-band error event "
            "(with `x-mockvendor-fault: 503`, that error in-band).", {"type": "integer", "minimum": 0}),
    _header("x-mockvendor-stall-ms", "How long a `stall` lasts before the connection drops (default 600000).",
            {"type": "integer", "minimum": 0}),
    _header("x-mockvendor-latency",
            "A delay drawn from a distribution: `fixed:MS`, `uniform:LO,HI`, `normal:MEAN,SD`, "
            "`lognormal:MEDIAN,SIGMA`.", {"type": "string"}),
    _header("x-mockvendor-ttft-ms", "Streams: time to the first chunk.", {"type": "integer", "minimum": 0}),
    _header("x-mockvendor-token-ms", "Streams: delay before each later chunk.", {"type": "integer", "minimum": 0}),
    _header("x-mockvendor-test-id",
            "Bind this request to a test id: its own random fault stream, the scenario installed for it, "
            "and its own retry telemetry.", {"type": "string"}),
]

# One server-sent event, as parsed from the stream (OpenAPI 3.1 reads a text/event-stream
# `schema` as the schema of each event; `data` holds the vendor's JSON chunk as text).
SSE_EVENT = {
    "type": "object",
    "description": "One server-sent event: `data` is a JSON chunk in the vendor's own shape (or `[DONE]`).",
    "properties": {
        "event": {"type": "string"},
        "data": {"type": "string"},
        "id": {"type": "string"},
        "retry": {"type": "integer"},
    },
    "required": ["data"],
}

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
TOOLS_DOC = (
    "Function tools. mockvendor decides a call by rule (README \"Tool calls\"): with `auto`, a call when "
    "the last turn is the user's, text after a tool result; arguments follow the tool's JSON Schema."
)

OPENAI_ERROR = _obj(
    {
        "error": _obj(
            {"message": STR, "type": STR, "param": NULL_STR, "code": NULL_STR},
            ["message", "type", "param", "code"],
        )
    },
    ["error"],
)

ANTHROPIC_ERROR = _obj(
    {
        "type": {"const": "error"},
        "error": _obj({"type": STR, "message": STR}, ["type", "message"]),
        "request_id": STR,
    },
    ["type", "error"],
)

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
