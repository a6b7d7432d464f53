"""Anthropic-compatible Messages API: ``POST /v1/messages`` with Anthropic's JSON, its
named-event SSE sequence, ``request-id`` header and error shapes
(shared/design/wire-formats.md, "Anthropic").

Tool use: custom ``tools`` and ``tool_choice`` are parsed into the neutral types, and so are
``tool_use`` / ``tool_result`` blocks in the conversation; whether to call a tool is decided by
:mod:`mockvendor.tools`, and a call is rendered as a ``tool_use`` block (streamed as
``input_json_delta`` pieces) with ``stop_reason: "tool_use"``. Server tools are refused.
The Models API is in :mod:`.models`."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ...errors import AuthenticationFailed, InvalidRequest, MockVendorError
from ...faults.ratelimit import reset_at
from ...http import JSONResponse, bearer, sse
from ...pipeline import endpoint, record_of
from ...types import Chunk, Completion, GenerateRequest, Message, Tool, ToolCall
from .. import model_list
from ..base import BaseVendor, boolean, integer, number, obj, stop_list, string
from . import models
from . import openapi as docs

if TYPE_CHECKING:
    from ...context import AppContext
    from ...engines import Engine
    from ...faults.ratelimit import RateLimitState
    from ...settings import Settings

Handler = Callable[[Request], Awaitable[Response]]

STOP_REASON = {"stop": "end_turn", "length": "max_tokens", "stop_sequence": "stop_sequence", "tool_calls": "tool_use"}
# Anthropic's tool-use guide gives names this pattern.
TOOL_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
TOOL_CHOICE = {"auto": "auto", "any": "required", "none": "none"}  # and "tool" -> "tool:<name>"
# The neutral core makes opaque ids; Anthropic's start with this.
TOOL_ID_PREFIX = "toolu_"
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
# The error body carries the request's id; the handler wrapper sets it for the request.
_REQUEST_ID: ContextVar[str | None] = ContextVar("anthropic_request_id", default=None)


@dataclass(slots=True)
class AnthropicRequest(GenerateRequest):
    """A Messages request; ``engine`` is kept so a stream can report input tokens first."""

    engine: Any = None


def error_type(err: MockVendorError) -> str:
    """Anthropic's ``error.type`` for a neutral error."""
    if err.kind == "overloaded":
        return "overloaded_error"
    return ERROR_TYPES.get(err.status) or ("api_error" if err.status >= 500 else "invalid_request_error")


def _text_blocks(value: Any, path: str, *, allow_empty: bool = False) -> str:
    """A string, or a list of ``{"type": "text", "text": ...}`` blocks, as one text."""
    if isinstance(value, str):
        return value
    if value is None:
        raise InvalidRequest(f"{path}: Field required", param=path)
    if not isinstance(value, list) or (not value and not allow_empty):
        raise InvalidRequest(f"{path}: must be a string or a non-empty list of content blocks", param=path)
    texts = []
    for j, block in enumerate(value):
        b = obj(block, f"{path}.{j}")
        kind = b.get("type")
        if kind != "text":
            raise InvalidRequest(
                f"{path}.{j}.type: content block type {kind!r} is not supported: mockvendor answers "
                "text blocks only",
                param=f"{path}.{j}.type",
            )
        texts.append(string(b, "text", required=True, path=f"{path}.{j}.") or "")
    return "\n".join(texts)


def _tools(raw: Any) -> list[Tool]:
    """The request's custom tools; Anthropic's own (server) tools are refused."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise InvalidRequest("tools: Input should be a valid list", param="tools")
    tools: list[Tool] = []
    for i, item in enumerate(raw):
        t = obj(item, f"tools.{i}")
        kind = t.get("type")
        if kind not in (None, "custom"):
            raise InvalidRequest(
                f"tools.{i}.type: tool type {kind!r} is not supported: mockvendor does not run server tools "
                "(web search, code execution, bash, text editor, computer use); declare a custom tool with "
                "a name and an input_schema instead",
                param=f"tools.{i}.type",
            )
        path = f"tools.{i}.custom"  # Anthropic's paths name the tool variant
        name = t.get("name")
        if name is None:
            raise InvalidRequest(f"{path}.name: Field required", param=f"{path}.name")
        if not isinstance(name, str) or not TOOL_NAME.fullmatch(name):
            raise InvalidRequest(
                f"{path}.name: String should match pattern '^{TOOL_NAME.pattern}$'", param=f"{path}.name"
            )
        description = t.get("description")
        if description is not None and not isinstance(description, str):
            raise InvalidRequest(f"{path}.description: Input should be a valid string", param=f"{path}.description")
        tools.append(Tool(name, description or "", _input_schema(t.get("input_schema"), f"{path}.input_schema")))
    if len({t.name for t in tools}) < len(tools):
        raise InvalidRequest("tools: Tool names must be unique.", param="tools")
    return tools


def _input_schema(schema: Any, path: str) -> dict[str, Any]:
    if schema is None:
        raise InvalidRequest(f"{path}: Field required", param=path)
    if not isinstance(schema, dict):
        raise InvalidRequest(f"{path}: Input should be a valid dictionary", param=path)
    if "type" not in schema:
        raise InvalidRequest(f"{path}.type: Field required", param=f"{path}.type")
    if schema["type"] != "object":
        raise InvalidRequest(f"{path}.type: Input should be 'object'", param=f"{path}.type")
    if not isinstance(schema.get("properties", {}), dict | None):
        raise InvalidRequest(f"{path}.properties: Input should be a valid dictionary", param=f"{path}.properties")
    return schema


def _tool_choice(raw: Any, tools: list[Tool]) -> str:
    """Anthropic's ``tool_choice`` as the neutral one."""
    if raw is None:
        return "auto"
    c = obj(raw, "tool_choice")
    kind = c.get("type")
    if kind is None:
        raise InvalidRequest("tool_choice.type: Field required", param="tool_choice.type")
    if kind not in ("auto", "any", "tool", "none"):
        raise InvalidRequest(
            f"tool_choice: Input tag {kind!r} found using 'type' does not match any of the expected tags: "
            "'auto', 'any', 'tool', 'none'",
            param="tool_choice.type",
        )
    # Accepted and checked, but moot: the neutral core makes one call per answer.
    boolean(c, "disable_parallel_tool_use", path=f"tool_choice.{kind}.")
    if not tools:
        raise InvalidRequest("tool_choice: tool_choice may only be specified while providing tools.",
                             param="tool_choice")
    if kind != "tool":
        return TOOL_CHOICE[kind]
    name = c.get("name")
    if name is None:
        raise InvalidRequest("tool_choice.tool.name: Field required", param="tool_choice.tool.name")
    if name not in {t.name for t in tools}:
        raise InvalidRequest(
            f"tool_choice.tool.name: tool {name!r} was not found among the request's tools "
            f"({', '.join(t.name for t in tools)})",
            param="tool_choice.tool.name",
        )
    return f"tool:{name}"


def _messages(raw: list[Any]) -> list[Message]:
    """The conversation as neutral turns: an assistant turn carries its ``tool_use`` blocks
    as calls; a user turn's ``tool_result`` blocks become one ``tool`` turn each, then its
    text (if any) a user turn."""
    out: list[Message] = []
    calls: dict[str, str] = {}  # the previous assistant turn's unanswered tool_use ids -> names
    for i, item in enumerate(raw):
        m = obj(item, f"messages.{i}")
        role = string(m, "role", required=True, path=f"messages.{i}.")
        if role not in ("user", "assistant"):
            raise InvalidRequest(
                f"messages.{i}.role: Input should be 'user' or 'assistant', got {role!r} "
                "(a system prompt goes in the top-level 'system' field)",
                param=f"messages.{i}.role",
            )
        path = f"messages.{i}.content"
        content = m.get("content")
        if role == "assistant":
            if calls:
                _unanswered(i - 1, calls)
            text, tool_calls = _assistant_content(content, path)
            out.append(Message("assistant", text, tool_calls=tool_calls))
            calls = {c.id: c.name for c in tool_calls}
        else:
            results, text = _user_content(content, path, calls)
            if calls:
                _unanswered(i - 1, calls)
            out.extend(results)
            if text or not results:
                out.append(Message("user", text))
            calls = {}
    return out


def _unanswered(i: int, calls: dict[str, str]) -> None:
    raise InvalidRequest(
        f"messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately after: "
        f"{', '.join(calls)}. Each `tool_use` block must have a corresponding `tool_result` block in the next "
        "message.",
        param=f"messages.{i}",
    )


def _blocks(value: Any, path: str) -> list[Any]:
    """A message's content as blocks (a string is one text block)."""
    if isinstance(value, str):
        return [{"type": "text", "text": value}]
    if value is None:
        raise InvalidRequest(f"{path}: Field required", param=path)
    if not isinstance(value, list) or not value:
        raise InvalidRequest(f"{path}: must be a string or a non-empty list of content blocks", param=path)
    return value


def _unsupported(kind: Any, path: str) -> InvalidRequest:
    return InvalidRequest(
        f"{path}.type: content block type {kind!r} is not supported: mockvendor answers text, tool_use "
        "and tool_result blocks only",
        param=f"{path}.type",
    )


def _assistant_content(value: Any, path: str) -> tuple[str, list[ToolCall]]:
    texts: list[str] = []
    calls: list[ToolCall] = []
    for j, block in enumerate(_blocks(value, path)):
        b, where = obj(block, f"{path}.{j}"), f"{path}.{j}"
        kind = b.get("type")
        if kind == "text":
            texts.append(string(b, "text", required=True, path=f"{where}.") or "")
        elif kind == "tool_use":
            fields = [_required_str(b, key, f"{where}.tool_use.{key}") for key in ("id", "name")]
            args = b.get("input")
            if not isinstance(args, dict):
                msg = "Field required" if args is None else "Input should be a valid dictionary"
                raise InvalidRequest(f"{where}.tool_use.input: {msg}", param=f"{where}.tool_use.input")
            calls.append(ToolCall(fields[0], fields[1], args))  # the id stays as sent: ids are opaque
        elif kind == "tool_result":
            raise InvalidRequest(f"{where}: `tool_result` blocks can only be in `user` messages", param=where)
        else:
            raise _unsupported(kind, where)
    return "\n".join(texts), calls


def _user_content(value: Any, path: str, calls: dict[str, str]) -> tuple[list[Message], str]:
    """The tool turns and the text of a user turn; answered ids are taken out of ``calls``."""
    results: list[Message] = []
    texts: list[str] = []
    named = dict(calls)
    for j, block in enumerate(_blocks(value, path)):
        b, where = obj(block, f"{path}.{j}"), f"{path}.{j}"
        kind = b.get("type")
        if kind == "text":
            texts.append(string(b, "text", required=True, path=f"{where}.") or "")
        elif kind == "tool_result":
            call_id = _required_str(b, "tool_use_id", f"{where}.tool_result.tool_use_id")
            if call_id not in named:
                raise InvalidRequest(
                    f"{where}: unexpected `tool_use_id` found in `tool_result` blocks: {call_id}. Each "
                    "`tool_result` block must have a corresponding `tool_use` block in the previous message.",
                    param=where,
                )
            calls.pop(call_id, None)
            content = b.get("content")
            text = "" if content is None else _text_blocks(content, f"{where}.tool_result.content", allow_empty=True)
            if boolean(b, "is_error", path=f"{where}.tool_result."):
                text = "Error: " + text  # the neutral turn has no flag: the model reads it in the text
            results.append(Message("tool", text, tool_call_id=call_id, name=named[call_id]))
        elif kind == "tool_use":
            raise InvalidRequest(f"{where}: `tool_use` blocks can only be in `assistant` messages", param=where)
        else:
            raise _unsupported(kind, where)
    return results, "\n".join(texts)


def _required_str(b: Any, key: str, path: str) -> str:
    v = b.get(key)
    if v is None:
        raise InvalidRequest(f"{path}: Field required", param=path)
    if not isinstance(v, str):
        raise InvalidRequest(f"{path}: Input should be a valid string", param=path)
    return v


def _tool_use(call: ToolCall) -> dict[str, Any]:
    return {"type": "tool_use", "id": TOOL_ID_PREFIX + call.id, "name": call.name, "input": call.arguments}


class AnthropicVendor(BaseVendor):
    """Anthropic's Messages API on the configured models."""

    name = "anthropic"
    title = "Anthropic-compatible"
    url_prefixes: ClassVar[tuple[str, ...]] = ("/v1/messages",)

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def routes(self, ctx: AppContext) -> list[BaseRoute]:
        handler = with_request_id(endpoint(ctx, self))
        count = with_request_id(endpoint(ctx, self, parse=self.parse_count))
        return [
            Route("/v1/messages", handler, methods=["POST"], name="anthropic-messages"),
            Route("/v1/messages/count_tokens", count, methods=["POST"], name="anthropic-count-tokens"),
        ]

    def api_key(self, request: Request) -> str | None:
        return request.headers.get("x-api-key") or bearer(request)

    def auth_error(self, key: str | None) -> MockVendorError:
        # Anthropic's own words for both (a 401 authentication_error).
        return AuthenticationFailed("invalid x-api-key" if key else "x-api-key header is required")

    # -- models (GET /v1/models, shared with OpenAI and Gemini: model_list.shared) ----
    def claims_models(self, request: Request) -> bool:
        return models.claims(request)

    def models_handler(self, ctx: AppContext) -> Handler:
        return with_request_id(model_list.handler(ctx, self))

    def list_models(self, ctx: AppContext, request: Request) -> Any:
        return models.list_models(ctx, request)

    def model_info(self, ctx: AppContext, name: str) -> Any:
        return models.model_info(ctx, name)

    def resolve(self, ctx: AppContext, req: GenerateRequest) -> Engine:
        engine = super().resolve(ctx, req)
        if isinstance(req, AnthropicRequest):
            req.engine = engine
        return engine

    # -- requests -------------------------------------------------------------------
    def parse_count(self, body: Any, request: Request) -> GenerateRequest:
        """``POST /v1/messages/count_tokens``: a Messages request without ``max_tokens``."""
        b = dict(obj(body))
        b.setdefault("max_tokens", 1)
        b["stream"] = False
        req = self.parse(b, request)
        req.count_only = True
        return req

    def render_count(self, req: GenerateRequest, tokens: int) -> Any:
        return {"input_tokens": tokens}

    def parse(self, body: Any, request: Request) -> GenerateRequest:
        b = obj(body)
        model = string(b, "model", required=True, nonempty=True, max_len=256) or ""
        max_tokens = integer(b, "max_tokens", lo=1, hi=1_000_000, required=True)
        raw = b.get("messages")
        if raw is None:
            raise InvalidRequest("messages: Field required", param="messages")
        if not isinstance(raw, list) or not raw:
            raise InvalidRequest("messages: must be a non-empty list of messages", param="messages")
        messages = []
        system = b.get("system")
        if system is not None:
            text = _text_blocks(system, "system", allow_empty=True)
            if text:
                messages.append(Message("system", text))
        messages += _messages(raw)
        tools = _tools(b.get("tools"))
        return AnthropicRequest(
            model,
            messages,
            max_tokens=max_tokens,
            temperature=number(b, "temperature", lo=0.0, hi=1.0),
            top_p=number(b, "top_p", lo=0.0, hi=1.0),
            top_k=integer(b, "top_k", lo=1, hi=1_000_000),
            stop=stop_list(b, "stop_sequences", max_items=64),
            # Not an Anthropic field: mockvendor's way to make one request reproducible.
            seed=integer(b, "seed", lo=-(2**63), hi=2**64 - 1),
            stream=bool(boolean(b, "stream")),
            tools=tools,
            tool_choice=_tool_choice(b.get("tool_choice"), tools),
        )

    # -- answers --------------------------------------------------------------------
    def render(self, req: GenerateRequest, c: Completion) -> Any:
        return {
            "id": _msg_id(),
            "type": "message",
            "role": "assistant",
            "model": req.model,
            "content": [_tool_use(t) for t in c.tool_calls] if c.finish_reason == "tool_calls"
            else [{"type": "text", "text": c.text}],
            "stop_reason": STOP_REASON[c.finish_reason],
            "stop_sequence": c.stop_sequence if c.finish_reason == "stop_sequence" else None,
            "usage": {"input_tokens": c.usage.input_tokens, "output_tokens": c.usage.output_tokens},
        }

    async def render_stream(
        self, req: GenerateRequest, events: AsyncIterator[Chunk | Completion]
    ) -> AsyncIterator[bytes]:
        engine = req.engine if isinstance(req, AnthropicRequest) else None
        input_tokens = engine.prompt_tokens(req) if engine is not None else 0
        message = {
            "id": _msg_id(), "type": "message", "role": "assistant", "content": [], "model": req.model,
            "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": 1},
        }
        yield sse({"type": "message_start", "message": message}, "message_start")
        # Blocks open as their first chunk arrives: a text block, or one tool_use block per call.
        # The first one opened is followed by a ping, as Anthropic's streams have it.
        index, block = -1, None  # the open block: "text" or the call's tool_index

        def open_block(kind: Any, content_block: dict[str, Any]) -> list[bytes]:
            nonlocal index, block
            out = [] if block is None else [sse({"type": "content_block_stop", "index": index}, "content_block_stop")]
            index, block = index + 1, kind
            start = {"type": "content_block_start", "index": index, "content_block": content_block}
            out.append(sse(start, "content_block_start"))
            if index == 0:
                out.append(sse({"type": "ping"}, "ping"))
            return out

        if not req.tools:  # no call can come: the text block opens at once, before the first token's wait
            for data in open_block("text", {"type": "text", "text": ""}):
                yield data
        async for ev in events:
            if isinstance(ev, Completion):
                if block is None:
                    for data in open_block("text", {"type": "text", "text": ""}):
                        yield data
                yield sse({"type": "content_block_stop", "index": index}, "content_block_stop")
                stop_seq = ev.stop_sequence if ev.finish_reason == "stop_sequence" else None
                yield sse(
                    {
                        "type": "message_delta",
                        "delta": {"stop_reason": STOP_REASON[ev.finish_reason], "stop_sequence": stop_seq},
                        "usage": {"output_tokens": ev.usage.output_tokens},
                    },
                    "message_delta",
                )
                yield sse({"type": "message_stop"}, "message_stop")
            elif ev.tool_call is not None:
                if block != ev.tool_index:
                    for data in open_block(ev.tool_index, {**_tool_use(ev.tool_call), "input": {}}):
                        yield data
                if ev.text:
                    delta = {"type": "input_json_delta", "partial_json": ev.text}
                    yield sse({"type": "content_block_delta", "index": index, "delta": delta}, "content_block_delta")
            elif ev.text:
                if block != "text":
                    for data in open_block("text", {"type": "text", "text": ""}):
                        yield data
                delta = {"type": "text_delta", "text": ev.text}
                yield sse({"type": "content_block_delta", "index": index, "delta": delta}, "content_block_delta")

    # -- errors ---------------------------------------------------------------------
    def error_body(self, err: MockVendorError) -> Any:
        body: dict[str, Any] = {"type": "error", "error": {"type": error_type(err), "message": err.message}}
        rid = _REQUEST_ID.get()
        if rid is not None:
            body["request_id"] = rid
        return body

    def error_headers(self, err: MockVendorError) -> dict[str, str]:
        h = err.response_headers()
        # Stand-in numbers only when the fault lab's rate limits are off (they bring real ones).
        if err.status == 429 and not any(k.startswith("anthropic-ratelimit-") for k in h):
            wait_ms = err.retry_after_ms if err.retry_after_ms is not None else 1000
            reset = datetime.now(UTC) + timedelta(milliseconds=wait_ms)
            h.update({
                "anthropic-ratelimit-requests-limit": "50",
                "anthropic-ratelimit-requests-remaining": "0",
                "anthropic-ratelimit-requests-reset": reset.isoformat(timespec="seconds").replace("+00:00", "Z"),
            })
        return h

    def ratelimit_headers(self, state: RateLimitState) -> dict[str, str]:
        """Anthropic's ``anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset}`` (reset: RFC 3339)."""
        h: dict[str, str] = {}
        for what, b in (("requests", state.requests), ("tokens", state.tokens)):
            if b is not None:
                h[f"anthropic-ratelimit-{what}-limit"] = str(b.limit)
                h[f"anthropic-ratelimit-{what}-remaining"] = str(b.remaining)
                h[f"anthropic-ratelimit-{what}-reset"] = reset_at(state.now, b.reset_s)
        return h

    def error_response(self, err: MockVendorError) -> Response:
        # Anthropic signals an overloaded service with its own 529, whatever said so.
        status = 529 if err.kind == "overloaded" else err.status
        return JSONResponse(self.error_body(err), status, self.error_headers(err))

    def stream_error(self, err: MockVendorError) -> bytes | None:
        return sse({"type": "error", "error": {"type": error_type(err), "message": err.message}}, "error")

    def openapi(self) -> dict[str, Any]:
        return docs.anthropic_paths(self)


def _msg_id() -> str:
    return "msg_" + os.urandom(12).hex()


def with_request_id(handler: Handler) -> Handler:
    """Send the request's id as Anthropic does: a ``request-id`` header, and in error bodies."""

    async def handle(request: Request) -> Response:
        rid = record_of(request).id
        token = _REQUEST_ID.set(rid)
        try:
            resp = await handler(request)
        finally:
            _REQUEST_ID.reset(token)
        resp.headers["request-id"] = rid
        return resp

    return handle


VENDOR = AnthropicVendor
