"""OpenAPI path items of the seed vendors A, B, E and O."""

from __future__ import annotations

from typing import Any

from ...wire import schema
from ..openapi import FAULT_HEADERS, SSE_EVENT
from .wire import ErrorBody

# Vendor O answers with OpenAI's own JSON, whatever it is.
PASSTHROUGH = {"type": "object", "description": "OpenAI's chat completion JSON, passed through verbatim."}

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
    errors = SEED_ERRORS.get(vendor.name, {})
    desc = vendor.summary
    if errors:
        desc += "\n\nSimulated errors: " + "; ".join(f"{k}: {v}" for k, v in errors.items())
    responses: dict[str, Any] = {
        "200": {
            "description": "The answer (or, with `stream: true`, server-sent events).",
            "content": {"application/json": {"schema": schema(vendor.response) if vendor.response else PASSTHROUGH}},
        }
    }
    if vendor.name != "e":  # E never streams
        responses["200"]["content"]["text/event-stream"] = {"schema": SSE_EVENT}
    for status in ("400", "401", "404", "413", "415", "429", "500", "502", "503"):
        responses[status] = {
            "description": "Error",
            "content": {"application/json": {"schema": schema(ErrorBody)}},
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
                            "schema": schema(vendor.request),
                            "example": SEED_EXAMPLES[vendor.name],
                        }
                    },
                },
                "responses": responses,
                "x-mockvendor-vendor": vendor.name,
            }
        }
    }
