"""What every vendor shares: the Vendor protocol and its defaults (``BaseVendor``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from ..errors import AuthenticationFailed, MockVendorError
from ..http import JSONResponse, bearer, sse
from ..types import Chunk, Completion, GenerateRequest

if TYPE_CHECKING:
    from ..context import AppContext
    from ..engines import Engine
    from ..faults.ratelimit import RateLimitState


class Vendor(Protocol):
    """One wire format.

    Contract:
    - ``name`` keys the vendor in the registry, in fault configuration
      (``MOCKVENDOR_<NAME>_ERROR_RATE``) and in the request log; ``title`` is for people.
    - ``routes(ctx)`` returns its Starlette routes. Generation routes are built with
      :func:`mockvendor.pipeline.endpoint`, which runs the one request path:
      ``parse`` -> fault policy -> engine -> ``render`` / ``render_stream``.
    - ``parse(body, request)`` turns the JSON body into a neutral ``GenerateRequest`` or
      raises :class:`~mockvendor.errors.InvalidRequest` naming the bad field.
    - ``render(req, completion)`` returns the JSON body of a finished answer;
      ``render_stream(req, events)`` turns engine events into the vendor's SSE bytes.
    - ``error_body(err)`` is the only place this vendor's error JSON is built;
      ``stream_error(err)`` is the in-band error event for a stream already begun
      (``None`` if the vendor has none, then the stream is cut).
    - ``api_key(request)`` extracts the caller's key the way the vendor's clients send it;
      ``auth_error(key)`` is the error for a missing or unknown key (keys configured).
    - ``ratelimit_headers(state)`` renders the fault lab's rate-limit buckets as this
      vendor's headers (OpenAI's ``x-ratelimit-*`` by default).
    - ``openapi()`` returns the OpenAPI path items for its routes.
    """

    name: ClassVar[str]
    title: ClassVar[str]

    def routes(self, ctx: AppContext) -> list[BaseRoute]: ...

    def parse(self, body: Any, request: Request) -> GenerateRequest: ...

    def render(self, req: GenerateRequest, completion: Completion) -> Any: ...

    def render_stream(
        self, req: GenerateRequest, events: AsyncIterator[Chunk | Completion]
    ) -> AsyncIterator[bytes]: ...

    def error_body(self, err: MockVendorError) -> Any: ...

    def error_headers(self, err: MockVendorError) -> dict[str, str]: ...

    def stream_error(self, err: MockVendorError) -> bytes | None: ...

    def api_key(self, request: Request) -> str | None: ...

    def auth_error(self, key: str | None) -> MockVendorError: ...

    def ratelimit_headers(self, state: RateLimitState) -> dict[str, str]: ...

    def resolve(self, ctx: AppContext, req: GenerateRequest) -> Engine: ...

    def openapi(self) -> dict[str, Any]: ...


class BaseVendor:
    """Defaults shared by vendors; each vendor overrides what differs."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    path: ClassVar[str] = ""

    def error_body(self, err: MockVendorError) -> Any:
        return {"error": {"type": err.kind, "message": err.message}}

    def error_headers(self, err: MockVendorError) -> dict[str, str]:
        return err.response_headers()

    def stream_error(self, err: MockVendorError) -> bytes | None:
        return sse({"error": {"type": err.kind, "message": err.message}})

    def api_key(self, request: Request) -> str | None:
        return bearer(request)

    def auth_error(self, key: str | None) -> MockVendorError:
        """What this vendor answers a missing (``None``) or unknown key; OpenAI's by default.

        The key is never shown whole: OpenAI's own message masks all but its ends."""
        if not key:
            return AuthenticationFailed("No API key provided.")
        shown = (key[:3] + "***" + key[-4:]) if len(key) > 10 else "***"
        return AuthenticationFailed(f"Incorrect API key provided: {shown}.")

    def resolve(self, ctx: AppContext, req: GenerateRequest) -> Engine:
        return ctx.models.resolve(req.model)

    def ratelimit_headers(self, state: RateLimitState) -> dict[str, str]:
        """This vendor's rate-limit headers (sent on every response while limits are on).

        The default is OpenAI's: ``x-ratelimit-{limit,remaining,reset}-{requests,tokens}``,
        resets as Go-style durations (time until the bucket is full again).
        """
        from ..faults.ratelimit import go_duration

        h: dict[str, str] = {}
        for what, b in (("requests", state.requests), ("tokens", state.tokens)):
            if b is not None:
                h[f"x-ratelimit-limit-{what}"] = str(b.limit)
                h[f"x-ratelimit-remaining-{what}"] = str(b.remaining)
                h[f"x-ratelimit-reset-{what}"] = go_duration(b.reset_s)
        return h

    def error_response(self, err: MockVendorError) -> Response:
        return JSONResponse(self.error_body(err), err.status, self.error_headers(err))

    def render_count(self, req: GenerateRequest, tokens: int) -> Any:
        """A token count in this vendor's shape, for the requests its parser marks ``count_only``."""
        raise NotImplementedError(f"{self.name} has no token-counting route")

    def render_embeddings(self, req: GenerateRequest, vectors: list[list[float]], tokens: int) -> Any:
        """Unit vectors (one per ``req.embed_input``) in this vendor's shape."""
        raise NotImplementedError(f"{self.name} has no embeddings route")

    def openapi(self) -> dict[str, Any]:
        return {}
