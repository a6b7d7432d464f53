"""Anthropic-compatible Messages API: ``POST /v1/messages`` with Anthropic's JSON, its
named-event SSE sequence, ``request-id`` header and error shapes
(shared/design/wire-formats.md, "Anthropic")."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..errors import InvalidRequest, MockVendorError
from ..faults.ratelimit import reset_at
from ..pipeline import endpoint, record_of
from ..types import Chunk, Completion, GenerateRequest, Message
from . import openapi_compat as docs
from .base import BaseVendor, JSONResponse, bearer, boolean, integer, number, obj, sse, stop_list, string

if TYPE_CHECKING:
    from ..app import AppContext
    from ..engines import Engine
    from ..faults.ratelimit import RateLimitState
    from ..settings import Settings

Handler = Callable[[Request], Awaitable[Response]]

STOP_REASON = {"stop": "end_turn", "length": "max_tokens", "stop_sequence": "stop_sequence"}
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


class AnthropicVendor(BaseVendor):
    """Anthropic's Messages API on the configured models."""

    name = "anthropic"
    title = "Anthropic-compatible"
    url_prefixes: ClassVar[tuple[str, ...]] = ("/v1/messages",)

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def routes(self, ctx: AppContext) -> list[BaseRoute]:
        handler = with_request_id(endpoint(ctx, self))
        return [Route("/v1/messages", handler, methods=["POST"], name="anthropic-messages")]

    def api_key(self, request: Request) -> str | None:
        return request.headers.get("x-api-key") or bearer(request)

    def resolve(self, ctx: AppContext, req: GenerateRequest) -> Engine:
        engine = super().resolve(ctx, req)
        if isinstance(req, AnthropicRequest):
            req.engine = engine
        return engine

    # -- requests -------------------------------------------------------------------
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
        for i, item in enumerate(raw):
            m = obj(item, f"messages.{i}")
            role = string(m, "role", required=True, path=f"messages.{i}.")
            if role not in ("user", "assistant"):
                raise InvalidRequest(
                    f"messages.{i}.role: Input should be 'user' or 'assistant', got {role!r} "
                    "(a system prompt goes in the top-level 'system' field)",
                    param=f"messages.{i}.role",
                )
            messages.append(Message(role, _text_blocks(m.get("content"), f"messages.{i}.content")))
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
        )

    # -- answers --------------------------------------------------------------------
    def render(self, req: GenerateRequest, c: Completion) -> Any:
        return {
            "id": _msg_id(),
            "type": "message",
            "role": "assistant",
            "model": req.model,
            "content": [{"type": "text", "text": c.text}],
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
        yield sse(
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
            "content_block_start",
        )
        yield sse({"type": "ping"}, "ping")
        async for ev in events:
            if isinstance(ev, Completion):
                yield sse({"type": "content_block_stop", "index": 0}, "content_block_stop")
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
            elif ev.text:
                delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": ev.text}}
                yield sse(delta, "content_block_delta")

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
