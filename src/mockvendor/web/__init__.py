"""The web pages (chat, API docs, live request log) and their static assets, and the
documentation site (``docs/``, built by ``make docs`` into ``web/site``) under ``/docs``."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Awaitable, Callable
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

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
    return routes + docs_routes()


def docs_routes(site: Path | None = None) -> list[BaseRoute]:
    """``/docs``: the documentation site as built, or a page saying how to build it."""
    site = site or Path(str(resources.files("mockvendor") / "web" / "site"))
    app: Any = DocsSite(site) if (site / "index.html").is_file() else _docs_not_built
    return [
        Route("/docs", _to_docs, methods=["GET", "HEAD"]),
        Mount("/docs", app=app, name="docs"),
    ]


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


class DocsSite(RevalidatedStaticFiles):
    """The built MkDocs site, with the pages' security headers. Material for MkDocs needs a few
    small inline scripts (theme and palette set-up); the policy allows exactly those, by hash,
    and nothing else: no other inline script, no other origin, no framing."""

    def __init__(self, site: Path) -> None:
        super().__init__(directory=str(site), html=True)
        self.site = site
        self._headers: tuple[float, dict[str, str]] | None = None

    def headers(self) -> dict[str, str]:
        stamp = (self.site / "index.html").stat().st_mtime  # a rebuild brings new hashes
        if self._headers is None or self._headers[0] != stamp:
            hashes = " ".join(f"'sha256-{h}'" for h in sorted(inline_script_hashes(self.site)))
            csp = PAGE_HEADERS["content-security-policy"].replace(
                "script-src 'self'", f"script-src 'self' {hashes}".rstrip()
            ) + "; worker-src 'self'"
            self._headers = (stamp, {**PAGE_HEADERS, "content-security-policy": csp})
        return self._headers[1]

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers.update(self.headers())
        return response


class _InlineScripts(HTMLParser):
    """Collects the text of every inline ``<script>`` that a browser would run."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.scripts: list[str] = []
        self._current: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "script":
            return
        a = dict(attrs)
        kind = (a.get("type") or "text/javascript").lower()
        runs = "javascript" in kind or kind == "module"
        self._current = [] if runs and "src" not in a else None

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._current.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._current is not None:
            self.scripts.append("".join(self._current))
            self._current = None


def inline_script_hashes(site: Path) -> set[str]:
    """The CSP hashes (base64 SHA-256) of the inline scripts of every page of the site."""
    hashes = set()
    for page in site.rglob("*.html"):
        parser = _InlineScripts()
        parser.feed(page.read_text(encoding="utf-8"))
        for script in parser.scripts:
            hashes.add(base64.b64encode(hashlib.sha256(script.encode()).digest()).decode())
    return hashes


async def _to_docs(request: Request) -> Response:
    return RedirectResponse("/docs/", status_code=307)


_NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mockvendor documentation</title></head>
<body><h1>The documentation site is not built</h1>
<p>Run <code>make docs</code> (or <code>mkdocs build --strict</code>) in the repository, then
reload this page. <code>make run</code> builds it before starting the server.</p>
<p>Meanwhile: the API docs page is at <a href="/request-viewer">/request-viewer</a>.</p>
</body></html>
"""


async def _docs_not_built(scope: Scope, receive: Receive, send: Send) -> None:
    response = HTMLResponse(_NOT_BUILT, status_code=404, headers=PAGE_HEADERS)
    await response(scope, receive, send)


def _page(path: str) -> Callable[[Request], Awaitable[Response]]:
    async def page(request: Request) -> Response:
        return FileResponse(path, media_type="text/html", headers=PAGE_HEADERS)

    return page
