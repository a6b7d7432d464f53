"""``/t/<test id>/...``: a base URL per test. The prefix is taken off the path and the test
id set as ``x-mockvendor-test-id`` would set it, so an application under test binds its
requests to its test without sending a header (the pytest plugin's ``base_url``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from ..faults.headers import TEST_ID_HEADER

_HEADER = TEST_ID_HEADER.encode()


def strip_test_prefix(scope: dict[str, Any]) -> dict[str, Any]:
    """``scope`` for ``/t/<id>/rest``: a copy with the path ``/rest`` and the test id header
    set (replacing one sent); any other scope as it is."""
    path = scope.get("path", "")
    if path.startswith("/t/") and scope["type"] in ("http", "websocket"):
        test_id, slash, rest = path[3:].partition("/")
        if test_id and slash:
            scope = dict(scope)
            scope["path"] = "/" + rest
            raw = scope.get("raw_path")
            if raw:
                parts = raw.split(b"/", 3)
                scope["raw_path"] = b"/" + (parts[3] if len(parts) > 3 else b"")
            headers = [(k, v) for k, v in scope["headers"] if k != _HEADER]
            headers.append((_HEADER, unquote(test_id).encode()))
            scope["headers"] = headers
    return scope


class TestPrefixMiddleware:
    """Pure ASGI: strips ``/t/<id>`` and sets the test id header (replacing one sent). Where
    nothing wraps :class:`mockvendor.front.Front`, Front does this itself (one layer less)."""

    __test__ = False  # not a pytest test class, whatever its name

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await self.app(strip_test_prefix(scope), receive, send)
