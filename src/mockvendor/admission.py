"""The cap on requests in flight (``MOCKVENDOR_MAX_REQUESTS``), answered in the vendor's shape.

uvicorn's own ``limit_concurrency`` answers past its limit with a plain-text 503 that no
client library parses, carries no fault marker and never reaches the request log. This
check runs in :mod:`mockvendor.front`, where the request log is kept, instead: past the cap a request
gets its vendor's own overload error (the vendor's 503, Anthropic's 529) marked
``x-mockvendor-fault: request-limit`` with a ``retry-after``, and is logged once like any
other answer. uvicorn's limit (``MOCKVENDOR_MAX_CONNECTIONS``, counting connections and
requests) stays as a backstop set well above it, against idle or dribbling connections.
"""

from __future__ import annotations

from typing import Any

from .errors import error_for_status

Scope = dict[str, Any]
FAULT = "request-limit"


class AdmissionLimit:
    """Counts HTTP requests in flight (:class:`mockvendor.front.Front` keeps ``inflight``);
    past ``limit`` (0: unlimited), :meth:`refuse` answers an overload."""

    def __init__(self, limit: int, vendors: Any) -> None:
        self.limit = limit
        self.inflight = 0
        self.refused = 0
        # (prefix, vendor), longest first: the vendor whose route a refused request aimed at.
        table = []
        for vendor in vendors:
            prefixes = tuple(getattr(vendor, "url_prefixes", ()))
            path = getattr(vendor, "path", None)
            if isinstance(path, str):
                prefixes += (path,)
            table.extend((p, vendor) for p in prefixes)
        self._prefixes = sorted(table, key=lambda pv: -len(pv[0]))

    def vendor_for(self, path: str) -> Any:
        for prefix, vendor in self._prefixes:
            if path.startswith(prefix):
                return vendor
        return None

    async def refuse(self, scope: Scope, receive: Any, send: Any) -> None:
        """Answer the vendor's own overload error (:mod:`mockvendor.front` logs it)."""
        self.refused += 1
        vendor = self.vendor_for(scope["path"])
        message = (f"The server is overloaded: {self.inflight} requests in flight, the limit is {self.limit} "
                   "(MOCKVENDOR_MAX_REQUESTS). Retry shortly.")
        rec = scope.get("state", {}).get("record")
        if vendor is None:
            from .http import JSONResponse

            response: Any = JSONResponse({"error": {"type": "overloaded", "message": message}}, 503,
                                         {"x-mockvendor-fault": FAULT, "retry-after": "1"})
        else:
            # Anthropic's overload is its 529, the others' a 503 (as the fault lab's overload_status).
            status = 529 if "anthropic" in vendor.name else 503
            err = error_for_status(status, message, fault=FAULT, retry_after_ms=1000)
            response = vendor.error_response(err)
            if rec is not None:  # logged once, by mockvendor.front around us
                rec.vendor = vendor.name
                rec.error = message
                rec.fault = FAULT
        await response(scope, receive, send)
