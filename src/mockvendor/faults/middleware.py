"""Pure ASGI middleware for the fault lab's bookkeeping around each vendor request:
requests in flight (for load-dependent overload) and retry telemetry.

Telemetry is recorded when the response starts, before the client can have it, so a
client retrying at once is still judged against the answer it retries.
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING, Any

from .policy import INFLIGHT_MARK
from .retries import caller_of

if TYPE_CHECKING:
    from .policy import FaultPolicy

log = logging.getLogger("mockvendor.faults")
Scope = dict[str, Any]


class FaultLabMiddleware:
    """Wraps the app inside the request-log middleware (it reads the request's Record)."""

    def __init__(self, app: Any, policy: FaultPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        policy = self.policy
        if not policy.settings.retry_telemetry:
            try:
                await self.app(scope, receive, send)
            finally:
                if scope.get("state", {}).pop(INFLIGHT_MARK, False):
                    policy.leave()
            return
        arrival = policy.clock()
        body = hashlib.blake2b(digest_size=12)

        async def hashing_receive() -> dict[str, Any]:
            message: dict[str, Any] = await receive()
            if message["type"] == "http.request":
                body.update(message.get("body", b""))
            return message

        async def observing_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                await self._observe(scope, arrival, message, body.hexdigest())
            await send(message)

        try:
            await self.app(scope, hashing_receive, observing_send)
        finally:
            if scope.get("state", {}).pop(INFLIGHT_MARK, False):
                policy.leave()

    async def _observe(self, scope: Scope, arrival: float, message: dict[str, Any], body_hash: str) -> None:
        rec = scope.get("state", {}).get("record")
        if rec is None or rec.vendor is None:
            return  # not a vendor request (admin, pages)
        status = message["status"]
        # Only failed answers carry hints worth reading.
        headers = (
            {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in message.get("headers", [])}
            if status >= 400 else {}
        )
        client = scope.get("client")
        try:
            attempt = await self.policy.telemetry.observe(
                caller=caller_of(rec.test_id, rec.key_fingerprint, client[0] if client else None),
                request_id=rec.id, arrival=arrival, end=self.policy.clock(), vendor=rec.vendor,
                route=rec.route, status=status, fault=rec.fault, headers=headers,
                body_hash=body_hash, retry_count=rec.retry_count,
            )
        except Exception:  # telemetry must never break an answer
            log.exception("retry telemetry failed for request %s", rec.id)
            return
        if attempt.get("retry_of"):
            rec.retry = {k: attempt.get(k) for k in ("attempt", "retry_of", "waited_ms", "hint_ms", "violations")}
