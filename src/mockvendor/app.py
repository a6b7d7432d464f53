"""create_app(settings): the ASGI application. No globals: everything hangs off the
AppContext built here and passed to vendors and handlers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from . import vendors
from .admin import admin_routes
from .admission import AdmissionLimit
from .context import AppContext, Clock, Sleep
from .engines import build
from .errors import MockVendorError
from .faults import FaultPolicy
from .faults.admin import fault_admin_routes
from .front import Front, trusted_proxies
from .http import JSONResponse
from .limits import StreamSlots
from .models import ModelRegistry
from .openapi import openapi_document
from .rules import build_book
from .rules.admin import rule_admin_routes
from .rules.prefix import TestPrefixMiddleware
from .security import protect
from .settings import Settings
from .tracking import Metrics, RequestLog
from .web import web_routes

__all__ = ["AppContext", "create_app", "openapi_document"]

log = logging.getLogger("mockvendor")

def create_app(
    settings: Settings | None = None, *, sleep: Sleep = asyncio.sleep, clock: Clock = time.time
) -> Any:
    """Build the ASGI app. ``sleep`` and ``clock`` (wall-clock seconds) are injectable so
    simulated delays and fault timelines need no waiting."""
    settings = settings or Settings.from_env()
    ctx = AppContext(
        settings=settings,
        models=ModelRegistry(settings),
        faults=FaultPolicy(settings, clock=clock, sleep=sleep),
        requests=RequestLog.from_settings(settings),
        openai_passthrough=build(
            "upstream",
            settings,
            {
                "base_url": settings.openai_base_url,
                "api_key": settings.openai_api_key,
                "missing_key_message": "Vendor O is not configured: set OPENAI_API_KEY "
                "(in .env or the environment) to pass requests through to OpenAI.",
            },
        ),
        sleep=sleep,
        clock=clock,
        rules=build_book(settings),
    )
    ctx.vendors = vendors.build_all(settings)
    ctx.metrics = Metrics(ctx.models, ctx.requests, ctx.faults.store)
    ctx.streams = StreamSlots(settings.max_streams)

    routes: list[BaseRoute] = []
    for vendor in ctx.vendors:
        routes.extend(vendor.routes(ctx))
    routes.extend(admin_routes(ctx))
    routes.extend(fault_admin_routes(ctx))
    routes.extend(rule_admin_routes(ctx))
    routes.extend(web_routes())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await ctx.models.start()
        try:
            yield
        finally:
            await ctx.models.aclose()
            await ctx.openai_passthrough.aclose()
            await ctx.faults.aclose()
            await ctx.rules.aclose()
            await asyncio.to_thread(ctx.requests.close)  # the last batch reaches the disk

    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_error},  # type: ignore[dict-item]
    )
    app.state.ctx = ctx
    # The request log, metrics, the in-flight cap (past MOCKVENDOR_MAX_REQUESTS, the vendor's own
    # overload error, logged: not uvicorn's 503), the fault lab's bookkeeping, stream slots, and the
    # vendor routes' direct dispatch: one layer (mockvendor.front).
    inner = Front(app, ctx, AdmissionLimit(settings.max_requests, ctx.vendors))
    # /t/<test id>/... binds a request to a test id (the pytest plugin's base URLs), outside all
    # else, as is uvicorn's X-Forwarded-* handling (our servers run uvicorn without its own:
    # serving.uvicorn_options). Front does both itself when nothing else wraps it.
    protected = protect(inner, settings)
    if protected is inner:
        inner.serve_outermost()
        wrapped: Any = inner
    else:
        wrapped = ProxyHeadersMiddleware(TestPrefixMiddleware(protected), trusted_hosts=trusted_proxies())
    wrapped.state = app.state  # type: ignore[attr-defined]
    wrapped.ctx = ctx  # type: ignore[attr-defined]
    return wrapped


async def _http_error(request: Request, exc: HTTPException) -> Response:
    """Unknown routes and wrong methods: a JSON 4xx that names the problem."""
    if exc.status_code == 404:
        msg = f"No route for {request.method} {request.url.path}. The API is listed at /request-viewer."
        kind = "not_found"
    elif exc.status_code == 405:
        allowed = exc.headers.get("Allow", "") if exc.headers else ""
        msg = f"Method {request.method} is not allowed on {request.url.path}; use {allowed or 'another method'}."
        kind = "method_not_allowed"
    else:
        msg, kind = str(exc.detail), "invalid_request"
    vendor = _vendor_for_path(request)
    if vendor is not None:
        # Under a vendor's prefix (e.g. /v1/), answer in that vendor's own error shape.
        resp = vendor.error_response(MockVendorError(msg, status=exc.status_code, kind=kind))
        resp.headers.update(exc.headers or {})
        return resp
    return JSONResponse({"error": {"type": kind, "message": msg}}, exc.status_code, exc.headers)


def _vendor_for_path(request: Request) -> Any:
    """The vendor whose ``url_prefixes`` match the path best (longest prefix), if any."""
    ctx = getattr(request.app.state, "ctx", None)
    best, best_len = None, 0
    for vendor in getattr(ctx, "vendors", ()):
        for prefix in getattr(vendor, "url_prefixes", ()):
            if request.url.path.startswith(prefix) and len(prefix) > best_len:
                best, best_len = vendor, len(prefix)
    return best
