"""How uvicorn serves the app: timeouts against slow clients, connection limits, and an
access log that never prints a secret.

uvicorn closes idle keep-alive connections but sets no deadline on a request still
arriving: a client that sends its headers (or body) one byte every few seconds would hold
a connection and a task forever, and a few thousand of them exhaust the server
("slow loris"). :func:`timed_protocol` adds those deadlines to uvicorn's httptools
protocol: the head of each request within ``header_timeout_s`` of its first byte (or of
the connection), the body within ``body_timeout_s`` (plus a grace, since the app's own
body deadline answers first with a 408 in the vendor's shape).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode

from starlette.types import Receive
from uvicorn.logging import TRACE_LOG_LEVEL
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import (
    HEADER_RE,
    HEADER_VALUE_RE,
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)

from .http import BODY_COMPLETE
from .settings import Settings
from .tracking.redact import REDACTED, is_secret_key, redact_text

T = TypeVar("T")

# The scope key holding when a request's first byte arrived (time.perf_counter()).
ARRIVAL = "mockvendor.arrival"

# The app's body deadline answers (a 408 in the vendor's shape) before this backstop cuts.
BODY_GRACE_S = 5.0
TIMEOUT_BODY = b'{"error":{"type":"timeout","message":"The request did not arrive in time."}}'


def timed_protocol(header_timeout_s: float, body_timeout_s: float) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol with deadlines on each request's head and body, and one
    write per whole answer (:class:`OneWrite`, :func:`send_whole`)."""

    class TimedHttpToolsProtocol(HttpToolsProtocol):
        _deadline: asyncio.TimerHandle | None = None
        _in_head = True  # waiting for a request's head (else for its body)
        _body_due = False  # a body is still to come
        _begun = False  # a request's first bytes are in (its head is not complete yet)

        def _arm(self, seconds: float) -> None:
            self._disarm()
            if seconds > 0:
                self._deadline = self.loop.call_later(seconds, self._expired)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expired(self) -> None:
            self._deadline = None
            if self.transport.is_closing():
                return
            cycle = self.cycle
            if self._in_head or (cycle is not None and not cycle.response_started):
                # Nothing sent yet for this request: say why before closing.
                self.transport.write(
                    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
                    b"content-length: " + str(len(TIMEOUT_BODY)).encode() + b"\r\nconnection: close\r\n\r\n"
                    + TIMEOUT_BODY
                )
            self.transport.close()

        def connection_made(self, transport: Any) -> None:  # type: ignore[override]
            # uvicorn's, with the addresses the event loop already holds for the transport:
            # uvicorn's get_local_addr/get_remote_addr ask the socket again (a socket object
            # and two system calls: 11 us per connection on uvloop, against 1).
            self.connections.add(self)
            self.transport = transport
            self.flow = FlowControl(transport)
            self.server = _address(transport.get_extra_info("sockname"), local=True)
            self.client = _address(transport.get_extra_info("peername"))
            self.scheme = "https" if transport.get_extra_info("sslcontext") else "http"
            if self.logger.level <= TRACE_LOG_LEVEL:
                prefix = "{}:{} - ".format(*self.client) if self.client else ""
                self.logger.log(TRACE_LOG_LEVEL, "%sHTTP connection made", prefix)
            # Every answer on this connection leaves through OneWrite (the flow control keeps
            # the real transport: pausing reads is not a write).
            self.transport = OneWrite(transport, self.loop)  # type: ignore[assignment]
            self._arm(header_timeout_s)  # a connection that never sends a request is cut too

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self.scope[ARRIVAL] = time.perf_counter()  # before the request waits for its task's turn
            self._in_head = self._begun = True

        def on_headers_complete(self) -> None:
            super().on_headers_complete()
            self._in_head = self._begun = False
            if self._deadline is not None:
                self._disarm()
            self._body_due = True

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._body_due = False
            self.scope[BODY_COMPLETE] = True  # the app reads it without a deadline of its own
            if self._deadline is not None:
                self._disarm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            # Deadlines are armed only for a request this read left unfinished: a request whose
            # head and body came in one read (nearly all of them) costs no timer.
            if self._deadline is None:
                if self._begun:
                    self._arm(header_timeout_s)
                elif self._body_due:
                    self._arm(body_timeout_s + BODY_GRACE_S)

        _idle_since: float | None = None  # when the connection's last answer ended (None: busy)

        def on_response_complete(self) -> None:
            # uvicorn's, less its new keep-alive timer for every answer: one timer per
            # connection, which checks when it fires whether the connection idled long enough.
            self.server_state.total_requests += 1
            if self.transport.is_closing():
                return
            self._idle_since = None
            self.flow.resume_reading()
            if self.pipeline:  # pipelined requests: the next one starts
                cycle, app = self.pipeline.pop()
                self._start_asgi_task(cycle, app)
            else:
                self._idle_since = self.loop.time()
                if self.timeout_keep_alive_task is None:
                    self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self._idle_check)
            self.transport.answered()  # type: ignore[attr-defined]
            # Between requests uvicorn's keep-alive timeout applies, not ours.
            if self.cycle is not None and self.cycle.more_body:
                return  # the body of a request answered early is still coming: the backstop stays
            if self._deadline is not None:
                self._disarm()

        def _idle_check(self) -> None:
            self.timeout_keep_alive_task = None
            if self._idle_since is None:
                return  # busy: the timer is set again when its answer ends
            left = self._idle_since + self.timeout_keep_alive - self.loop.time()
            if left > 0:
                self.timeout_keep_alive_task = self.loop.call_later(left, self._idle_check)
            else:
                self.timeout_keep_alive_handler()

        def _unset_keepalive_if_required(self) -> None:
            self._idle_since = None  # a request is arriving (the timer, if any, finds it busy)

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            if self.timeout_keep_alive_task is not None:
                self.timeout_keep_alive_task.cancel()
                self.timeout_keep_alive_task = None
            super().connection_lost(exc)

    return TimedHttpToolsProtocol


def _address(info: Any, local: bool = False) -> tuple[str, int | None] | None:
    """A transport's ``sockname``/``peername`` as uvicorn puts it in the scope: ``(host, port)``
    (IPv6's flow and scope ids dropped); a Unix socket's path as ``(path, None)`` for the
    server, None for the client."""
    if isinstance(info, tuple | list) and len(info) >= 2:
        return (str(info[0]), int(info[1]))
    if local and isinstance(info, str):
        return (info, None)
    return None


class OneWrite:
    """A connection's transport as its answers see it: the head of each answer is held until
    the answer's first body bytes (or the end of this turn of the event loop) and leaves in
    the same ``write``. uvicorn writes the head and the body separately, and on loopback
    each write costs a system call and a packet through the whole TCP stack."""

    __slots__ = ("_transport", "_loop", "_held", "_first")

    def __init__(self, transport: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None
        self._first = True

    def answered(self) -> None:
        """An answer is complete: the next write is the head of the next one."""
        self._first = True

    def write(self, data: bytes) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self._transport.write(held + data)
        elif self._first:
            self._first = False
            self._held = data
            self._loop.call_soon(self._flush)
        else:
            self._transport.write(data)

    def write_whole(self, data: bytes) -> None:
        """A whole answer, head and body, in hand: written at once."""
        self._first = False
        self.write(data)

    def _flush(self) -> None:
        held = self._held
        if held is not None:
            self._held = None
            if not self._transport.is_closing():  # the client may have left in the meantime
                self._transport.write(held)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def is_closing(self) -> bool:
        return bool(self._transport.is_closing())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


_FRAMING = frozenset({b"content-length", b"transfer-encoding", b"connection"})
_NAMES: dict[bytes, bytes] = {}  # header names that passed uvicorn's check, as written (lower case)


def _checked_name(name: bytes) -> bytes | None:
    if HEADER_RE.search(name):
        return None
    low = name.lower()
    if len(_NAMES) < 4096:
        _NAMES[name] = low
    return low


# uvicorn's default headers (server, date) and their lines as send_whole writes them (None:
# one it would not write itself), replaced as one pair.
_DEFAULTS: list[tuple[Any, list[bytes] | None]] = [(None, None)]


def _header_lines(headers: list[tuple[bytes, bytes]]) -> tuple[list[bytes], bytes | None] | None:
    """``headers`` as the lines uvicorn would write (lower-case names) and the value of their
    ``content-length``; None where uvicorn's ``send`` must write them (a name or value it
    refuses, chunked, a connection header, two lengths)."""
    lines: list[bytes] = []
    length = None
    for name, value in headers:
        low = _NAMES.get(name) or _checked_name(name)
        if low is None or low in _FRAMING:
            if low != b"content-length" or length is not None:
                return None
            length = value
        lines += (low, b": ", value, b"\r\n")
    # uvicorn's check on values, in one search over all of them (a tab is allowed in each).
    if HEADER_VALUE_RE.search(b"\t".join(lines[2::4])):
        return None
    return lines, length


def _default_lines(headers: list[tuple[bytes, bytes]]) -> list[bytes] | None:
    got = _header_lines(headers)
    return got[0] if got is not None and got[1] is None else None


def send_whole(send: Any, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> bool:
    """Send a whole answer (its ``content-length`` among ``headers``) in one write, as
    uvicorn's two ``send`` calls would (its default headers first, the same checks on
    header names and values, keep-alive, the cycle's state and its completion callback),
    without their two coroutines and per-header loop. ``send``: the ASGI send the app was
    given. False, with nothing sent, where the two messages must go the usual way: ``send``
    is not uvicorn's own (another server, or a middleware that adds to the answer), an
    access log to write, a HEAD request, a paused or gone connection."""
    cycle = getattr(send, "__self__", None)
    if (type(cycle) is not RequestResponseCycle or cycle.response_started or cycle.disconnected
            or cycle.access_log or cycle.flow.write_paused or cycle.scope["method"] == "HEAD"
            or status not in STATUS_LINE):
        return False
    defaults = cycle.default_headers  # the server's (a new list when the date changes)
    known = _DEFAULTS[0]
    if known[0] is not defaults:
        known = _DEFAULTS[0] = (defaults, _default_lines(defaults))
    if known[1] is None:
        return False
    got = _header_lines(headers)
    if got is None or got[1] != b"%d" % len(body):
        return False
    parts = [STATUS_LINE[status], *known[1], *got[0]]
    cycle.response_started = cycle.response_complete = True
    cycle.waiting_for_100_continue = False
    cycle.chunked_encoding = False
    cycle.expected_content_length = 0
    if not cycle.keep_alive:
        parts.append(b"connection: close\r\n")
    parts += (b"\r\n", body)
    transport = cycle.transport
    write = getattr(transport, "write_whole", transport.write)
    write(b"".join(parts))
    cycle.message_event.set()
    if not cycle.keep_alive:
        transport.close()
    cycle.on_response()
    return True


class RedactingAccessFilter(logging.Filter):
    """Takes secrets out of uvicorn's access-log lines: Gemini clients send their key as
    ``?key=...``, and a key pasted anywhere in a URL is caught by its look."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            client, method, path, version, status = args
            record.args = (client, method, redact_url(str(path)), version, status)
        return True


def redact_url(path: str) -> str:
    """``path`` with secret-named query parameters and key-like strings replaced."""
    base, sep, query = path.partition("?")
    if sep:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [(k, REDACTED if k.lower() in {"key", "api-key"} or is_secret_key(k) else v) for k, v in pairs],
            safe="[]",
        )
    return redact_text(base + sep + query)


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run`` / ``uvicorn.Config`` from the settings."""
    return {
        "http": timed_protocol(settings.header_timeout_s, settings.body_timeout_s),
        "timeout_keep_alive": settings.keep_alive_s,
        # A backstop against idle and dribbling connections, above the app's own request limit
        # (MOCKVENDOR_MAX_REQUESTS), which answers in the vendor's shape and is logged.
        "limit_concurrency": settings.max_connections or None,
        "backlog": 4096,
        "access_log": settings.log_requests,
        # X-Forwarded-* as uvicorn handles them, done by the app (create_app): one layer less.
        "proxy_headers": False,
    }


def raise_open_files_limit(wanted: int) -> int:
    """Raise this process's soft limit on open files towards ``wanted`` (capped by the hard
    limit): every held connection is a file descriptor. Returns the soft limit now."""
    try:
        import resource
    except ImportError:  # not on POSIX
        return wanted
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


# Objects allocated between two young collections of the garbage collector (Python's default
# is 700: a collection every few requests, and with the request log's ring of recent records
# alive, frequent promotions into the older generations and their long passes). A request's
# objects die by reference counting (its path makes no cycles: a young collection finds
# nothing), so the count grows only while requests are in flight: 2,000 held requests hold
# about 160,000 objects (counted at their peak), and at 50,000 each burst of them met two or
# three collections of 15-30 ms (bench/held_requests.py). Cycles made elsewhere wait longer:
# at most this many objects' worth of memory.
GC_YOUNG = 400_000


def settle_memory() -> None:
    """Once the app is built, for a serving process: what was made so far (modules,
    declarations, routes) lives as long as the process, so the garbage collector's full
    passes stop scanning it (``gc.freeze``), and its young collections run less often
    (``GC_YOUNG``). Memory is freed as before by reference counting; only cycles wait
    longer."""
    import gc

    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG, older, oldest)


def install_access_filter() -> None:
    """Redact the access log (idempotent: uvicorn's logger is process-wide)."""
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactingAccessFilter) for f in logger.filters):
        logger.addFilter(RedactingAccessFilter())


def spent_since_arrival(scope: dict[str, Any], sleep: Any) -> float:
    """Seconds since the request arrived (0 with an injected ``sleep``: simulated time)."""
    arrival = scope.get(ARRIVAL)
    if arrival is None or sleep is not asyncio.sleep:
        return 0.0
    return time.perf_counter() - float(arrival)


class ClientGone(Exception):
    """The client disconnected before the work it was waiting for was done."""


async def unless_gone(receive: Receive, work: Awaitable[T]) -> T:
    """``work``'s result, unless the client disconnects first: then ``work`` is
    cancelled (and has unwound) and :class:`ClientGone` is raised.

    For waits before any byte of the answer is sent (a queued request, a long
    generation, a stall): nothing else notices the client leave then. Call it once the
    request body has been read, so the next message ``receive`` gives is the disconnect.
    """
    task: asyncio.Future[T] = asyncio.ensure_future(work)

    async def gone() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    watch = asyncio.ensure_future(gone())
    try:
        await asyncio.wait({task, watch}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watch.cancel()
        if not task.done():
            task.cancel()
            await asyncio.wait({task})  # let the work unwind (an engine stream's cleanup) first
    if task.cancelled():
        raise ClientGone
    return task.result()
