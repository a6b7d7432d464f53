"""Anthropic-compatible Messages API: ``POST /v1/messages`` with Anthropic's JSON, its
named-event SSE sequence, ``request-id`` header and error shapes
(shared/design/wire-formats.md, "Anthropic").

Tool use: custom ``tools`` and ``tool_choice`` are parsed into the neutral types, and so are
``tool_use`` / ``tool_result`` blocks in the conversation; whether to call a tool is decided by
:mod:`mockvendor.tools`, and a call is rendered as a ``tool_use`` block (streamed as
``input_json_delta`` pieces) with ``stop_reason: "tool_use"``. Server tools are refused.
The Models API is in :mod:`.models`."""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec
from msgspec import UNSET
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ... import media
from ...errors import AuthenticationFailed, InvalidRequest, MockVendorError
from ...faults.ratelimit import reset_at
from ...http import JSONResponse, bearer, set_header, sse
from ...ids import random_hex
from ...pipeline import endpoint, record_of
from ...types import Chunk, Completion, GenerateRequest, Message, Reasoning, ResponseFormat, Tool, ToolCall
from ...wire import decode
from .. import model_list
from ..base import BaseVendor
from . import models, wire
from . import openapi as docs
from .threads import CODES as THREAD_CODES
from .threads import Threads

if TYPE_CHECKING:
    from ...context import AppContext
    from ...engines import Engine
    from ...faults.ratelimit import RateLimitState
    from ...settings import Settings

Handler = Callable[[Request], Awaitable[Response]]

STOP_REASON = {"stop": "end_turn", "length": "max_tokens", "stop_sequence": "stop_sequence", "tool_calls": "tool_use",
               "refusal": "refusal"}
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
    hold: Any = None  # the conversation to hold under the answer's id (a thread), or None
    cached: bool = False  # a cache_control breakpoint asks for prompt caching
    cache_prefix: list[Message] | None = None  # the turns up to the last breakpoint (None: the whole prompt)
    cache_ttl: float = 300.0
    cache_key: tuple[str, bool] | None = None  # the cached prefix's key, and whether it was a hit


def error_type(err: MockVendorError) -> str:
    """Anthropic's ``error.type`` for a neutral error."""
    if err.kind == "overloaded":
        return "overloaded_error"
    return ERROR_TYPES.get(err.status) or ("api_error" if err.status >= 500 else "invalid_request_error")


def _given(v: Any) -> Any:
    """A declared optional field's value, None when left out (or sent as null)."""
    return None if v is UNSET else v


# -- the declared request -> neutral turns --------------------------------------------------
def _block_text(b: Any) -> str:
    """What the model reads for a block it cannot see: images and PDFs leave a marker."""
    if isinstance(b, wire.TextBlock):
        return b.text
    if isinstance(b, wire.ImageBlock):
        return "[image]"
    if isinstance(b, wire.DocumentBlock):
        src = b.source
        title = f"{b.title}\n" if isinstance(b.title, str) and b.title else ""
        if isinstance(src, wire.PlainText):
            return title + src.data
        if isinstance(src, wire.ContentSource):
            inner = src.content if isinstance(src.content, str) else "\n".join(_block_text(x) for x in src.content)
            return title + inner
        return title + "[document]"
    if isinstance(b, wire.SearchResultBlock):
        return "\n".join([b.title, *(t.text for t in b.content)])
    return ""  # thinking: not read


UNKNOWN_IMAGE = (1092, 1092)  # a URL is never fetched: billed as Anthropic's largest 1:1 image (1590 tokens)


def _media_tokens(m: wire.MessagesRequest | wire.CountTokensRequest) -> int:
    """What the request's images and PDFs cost, by Anthropic's rule (width x height / 750; a PDF
    page as a page image); bad image or PDF data is a 400 naming the block."""
    total = 0
    for i, turn in enumerate(m.messages):
        if isinstance(turn.content, str):
            continue
        for j, b in enumerate(turn.content):
            path = f"messages.{i}.content.{j}"
            if isinstance(b, wire.ToolResultBlock) and isinstance(b.content, list):
                total += sum(_block_tokens(x, f"{path}.content.{k}") for k, x in enumerate(b.content))
            else:
                total += _block_tokens(b, path)
    return total


def _block_tokens(b: Any, path: str) -> int:
    try:
        if isinstance(b, wire.ImageBlock):
            src = b.source
            if isinstance(src, wire.Base64Image):
                info = media.image(media.b64decode(src.data), src.media_type)
                return media.anthropic_image_tokens(info.width, info.height)
            return media.anthropic_image_tokens(*UNKNOWN_IMAGE) if isinstance(src, wire.URLImage) else 0
        if isinstance(b, wire.DocumentBlock):
            src = b.source
            page = media.anthropic_image_tokens(media.PAGE_WIDTH, media.PAGE_HEIGHT)
            if isinstance(src, wire.Base64PDF):
                return media.pdf(media.b64decode(src.data)).pages * page
            if isinstance(src, wire.URLPDF):
                return page
            if isinstance(src, wire.ContentSource) and isinstance(src.content, list):
                return sum(_block_tokens(x, f"{path}.source.content.{k}") for k, x in enumerate(src.content))
    except media.BadMedia as e:
        kind = "image" if isinstance(b, wire.ImageBlock) else "document"
        where = f"{path}.{kind}.source.base64.data"
        raise InvalidRequest(f"{where}: {e}", param=where) from None
    return 0


def _texts(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(t for t in (_block_text(b) for b in content) if t)


def _tools(decl: list[wire.Tool] | Any, raw: Any) -> list[Tool]:
    """The request's custom tools; ``raw`` (the body's list) keeps each input_schema whole."""
    if decl is UNSET or decl is None:
        return []
    tools = [Tool(t.name, _given(t.description) or "", dict(raw[i]["input_schema"])) for i, t in enumerate(decl)]
    if len({t.name for t in tools}) < len(tools):
        raise InvalidRequest("tools: Tool names must be unique.", param="tools")
    return tools


def _tool_choice(choice: Any, tools: list[Tool]) -> str:
    """Anthropic's ``tool_choice`` as the neutral one."""
    if choice is UNSET or choice is None:
        return "auto"
    if not tools:
        raise InvalidRequest("tool_choice: tool_choice may only be specified while providing tools.",
                             param="tool_choice")
    if not isinstance(choice, wire.ToolChoiceTool):
        return TOOL_CHOICE[type(choice).__struct_config__.tag]
    if choice.name not in {t.name for t in tools}:
        raise InvalidRequest(
            f"tool_choice.tool.name: tool {choice.name!r} was not found among the request's tools "
            f"({', '.join(t.name for t in tools)})",
            param="tool_choice.tool.name",
        )
    return f"tool:{choice.name}"


def _messages(turns: list[wire.MessageParam]) -> list[Message]:
    """The conversation as neutral turns: an assistant turn carries its ``tool_use`` blocks
    as calls; a user turn's ``tool_result`` blocks become one ``tool`` turn each, then its
    text (if any) a user turn."""
    out: list[Message] = []
    calls: dict[str, str] = {}  # the previous assistant turn's unanswered tool_use ids -> names
    for i, turn in enumerate(turns):
        blocks = [wire.TextBlock(text=turn.content)] if isinstance(turn.content, str) else turn.content
        path = f"messages.{i}.content"
        if turn.role == "assistant":
            if calls:
                _unanswered(i - 1, calls)
            texts: list[str] = []
            tool_calls: list[ToolCall] = []
            for j, b in enumerate(blocks):
                if isinstance(b, wire.ToolUseBlock):
                    tool_calls.append(ToolCall(b.id, b.name, b.input))  # the id stays as sent: ids are opaque
                elif isinstance(b, wire.ToolResultBlock):
                    raise InvalidRequest(f"{path}.{j}: `tool_result` blocks can only be in `user` messages",
                                         param=f"{path}.{j}")
                elif text := _block_text(b):
                    texts.append(text)
            out.append(Message("assistant", "\n".join(texts), tool_calls=tool_calls))
            calls = {c.id: c.name for c in tool_calls}
            continue
        named, results, texts = dict(calls), [], []
        for j, b in enumerate(blocks):
            if isinstance(b, wire.ToolResultBlock):
                if b.tool_use_id not in named:
                    raise InvalidRequest(
                        f"{path}.{j}: unexpected `tool_use_id` found in `tool_result` blocks: {b.tool_use_id}. Each "
                        "`tool_result` block must have a corresponding `tool_use` block in the previous message.",
                        param=f"{path}.{j}",
                    )
                calls.pop(b.tool_use_id, None)
                text = "" if b.content is UNSET else _texts(b.content)
                if b.is_error is True:
                    text = "Error: " + text  # the neutral turn has no flag: the model reads it in the text
                results.append(Message("tool", text, tool_call_id=b.tool_use_id, name=named[b.tool_use_id]))
            elif isinstance(b, wire.ToolUseBlock):
                raise InvalidRequest(f"{path}.{j}: `tool_use` blocks can only be in `assistant` messages",
                                     param=f"{path}.{j}")
            elif text := _block_text(b):
                texts.append(text)
        if calls:
            _unanswered(i - 1, calls)
        out.extend(results)
        if texts or not results:
            out.append(Message("user", "\n".join(texts)))
        calls = {}
    return out


def _unanswered(i: int, calls: dict[str, str]) -> None:
    raise InvalidRequest(
        f"messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately after: "
        f"{', '.join(calls)}. Each `tool_use` block must have a corresponding `tool_result` block in the next "
        "message.",
        param=f"messages.{i}",
    )


def _response_format(config: Any) -> ResponseFormat | None:
    fmt = None if config is UNSET or config is None else _given(config.format)
    return None if fmt is None else ResponseFormat("json_schema", fmt.schema)


def _request(m: wire.MessagesRequest | wire.CountTokensRequest, raw_tools: Any) -> AnthropicRequest:
    if not m.messages:
        raise InvalidRequest("messages: List should have at least 1 item", param="messages")
    messages = []
    if _given(m.system) is not None and (text := _texts(m.system)):
        messages.append(Message("system", text))
    messages += _messages(m.messages)
    tools = _tools(m.tools, raw_tools)
    choice = _given(m.tool_choice)
    req = AnthropicRequest(m.model, messages, tools=tools, tool_choice=_tool_choice(m.tool_choice, tools),
                           parallel_tool_calls=getattr(choice, "disable_parallel_tool_use", None) is not True,
                           response_format=_response_format(m.output_config), media_tokens=_media_tokens(m),
                           cached=_breakpoints(m), cache_prefix=_cache_prefix(m, messages),
                           cache_ttl=3600.0 if '"ttl":"1h"' in _marks(m) else 300.0)
    if isinstance(m, wire.MessagesRequest):
        req.max_tokens = m.max_tokens
        req.temperature, req.top_p, req.top_k = _given(m.temperature), _given(m.top_p), _given(m.top_k)
        req.stop = list(_given(m.stop_sequences) or [])
        # Not an Anthropic field: mockvendor's way to make one request reproducible.
        req.seed = _given(m.seed)
        req.stream = m.stream is True
        req.reasoning = _reasoning(m)
    return req


def _marks(m: wire.MessagesRequest | wire.CountTokensRequest) -> str:
    """The request's ``cache_control`` marks (the request's, a tool's, a system or message block's), as JSON."""
    system = _given(m.system)
    blocks: list[Any] = [m, *(system if isinstance(system, list) else []), *(_given(m.tools) or [])]
    for turn in m.messages:
        if isinstance(turn.content, list):
            blocks += turn.content
    marks = [b.cache_control for b in blocks if getattr(b, "cache_control", None) not in (None, UNSET)]
    return msgspec.json.encode(marks).decode() if marks else ""


def _breakpoints(m: wire.MessagesRequest | wire.CountTokensRequest) -> bool:
    return bool(_marks(m))


def _cache_prefix(m: wire.MessagesRequest | wire.CountTokensRequest, messages: list[Message]) -> list[Message] | None:
    """The neutral turns a block-level breakpoint caches: up to the last marked message (the system
    prompt alone if only it or the tools are marked); None when the request-level ``cache_control``
    (automatic caching) takes the whole prompt."""
    if getattr(m, "cache_control", None) not in (None, UNSET):
        return None
    system = messages[:1] if messages and messages[0].role == "system" else []
    last = -1
    for i, turn in enumerate(m.messages):
        if isinstance(turn.content, list) and any(getattr(b, "cache_control", None) not in (None, UNSET)
                                                  for b in turn.content):
            last = i
    if last < 0:
        return system
    try:
        return system + _messages(m.messages[: last + 1])
    except InvalidRequest:  # a prefix ending between a call and its result: the whole prompt
        return None


class PromptCache:
    """Anthropic's prompt cache as it bills: the prompt prefix up to the last ``cache_control``
    breakpoint is written to the cache the first time (``cache_creation_input_tokens``) and read
    from it while it lives (``cache_read_input_tokens``; 5 minutes, or 1 hour with ``ttl: "1h"``,
    each read renewing it); the rest of the prompt is ``input_tokens``. An exact prefix match, as
    Anthropic's; kept in this process (a bounded number of prefixes)."""

    def __init__(self, limit: int = 10_000) -> None:
        self.limit = limit
        self._until: dict[str, float] = {}

    def hit(self, key: str, ttl: float) -> bool:
        now = time.monotonic()
        alive = self._until.pop(key, 0.0) > now
        self._until[key] = now + ttl  # renewed (and the newest) on every use
        while len(self._until) > self.limit:
            del self._until[next(iter(self._until))]
        return alive

    def usage(self, req: GenerateRequest, u: Any) -> dict[str, int]:
        if not (isinstance(req, AnthropicRequest) and req.cached):
            return {"input_tokens": u.input_tokens, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
        turns = req.messages if req.cache_prefix is None else req.cache_prefix
        prefix = u.input_tokens
        if req.cache_prefix is not None and req.engine is not None:
            prefix = min(prefix, req.engine.prompt_tokens(dataclasses.replace(req, messages=req.cache_prefix,
                                                                          engine_state=None)))
        key = hashlib.sha256(repr((req.model, [(m.role, m.content, m.tool_calls, m.tool_call_id) for m in turns],
                                   [(t.name, t.description, t.parameters) for t in req.tools])).encode()).hexdigest()
        if req.cache_key is None:  # once per request: a stream's end reads what its start decided
            req.cache_key = (key, self.hit(key, req.cache_ttl))
        read = prefix if req.cache_key[1] else 0
        return {"input_tokens": u.input_tokens - prefix, "cache_creation_input_tokens": prefix - read,
                "cache_read_input_tokens": read}


THINKING_DOC = ("Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/"
                "extended-thinking#important-considerations-when-using-extended-thinking")


def _reasoning(m: wire.MessagesRequest) -> Reasoning | None:
    """``thinking`` as the neutral option, checked as Anthropic checks it with the sampling knobs."""
    t = _given(m.thinking)
    if not isinstance(t, wire.ThinkingEnabled | wire.ThinkingAdaptive):
        return None
    if _given(m.temperature) not in (None, 1, 1.0):
        raise InvalidRequest(f"`temperature` may only be set to 1 when thinking is enabled. {THINKING_DOC}",
                             param="temperature")
    if _given(m.top_k) is not None:
        raise InvalidRequest(f"`top_k` must be unset when thinking is enabled. {THINKING_DOC}", param="top_k")
    top_p = _given(m.top_p)
    if top_p is not None and top_p < 0.95:
        raise InvalidRequest(f"`top_p` must be greater than or equal to 0.95 or unset when thinking is enabled. "
                             f"{THINKING_DOC}", param="top_p")
    if isinstance(_given(m.tool_choice), wire.ToolChoiceAny | wire.ToolChoiceTool):
        raise InvalidRequest("Thinking may not be enabled when tool_choice forces tool use.", param="tool_choice")
    shown = _given(t.display) != "omitted"
    if isinstance(t, wire.ThinkingEnabled):
        return Reasoning(budget_tokens=t.budget_tokens, include=shown)
    effort = _given(getattr(_given(m.output_config), "effort", None)) or "high"
    return Reasoning(effort={"xhigh": "high", "max": "high"}.get(effort, effort), include=shown)


def signature(thinking: str) -> str:
    """A thinking block's signature: opaque base64, the same for the same thinking."""
    return base64.b64encode(b"\x12\x01" + hashlib.sha512(b"mockvendor-thinking\0" + thinking.encode()).digest()
                            ).decode()


def _thinking_out(req: GenerateRequest, c: Completion) -> list[wire.ThinkingOut]:
    if req.reasoning is None:
        return []
    shown = c.thinking if req.reasoning.include else ""
    return [wire.ThinkingOut(thinking=shown, signature=signature(c.thinking))]


def _tool_use(call: ToolCall) -> wire.ToolUseOut:
    return wire.ToolUseOut(id=TOOL_ID_PREFIX + call.id, name=call.name, input=call.arguments)


class AnthropicVendor(BaseVendor):
    """Anthropic's Messages API on the configured models."""

    name = "anthropic"
    title = "Anthropic-compatible"
    url_prefixes: ClassVar[tuple[str, ...]] = ("/v1/messages",)
    request_types: ClassVar[tuple[type, type]] = (wire.MessagesRequest, wire.CountTokensRequest)  # (Vertex's own)

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.threads = Threads()
        self.prompt_cache = PromptCache()

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
        m, held = self.threads.resume(decode(self.request_types[1], body, wire.WORDING), body)
        req = _request(m, held.raw_tools if held else body.get("tools"))
        req.count_only = True
        return req

    def render_count(self, req: GenerateRequest, tokens: int) -> Any:
        return wire.CountTokensResponse(tokens)

    def parse(self, body: Any, request: Request) -> GenerateRequest:
        m, held = self.threads.resume(decode(self.request_types[0], body, wire.WORDING), body)
        req = _request(m, held.raw_tools if held else body.get("tools"))
        req.hold = held
        return req

    def _hold(self, req: GenerateRequest, message_id: str, c: Completion) -> None:
        """A thread's turn answered: hold the conversation with this answer (a refusal is not held)."""
        if isinstance(req, AnthropicRequest) and req.hold is not None and c.finish_reason != "refusal":
            reply: list[Any] = [wire.ToolUseBlock(id=TOOL_ID_PREFIX + t.id, name=t.name, input=t.arguments)
                                for t in c.tool_calls] if c.finish_reason == "tool_calls" else [
                wire.TextBlock(text=c.text)]
            self.threads.answered(message_id, req.hold, reply)

    # -- answers --------------------------------------------------------------------
    def render(self, req: GenerateRequest, c: Completion) -> Any:
        message_id = _msg_id()
        self._hold(req, message_id, c)
        return wire.Message(
            id=message_id, model=req.model,
            content=[*_thinking_out(req, c), *([_tool_use(t) for t in c.tool_calls] if c.finish_reason == "tool_calls"
                                               else [wire.TextOut(text=c.text)])],
            stop_reason=STOP_REASON[c.finish_reason],
            stop_sequence=c.stop_sequence if c.finish_reason == "stop_sequence" else None,
            # Anthropic counts tokens read from the cache apart from input_tokens.
            usage=wire.Usage(**self.prompt_cache.usage(req, c.usage), output_tokens=c.usage.output_tokens),
        )

    async def render_stream(
        self, req: GenerateRequest, events: AsyncIterator[Chunk | Completion]
    ) -> AsyncIterator[bytes]:
        engine = req.engine if isinstance(req, AnthropicRequest) else None
        input_tokens = engine.prompt_tokens(req) if engine is not None else 0
        message_id = _msg_id()
        message = wire.Message(id=message_id, model=req.model, content=[], stop_reason=None, stop_sequence=None,
                               usage=wire.Usage(input_tokens=input_tokens, output_tokens=1))
        yield _event(wire.MessageStart(message))
        # Blocks open as their first chunk arrives: a text block, or one tool_use block per call.
        # The first one opened is followed by a ping, as Anthropic's streams have it.
        index, block = -1, None  # the open block: "text" or the call's tool_index

        def open_block(kind: Any, content_block: wire.TextOut | wire.ToolUseStart | wire.ThinkingOut) -> list[bytes]:
            nonlocal index, block
            out = [] if block is None else [_event(wire.ContentBlockStop(index=index))]
            index, block = index + 1, kind
            out.append(_event(wire.ContentBlockStart(index=index, content_block=content_block)))
            if index == 0:
                out.append(_event(wire.Ping()))
            return out

        thought: list[str] = []  # the thinking so far, for its signature
        signed = False

        def close_thinking() -> list[bytes]:
            """The thinking block ends with its signature (then the next block opens)."""
            nonlocal signed
            if block != "thinking" or signed:
                return []
            signed = True
            sig = signature("".join(thought).strip())
            return [_event(wire.ContentBlockDelta(index=index, delta=wire.SignatureDelta(sig)))]

        if req.reasoning is not None:  # thinking comes first: its block opens at once
            for data in open_block("thinking", wire.ThinkingOut(thinking="", signature="")):
                yield data
        elif not req.tools:  # no call can come: the text block opens at once, before the first token's wait
            for data in open_block("text", wire.TextOut(text="")):
                yield data
        async for ev in events:
            if not isinstance(ev, Completion) and ev.thinking:
                thought.append(ev.text)
                if req.reasoning is not None and req.reasoning.include and ev.text:
                    yield _event(wire.ContentBlockDelta(index=index, delta=wire.ThinkingDelta(ev.text)))
                continue
            for data in close_thinking():
                yield data
            if isinstance(ev, Completion):
                if block is None or block == "thinking":
                    for data in open_block("text", wire.TextOut(text="")):
                        yield data
                yield _event(wire.ContentBlockStop(index=index))
                self._hold(req, message_id, ev)
                stop_seq = ev.stop_sequence if ev.finish_reason == "stop_sequence" else None
                yield _event(wire.MessageDelta(
                    delta=wire.MessageDeltaBody(stop_reason=STOP_REASON[ev.finish_reason], stop_sequence=stop_seq),
                    # Cumulative, as Anthropic's are: the input's split is known once the prompt is read.
                    usage=wire.DeltaUsage(output_tokens=ev.usage.output_tokens,
                                          **self.prompt_cache.usage(req, ev.usage)),
                ))
                yield _event(wire.MessageStop())
            elif ev.tool_call is not None:
                if block != ev.tool_index:
                    call = ev.tool_call
                    start = wire.ToolUseStart(id=TOOL_ID_PREFIX + call.id, name=call.name)
                    for data in open_block(ev.tool_index, start):
                        yield data
                if ev.text:
                    yield _event(wire.ContentBlockDelta(index=index, delta=wire.InputJSONDelta(ev.text)))
            elif ev.text:
                if block != "text":
                    for data in open_block("text", wire.TextOut(text="")):
                        yield data
                yield _event(wire.ContentBlockDelta(index=index, delta=wire.TextDelta(ev.text)))

    # -- errors ---------------------------------------------------------------------
    def error_body(self, err: MockVendorError) -> Any:
        rid = _REQUEST_ID.get()
        details = {"error_code": err.kind} if err.kind in THREAD_CODES else UNSET
        return wire.ErrorBody(error=wire.ErrorDetail(type=error_type(err), message=err.message, details=details),
                              request_id=UNSET if rid is None else rid)

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
        return _event(wire.StreamError(error=wire.ErrorDetail(type=error_type(err), message=err.message)))

    def openapi(self) -> dict[str, Any]:
        return docs.anthropic_paths(self)


def _event(ev: wire.StreamEvent) -> bytes:
    """One stream event, named by its type as the SDK needs."""
    return sse(ev, type(ev).__struct_config__.tag)


def _msg_id() -> str:
    return "msg_" + random_hex(12)


def with_request_id(handler: Handler) -> Handler:
    """Send the request's id as Anthropic does: a ``request-id`` header, and in error bodies."""

    @functools.wraps(handler)  # keeps the handler's marks (``direct``)
    async def handle(request: Request) -> Response:
        rid = record_of(request).id
        token = _REQUEST_ID.set(rid)
        try:
            resp = await handler(request)
        finally:
            _REQUEST_ID.reset(token)
        set_header(resp, "request-id", rid)
        return resp

    return handle


VENDOR = AnthropicVendor
