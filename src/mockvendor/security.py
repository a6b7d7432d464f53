"""The HTTP perimeter: who may call the admin API, and which web origins may call at all.

- :class:`AdminGuard` closes every ``/admin`` route (the request log, its exports and live
  feed, statistics, the vendor list, the fault lab) when ``MOCKVENDOR_ADMIN_TOKEN`` is set,
  with one JSON 401 naming the headers that open it. ``/metrics`` is closed too only with
  ``MOCKVENDOR_PROTECT_METRICS=1``: it holds counts, never a key or user text (the canary
  test proves it), and scrapers are often set up without credentials. ``/healthz``,
  ``/readyz``, ``/openapi.json``, the pages and the vendor APIs stay open (vendor APIs
  have their own keys, ``MOCKVENDOR_API_KEYS``).
- CORS is off unless ``MOCKVENDOR_CORS_ORIGINS`` lists origins: a browser page elsewhere
  cannot read this server's answers by default.

One pure-ASGI check in front of the router, so a route added later under ``/admin`` is
closed without remembering to guard it.
"""

from __future__ import annotations

import hmac
from typing import Any

import orjson

from .settings import Settings

Scope = dict[str, Any]

# The headers that carry the admin token; the first is what the pages send.
TOKEN_HEADERS = (b"x-mockvendor-admin-token", b"x-admin-token")
CHALLENGE = b'Bearer realm="mockvendor-admin"'


def admin_token_of(headers: list[tuple[bytes, bytes]]) -> bytes | None:
    """The token a request offers: ``Authorization: Bearer <t>`` or an admin-token header."""
    for name, value in headers:
        if name == b"authorization" and value[:7].lower() == b"bearer ":
            return value[7:].strip()
        if name in TOKEN_HEADERS:
            return value.strip()
    return None


def is_protected(path: str, protect_metrics: bool) -> bool:
    return path == "/admin" or path.startswith("/admin/") or (protect_metrics and path == "/metrics")


class AdminGuard:
    """Answers 401 for protected paths unless the request carries the admin token."""

    def __init__(self, app: Any, token: str, *, protect_metrics: bool = False) -> None:
        self.app = app
        self.token = token.encode()
        self.protect_metrics = protect_metrics

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not is_protected(scope["path"], self.protect_metrics):
            await self.app(scope, receive, send)
            return
        given = admin_token_of(scope["headers"])
        # compare_digest: the time taken does not tell how much of a guess was right.
        if given is not None and hmac.compare_digest(given, self.token):
            await self.app(scope, receive, send)
            return
        message = (
            "This endpoint needs the admin token (MOCKVENDOR_ADMIN_TOKEN): send it as "
            "'Authorization: Bearer <token>' or 'x-mockvendor-admin-token: <token>'."
            if given is None
            else "The admin token is wrong."
        )
        body = orjson.dumps({"error": {"type": "authentication", "message": message}})
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", CHALLENGE),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def cors_origins(settings: Settings) -> list[str]:
    """``MOCKVENDOR_CORS_ORIGINS``: comma-separated origins, or ``*`` for any."""
    return [o.strip().rstrip("/") for o in settings.cors_origins.split(",") if o.strip()]


def protect(app: Any, settings: Settings) -> Any:
    """``app`` behind the admin guard (if a token is set) and CORS (if origins are set)."""
    if settings.admin_token:
        app = AdminGuard(app, settings.admin_token, protect_metrics=settings.protect_metrics)
    origins = cors_origins(settings)
    if origins:
        from starlette.middleware.cors import CORSMiddleware

        # Outermost, so preflights and 401s carry the CORS headers a browser needs to read them.
        app = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["*"],
            expose_headers=["*"],
            max_age=600,
        )
    return app
