"""Gemini on Vertex AI (vendor ``vertex``): the gemini family's API under Vertex's resource paths,

    POST /{v1,v1beta1}/projects/{project}/locations/{location}/publishers/google/models/{model}:{method}

with ``generateContent``, ``streamGenerateContent`` (``?alt=sse``) and ``countTokens``; what
``google.genai.Client(vertexai=True, ...)`` sends (``v1beta1`` by default). Auth is an OAuth
access token (``Authorization: Bearer``); errors are Google's ``{"error": {code, message,
status}}``. Requests and answers are the gemini family's declarations; answers add Vertex's
``createTime``. ``POST /oauth2/token`` stands in for Google's OAuth token endpoint.
"""

from __future__ import annotations

import base64
import json
import time
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qs

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ...errors import MockVendorError, NotFound
from ...http import JSONResponse, bearer
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
TOKEN_PATH = "/oauth2/token"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
MAX_FORM_BYTES = 64 * 1024  # a token request is a short form (a signed JWT at most)
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
            *(Route(f"/{v}/projects/{{project}}/locations/{{location}}/publishers/google/models/"
                    "{target:gemini_target}", handler, methods=["POST"], name=f"vertex-{v}") for v in VERSIONS),
            Route(TOKEN_PATH, token, methods=["POST"], name="vertex-oauth2-token"),
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


async def token(request: Request) -> Response:
    """Google's OAuth token endpoint, for service-account credentials whose ``token_uri`` points here
    (clients that always fetch a token first, as LiteLLM's ``vertex_ai/`` does, then need no Google
    account). The access token handed out is the service account's email (the signed JWT's
    ``iss``; the signature is not checked), or for a refresh-token grant the refresh token: either
    can be listed in ``MOCKVENDOR_API_KEYS``."""
    body = b""
    async for piece in request.stream():
        body += piece
        if len(body) > MAX_FORM_BYTES:
            return JSONResponse({"error": "invalid_request", "error_description": "The request is too large."}, 413)
    form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    grant = form.get("grant_type", "")
    access = None
    if grant == "refresh_token":
        access = form.get("refresh_token")
    elif grant == JWT_BEARER:
        access = _issuer(form.get("assertion", ""))
    if not access:
        error = "invalid_grant" if grant in (JWT_BEARER, "refresh_token") else "unsupported_grant_type"
        hint = f"Use grant_type refresh_token or {JWT_BEARER}, with its token."
        return JSONResponse({"error": error, "error_description": hint}, 400)
    return JSONResponse({"access_token": access, "expires_in": 3599, "scope": SCOPE, "token_type": "Bearer"})


def _issuer(assertion: str) -> str | None:
    try:
        claims = json.loads(base64.urlsafe_b64decode(assertion.split(".")[1] + "=="))
    except (IndexError, ValueError):
        return None
    iss = claims.get("iss") if isinstance(claims, dict) else None
    return iss if isinstance(iss, str) else None


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
