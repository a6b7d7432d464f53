"""The one request path every generation route runs:

    read body -> vendor.parse -> model/engine -> fault policy -> engine -> vendor.render

Each step raises :class:`~mockvendor.errors.MockVendorError`; the vendor that owns the
route renders it. The request's Record is filled in as the steps learn things, and the
front (mockvendor.front) logs it on the way out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from types import CoroutineType
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from . import engines, tools
from .engines.several import Several
from .engines.thinking import Thinking
from .errors import InvalidRequest, MockVendorError, ModelNotFound
from .faults.content import misbehave
from .faults.headers import DELAY_HEADER
from .faults.plan import Plan
from .faults.policy import TEST_ID_HEADER
from .faults.spec import CONTENT_KINDS
from .http import DIRECT, DUE, JSON_BODY, DictHeaders, JSONResponse, fingerprint, plain, read_json
from .serving import ClientGone, spent_since_arrival, unless_gone
from .tracking.record import Record, ms3
from .types import Chunk, Completion, GenerateRequest

if TYPE_CHECKING:
    from .context import AppContext
    from .rules import Hit
    from .vendors.base import BaseVendor

Handler = Callable[[Request], Awaitable[Response]]

# nginx's code for "the client closed the request": what the log records for a
# request whose client left before its answer began.
CLIENT_GONE = 499

SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


async def _read_first(held: str) -> None:
    """A request held by ``x-mockvendor-delay-ms`` does its work half-way through its delay
    (at most a quarter of a second in), not on arrival: when many come at once (a burst of
    held requests, bench/held_requests.py) the event loop reads them all before working on
    any, so none waits behind the others' work to be read, and the delay, which counts from
    arrival, hides that work. A value the fault lab refuses is left to it (a 400 at once)."""
    if held.isdigit() and len(held) < 7:
        await asyncio.sleep(min(int(held) / 2000, 0.25))


def record_of(request: Request) -> Record:
    """The Record mockvendor.front put on this request (a fresh one if none)."""
    state = request.scope.setdefault("state", {})
    rec = state.get("record")
    if rec is None:
        rec = state["record"] = Record(method=request.method, route=request.url.path)
    return rec


def authenticate(ctx: AppContext, vendor: BaseVendor, request: Request, rec: Record) -> None:
    """Check the caller's key when keys are configured; remember only its fingerprint."""
    key = vendor.api_key(request)
    if key:
        rec.key_fingerprint = fingerprint(key)
    allowed = ctx.settings.api_keys
    if allowed and key not in allowed:
        raise vendor.auth_error(key)


def endpoint(ctx: AppContext, vendor: BaseVendor, parse: Any = None) -> Handler:
    """A Starlette handler running the request path for ``vendor``."""
    parse_fn = parse or vendor.parse
    limit = ctx.settings.max_body_bytes
    allow_held = ctx.settings.allow_fault_headers

    async def handle(request: Request) -> Response:
        rec = record_of(request)
        rec.vendor = vendor.name
        headers = request.headers
        names = headers.by_name() if type(headers) is DictHeaders else headers  # lower-case names, looked up as is
        rec.test_id = names.get(TEST_ID_HEADER)
        if allow_held:
            held = names.get(DELAY_HEADER)
            if held is not None and ctx.sleep is asyncio.sleep:
                await _read_first(held)
        retry = names.get("x-stainless-retry-count")
        if retry is not None and retry.isdigit():
            rec.retry_count = int(retry)
        try:
            authenticate(ctx, vendor, request, rec)
            body = await read_json(request, limit, timeout=ctx.settings.body_timeout_s)
            if ctx.settings.capture_bodies:
                rec.request_body = body
            req = parse_fn(body, request)
            if not isinstance(req, GenerateRequest):  # a parse that reads stored state is awaited
                req = await req
            require_text(req)  # no text, or NUL characters: a 400 on every vendor
            rec.model, rec.stream = req.model, req.stream
            request.scope["state"][JSON_BODY] = body  # what a cassette passes on when it records
            return await run(ctx, vendor, request, req, rec)
        except MockVendorError as err:
            rec.error = err.message
            if err.fault:
                rec.fault = err.fault
            err.headers = {**ctx.faults.answer_headers(request), **err.headers}  # rate-limit headers
            return vendor.error_response(err)

    handle.direct = True  # type: ignore[attr-defined]  # mockvendor.front may call it without Starlette's stack
    return handle


async def run(
    ctx: AppContext, vendor: BaseVendor, request: Request, req: GenerateRequest, rec: Record
) -> Response:
    """Engine, fault, generation and rendering for a parsed request."""
    if req.embed_input is not None:
        return await _embed(ctx, vendor, request, req, rec)
    # A rule (or a cassette) may answer: the same way in every wire format (mockvendor.rules).
    hit = ctx.rules.pick(vendor.name, request, req, rec)
    if hit is not None:
        rec.rule = hit.name
        if hit.record is not None:  # recording: the vendor itself answers, before any fault of ours
            return await ctx.rules.record(hit, request, rec.time)
    # A tool call is decided here, from the request alone; tool turns become plain turns.
    base = _resolve(ctx, vendor, req, hit)
    engine = tools.prepare(base, req)
    if req.reasoning is not None and hit is None:
        engine = Thinking(base, engine)  # a thinking passage from the model, then the answer
    if hit is not None:
        engine = hit.engine(engine, ctx.sleep)
    if req.n > 1:
        engine = Several(engine, req.n)  # several choices, side by side
    rec.tokens_in = engine.prompt_tokens(req) + req.media_tokens
    # The fault lab decides; a simulated error is raised here with its headers.
    plan = await ctx.faults.plan(vendor, request, req, rec, hit.fault if hit is not None else None)
    if plan.fault is not None and plan.fault.kind in CONTENT_KINDS:
        engine = misbehave(engine, plan.fault.kind)  # the model misbehaves: a refusal, broken JSON...
    complete = getattr(engine, "complete", None)
    if complete is not None and not req.stream and not req.count_only and (hit is None or hit.raw is None):
        # An instant engine (echo): the answer is made before the plan's delay, so a held
        # request has only its sending left when the delay ends (2,000 held requests come
        # due together: bench/held_requests.py).
        t0 = time.perf_counter()
        response = plan.response(await _rendered(ctx, vendor, req, rec, complete(req), t0), ctx.sleep)
        left = plan.left_s(spent_since_arrival(request.scope, ctx.sleep))
        state = request.scope["state"]
        if left > 0 and state.get(DIRECT) and ctx.sleep is asyncio.sleep and type(response) is JSONResponse:
            # mockvendor.front holds it: the request's record and telemetry are made while
            # it waits, and only the sending is left when it comes due.
            state[DUE] = time.perf_counter() + left
            return response
        if left > 0:
            await ctx.sleep(left)
        return response
    await plan.wait(ctx.sleep, spent_since_arrival(request.scope, ctx.sleep))
    if hit is not None and hit.raw is not None:  # a recorded answer, byte for byte
        return ctx.rules.replay(hit, ctx.sleep)
    if req.count_only:  # a token count: the model's own tokenizer, no generation
        return plan.response(vendor.render_count(req, rec.tokens_in), ctx.sleep)
    t0 = time.perf_counter()
    if req.stream:
        ctx.streams.enter(request.scope)  # a 429 past MOCKVENDOR_MAX_STREAMS
        # The first event is awaited before any byte is sent, so what goes wrong before
        # it (a full queue, an upstream's 429) is a plain HTTP error in the vendor's
        # shape, as the real vendors answer it, not a 200 with an error event inside.
        source = engine.stream(req)
        try:
            first = await unless_gone(request.receive, anext(source))
        except ClientGone:
            await source.aclose()  # type: ignore[attr-defined]
            return _client_gone(rec)
        events = _prepend(first, source)
        return plan.streaming_response(_stream(ctx, vendor, events, req, rec, plan, t0), SSE_HEADERS)
    try:
        completion = await unless_gone(request.receive, engines.generate(engine, req))
    except ClientGone:
        return _client_gone(rec)
    return plan.response(await _rendered(ctx, vendor, req, rec, completion, t0), ctx.sleep)


async def _rendered(ctx: AppContext, vendor: BaseVendor, req: GenerateRequest, rec: Record, completion: Completion,
                    t0: float) -> Any:
    """The vendor's answer for a whole completion, its figures in the record."""
    completion.latency_ms = ms3(time.perf_counter() - t0)
    completion.usage.input_tokens += req.media_tokens
    rec.tokens_in = completion.usage.input_tokens
    rec.tokens_out = completion.usage.output_tokens
    out = vendor.render(req, completion)
    if isinstance(out, CoroutineType):  # a render that stores the answer (the Responses API's `store`)
        out = await out
    if ctx.settings.capture_bodies:
        rec.response_body = plain(out)
    return out


def _resolve(ctx: AppContext, vendor: BaseVendor, req: GenerateRequest, hit: Hit | None) -> Any:
    """The request's engine; a model name only a rule knows is counted with the catalog model's."""
    try:
        return vendor.resolve(ctx, req)
    except ModelNotFound:
        if hit is None or hit.rule is None or not (hit.rule.answer.fixed or hit.raw is not None):
            raise
        return ctx.models.resolve(ctx.settings.catalog_model)


async def _embed(ctx: AppContext, vendor: BaseVendor, request: Request, req: GenerateRequest, rec: Record
                 ) -> Response:
    """The same path for embeddings: engine, fault, the engine's vectors, the vendor's shape."""
    engine = vendor.resolve(ctx, req)
    if not hasattr(engine, "embed"):
        raise InvalidRequest(f"The model `{req.model}` does not support embeddings (engine {engine.name}).",
                             param="model")
    assert req.embed_input is not None
    rec.tokens_in = engine.embedding_tokens(req.embed_input)  # a text beyond the window: a 400 here
    plan = await ctx.faults.plan(vendor, request, req, rec)
    await plan.wait(ctx.sleep)
    try:
        vectors = await unless_gone(request.receive, engine.embed(req.embed_input))
    except ClientGone:
        return _client_gone(rec)
    return plan.response(vendor.render_embeddings(req, vectors, rec.tokens_in), ctx.sleep)


def _client_gone(rec: Record) -> Response:
    """A request whose client left before its answer began (nobody reads this answer)."""
    rec.error = "The client disconnected before the answer began."
    return Response(status_code=CLIENT_GONE)


async def _prepend(first: Chunk | Completion, rest: AsyncIterator[Chunk | Completion]
                   ) -> AsyncIterator[Chunk | Completion]:
    try:
        yield first
        if not isinstance(first, Completion):
            async for item in rest:
                yield item
    finally:
        await rest.aclose()  # type: ignore[attr-defined]


async def _stream(
    ctx: AppContext, vendor: BaseVendor, events: AsyncIterator[Chunk | Completion], req: GenerateRequest,
    rec: Record, plan: Plan, t0: float,
) -> AsyncIterator[bytes]:
    source = plan.events(events, ctx.sleep)  # paced, and with the plan's stream fault

    async def tracked() -> AsyncIterator[Chunk | Completion]:
        async for item in source:
            if isinstance(item, Completion):
                item.latency_ms = ms3(time.perf_counter() - t0)
                item.usage.input_tokens += req.media_tokens
                rec.tokens_in = item.usage.input_tokens
                rec.tokens_out = item.usage.output_tokens
                if ctx.settings.capture_bodies:
                    rec.response_body = {"text": item.text, "finish_reason": item.finish_reason}
                    if item.tool_calls:
                        rec.response_body["tool_calls"] = [
                            {"id": c.id, "name": c.name, "arguments": c.arguments} for c in item.tool_calls]
            elif rec.ttft_ms is None:
                rec.ttft_ms = ms3(time.perf_counter() - t0)
            yield item

    try:
        async for data in vendor.render_stream(req, tracked()):
            yield data
    except MockVendorError as err:
        rec.error = err.message
        if err.fault:
            rec.fault = err.fault
        event = vendor.stream_error(err)
        if event is not None:
            yield event
    finally:
        await source.aclose()  # type: ignore[attr-defined]


def require_text(req: GenerateRequest) -> None:
    """Every vendor, after parsing: a prompt without any text, or with NUL characters
    (which tokenizers and logs mishandle), is a 400 naming the problem."""
    if req.embed_input is not None:
        texts = req.embed_input
    else:
        texts = [req.prompt] if req.prompt is not None else [m.content for m in req.messages]
    empty = True
    for t in texts:
        if "\x00" in t:
            raise InvalidRequest("The prompt must not contain NUL characters (\\u0000).")
        if empty and not t.isspace() and t:
            empty = False
    if empty:
        raise InvalidRequest("The prompt is empty: the request holds no text to answer.")
