"""The configured models, listed and looked up by every vendor in its own shape.

What the vendors share lives here: the handler their models routes run (auth and the
request log as on every vendor route), the dispatch of the one ``/v1/models`` path that
OpenAI, Anthropic and Gemini all use, cursor paging over the model names, and what is
known of a model (its token limits, whether it is an embedding model).

A vendor that lists models has:

- ``list_models(ctx, request)``: the list body, reading its own paging parameters from the
  query (a bad one raises :class:`~mockvendor.errors.InvalidRequest` naming it);
- ``model_info(ctx, name)``: one configured model's body;
- ``models_handler(ctx)``: :func:`handler` for itself, with its own response headers;
- ``check_models_request(request)`` (optional, Azure): refuses a request's query before answering;
- ``claims_models(request)`` (Anthropic, Gemini): whether a request to the shared
  ``/v1/models`` path is its SDK's, told by the headers that SDK always sends.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from ..errors import MockVendorError
from ..faults.policy import TEST_ID_HEADER
from ..http import JSONResponse
from ..pipeline import authenticate, record_of

if TYPE_CHECKING:
    from ..context import AppContext

Handler = Callable[[Request], Awaitable[Response]]

INTEGER = re.compile(r"-?[0-9]{1,12}")
# Model objects need a creation time; a fixed one keeps the lists reproducible.
MODEL_CREATED = 1721172741


def handler(ctx: AppContext, vendor: Any) -> Handler:
    """``GET <models>`` and ``GET <models>/{model_id}`` answered by ``vendor``."""

    async def handle(request: Request) -> Response:
        rec = record_of(request)
        rec.vendor = vendor.name
        rec.test_id = request.headers.get(TEST_ID_HEADER)
        model_id = request.path_params.get("model_id")
        rec.model = model_id
        try:
            authenticate(ctx, vendor, request, rec)
            check = getattr(vendor, "check_models_request", None)
            if check is not None:  # e.g. Azure's api-version
                check(request)
            if model_id is None:
                return JSONResponse(vendor.list_models(ctx, request))
            ctx.models.resolve(model_id)  # the vendor-neutral 404 if unknown
            return JSONResponse(vendor.model_info(ctx, model_id))
        except MockVendorError as err:
            rec.error = err.message
            return vendor.error_response(err)

    return handle


def shared(ctx: AppContext, default: Handler) -> Handler:
    """The ``/v1/models`` routes: every vendor's SDK lists models there, so the first vendor
    that claims the request (by its SDK's headers) answers it, ``default`` otherwise."""
    claims = [(v.claims_models, v.models_handler(ctx)) for v in ctx.vendors if hasattr(v, "claims_models")]

    async def handle(request: Request) -> Response:
        for claimed, vendor_handler in claims:
            if claimed(request):
                return await vendor_handler(request)
        return await default(request)

    return handle


def page(names: list[str], limit: int, *, after: str | None = None, before: str | None = None
         ) -> tuple[list[str], bool]:
    """Up to ``limit`` names right after the name ``after`` (or right before ``before``; from the
    start without either), and whether more names lie that way. A cursor naming no model
    raises KeyError."""
    for cursor in (after, before):
        if cursor is not None and cursor not in names:
            raise KeyError(cursor)
    if before is not None:
        end = names.index(before)
        start = max(0, end - limit)
        return names[start:end], start > 0
    start = names.index(after) + 1 if after is not None else 0
    return names[start:start + limit], start + limit < len(names)


def token_limit(ctx: AppContext, name: str) -> int | None:
    """The most tokens (prompt and answer) a request to ``name`` may use; None if unbounded."""
    return getattr(ctx.models.resolve(name), "context_window", 0) or None


def output_limit(ctx: AppContext, name: str) -> int | None:
    """The most tokens an answer from ``name`` may take: what its vendor publishes, else its window."""
    card = ctx.models.card(name)
    return card.max_output if card is not None else token_limit(ctx, name)


def is_embedding(name: str) -> bool:
    """Whether ``name`` is meant for embeddings (every model answers them, but vendors list
    embedding models with their own methods): the vendors' own names all say so."""
    return "embed" in name.lower()


def query_int(raw: str) -> int:
    """A paging parameter's integer (plain decimal digits only); ValueError otherwise."""
    if not INTEGER.fullmatch(raw.strip()):
        raise ValueError(raw)
    return int(raw)
