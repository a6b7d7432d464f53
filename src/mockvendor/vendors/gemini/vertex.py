"""Gemini on Vertex AI (vendor ``vertex``): the gemini family's API under Vertex's resource paths,

    POST /{v1,v1beta1}/projects/{project}/locations/{location}/publishers/google/models/{model}:{method}

with ``generateContent``, ``streamGenerateContent`` (``?alt=sse``) and ``countTokens``; what
``google.genai.Client(vertexai=True, ...)`` sends (``v1beta1`` by default). Auth is an OAuth
access token (``Authorization: Bearer``); errors are Google's ``{"error": {code, message,
status}}``. Requests and answers are the gemini family's declarations; answers add Vertex's
``createTime``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec
from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from ...errors import MockVendorError, NotFound
from ...http import bearer
from ...pipeline import endpoint
from ...types import Completion, GenerateRequest
from ...wire import schema
from ..openapi import GEMINI_ERRORS, STR, _not_a_chat, _operation
from . import wire
from .openapi import ALT, GENERATE_EXAMPLE, STREAM_DOC
from .vendor import GeminiVendor

if TYPE_CHECKING:
    from ...context import AppContext

VERSIONS = ("v1", "v1beta1")
METHODS = ("generateContent", "streamGenerateContent", "countTokens")
UNAUTHENTICATED = ("Request is missing required authentication credential. Expected OAuth 2 access token, login "
                   "cookie or other valid authentication credential. See "
                   "https://developers.google.com/identity/sign-in/web/devconsole-project.")
INVALID_TOKEN = ("Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
                 "other valid authentication credential. See "
                 "https://developers.google.com/identity/sign-in/web/devconsole-project.")


class VertexResponse(wire.GenerateContentResponse, kw_only=True):
    """A generateContent answer on Vertex: Gemini's, with the time it was made."""

    createTime: str | msgspec.UnsetType = msgspec.UNSET


class VertexVendor(GeminiVendor):
    """Gemini's generateContent under Vertex AI's project and location paths."""

    name = "vertex"
    title = "Vertex AI (Gemini)"
    url_prefixes: ClassVar[tuple[str, ...]] = tuple(f"/{v}/projects/" for v in VERSIONS)

    def routes(self, ctx: AppContext) -> list[BaseRoute]:
        handler = endpoint(ctx, self)
        return [
            Route(f"/{v}/projects/{{project}}/locations/{{location}}/publishers/google/models/{{target:gemini_target}}",
                  handler, methods=["POST"], name=f"vertex-{v}")
            for v in VERSIONS
        ]

    def parse(self, body: Any, request: Request) -> GenerateRequest:
        method = request.path_params.get("target", "").rpartition(":")[2]
        if method not in METHODS:
            raise NotFound(f"Method {method!r} is not found on Vertex AI: use one of {', '.join(METHODS)}.")
        return super().parse(body, request)

    def api_key(self, request: Request) -> str | None:
        return bearer(request)

    def auth_error(self, key: str | None) -> MockVendorError:
        return MockVendorError(INVALID_TOKEN if key else UNAUTHENTICATED, status=401, kind="authentication")

    def render(self, req: GenerateRequest, c: Completion) -> Any:
        return _stamped(super().render(req, c))

    def openapi(self) -> dict[str, Any]:
        return vertex_paths(self)


def _stamped(body: Any) -> Any:
    if isinstance(body, wire.GenerateContentResponse):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
        return VertexResponse(**msgspec.structs.asdict(body), createTime=stamp)
    return body


PROJECT = {"name": "project", "in": "path", "required": True, "schema": STR, "example": "my-project"}
LOCATION = {"name": "location", "in": "path", "required": True, "schema": STR, "example": "us-central1"}
MODEL = {"name": "model", "in": "path", "required": True, "schema": STR, "example": "gemini-2.0-flash"}
ERRORS = {**GEMINI_ERRORS, "401": "UNAUTHENTICATED: no or a wrong access token (with MOCKVENDOR_API_KEYS set)."}


def vertex_paths(vendor: Any) -> dict[str, Any]:
    error = schema(wire.ErrorBody)
    answer = schema(VertexResponse)
    # Without alt=sse a stream is one JSON array of responses.
    answers = {"type": "array", "items": answer, "description": wire.ResponseArray.__doc__}
    params = [PROJECT, LOCATION, MODEL]
    paths: dict[str, Any] = {}
    for v in VERSIONS:
        base = f"/{v}/projects/{{project}}/locations/{{location}}/publishers/google/models/{{model}}"
        for method, stream in (("generateContent", False), ("streamGenerateContent", True)):
            paths[f"{base}:{method}"] = {"post": _operation(
                vendor, f"vertex_{v}_{method}", f"Vertex AI Gemini {method} ({v}).",
                request=schema(wire.GenerateContentRequest), example=GENERATE_EXAMPLE,
                response=answers if stream else answer, error=error, errors=ERRORS,
                parameters=[*params, ALT] if stream else params, stream_doc=STREAM_DOC if stream else None)}
        paths[f"{base}:countTokens"] = {"post": _not_a_chat(_operation(
            vendor, f"vertex_{v}_countTokens", f"Vertex AI Gemini countTokens ({v}).",
            request=schema(wire.CountTokensRequest), example={"contents": GENERATE_EXAMPLE["contents"]},
            response=schema(wire.CountTokensResponse), error=error, errors=ERRORS, parameters=params,
            stream_doc=None))}
    return paths


VENDOR = VertexVendor
