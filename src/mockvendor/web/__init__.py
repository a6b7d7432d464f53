"""The web pages (chat, API docs, live request log) and their static assets."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

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
    routes.append(Mount("/static", RevalidatedStaticFiles(directory=str(static)), name="static"))
    return routes


# The pages load only their own scripts and styles and talk only to this server: even a
# rendering bug could not run an injected inline script or send data elsewhere.
PAGE_HEADERS = {
    "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-cache",
}


class RevalidatedStaticFiles(StaticFiles):
    """Static files that browsers revalidate (a cheap 304) instead of caching by guesswork,
    so a page never runs with the scripts of an older version of the server."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["cache-control"] = "no-cache"
        return response


def _page(path: str) -> Callable[[Request], Awaitable[Response]]:
    async def page(request: Request) -> Response:
        return FileResponse(path, media_type="text/html", headers=PAGE_HEADERS)

    return page
