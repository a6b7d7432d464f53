"""One exception tree for everything that can go wrong in a request.

Nothing outside a vendor's ``render_error`` builds error JSON: handlers raise one of
these and the vendor that owns the route turns it into its own wire shape. ``kind`` is
the vendor-neutral name of the problem; vendors map it to their own ``type``/``code``.
A simulated failure carries ``fault`` (e.g. ``error-500``), which becomes the
``x-mockvendor-fault`` header so users can tell it from a real bug.
"""

from __future__ import annotations


class MockVendorError(Exception):
    """Base class: an HTTP status, a neutral kind and a human message."""

    status: int = 500
    kind: str = "server_error"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        kind: str | None = None,
        param: str | None = None,
        fault: str | None = None,
        retry_after_ms: int | None = None,
        should_retry: bool | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if kind is not None:
            self.kind = kind
        self.param = param
        self.fault = fault
        self.retry_after_ms = retry_after_ms
        self.should_retry = should_retry
        self.headers = dict(headers or {})

    def response_headers(self) -> dict[str, str]:
        """Headers every vendor sends with this error (retry hints, fault marker)."""
        h = dict(self.headers)
        if self.retry_after_ms is not None:
            h["retry-after-ms"] = str(self.retry_after_ms)
            # Integer seconds, rounded up: RFC 9110 delay-seconds is an integer.
            h["retry-after"] = str(max(1, -(-self.retry_after_ms // 1000)))
        if self.should_retry is not None:
            h["x-should-retry"] = "true" if self.should_retry else "false"
        if self.fault:
            h["x-mockvendor-fault"] = self.fault
        return h


class InvalidRequest(MockVendorError):
    status, kind = 400, "invalid_request"


class ContextLengthExceeded(InvalidRequest):
    kind = "context_length_exceeded"


class AuthenticationFailed(MockVendorError):
    status, kind = 401, "authentication"


class PermissionDenied(MockVendorError):
    status, kind = 403, "permission"


class NotFound(MockVendorError):
    status, kind = 404, "not_found"


class ModelNotFound(NotFound):
    kind = "model_not_found"


class MethodNotAllowed(MockVendorError):
    status, kind = 405, "method_not_allowed"


class RequestTimeout(MockVendorError):
    status, kind = 408, "timeout"


class Conflict(MockVendorError):
    status, kind = 409, "conflict"


class PayloadTooLarge(MockVendorError):
    status, kind = 413, "request_too_large"


class UnsupportedMediaType(MockVendorError):
    status, kind = 415, "unsupported_media_type"


class RateLimited(MockVendorError):
    status, kind = 429, "rate_limit"


class QuotaExceeded(MockVendorError):
    status, kind = 429, "insufficient_quota"


class ServerError(MockVendorError):
    status, kind = 500, "server_error"


class UpstreamError(MockVendorError):
    """The upstream (OpenAI, an inference server) could not be reached or failed."""

    status, kind = 502, "bad_gateway"


class Unavailable(MockVendorError):
    status, kind = 503, "unavailable"


class GatewayTimeout(MockVendorError):
    status, kind = 504, "gateway_timeout"


class Overloaded(MockVendorError):
    status, kind = 529, "overloaded"


_BY_STATUS: dict[int, type[MockVendorError]] = {
    400: InvalidRequest,
    401: AuthenticationFailed,
    403: PermissionDenied,
    404: NotFound,
    408: RequestTimeout,
    409: Conflict,
    413: PayloadTooLarge,
    429: RateLimited,
    500: ServerError,
    502: UpstreamError,
    503: Unavailable,
    504: GatewayTimeout,
    529: Overloaded,
}

SIMULATED_MESSAGES: dict[int, str] = {
    400: "Simulated bad request.",
    401: "Simulated authentication failure: invalid API key.",
    403: "Simulated permission error: this key may not use this model.",
    404: "Simulated not found.",
    408: "Simulated request timeout.",
    409: "Simulated conflict: please retry.",
    413: "Simulated request too large.",
    429: "Simulated rate limit: too many requests, please retry later.",
    500: "Simulated internal server error.",
    502: "Simulated bad gateway.",
    503: "Simulated overload: the service is temporarily unavailable.",
    504: "Simulated gateway timeout.",
    529: "Simulated overload: the model is overloaded, please retry.",
}


def error_for_status(status: int, message: str | None = None, **kw: object) -> MockVendorError:
    """The error class for an HTTP status (used by simulated faults)."""
    cls = _BY_STATUS.get(status, MockVendorError)
    msg = message or SIMULATED_MESSAGES.get(status, f"Simulated error {status}.")
    return cls(msg, status=status, **kw)  # type: ignore[arg-type]
