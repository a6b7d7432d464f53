"""OpenAI-compatible API: chat completions, legacy completions, Responses, embeddings and the
model list, in OpenAI's own JSON, data-only SSE framing, headers and error shapes
(shared/design/wire-formats.md, "OpenAI"). Each endpoint's parsing and rendering lives in its
own module; the bodies are declared in ``wire.py``."""

from __future__ import annotations

import functools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ...errors import InvalidRequest, MockVendorError
from ...http import JSONResponse, set_header, sse
from ...pipeline import authenticate, endpoint, record_of
from ...types import Chunk, Completion, GenerateRequest
from .. import model_list, model_list_openapi
from ..base import BaseVendor
from . import chat, completions, embeddings, responses, wire
from . import openapi as docs
from .common import error_type_code
from .stored import StoredResponses

if TYPE_CHECKING:
    from ...context import AppContext
    from ...engines import Engine
    from ...settings import Settings

Handler = Callable[[Request], Awaitable[Response]]
OpenAIRequest = chat.OpenAIRequest


def go_duration(ms: int) -> str:
    """A delay the way OpenAI's ``x-ratelimit-reset-*`` headers write it: ``12ms``, ``1.5s``, ``6m0s``."""
    if ms < 1000:
        return f"{ms}ms"
    minutes, rest = divmod(ms, 60_000)
    seconds = f"{rest / 1000:g}s"
    return f"{minutes}m{seconds}" if minutes else seconds


class OpenAIVendor(BaseVendor):
    """OpenAI's ``/v1`` API on the configured models."""

    name = "openai"
    title = "OpenAI-compatible"
    url_prefixes: ClassVar[tuple[str, ...]] = ("/v1/",)

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def routes(self, ctx: AppContext) -> list[BaseRoute]:
        models = model_list.shared(ctx, self.models_handler(ctx))
        stored = StoredResponses(ctx.faults.store, ctx.settings.stored_responses_ttl_s)
        return [
            Route("/v1/chat/completions", timed(endpoint(ctx, self)), methods=["POST"], name="openai-chat"),
            Route(
                "/v1/completions",
                timed(endpoint(ctx, self, parse=lambda body, request: completions.parse(body))),
                methods=["POST"],
                name="openai-completions",
            ),
            Route(
                "/v1/responses",
                timed(endpoint(ctx, self, parse=lambda body, request: responses.parse_stored(body, stored))),
                methods=["POST"],
                name="openai-responses",
            ),
            Route(
                "/v1/responses/input_tokens",
                timed(endpoint(ctx, self, parse=lambda body, _: responses.parse_stored(body, stored, count=True))),
                methods=["POST"],
                name="openai-responses-input-tokens",
            ),
            Route("/v1/responses/{response_id}", timed(self._stored(ctx, stored, "read")), methods=["GET"],
                  name="openai-response"),
            Route("/v1/responses/{response_id}", timed(self._stored(ctx, stored, "delete")), methods=["DELETE"],
                  name="openai-response-delete"),
            Route("/v1/responses/{response_id}/input_items", timed(self._stored(ctx, stored, "items")),
                  methods=["GET"], name="openai-response-input-items"),
            Route(
                "/v1/embeddings",
                timed(endpoint(ctx, self, parse=lambda body, request: embeddings.parse(body))),
                methods=["POST"],
                name="openai-embeddings",
            ),
            # Every vendor's SDK lists models here: the one that claims the request answers.
            Route("/v1/models", models, methods=["GET"], name="openai-models"),
            Route("/v1/models/{model_id:path}", models, methods=["GET"], name="openai-model"),
        ]

    def _stored(self, ctx: AppContext, stored: StoredResponses, action: str) -> Handler:
        """A handler for a stored response: ``read`` it, list its input ``items``, or ``delete`` it."""

        async def handle(request: Request) -> Response:
            rec = record_of(request)
            rec.vendor = self.name
            try:
                authenticate(ctx, self, request, rec)
                rid = request.path_params["response_id"]
                if action == "delete":
                    await stored.delete(rid)
                    return JSONResponse(wire.Deleted(id=rid))
                if action == "items":
                    return JSONResponse(_page(await stored.input_items(rid), request))
                return Response(await stored.response(rid), media_type="application/json")
            except MockVendorError as err:
                rec.error = err.message
                return self.error_response(err)

        return handle

    # -- requests -------------------------------------------------------------------
    def parse(self, body: Any, request: Request) -> GenerateRequest:
        return chat.parse(body)

    def resolve(self, ctx: AppContext, req: GenerateRequest) -> Engine:
        engine = super().resolve(ctx, req)
        card = ctx.models.card(req.model)
        if req.reasoning is not None and card is not None and not card.reasoning:  # as OpenAI refuses it
            field = "reasoning.effort" if isinstance(req, responses.ResponsesRequest) else "reasoning_effort"
            err = InvalidRequest(f"Unsupported parameter: '{field}' is not supported with this model.", param=field)
            err.kind = "unsupported_parameter"
            raise err
        return engine

    # -- answers --------------------------------------------------------------------
    def render_embeddings(self, req: GenerateRequest, vectors: list[list[float]], tokens: int) -> Any:
        assert isinstance(req, embeddings.EmbeddingRequest)
        return embeddings.render(req, vectors, tokens)

    def render_count(self, req: GenerateRequest, tokens: int) -> Any:
        return wire.InputTokens(input_tokens=tokens)

    def render(self, req: GenerateRequest, c: Completion) -> Any:
        if isinstance(req, responses.ResponsesRequest):
            return responses.render(req, c)
        if isinstance(req, OpenAIRequest) and not req.chat:
            return completions.render(req, c)
        return chat.render(req, c)

    def render_stream(self, req: GenerateRequest, events: AsyncIterator[Chunk | Completion]) -> AsyncIterator[bytes]:
        if isinstance(req, responses.ResponsesRequest):
            return responses.render_stream(req, events)
        if isinstance(req, OpenAIRequest) and not req.chat:
            return completions.render_stream(req, events)
        return chat.render_stream(req, events)

    # -- errors and auth ------------------------------------------------------------
    def error_body(self, err: MockVendorError) -> Any:
        kind, code = error_type_code(err)
        return {"error": {"message": err.message, "type": kind, "param": err.param, "code": code}}

    def error_headers(self, err: MockVendorError) -> dict[str, str]:
        h = err.response_headers()
        # Stand-in numbers only when the fault lab's rate limits are off (they bring real ones).
        if err.status == 429 and err.kind != "insufficient_quota" and not any(k.startswith("x-ratelimit-") for k in h):
            reset = go_duration(err.retry_after_ms if err.retry_after_ms is not None else 1000)
            h.update({
                "x-ratelimit-limit-requests": "60",
                "x-ratelimit-remaining-requests": "0",
                "x-ratelimit-reset-requests": reset,
                "x-ratelimit-limit-tokens": "150000",
                "x-ratelimit-remaining-tokens": "150000",
                "x-ratelimit-reset-tokens": "0s",
            })
        return h

    def stream_error(self, err: MockVendorError) -> bytes | None:
        if isinstance(err, responses.InBandError):  # the Responses stream rendered its own event
            return responses.stream_error(err)
        return sse(self.error_body(err))

    # -- models ---------------------------------------------------------------------
    def models_handler(self, ctx: AppContext) -> Handler:
        return timed(model_list.handler(ctx, self))

    def list_models(self, ctx: AppContext, request: Request) -> Any:
        return {"object": "list", "data": [self.model_info(ctx, name) for name in ctx.models.names("openai")]}

    def model_info(self, ctx: AppContext, name: str) -> Any:
        spec = ctx.models.spec(name)
        return {"id": name, "object": "model", "created": model_list.MODEL_CREATED, "owned_by": spec.owned_by}

    def openapi(self) -> dict[str, Any]:
        return {**docs.openai_paths(self), **model_list_openapi.shared_paths(self)}


def _page(items: list[Any], request: Request) -> wire.ItemList:
    """A page of input items: ``order`` (``desc`` by default, as OpenAI), ``after``, ``limit`` (1-100)."""
    q = request.query_params
    order = q.get("order", "desc")
    if order not in ("asc", "desc"):
        raise InvalidRequest(f"Invalid value for 'order': {order!r}. Supported values are: 'asc' and 'desc'.",
                             param="order")
    try:
        limit = int(q.get("limit", "20"))
    except ValueError:
        limit = 0
    if not 1 <= limit <= 100:
        raise InvalidRequest("Invalid 'limit': expected an integer from 1 to 100.", param="limit")
    items = list(reversed(items)) if order == "desc" else list(items)
    after = q.get("after")
    if after is not None:
        ids = [it.get("id") for it in items]
        items = items[ids.index(after) + 1:] if after in ids else []
    page = items[:limit]
    return wire.ItemList(data=page, first_id=page[0]["id"] if page else None,
                         last_id=page[-1]["id"] if page else None, has_more=len(items) > limit)


def timed(handler: Handler) -> Handler:
    """Add ``openai-processing-ms`` (time to the response head) as OpenAI does."""

    @functools.wraps(handler)  # keeps the handler's marks (``direct``)
    async def handle(request: Request) -> Response:
        t0 = time.perf_counter()
        resp = await handler(request)
        set_header(resp, "openai-processing-ms", str(round((time.perf_counter() - t0) * 1000)))
        return resp

    return handle


VENDOR = OpenAIVendor
