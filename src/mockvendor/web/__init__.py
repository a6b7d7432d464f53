"""The web pages (chat, API docs, live request log) and their static assets."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib import resources

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

PAGES = {"/": "index.html", "/request-viewer": "request-viewer.html", "/requests": "requests.html"}


def web_routes() -> list[BaseRoute]:
    static = resources.files("mockvendor") / "web" / "static"
    routes: list[BaseRoute] = []
    if not static.is_dir():
        return routes
    for path, filename in PAGES.items():
        if (static / filename).is_file():
            routes.append(Route(path, _page(str(static / filename)), methods=["GET"]))
    routes.append(Mount("/static", StaticFiles(directory=str(static)), name="static"))
    return routes


def _page(path: str) -> Callable[[Request], Awaitable[Response]]:
    async def page(request: Request) -> Response:
        return FileResponse(path, media_type="text/html")

    return page
