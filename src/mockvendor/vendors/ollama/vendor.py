"""Ollama's native API: ``POST /api/chat``, ``/api/generate``, ``/api/embed`` (and the legacy
``/api/embeddings``) with Ollama's JSON, NDJSON streams (the default; ``"stream": false`` for
one object), ``{"error": "..."}`` errors, and the model routes in :mod:`.models`.

Options (``temperature``, ``top_p``, ``top_k``, ``seed``, ``num_predict``, ``stop``) become the
neutral request's; ``tools`` are OpenAI-shaped function tools, and a call comes back as
``message.tool_calls`` with ``arguments`` an object (streamed as one line once the call is
whole, as Ollama sends it); ``format`` (``"json"`` or a JSON Schema) is structured output,
decoded under a grammar. Ollama has no keys: a configured key is taken as a Bearer token.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from msgspec import UNSET, UnsetType
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from ...errors import AuthenticationFailed, InvalidRequest, MockVendorError, ModelNotFound
from ...http import bearer, dumps
from ...pipeline import endpoint
from ...types import Chunk, Completion, GenerateRequest, Message, Reasoning, ResponseFormat, Tool, ToolCall
from ...wire import decode
from ..base import BaseVendor
from . import models, wire
from . import openapi as docs

if TYPE_CHECKING:
    from ...context import AppContext
    from ...engines import Engine
    from ...faults.ratelimit import RateLimitState
    from ...settings import Settings

Handler = Callable[[Request], Awaitable[Response]]

NDJSON = "application/x-ndjson"
# Ollama says "stop" for every natural end (a tool call too) and "length" at num_predict.
DONE_REASON = {"length": "length"}


@dataclass(slots=True)
class OllamaRequest(GenerateRequest):
    """A request to one of Ollama's routes: ``route`` says which answer to render."""

    route: str = "chat"  # chat | generate | embed | embeddings
    dimensions: int | None = None
    started: float = 0.0  # perf_counter when parsed: the embed answer's total_duration


def _given(v: Any) -> Any:
    """A declared optional field's value, None when left out (or sent as null)."""
    return None if v is UNSET else v


def _now() -> str:
    """Ollama's ``created_at``: RFC 3339 in UTC with sub-second digits."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


# -- the declared request -> neutral request ---------------------------------------------------
def _model(name: str) -> str:
    if not name.strip():
        raise InvalidRequest("model is required", param="model")
    return name


def _format(fmt: Any) -> ResponseFormat | None:
    """``format``: "json" (any JSON object) or a JSON Schema; "" or null: free text."""
    if fmt is None or fmt == "":
        return None
    if fmt == "json":
        return ResponseFormat("json_object")
    if isinstance(fmt, dict):
        return ResponseFormat("json_schema", fmt)
    raise InvalidRequest(f'invalid format: {fmt!r}: expected "json" or a JSON schema', param="format")


def _options(req: GenerateRequest, opts: wire.Options | None) -> None:
    if opts is None:
        return
    req.temperature, req.top_p, req.top_k = _given(opts.temperature), _given(opts.top_p), _given(opts.top_k)
    req.seed = _given(opts.seed)
    n = _given(opts.num_predict)
    req.max_tokens = n if n is not None and n > 0 else None  # -1 (infinite), -2 (fill context): the default
    req.stop = list(_given(opts.stop) or [])


def _tools(decl: Any) -> list[Tool]:
    tools = [Tool(t.function.name, _given(t.function.description) or "",
                  _given(t.function.parameters) or {"type": "object", "properties": {}}) for t in decl or []]
    if len({t.name for t in tools}) < len(tools):
        raise InvalidRequest("tools: function names must be unique", param="tools")
    return tools


def _text(m: wire.Message) -> str:
    text = _given(m.content) or ""
    images = len(_given(m.images) or [])
    return "\n".join([text, *["[image]"] * images]) if images else text


def _messages(turns: list[wire.Message]) -> list[Message]:
    """The conversation as neutral turns. Ollama's calls carry no ids: each gets one here, and a
    ``tool`` turn answers the earliest open call of its ``tool_name`` (or the earliest open one)."""
    out: list[Message] = []
    open_calls: list[ToolCall] = []
    for i, m in enumerate(turns):
        if m.role == "assistant" and m.tool_calls:
            calls = [ToolCall(_given(c.id) or f"call_{i}_{j}", c.function.name, c.function.arguments)
                     for j, c in enumerate(m.tool_calls)]
            out.append(Message("assistant", _text(m), tool_calls=calls))
            open_calls = list(calls)
        elif m.role == "tool":
            name = _given(m.tool_name)
            call = next((c for c in open_calls if c.name == name), open_calls[0] if open_calls else None)
            if call is not None:
                open_calls.remove(call)
            out.append(Message("tool", _text(m), tool_call_id=call.id if call else f"call_{i}",
                               name=name or (call.name if call else None)))
        else:
            out.append(Message(m.role, _text(m)))
    return out


def parse_chat(body: Any, request: Request) -> OllamaRequest:
    m = decode(wire.ChatRequest, body, wire.CHAT_WORDING)
    tools = _tools(_given(m.tools))
    req = OllamaRequest(_model(m.model), _messages(_given(m.messages) or []), tools=tools,
                        response_format=_format(_given(m.format)), stream=m.stream is not False, route="chat",
                        reasoning=_think(_given(m.think)))
    _options(req, _given(m.options))
    return req


def _think(think: bool | str | None) -> Reasoning | None:
    """``think``: true (or an effort) has the model think first, its text shown in ``thinking``."""
    if think is None or think is False:
        return None
    return Reasoning(effort=think if isinstance(think, str) else "medium", include=True)


def parse_generate(body: Any, request: Request) -> OllamaRequest:
    m = decode(wire.GenerateRequest, body, wire.GENERATE_WORDING)
    prompt = _given(m.prompt) or ""
    req = OllamaRequest(_model(m.model), response_format=_format(_given(m.format)), stream=m.stream is not False,
                        route="generate", reasoning=_think(_given(m.think)))
    if m.raw is True:  # no template: the text as it is
        req.prompt = prompt
    else:
        system = _given(m.system)
        req.messages = [*([Message("system", system)] if system else []), Message("user", prompt)]
    _options(req, _given(m.options))
    return req


def parse_embed(body: Any, request: Request) -> OllamaRequest:
    m = decode(wire.EmbedRequest, body, wire.EMBED_WORDING)
    texts = [m.input] if isinstance(m.input, str) else list(m.input)
    if not texts:
        raise InvalidRequest("input is required", param="input")
    return OllamaRequest(_model(m.model), embed_input=texts, route="embed", dimensions=_given(m.dimensions),
                         started=time.perf_counter())


def parse_embeddings(body: Any, request: Request) -> OllamaRequest:
    m = decode(wire.EmbeddingsRequest, body, wire.EMBEDDINGS_WORDING)
    return OllamaRequest(_model(m.model), embed_input=[m.prompt], route="embeddings", started=time.perf_counter())


# -- answers ---------------------------------------------------------------------------------
def _timings(c: Completion, prompt_ns: int | None = None) -> dict[str, int]:
    """The last line's figures, in nanoseconds. Without a measured time to the first token,
    the total is split between prompt and answer by their token counts."""
    total = max(1, int(c.latency_ms * 1_000_000))
    tokens_in, tokens_out = c.usage.input_tokens, c.usage.output_tokens
    if prompt_ns is None:
        prompt_ns = total * tokens_in // max(1, tokens_in + tokens_out)
    prompt_ns = min(prompt_ns, total)
    return {"total_duration": total, "load_duration": 0, "prompt_eval_count": tokens_in,
            "prompt_eval_duration": prompt_ns, "eval_count": tokens_out, "eval_duration": total - prompt_ns}


def _calls(c: Completion) -> tuple[list[wire.ToolCall], str]:
    """The answer's calls on Ollama's wire, and text for calls whose arguments are no JSON
    object (a content fault's broken JSON): Ollama then hands the model's words back as content."""
    if c.finish_reason != "tool_calls":
        return [], ""
    calls, broken = [], []
    for i, t in enumerate(c.tool_calls):
        if t.raw is not None:
            broken.append(t.raw)
        else:
            calls.append(wire.ToolCall(function=wire.CallFunction(name=t.name, arguments=t.arguments, index=i)))
    return calls, "\n".join(broken)


def _reason(c: Completion) -> Any:
    return DONE_REASON.get(c.finish_reason, "stop")


class OllamaVendor(BaseVendor):
    """Ollama's native API on the configured models."""

    name = "ollama"
    title = "Ollama-compatible"
    url_prefixes: ClassVar[tuple[str, ...]] = ("/api/",)

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def routes(self, ctx: AppContext) -> list[BaseRoute]:
        def gen(parse: Any) -> Handler:
            return ndjson(endpoint(ctx, self, parse=parse))

        return [
            Route("/api/chat", gen(parse_chat), methods=["POST"], name="ollama-chat"),
            Route("/api/generate", gen(parse_generate), methods=["POST"], name="ollama-generate"),
            Route("/api/embed", gen(parse_embed), methods=["POST"], name="ollama-embed"),
            Route("/api/embeddings", gen(parse_embeddings), methods=["POST"], name="ollama-embeddings"),
            *models.routes(ctx, self),
        ]

    def parse(self, body: Any, request: Request) -> GenerateRequest:
        return parse_chat(body, request)

    def api_key(self, request: Request) -> str | None:
        return bearer(request)

    def auth_error(self, key: str | None) -> MockVendorError:
        return AuthenticationFailed("unauthorized")

    def resolve(self, ctx: AppContext, req: GenerateRequest) -> Engine:
        try:
            engine = models.resolve(ctx, req.model)
        except ModelNotFound:
            raise ModelNotFound(f'model "{req.model}" not found, try pulling it first', param="model") from None
        # Ollama takes any num_predict: an answer ends at the context's end at the latest.
        window = int(getattr(engine, "context_window", 0) or 0)
        if req.max_tokens is not None and window and req.max_tokens > window:
            req.max_tokens = window
        return engine

    def ratelimit_headers(self, state: RateLimitState) -> dict[str, str]:
        return {}  # Ollama sends none

    # -- answers --------------------------------------------------------------------
    def render(self, req: GenerateRequest, c: Completion) -> Any:
        reason, figures = _reason(c), _timings(c)
        thinking = c.thinking if req.reasoning is not None else UNSET
        if isinstance(req, OllamaRequest) and req.route == "generate":
            return wire.GenerateResponse(model=req.model, created_at=_now(), response=c.text, thinking=thinking,
                                         done=True, done_reason=reason, **figures)
        calls, broken = _calls(c)
        message = wire.OutMessage(content=c.text or broken, thinking=thinking, tool_calls=calls or UNSET)
        return wire.ChatResponse(model=req.model, created_at=_now(), message=message, done=True,
                                 done_reason=reason, **figures)

    async def render_stream(
        self, req: GenerateRequest, events: AsyncIterator[Chunk | Completion]
    ) -> AsyncIterator[bytes]:
        generate = isinstance(req, OllamaRequest) and req.route == "generate"

        def line(text: str = "", *, calls: list[wire.ToolCall] | None = None, end: Completion | None = None,
                 prompt_ns: int | None = None, thought: str | UnsetType = UNSET) -> bytes:
            extra: dict[str, Any] = {} if end is None else {"done_reason": _reason(end), **_timings(end, prompt_ns)}
            if generate:
                body: Any = wire.GenerateResponse(model=req.model, created_at=_now(), response=text, thinking=thought,
                                                  done=end is not None, **extra)
            else:
                msg = wire.OutMessage(content=text, thinking=thought, tool_calls=calls or UNSET)
                body = wire.ChatResponse(model=req.model, created_at=_now(), message=msg, done=end is not None,
                                         **extra)
            return dumps(body) + b"\n"

        first = None  # when the first piece of text came: the answer's time runs from there
        async for ev in events:
            if isinstance(ev, Completion):
                calls, broken = _calls(ev)
                if calls or broken:
                    yield line(broken, calls=calls)
                total = int(ev.latency_ms * 1_000_000)
                prompt_ns = None if first is None else max(0, total - int((time.perf_counter() - first) * 1e9))
                yield line(end=ev, prompt_ns=prompt_ns)
            elif ev.thinking:  # the thinking passage, piece by piece, before the answer
                if ev.text:
                    yield line(thought=ev.text)
            elif ev.tool_call is None and ev.text:
                first = first or time.perf_counter()
                yield line(ev.text)

    def render_embeddings(self, req: GenerateRequest, vectors: list[list[float]], tokens: int) -> Any:
        dims = req.dimensions if isinstance(req, OllamaRequest) else None
        if dims is not None:
            if dims > len(vectors[0]):
                raise InvalidRequest(f"dimensions {dims} is larger than the model's {len(vectors[0])}",
                                     param="dimensions")
            vectors = [_unit(v[:dims]) for v in vectors]
        if isinstance(req, OllamaRequest) and req.route == "embeddings":
            return wire.EmbeddingsResponse(embedding=vectors[0])
        started = req.started if isinstance(req, OllamaRequest) else time.perf_counter()
        total = max(1, int((time.perf_counter() - started) * 1e9))
        return wire.EmbedResponse(model=req.model, embeddings=vectors, total_duration=total, load_duration=0,
                                  prompt_eval_count=tokens)

    # -- errors ---------------------------------------------------------------------
    def error_body(self, err: MockVendorError) -> Any:
        return wire.ErrorBody(error=err.message)

    def stream_error(self, err: MockVendorError) -> bytes | None:
        return dumps(wire.ErrorBody(error=err.message)) + b"\n"

    def openapi(self) -> dict[str, Any]:
        return docs.ollama_paths(self)


def _unit(v: list[float]) -> list[float]:
    """A cut vector scaled back to unit length, as Ollama normalises what it truncates."""
    norm = math.sqrt(sum(x * x for x in v)) or 1.0
    return [x / norm for x in v]


def ndjson(handler: Handler) -> Handler:
    """Ollama streams newline-delimited JSON: a streamed answer goes out as ``application/x-ndjson``
    (errors before the stream stay ``application/json``)."""

    @functools.wraps(handler)  # keeps the handler's marks (``direct``)
    async def handle(request: Request) -> Response:
        resp = await handler(request)
        if isinstance(resp, StreamingResponse) and (resp.media_type or "").startswith("text/event-stream"):
            resp.media_type = NDJSON
            resp.headers["content-type"] = NDJSON
        return resp

    return handle


VENDOR = OllamaVendor
