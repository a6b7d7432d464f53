"""Service and admin routes: health, readiness, the request log (queries, exports, live feed),
statistics, Prometheus metrics, the vendor list and the OpenAPI document."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from .http import JSONResponse, sse
from .openapi import openapi_document
from .tracking.export import FORMATS, export, parse_filters, parse_int
from .version import __version__

if TYPE_CHECKING:
    from .context import AppContext


HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def _operations(vendor: object) -> list[dict[str, str]]:
    """The vendor's routes as ``{"method", "path"}``, read from its own OpenAPI path items,
    so pages can tell which documented operation belongs to which vendor."""
    paths = vendor.openapi()  # type: ignore[attr-defined]
    return [
        {"method": method.upper(), "path": path}
        for path, item in paths.items()
        for method in item
        if method in HTTP_METHODS
    ]


def admin_routes(ctx: AppContext) -> list[BaseRoute]:
    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": __version__})

    async def readyz(request: Request) -> Response:
        ready = ctx.models.ready()
        # The state store's health is shown, never a reason to be unready: without Redis a
        # replica goes on serving from memory. This route is open: no address, no error text
        # (those are in /admin/faults).
        store = {k: v for k, v in ctx.faults.store.health().items() if k in ("backend", "healthy", "fallback")}
        body = {"status": "ready" if ready else "loading", "engines": ctx.models.stats(), "store": store}
        return JSONResponse(body, 200 if ready else 503)

    async def requests_list(request: Request) -> Response:
        """A page of the persisted log, newest first; ``format=jsonl|csv`` exports instead."""
        fmt = request.query_params.get("format", "json")
        if fmt != "json":
            return await _export(request, fmt)
        return await _page(request)

    async def _page(request: Request) -> Response:
        q = request.query_params
        try:
            filters = parse_filters(q)
            limit = min(parse_int(q, "limit", 100, 0), 1000)
            offset = parse_int(q, "offset", 0, 0)
        except ValueError as e:
            return _bad_query(str(e))
        recs, total = await ctx.requests.aquery(filters, limit=limit, offset=offset)
        return JSONResponse(
            {"data": [r.to_dict() for r in recs], "total": total, "limit": limit, "offset": offset}
        )

    async def requests_export(request: Request) -> Response:
        fmt = request.path_params["format"]
        return await (_page(request) if fmt == "json" else _export(request, fmt))

    async def _export(request: Request, fmt: str) -> Response:
        """Every matching record (or the first ``limit``), oldest first, streamed from the store."""
        if fmt not in FORMATS:
            return _bad_query(f"`format` must be one of json, {', '.join(FORMATS)}; not {fmt!r}")
        q = request.query_params
        try:
            filters = parse_filters(q)
            limit = parse_int(q, "limit", -1, 0) if q.get("limit") else None
        except ValueError as e:
            return _bad_query(str(e))
        return StreamingResponse(
            export(ctx.requests, filters, fmt, limit),
            media_type=FORMATS[fmt],
            headers={"content-disposition": f'attachment; filename="requests.{fmt}"'},
        )

    async def request_one(request: Request) -> Response:
        rec = await ctx.requests.aget(request.path_params["id"])
        if rec is None:
            return JSONResponse({"error": {"type": "not_found", "message": "No such request."}}, 404)
        return JSONResponse(rec.to_dict())

    async def requests_stream(request: Request) -> Response:
        """Server-sent events: one ``data:`` event per new record, pings every 15 s."""
        queue = ctx.requests.subscribe()

        async def events() -> AsyncIterator[bytes]:
            try:
                yield b": connected\n\n"
                while True:
                    try:
                        rec = await asyncio.wait_for(queue.get(), 15)
                    except TimeoutError:
                        yield b": ping\n\n"
                        continue
                    yield sse(rec.to_dict(), event="request")
            finally:
                ctx.requests.unsubscribe(queue)

        return StreamingResponse(
            events(), media_type="text/event-stream", headers={"cache-control": "no-cache"}
        )

    async def stats(request: Request) -> Response:
        """Aggregates over the persisted log (the same filters as the request list)."""
        try:
            filters = parse_filters(request.query_params)
        except ValueError as e:
            return _bad_query(str(e))
        return JSONResponse(await ctx.requests.astats(filters))

    async def metrics(request: Request) -> Response:
        assert ctx.metrics is not None
        body, content_type = ctx.metrics.exposition(request.headers.get("accept"))
        return Response(body, 200, media_type=content_type)

    async def openapi(request: Request) -> Response:
        return JSONResponse(openapi_document(ctx))

    async def vendor_list(request: Request) -> Response:
        return JSONResponse(
            {
                "vendors": [
                    {
                        "name": v.name,
                        "title": v.title,
                        "path": getattr(v, "path", ""),
                        "operations": _operations(v),
                    }
                    for v in ctx.vendors
                ],
                "models": ctx.models.names(),
            }
        )

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/admin/requests", requests_list, methods=["GET"]),
        Route("/admin/requests.{format}", requests_export, methods=["GET"]),
        Route("/admin/requests/stream", requests_stream, methods=["GET"]),
        Route("/admin/requests/{id}", request_one, methods=["GET"]),
        Route("/admin/stats", stats, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/admin/vendors", vendor_list, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ]


def _bad_query(message: str) -> Response:
    return JSONResponse({"error": {"type": "invalid_request", "message": f"Bad query parameter: {message}"}}, 400)
