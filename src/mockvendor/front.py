"""The one ASGI layer around the routes: what every request gets, in one pass.

For each HTTP request, :class:`Front`

- gives it a :class:`~mockvendor.tracking.record.Record` (``scope['state']['record']``),
  stamps its status, latency and ``x-request-id``, and logs it once on the way out (only
  requests that reached a vendor go into the log and the metrics);
- caps the requests in flight (``MOCKVENDOR_MAX_REQUESTS``): past it, the vendor's own
  overload error, marked and logged (:mod:`mockvendor.admission`);
- does the fault lab's bookkeeping: requests in flight for load-dependent overload, retry
  telemetry recorded when the response starts (before the client can have it, so a client
  retrying at once is judged against the answer it retries);
- gives back the request's stream slot when the exchange ends, however it ends;
- where nothing wraps it (no admin token, no CORS), takes the ``/t/<test id>/`` prefix off
  the path (:mod:`mockvendor.rules.prefix`) and applies X-Forwarded-* from trusted proxies
  (uvicorn's ProxyHeadersMiddleware, called only for a request that carries them): two
  layers fewer around every request;
- sends a POST to a fixed vendor path (``/v1/chat/completions``, ``/vendor-e/messages``...)
  straight to its handler: a dict lookup instead of Starlette's middleware stack and route
  scan. Every other request (pages, admin, paths with parameters, wrong methods) goes
  through the Starlette app.

One layer with one ``send`` wrapper, rather than one middleware per concern, because on
the echo path each layer's extra call frames and wrappers cost as much as the work
(``bench/echo_throughput.py``).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse as StarletteJSON
from starlette.responses import Response
from starlette.routing import Match, Route
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from .errors import MockVendorError
from .faults.policy import INFLIGHT_MARK
from .faults.retries import caller_of
from .http import DIRECT, DUE, JSON_BODY, RAW_BODY, FastRequest, JSONResponse
from .limits import SLOT_MARK
from .rules.prefix import strip_test_prefix
from .serving import ARRIVAL, send_whole
from .tracking.record import Record, ms3
from .tracking.redact import redact_text

if TYPE_CHECKING:
    from .admission import AdmissionLimit
    from .context import AppContext

log = logging.getLogger("mockvendor")
Scope = dict[str, Any]
# Answers whose whole body is in hand: Front sends their two messages itself.
PLAIN = frozenset({Response, JSONResponse, StarletteJSON})
BOOKED = "mockvendor.booked"  # in scope["state"]: the request is logged and counted

class Front:
    """See the module docstring. ``app`` is the Starlette app; ``admission`` the in-flight cap."""

    def __init__(self, app: Any, ctx: AppContext, admission: AdmissionLimit) -> None:
        self.app = app
        self.ctx = ctx
        self.log = ctx.requests
        self.metrics = ctx.metrics
        self.faults = ctx.faults
        self.streams = ctx.streams
        self.admission = admission
        self.telemetry = ctx.settings.retry_telemetry
        self.direct = direct_routes(app.routes)
        # Set (serve_outermost) by create_app when nothing wraps this layer: it then also does
        # what the two layers a server puts outside would (one call per request instead of
        # three): ``/t/<test id>/`` (rules.prefix) and uvicorn's X-Forwarded-* handling.
        self.proxy: ProxyHeadersMiddleware | None = None

    def serve_outermost(self) -> None:
        """Do the ``/t/<test id>/`` prefix and X-Forwarded-* (``proxy_headers``) here: the
        server then runs without uvicorn's ProxyHeadersMiddleware (``serving.uvicorn_options``)."""
        self.proxy = ProxyHeadersMiddleware(_settled, trusted_hosts=trusted_proxies())

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if self.proxy is not None and scope["type"] != "lifespan":  # the outermost layer
            scope = strip_test_prefix(scope)  # a copy for /t/<id>/..., else the scope itself
            for name, _ in scope["headers"]:
                if name and name[0] == 120 and name[:12] == b"x-forwarded-":  # 120: "x"
                    await self.proxy(scope, receive, send)  # sets the scope's client and scheme
                    break
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rec = Record(method=scope["method"], route=scope["path"])
        answer = None  # a whole answer's body, as sent
        state = scope.get("state")
        if state is None:
            state = scope["state"] = {}
        state["record"] = rec
        t0 = scope.get(ARRIVAL) or time.perf_counter()  # the latency counts from the request's first bytes
        rid = rec.id.encode()
        metrics = self.metrics
        metrics.in_flight[rid] = rec
        admission = self.admission
        admitted = not admission.limit or admission.inflight < admission.limit
        if admitted:
            admission.inflight += 1
        arrival = self.faults.clock() if self.telemetry and scope["method"] == "POST" else None
        try:
            if not admitted:
                await admission.refuse(scope, receive, self._tracking(scope, rec, rid, arrival, None, send))
                return
            route = self.direct.get(scope["path"]) if scope["method"] == "POST" else None
            if route is not None:
                scope["route"] = route
                scope["app"] = self.app
                state[DIRECT] = True
                answer = await self._direct(route, scope, receive, send, rec, rid, arrival, t0)
                return
            hasher = None
            if arrival is not None:  # a route that reads its own body: hash it as it arrives
                hasher = hashlib.blake2b(digest_size=12)
                upstream = receive

                async def receive(hasher: Any = hasher) -> dict[str, Any]:  # noqa: F811
                    message: dict[str, Any] = await upstream()
                    if message["type"] == "http.request":
                        hasher.update(message.get("body", b""))
                    return message

            await self.app(scope, receive, self._tracking(scope, rec, rid, arrival, hasher, send))
        finally:
            if admitted:
                admission.inflight -= 1
            if state.pop(INFLIGHT_MARK, False):
                self.faults.leave()
            if state.pop(SLOT_MARK, False):
                self.streams.open -= 1
            metrics.in_flight.pop(rid, None)
            if not state.get(BOOKED):
                rec.latency_ms = ms3(time.perf_counter() - t0)
                if rec.vendor is not None:
                    self._book(scope, rec, answer)

    def _book(self, scope: Scope, rec: Record, answer: bytes | None) -> None:
        """Log and count a request that reached a vendor."""
        state = scope["state"]
        # The bodies' JSON as they went over the wire, when the record holds those bodies.
        asked = state.get(RAW_BODY) if state.get(JSON_BODY) is rec.request_body else None
        self.log.add(rec, asked, answer if rec.status < 400 else None)
        # The route's template (not the raw path) keeps label cardinality bounded.
        self.metrics.observe(rec, getattr(scope.get("route"), "path", None) or rec.route)

    def _tracking(self, scope: Scope, rec: Record, rid: bytes, arrival: float | None, hasher: Any,
                  send: Any) -> Any:
        """``send``, stamping the answer's status, ``x-request-id`` and retry telemetry as it starts."""

        async def tracking_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers")
                if headers is None:
                    headers = message["headers"] = []
                await self._starting(scope, rec, rid, arrival, message["status"], headers, hasher)
            await send(message)

        return tracking_send

    async def _direct(self, route: Route, scope: Scope, receive: Any, send: Any, rec: Record, rid: bytes,
                      arrival: float | None, t0: float) -> bytes | None:
        """A vendor route's handler, called as Starlette would call it (less its stack).
        Returns the body of a whole answer (the pipeline's ``rec.response_body``, encoded)."""
        try:
            response = await route.endpoint(FastRequest(scope, receive, send))
        except Exception as exc:
            # What Starlette's ServerErrorMiddleware does, in the vendor's shape: a 500
            # without the fault marker, so it is never mistaken for a simulated one.
            log.exception("unexpected error on %s", scope["path"])
            vendor = self.admission.vendor_for(scope["path"])
            if vendor is None:
                raise
            rec.error = redact_text(f"mockvendor failed: {type(exc).__name__}: {exc}")  # no key in an answer
            response = vendor.error_response(MockVendorError(rec.error, status=500, kind="server_error"))
        if type(response) not in PLAIN or response.background is not None:
            # Streams and answers that go wrong on the wire send their own messages.
            await response(scope, receive, self._tracking(scope, rec, rid, arrival, None, send))
            return None
        # A whole answer in one body: one write under mockvendor's protocol (serving.send_whole),
        # else its two messages sent here (what Response.__call__ does).
        headers, status, body = response.raw_headers, response.status_code, bytes(response.body)
        due = scope["state"].pop(DUE, None)  # a held answer (mockvendor.pipeline)
        if due is not None:
            # Its telemetry and record are made now, as they will stand when it leaves (the
            # moment it ends, its latency): when many held answers come due together, what is
            # left of each is its sending (bench/held_requests.py).
            left = due - time.perf_counter()
            await self._starting(scope, rec, rid, arrival, status, headers, None, later_s=left)
            rec.latency_ms = ms3(due - t0)
            scope["state"][BOOKED] = True  # once: not again on the way out
            if rec.vendor is not None:
                self._book(scope, rec, body)
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
        else:
            await self._starting(scope, rec, rid, arrival, status, headers, None)
        if not send_whole(send, status, headers, body):
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        return body

    async def _starting(self, scope: Scope, rec: Record, rid: bytes, arrival: float | None, status: int,
                        raw_headers: list[tuple[bytes, bytes]], hasher: Any, later_s: float = 0.0) -> None:
        """An answer is about to start (in ``later_s`` seconds): its status in the record,
        ``x-request-id`` in its headers, and the attempt in the retry telemetry (before the
        client can have it)."""
        rec.status = status
        raw_headers.append((b"x-request-id", rid))
        if arrival is None or rec.vendor is None:
            return
        raw = scope["state"].get(RAW_BODY)

        def digest() -> str:  # only when the telemetry needs it (a failure, or a retry of one)
            return (hashlib.blake2b(raw, digest_size=12) if raw is not None
                    else hasher or hashlib.blake2b(digest_size=12)).hexdigest()

        # Only failed answers carry hints worth reading.
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw_headers} if status >= 400 else {}
        client = scope.get("client")
        policy = self.faults
        try:
            attempt = await policy.telemetry.observe(
                caller=caller_of(rec.test_id, rec.key_fingerprint, client[0] if client else None),
                request_id=rec.id, arrival=arrival, end=policy.clock() + later_s, vendor=rec.vendor,
                route=rec.route, status=status, fault=rec.fault, headers=headers,
                body_hash=digest, retry_count=rec.retry_count,
            )
        except Exception:  # telemetry must never break an answer
            log.exception("retry telemetry failed for request %s", rec.id)
            return
        if attempt.get("retry_of"):
            rec.retry = {k: attempt.get(k) for k in ("attempt", "retry_of", "waited_ms", "hint_ms", "violations")}


def trusted_proxies() -> str:
    """Whose X-Forwarded-* headers count, as uvicorn's default: ``FORWARDED_ALLOW_IPS``, else loopback."""
    return os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")


async def _settled(scope: Scope, receive: Any, send: Any) -> None:
    """What uvicorn's ProxyHeadersMiddleware calls once it has set the scope: nothing more."""


def direct_routes(routes: list[Any]) -> dict[str, Route]:
    """Fixed-path POST routes that a dict lookup may serve: those whose handler reads its body
    through the pipeline (``handler.direct``) and that no earlier route would match first."""
    table: dict[str, Route] = {}
    earlier: list[Any] = []
    for route in routes:
        if (isinstance(route, Route) and getattr(route.endpoint, "direct", False) and "{" not in route.path
                and "POST" in (route.methods or ()) and route.path not in table):
            probe = {"type": "http", "method": "POST", "path": route.path, "root_path": "", "headers": []}
            if not any(r.matches(probe)[0] is not Match.NONE for r in earlier):
                table[route.path] = route
        earlier.append(route)
    return table
