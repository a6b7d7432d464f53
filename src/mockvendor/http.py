"""HTTP helpers every layer uses: orjson responses, server-sent events, keys and JSON bodies.

This module sits below everything else in the package (it imports only ``errors``), so
the admin API, the fault lab, the pipeline and the vendors can all use it."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import msgspec
import orjson
from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from .errors import InvalidRequest, MockVendorError, PayloadTooLarge, RequestTimeout, UnsupportedMediaType

_encode = msgspec.json.Encoder().encode


def dumps(data: Any) -> bytes:
    """JSON bytes of a declared body (a msgspec Struct, see :mod:`mockvendor.wire`) or of plain data."""
    return _encode(data) if isinstance(data, msgspec.Struct) else orjson.dumps(data)


def plain(data: Any) -> Any:
    """Plain JSON data (dicts, lists...) of a declared body, for the request log; plain data as is."""
    return msgspec.to_builtins(data) if isinstance(data, msgspec.Struct) else data


class DictHeaders(Headers):
    """Starlette's request headers, looked up through a dict built at the first lookup
    (Starlette's scan the raw list, decoding, for each one: a request path asks for several)."""

    _map: dict[str, str] | None = None

    def _names(self) -> dict[str, str]:
        m = self._map
        if m is None:  # the first of a repeated header wins, as in Starlette's
            m = self._map = {k.decode("latin-1"): v.decode("latin-1") for k, v in reversed(self._list)}
        return m

    def get(self, key: str, default: Any = None) -> Any:
        return (self._map or self._names()).get(key.lower(), default)

    def by_name(self) -> dict[str, str]:
        """The headers as a dict by lower-case name (for several lookups of known names)."""
        return self._map or self._names()

    def __getitem__(self, key: str) -> str:
        return (self._map or self._names())[key.lower()]

    def __contains__(self, key: Any) -> bool:
        return key.lower() in (self._map or self._names())


class FastRequest(Request):
    """A Starlette Request whose header lookups cost a dict lookup (:mod:`mockvendor.front`
    builds these for the vendor routes it dispatches itself)."""

    headers = None  # type: ignore[assignment]  # an attribute of each request, not Starlette's property

    def __init__(self, scope: Any, receive: Any, send: Any) -> None:
        super().__init__(scope, receive, send)
        self.headers = DictHeaders(scope=scope)


def set_header(response: Response, name: str, value: str) -> None:
    """``response.headers[name] = value`` for a lower-case ``name``, for a fraction of the cost
    (Starlette's builds the header list twice over)."""
    key, raw = name.encode("latin-1"), response.raw_headers
    for i, (k, _) in enumerate(raw):
        if k == key:
            raw[i] = (key, value.encode("latin-1"))
            return
    raw.append((key, value.encode("latin-1")))


class JSONResponse(Response):
    """A JSON response: a declared body (a msgspec Struct) or plain JSON data (orjson)."""

    media_type = "application/json"

    def __init__(self, content: Any = None, status_code: int = 200, headers: Any = None, media_type: str | None = None,
                 background: Any = None) -> None:
        if headers:  # Starlette's order: these first, then the length and type it adds
            raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
            if any(k in _SET_HERE for k, _ in raw):
                raw = None
        else:
            raw = []
        if (raw is None or media_type is not None or background is not None
                or status_code in (204, 304) or status_code < 200):
            super().__init__(content, status_code, headers, media_type, background)
            return
        # Most answers: Starlette's headers for a JSON body, made directly.
        body = self.body = dumps(content)
        self.status_code = status_code
        self.background = None
        raw += ((b"content-length", b"%d" % len(body)), _JSON_TYPE)
        self.raw_headers = raw

    def render(self, content: Any) -> bytes:
        return dumps(content)


_JSON_TYPE = (b"content-type", b"application/json")
_SET_HERE = (b"content-length", b"content-type")


def sse(data: Any, event: str | None = None) -> bytes:
    """One server-sent event: optional ``event:`` line, a ``data:`` line, a blank line."""
    payload = data if isinstance(data, bytes) else dumps(data)
    if event is None:
        return b"data: " + payload + b"\n\n"
    return b"event: " + event.encode() + b"\ndata: " + payload + b"\n\n"


def bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization")
    if auth and auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    return None


def fingerprint(key: str) -> str:
    """A short, non-reversible name for an API key (for logs and rate limits)."""
    return "key_" + hashlib.sha256(key.encode()).hexdigest()[:12]


# Where read_json leaves the raw body in ``scope["state"]``, and the pipeline the JSON parsed from it.
RAW_BODY = "raw_body"
JSON_BODY = "json_body"
# Set in the scope by the server's protocol (mockvendor.serving) once the whole body is in:
# reading it then needs no deadline.
BODY_COMPLETE = "mockvendor.body_complete"
# Set in ``scope["state"]`` by mockvendor.front for a request it dispatches itself (DIRECT);
# the pipeline then leaves a held whole answer's wait to it, with the moment it comes DUE.
DIRECT = "mockvendor.direct"
DUE = "mockvendor.due"

JSON_TYPES = ("application/json", "text/json", "application/x-ndjson")


async def read_json(request: Request, limit: int, timeout: float | None = None) -> Any:
    """The request body as JSON, or a 4xx naming what is wrong with it.

    ``timeout``: seconds the whole body may take to arrive (a client dribbling it would
    otherwise hold a task and its buffer for as long as it likes): then a 408.
    """
    ctype = request.headers.get("content-type")
    if ctype:
        base = ctype.split(";", 1)[0].strip().lower()
        if base not in JSON_TYPES and not base.endswith("+json") and base not in ("", "*/*"):
            raise UnsupportedMediaType(
                f"Content-Type must be application/json, got {base!r}."
            )
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise PayloadTooLarge(f"Request body is {int(length)} bytes; the limit is {limit} bytes.")
    try:
        if timeout is None or request.scope.get(BODY_COMPLETE):  # all in: no deadline to keep
            body = await _collect(request, limit)
        else:
            body = await _read_body(request, limit, timeout)
    except TimeoutError:
        # The rest of the body may still be on its way: close rather than read it as a next request.
        raise RequestTimeout(f"The request body did not arrive within {timeout:g} s.",
                             headers={"connection": "close"}) from None
    except ClientDisconnect:
        # Nobody is left to read an answer; 499 (nginx's "client closed request") in the log.
        raise MockVendorError("The client closed the connection before sending the whole body.",
                              status=499, kind="client_closed") from None
    if not body:
        raise InvalidRequest("Request body is empty; expected a JSON object.")
    state = request.scope.get("state")
    if state is not None:
        state[RAW_BODY] = body  # the retry telemetry's body hash reads it (mockvendor.front)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise InvalidRequest(f"Request body is not valid JSON: {e}.") from None


async def _read_body(request: Request, limit: int, timeout: float) -> bytes:
    """The whole body, read from the ASGI channel; TimeoutError past ``timeout`` seconds.

    One timer on the loop that cancels this task (as ``asyncio.timeout`` does, for a
    fraction of its cost on a path run for every request)."""
    task = asyncio.current_task()
    assert task is not None
    expired: list[bool] = []
    timer = asyncio.get_running_loop().call_later(timeout, _expire, task, expired)
    try:
        return await _collect(request, limit)
    except asyncio.CancelledError:
        if expired and task.uncancel() == 0:
            raise TimeoutError from None
        raise
    finally:
        timer.cancel()


def _expire(task: asyncio.Task[Any], expired: list[bool]) -> None:
    expired.append(True)
    task.cancel()


async def _collect(request: Request, limit: int) -> bytes:
    receive = request.receive
    message = await receive()
    if message["type"] != "http.request":
        raise ClientDisconnect()
    body: bytes = message.get("body", b"")
    if message.get("more_body"):
        parts = [body]
        size = len(body)
        while True:
            if size > limit:
                raise PayloadTooLarge(f"Request body is over the limit of {limit} bytes.")
            message = await receive()
            if message["type"] != "http.request":
                raise ClientDisconnect()
            part = message.get("body", b"")
            size += len(part)
            parts.append(part)
            if not message.get("more_body"):
                break
        body = b"".join(parts)
    if len(body) > limit:
        raise PayloadTooLarge(f"Request body is over the limit of {limit} bytes.")
    request._body = body  # what request.body() returns from now on
    return body
