"""Pure ASGI middleware that gives every request a Record and logs it on the way out."""

from __future__ import annotations

import time
from typing import Any

from .log import RequestLog
from .metrics import Metrics
from .record import Record

Scope = dict[str, Any]


class RecordMiddleware:
    """Creates ``scope['state']['record']``, stamps status and latency, logs it once.

    Handlers fill in what only they know (vendor, model, tokens, fault). Only requests
    that reached a vendor (``record.vendor`` set) go into the log and the metrics; pages,
    assets, admin calls and scrapes do not.
    """

    def __init__(self, app: Any, log: RequestLog, metrics: Metrics | None = None) -> None:
        self.app = app
        self.log = log
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rec = Record(method=scope["method"], route=scope["path"])
        scope.setdefault("state", {})["record"] = rec
        t0 = time.perf_counter()
        rid = rec.id.encode()

        async def send_wrapper(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                rec.status = message["status"]
                headers = message.setdefault("headers", [])
                headers.append((b"x-request-id", rid))
            await send(message)

        metrics = self.metrics
        if metrics is not None:
            metrics.in_flight[rid] = rec
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            rec.latency_ms = round((time.perf_counter() - t0) * 1000, 3)
            if metrics is not None:
                metrics.in_flight.pop(rid, None)
            if rec.vendor is not None:
                self.log.add(rec)
                if metrics is not None:
                    # The route's template (not the raw path) keeps label cardinality bounded.
                    metrics.observe(rec, getattr(scope.get("route"), "path", None) or rec.route)
