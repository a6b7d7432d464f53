"""What the OpenAI endpoints share: ids, usage, the model name, stream options, tool names and
OpenAI's error ``type`` and ``code``."""

from __future__ import annotations

from typing import Any

from msgspec import UNSET

from ...errors import InvalidRequest, MockVendorError
from ...ids import random_hex
from ...types import Tool, Usage
from . import wire

FINISH: dict[str, wire.Finish] = {"stop": "stop", "length": "length", "stop_sequence": "stop",
                                  "tool_calls": "tool_calls", "refusal": "stop"}
DONE = b"data: [DONE]\n\n"


def new_id(prefix: str, nbytes: int = 15) -> str:
    return prefix + random_hex(nbytes)


def usage(u: Usage) -> wire.Usage:
    details = wire.CompletionTokensDetails(reasoning_tokens=u.reasoning_tokens) if u.reasoning_tokens else UNSET
    return wire.Usage(u.input_tokens, u.output_tokens, u.total_tokens, wire.PromptTokensDetails(u.cache_hit(128)),
                      completion_tokens_details=details)


def model(name: str) -> str:
    """The declaration checks the length; blank names and NUL characters are refused here."""
    if not name.strip():
        raise InvalidRequest("Field 'model' must not be empty.", param="model")
    if "\x00" in name:
        raise InvalidRequest("Field 'model' must not contain NUL characters.", param="model")
    return name


def only_with_stream(options: Any, stream: bool | None) -> None:
    if options is not None and not stream:
        raise InvalidRequest("The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                             param="stream_options")


def add_tool(tools: list[Tool], name: str, description: str | None, parameters: dict[str, Any] | None) -> None:
    if any(t.name == name for t in tools):
        raise InvalidRequest(f"Invalid 'tools': duplicate function name {name!r}.", param="tools")
    if parameters is None:
        parameters = {"type": "object", "properties": {}}
    tools.append(Tool(name, description or "", parameters))


def error_type_code(err: MockVendorError) -> tuple[str, str | None]:
    """OpenAI's ``type`` and ``code`` for a neutral error."""
    if err.kind == "insufficient_quota":
        return "insufficient_quota", "insufficient_quota"
    if err.status == 429:
        return "requests", "rate_limit_exceeded"
    if err.status >= 500:
        return "server_error", None
    code = {
        "context_length_exceeded": "context_length_exceeded",
        "authentication": "invalid_api_key",
        "model_not_found": "model_not_found",
        "invalid_image_format": "invalid_image_format",
        "invalid_value": "invalid_value",
        "previous_response_not_found": "previous_response_not_found",
        "unsupported_parameter": "unsupported_parameter",
    }.get(err.kind)
    return "invalid_request_error", code
