"""create_app(settings): the ASGI application. No globals: everything hangs off the
AppContext built here and passed to vendors and handlers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from . import __version__, vendors
from .engines import Engine, build
from .faults import FaultPolicy
from .models import ModelRegistry
from .settings import Settings
from .tracking import RequestLog
from .tracking.middleware import RecordMiddleware
from .vendors.base import JSONResponse

log = logging.getLogger("mockvendor")

Sleep = Callable[[float], Awaitable[Any]]


@dataclass
class AppContext:
    """Everything a request may need, built once per app."""

    settings: Settings
    models: ModelRegistry
    faults: FaultPolicy
    requests: RequestLog
    openai_passthrough: Engine
    sleep: Sleep = asyncio.sleep
    vendors: list[Any] = field(default_factory=list)


def create_app(settings: Settings | None = None, *, sleep: Sleep = asyncio.sleep) -> Any:
    """Build the ASGI app. ``sleep`` is injectable so simulated delays need no waiting."""
    settings = settings or Settings.from_env()
    ctx = AppContext(
        settings=settings,
        models=ModelRegistry(settings),
        faults=FaultPolicy(settings),
        requests=RequestLog(settings.request_log_size),
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
    )
    ctx.vendors = vendors.build_all(settings)

    routes: list[BaseRoute] = []
    for vendor in ctx.vendors:
        routes.extend(vendor.routes(ctx))
    routes.extend(_service_routes(ctx))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await ctx.models.start()
        try:
            yield
        finally:
            await ctx.models.aclose()
            await ctx.openai_passthrough.aclose()

    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_error},  # type: ignore[dict-item]
    )
    app.state.ctx = ctx
    wrapped = RecordMiddleware(app, ctx.requests)
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
    return JSONResponse({"error": {"type": kind, "message": msg}}, exc.status_code, exc.headers)


def _service_routes(ctx: AppContext) -> list[BaseRoute]:
    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": __version__})

    async def readyz(request: Request) -> Response:
        ready = ctx.models.ready()
        body = {"status": "ready" if ready else "loading", "engines": ctx.models.stats()}
        return JSONResponse(body, 200 if ready else 503)

    async def admin_requests(request: Request) -> Response:
        q = request.query_params
        try:
            recs = ctx.requests.query(
                vendor=q.get("vendor"),
                status=int(q["status"]) if "status" in q else None,
                fault=q.get("fault"),
                test_id=q.get("test_id"),
                since=float(q["since"]) if "since" in q else None,
                until=float(q["until"]) if "until" in q else None,
                limit=min(int(q.get("limit", 100)), 1000),
                offset=int(q.get("offset", 0)),
            )
        except ValueError as e:
            return JSONResponse({"error": {"type": "invalid_request", "message": str(e)}}, 400)
        return JSONResponse({"data": [r.to_dict() for r in recs], "total": ctx.requests.total})

    async def admin_request(request: Request) -> Response:
        rec = ctx.requests.get(request.path_params["id"])
        if rec is None:
            return JSONResponse({"error": {"type": "not_found", "message": "No such request."}}, 404)
        return JSONResponse(rec.to_dict())

    async def admin_stats(request: Request) -> Response:
        return JSONResponse(ctx.requests.stats())

    async def openapi(request: Request) -> Response:
        return JSONResponse(openapi_document(ctx))

    async def vendor_list(request: Request) -> Response:
        return JSONResponse(
            {
                "vendors": [
                    {"name": v.name, "title": v.title, "path": getattr(v, "path", "")}
                    for v in ctx.vendors
                ],
                "models": ctx.models.names(),
            }
        )

    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/admin/requests", admin_requests, methods=["GET"]),
        Route("/admin/requests/{id}", admin_request, methods=["GET"]),
        Route("/admin/stats", admin_stats, methods=["GET"]),
        Route("/admin/vendors", vendor_list, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ]
    static = resources.files("mockvendor") / "web" / "static"
    if static.is_dir():
        pages = {"/": "index.html", "/request-viewer": "request-viewer.html", "/requests": "requests.html"}
        for path, filename in pages.items():
            if (static / filename).is_file():
                routes.append(Route(path, _page(str(static / filename)), methods=["GET"]))
        routes.append(Mount("/static", StaticFiles(directory=str(static)), name="static"))
    return routes


def _page(path: str) -> Callable[[Request], Awaitable[Response]]:
    async def page(request: Request) -> Response:
        return FileResponse(path, media_type="text/html")

    return page


def openapi_document(ctx: AppContext) -> dict[str, Any]:
    """The server's own OpenAPI document, built from the vendors that serve."""
    paths: dict[str, Any] = {}
    for vendor in ctx.vendors:
        paths.update(vendor.openapi())
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "mockvendor",
            "version": __version__,
            "description": "A local imitation of LLM vendors with simulated failures.",
        },
        "paths": paths,
    }
