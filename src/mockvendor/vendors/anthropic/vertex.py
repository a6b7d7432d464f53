"""Claude on Vertex AI (vendor ``vertex-anthropic``): the anthropic family's Messages API under
Vertex's resource paths, what ``anthropic.AnthropicVertex`` sends:

    POST /v1/projects/{project}/locations/{location}/publishers/anthropic/models/{model}:rawPredict
    POST ...:streamRawPredict                     (the same body with "stream": true)
    POST .../publishers/anthropic/models/count-tokens:rawPredict   (the model in the body)

The body is a Messages request without ``model`` (the URL names it) and with
``anthropic_version: "vertex-2023-10-16"`` (or an API version date, which the current SDK sends).
Vertex model ids carry their date after ``@``
(``claude-sonnet-4-5@20250929``): the catalog's ``claude-sonnet-4-5-20250929``. Auth is an
OAuth access token (``Authorization: Bearer``). The model's own errors (400, 500, 529) are
Anthropic's; Vertex's (401, 403, 404, 429) are Google's ``{"error": {code, message, status}}``,
as Vertex answers them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from msgspec import Meta, Struct
from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from ...errors import MockVendorError, ModelNotFound, NotFound
from ...http import bearer
from ...pipeline import endpoint
from ...types import GenerateRequest
from ...wire import schema
from ..openapi import STR, _not_a_chat, _operation
from . import wire
from .openapi import ANTHROPIC_STREAM, EXAMPLE
from .vendor import AnthropicRequest, AnthropicVendor, with_request_id

if TYPE_CHECKING:
    from ...context import AppContext
    from ...engines import Engine
    from ...faults.ratelimit import RateLimitState

VERSION = "vertex-2023-10-16"
SPECIFIERS = ("rawPredict", "streamRawPredict")
UNAUTHENTICATED = ("Request is missing required authentication credential. Expected OAuth 2 access token, login "
                   "cookie or other valid authentication credential. See "
                   "https://developers.google.com/identity/sign-in/web/devconsole-project.")
INVALID_TOKEN = ("Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
                 "other valid authentication credential. See "
                 "https://developers.google.com/identity/sign-in/web/devconsole-project.")
GOOGLE_STATUS = {401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED"}
# Vertex's documented version, or an API date (what the current SDK sends: its anthropic-version).
AnthropicVersion = Annotated[str, Meta(pattern=r"^(vertex-2023-10-16|\d{4}-\d{2}-\d{2})$", examples=[VERSION],
                                       description="`vertex-2023-10-16`, or an Anthropic API version date.")]


class VertexMessagesRequest(wire.MessagesRequest, kw_only=True):
    """A Messages request on Vertex: ``anthropic_version`` in the body, the model in the URL."""

    model: Annotated[str, Meta(description="Not sent: the URL names the model (one sent is replaced).")] = ""
    anthropic_version: AnthropicVersion


class VertexCountTokensRequest(wire.CountTokensRequest, kw_only=True):
    """A token count on Vertex (``count-tokens:rawPredict``): the model in the body, with ``anthropic_version``."""

    anthropic_version: AnthropicVersion


class GoogleStatus(Struct, kw_only=True):
    code: int
    message: str
    status: str


class GoogleError(Struct):
    """Vertex's own errors (auth, unknown model, quota): Google's shape."""

    error: GoogleStatus


class VertexAnthropicVendor(AnthropicVendor):
    """Anthropic's Messages API under Vertex AI's project and location paths."""

    name = "vertex-anthropic"
    title = "Vertex AI (Claude)"
    url_prefixes: ClassVar[tuple[str, ...]] = ()  # an unknown /v1/projects/ path: Vertex's (Google's) 404
    request_types = (VertexMessagesRequest, VertexCountTokensRequest)

    def routes(self, ctx: AppContext) -> list[BaseRoute]:
        messages = with_request_id(endpoint(ctx, self))
        count = with_request_id(endpoint(ctx, self, parse=self.parse_count))
        base = "/v1/projects/{project}/locations/{location}/publishers/anthropic/models"
        return [
            # Listed first: the general route would take count-tokens for a model name.
            Route(base + "/count-tokens:rawPredict", count, methods=["POST"], name="vertex-anthropic-count"),
            Route(base + "/{target}", messages, methods=["POST"], name="vertex-anthropic-predict"),
        ]

    def parse(self, body: Any, request: Request) -> GenerateRequest:
        model, _, specifier = request.path_params["target"].rpartition(":")
        if not model or specifier not in SPECIFIERS:
            raise NotFound(f"Method {specifier!r} is not found: use {{model}}:rawPredict or :streamRawPredict.")
        if isinstance(body, dict):
            body = {**body, "model": model}
        return super().parse(body, request)

    def resolve(self, ctx: AppContext, req: GenerateRequest) -> Engine:
        try:
            engine = ctx.models.resolve(req.model.replace("@", "-"))  # claude-x@20250929: claude-x-20250929
        except ModelNotFound:
            raise ModelNotFound(
                f"Publisher Model `publishers/anthropic/models/{req.model}` was not found or your project does not "
                "have access to it. Please ensure you are using a valid model version.") from None
        if isinstance(req, AnthropicRequest):
            req.engine = engine
        return engine

    def api_key(self, request: Request) -> str | None:
        return bearer(request)

    def auth_error(self, key: str | None) -> MockVendorError:
        return MockVendorError(INVALID_TOKEN if key else UNAUTHENTICATED, status=401, kind="authentication")

    def error_body(self, err: MockVendorError) -> Any:
        status = GOOGLE_STATUS.get(err.status)
        if status is None:
            return super().error_body(err)
        return GoogleError(GoogleStatus(code=err.status, message=err.message, status=status))

    def error_headers(self, err: MockVendorError) -> dict[str, str]:
        return err.response_headers()  # Vertex sends no anthropic-ratelimit-* headers

    def ratelimit_headers(self, state: RateLimitState) -> dict[str, str]:
        return {}

    def claims_models(self, request: Request) -> bool:
        return False  # Vertex lists no models at /v1/models

    def openapi(self) -> dict[str, Any]:
        return vertex_paths(self)


ERRORS = {
    "400": "Anthropic's invalid_request_error (a missing or wrong `anthropic_version` too).",
    "401": "UNAUTHENTICATED, Google's shape (no or a wrong access token, with MOCKVENDOR_API_KEYS set).",
    "404": "NOT_FOUND, Google's shape: unknown model.",
    "429": "RESOURCE_EXHAUSTED, Google's shape (simulated).",
    "500": "Anthropic's api_error (simulated only).",
    "529": "Anthropic's overloaded_error (simulated, or the model queue is full).",
}
PROJECT = {"name": "project", "in": "path", "required": True, "schema": STR, "example": "my-project"}
LOCATION = {"name": "location", "in": "path", "required": True, "schema": STR, "example": "us-east5"}
MODEL = {"name": "model", "in": "path", "required": True, "schema": STR, "example": "claude-sonnet-4-5@20250929"}


def vertex_paths(vendor: Any) -> dict[str, Any]:
    base = "/v1/projects/{project}/locations/{location}/publishers/anthropic/models"
    error = {"anyOf": [schema(wire.ErrorBody), schema(GoogleError)]}
    body = {**{k: v for k, v in EXAMPLE.items() if k != "model"}, "anthropic_version": VERSION}
    paths: dict[str, Any] = {}
    for specifier in SPECIFIERS:
        stream = specifier == "streamRawPredict"
        paths[f"{base}/{{model}}:{specifier}"] = {"post": _operation(
            vendor, f"vertex_anthropic_{specifier}", f"Claude on Vertex AI: {specifier}.",
            request=schema(VertexMessagesRequest), example={**body, "stream": True} if stream else body,
            response=schema(wire.Message), error=error, errors=ERRORS,
            stream_doc=ANTHROPIC_STREAM if stream else None, parameters=[PROJECT, LOCATION, MODEL])}
    paths[f"{base}/count-tokens:rawPredict"] = {"post": _not_a_chat(_operation(
        vendor, "vertex_anthropic_count_tokens", "Claude on Vertex AI: count a request's input tokens.",
        request=schema(VertexCountTokensRequest),
        example={**{k: v for k, v in body.items() if k != "max_tokens"}, "model": "claude-sonnet-4-5@20250929"},
        response=schema(wire.CountTokensResponse), error=error, errors=ERRORS, stream_doc=None,
        parameters=[PROJECT, LOCATION]))}
    return paths


VENDOR = VertexAnthropicVendor
