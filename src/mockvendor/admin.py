"""Service and admin routes: health, readiness, the request log and its live feed,
statistics, the vendor list and the OpenAPI document."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from . import __version__
from .vendors.base import JSONResponse, sse

if TYPE_CHECKING:
    from .app import AppContext


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
        body = {"status": "ready" if ready else "loading", "engines": ctx.models.stats()}
        return JSONResponse(body, 200 if ready else 503)

    async def requests_list(request: Request) -> Response:
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
            return JSONResponse(
                {"error": {"type": "invalid_request", "message": f"Bad query parameter: {e}"}}, 400
            )
        return JSONResponse({"data": [r.to_dict() for r in recs], "total": ctx.requests.total})

    async def request_one(request: Request) -> Response:
        rec = ctx.requests.get(request.path_params["id"])
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
        return JSONResponse(ctx.requests.stats())

    async def openapi(request: Request) -> Response:
        from .app import openapi_document

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
        Route("/admin/requests/stream", requests_stream, methods=["GET"]),
        Route("/admin/requests/{id}", request_one, methods=["GET"]),
        Route("/admin/stats", stats, methods=["GET"]),
        Route("/admin/vendors", vendor_list, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ]
