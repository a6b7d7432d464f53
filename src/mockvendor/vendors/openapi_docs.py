"""OpenAPI fragments for the vendors' routes: the API docs page and the fuzzer read
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
        "`disconnect`, `no-terminator`, `malformed`, `stall` or `none`.",
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

SAMPLING = {
    "max_tokens": {"type": "integer", "minimum": 1, "maximum": 1000000, "description": "Most tokens to generate."},
    "temperature": {"type": "number", "minimum": 0, "maximum": 2},
    "seed": {"type": "integer", "description": "Same seed, same prompt: same text."},
    "stream": {"type": "boolean", "description": "Answer as server-sent events."},
}

ERROR = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {"type": {"type": "string"}, "message": {"type": "string"}},
            "required": ["type", "message"],
        }
    },
    "required": ["error"],
}

SEED_RESPONSES: dict[str, dict[str, Any]] = {
    "a": {
        "type": "object",
        "properties": {
            "outputText": {"type": "string"},
            "tokensIn": {"type": "integer"},
            "tokensOut": {"type": "integer"},
            "latencyMS": {"type": "integer"},
        },
        "required": ["outputText", "tokensIn", "tokensOut", "latencyMS"],
    },
    "b": {
        "type": "object",
        "properties": {
            "choices": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "message": {
                            "type": "object",
                            "properties": {"content": {"type": "string"}},
                            "required": ["content"],
                        }
                    },
                },
            },
            "usage": {
                "type": "object",
                "properties": {
                    "input_tokens": {"type": "integer"},
                    "output_tokens": {"type": "integer"},
                },
                "required": ["input_tokens", "output_tokens"],
            },
        },
        "required": ["choices", "usage"],
    },
    "e": {
        "type": "object",
        "properties": {"response": {"type": "string"}},
        "required": ["response"],
    },
    "o": {
        "type": "object",
        "description": "OpenAI's chat completion JSON, passed through verbatim.",
    },
}

SEED_ERRORS: dict[str, dict[str, str]] = {
    "a": {"500": "Simulated server error (10% by default).", "slow": "2-5 s delay (10%)."},
    "b": {"429": "Simulated rate limit (10%) with `retryAfterMs`, `Retry-After`, `retry-after-ms`."},
    "e": {},
    "o": {"401": "No OPENAI_API_KEY configured.", "502": "OpenAI unreachable."},
}

SEED_EXAMPLES = {
    "a": {"prompt": "What is the meaning of life?", "system_prompt": "You are a helpful assistant"},
    "b": {"prompt": "Tell me a story", "system_prompt": "You are a creative writer"},
    "e": {"prompt": "Hello world"},
    "o": {"prompt": "Explain quantum computing", "model": "gpt-3.5-turbo"},
}


def seed_path(vendor: Any) -> dict[str, Any]:
    """The path item for one of the seed's ``/vendor-x/messages`` routes."""
    props: dict[str, Any] = {
        "prompt": {"type": "string", "minLength": 1, "description": "The user's prompt."},
    }
    if vendor.name != "e":
        props["system_prompt"] = {"type": "string", "description": "Optional system prompt."}
        props.update(SAMPLING)
    if vendor.name == "o":
        props["model"] = {"type": "string", "default": "gpt-3.5-turbo"}
    errors = SEED_ERRORS.get(vendor.name, {})
    desc = vendor.summary
    if errors:
        desc += "\n\nSimulated errors: " + "; ".join(f"{k}: {v}" for k, v in errors.items())
    responses: dict[str, Any] = {
        "200": {
            "description": "The answer (or, with `stream: true`, server-sent events).",
            "content": {"application/json": {"schema": SEED_RESPONSES[vendor.name]}},
        }
    }
    if vendor.name != "e":  # E never streams
        responses["200"]["content"]["text/event-stream"] = {"schema": SSE_EVENT}
    for status in ("400", "401", "404", "413", "415", "429", "500", "502", "503"):
        responses[status] = {
            "description": "Error",
            "content": {"application/json": {"schema": ERROR}},
        }
    return {
        vendor.path: {
            "post": {
                "tags": [vendor.title],
                "summary": vendor.summary,
                "description": desc,
                "operationId": f"vendor_{vendor.name}_messages",
                "parameters": FAULT_HEADERS,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": props,
                                "required": ["prompt"],
                            },
                            "example": SEED_EXAMPLES[vendor.name],
                        }
                    },
                },
                "responses": responses,
                "x-mockvendor-vendor": vendor.name,
            }
        }
    }
