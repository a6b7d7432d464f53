"""Amazon Bedrock Runtime: ``POST /model/{modelId}/converse`` and ``/converse-stream`` (the
Converse API) and ``/invoke`` and ``/invoke-with-response-stream`` (InvokeModel with Claude's
Anthropic Messages body), with AWS's error shapes (``{"message": ...}`` and the
``x-amzn-ErrorType`` header) and streams in AWS event stream framing (:mod:`.eventstream`).

Callers sign with SigV4 (:mod:`.auth`: the header's shape is checked, the signature is not).
Model ids (``anthropic.claude-3-5-sonnet-20240620-v1:0``, ``us.amazon.nova-lite-v1:0``, ARNs)
resolve through the catalog's Bedrock family rule; an unknown id is Bedrock's
``ValidationException`` ("The provided model identifier is invalid.")."""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar

from msgspec import UNSET
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from ...errors import InvalidRequest, MockVendorError, ModelNotFound
from ...http import JSONResponse, dumps
from ...pipeline import endpoint, record_of
from ...types import Chunk, Completion, GenerateRequest
from ...wire import decode
from ..base import BaseVendor
from . import auth, claude, converse, eventstream, native, wire
from . import openapi as docs
from .common import BedrockRequest

if TYPE_CHECKING:
    from ...context import AppContext
    from ...engines import Engine
    from ...faults.ratelimit import RateLimitState
    from ...settings import Settings

Handler = Callable[[Request], Awaitable[Response]]

# The error names of the operations (botocore's service model), by HTTP status.
CODES = {
    400: "ValidationException",
    403: "AccessDeniedException",
    404: "ResourceNotFoundException",
    408: "ModelTimeoutException",
    409: "ConflictException",
    424: "ModelErrorException",
    429: "ThrottlingException",
    500: "InternalServerException",
    503: "ServiceUnavailableException",
}
# The error members both streams declare (ConverseStreamOutput, ResponseStream); any other error
# is a modelStreamErrorException carrying its original status.
STREAM_ERRORS = {"ValidationException", "ThrottlingException", "ServiceUnavailableException",
                 "InternalServerException"}
INVALID_MODEL = "The provided model identifier is invalid."
_ATTEMPT = re.compile(r"attempt=(\d+)")


def error_code(err: MockVendorError) -> tuple[str, int]:
    """Bedrock's name for an error, and the status it answers with. A simulated error keeps the
    status it was forced with (the fault lab's contract: ``x-mockvendor-fault: 401`` is a 401);
    otherwise AWS's own: an overloaded model is a 503 there."""
    status = err.status
    if err.kind[:1].isupper():  # already one of AWS's names (the SigV4 checks')
        return err.kind, status
    if err.kind == "authentication":
        code = "UnrecognizedClientException"
    elif err.kind == "overloaded":
        code, status = "ServiceUnavailableException", status if err.fault else 503
    elif err.kind == "insufficient_quota":
        code = "ServiceQuotaExceededException"
    elif err.kind == "method_not_allowed":
        code = "UnknownOperationException"
    else:
        code = CODES.get(status) or ("InternalServerException" if status >= 500 else "ValidationException")
    return code, status


def model_id(request: Request) -> str:
    """The path's model id; an ARN names its model (or inference profile) after the last ``/``."""
    raw: str = request.path_params.get("model_id", "")
    return raw.rsplit("/", 1)[-1] if raw.startswith("arn:") else raw


def invoke_request(model: str, body: Any, stream: bool) -> BedrockRequest:
    """InvokeModel's body for ``model``: Claude's (Anthropic Messages), or Titan's, Llama's, Nova's own."""
    kind = native.provider(model)
    if kind == "claude" or (isinstance(body, dict) and "anthropic_version" in body):
        return claude.request(model, body, stream)
    return native.request(kind, model, body, stream)


def count_request(model: str, body: Any) -> BedrockRequest:
    """CountTokens: the ``input`` is a Converse request's prompt or an InvokeModel body (base64)."""
    counted = decode(wire.CountTokensRequest, body, wire.CONVERSE_WORDING).input
    if counted.converse is not UNSET:
        req = converse.request(model, body["input"]["converse"], False)  # already checked: its words
    else:
        try:
            invoke_body = json.loads(base64.b64decode(counted.invokeModel.body, validate=True))  # type: ignore[union-attr]
        except ValueError:
            raise InvalidRequest("input.invokeModel.body must be a JSON body, base64.",
                                 param="input.invokeModel.body") from None
        req = invoke_request(model, invoke_body, False)
    req.count_only = True
    return req


# -- the vendor ------------------------------------------------------------------------------
class BedrockVendor(BaseVendor):
    """Amazon Bedrock Runtime's Converse and InvokeModel APIs on the configured models."""

    name = "bedrock"
    title = "Amazon Bedrock-compatible"
    url_prefixes: ClassVar[tuple[str, ...]] = ("/model/",)

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def routes(self, ctx: AppContext) -> list[BaseRoute]:
        def route(op: str, parse: Callable[[Any, Request], GenerateRequest]) -> Route:
            return Route(f"/model/{{model_id:path}}/{op}", self._serve(endpoint(ctx, self, parse=parse), op),
                         methods=["POST"], name=f"bedrock-{op}")

        return [
            route("converse", lambda body, r: converse.request(model_id(r), body, False)),
            route("converse-stream", lambda body, r: converse.request(model_id(r), body, True)),
            route("invoke", lambda body, r: invoke_request(model_id(r), body, False)),
            route("invoke-with-response-stream", lambda body, r: invoke_request(model_id(r), body, True)),
            route("count-tokens", lambda body, r: count_request(model_id(r), body)),
        ]

    def _serve(self, handler: Handler, op: str) -> Handler:
        """Around the request path: the SigV4 header's shape, AWS's request id and attempt count,
        InvokeModel's token headers, and streams sent as AWS event streams."""

        async def handle(request: Request) -> Response:
            rec = record_of(request)
            attempt = _ATTEMPT.search(request.headers.get("amz-sdk-request", ""))
            if attempt:  # botocore's attempt number (1 = the first try)
                rec.retry_count = max(0, int(attempt[1]) - 1)
            t0 = time.perf_counter()
            problem = auth.check(request)
            if problem is not None:
                rec.vendor, rec.error = self.name, problem.message
                resp = self.error_response(problem)
            else:
                resp = await handler(request)
            resp.headers["x-amzn-requestid"] = rec.id
            if isinstance(resp, StreamingResponse) and resp.media_type == "text/event-stream":
                resp.headers["content-type"] = eventstream.CONTENT_TYPE
                if op.startswith("invoke"):
                    resp.headers["x-amzn-bedrock-content-type"] = "application/json"
                resp.body_iterator = _framed(resp.body_iterator, resp.headers.get("x-mockvendor-fault"))
            elif op == "invoke" and resp.status_code == 200:
                resp.headers["x-amzn-bedrock-input-token-count"] = str(rec.tokens_in or 0)
                resp.headers["x-amzn-bedrock-output-token-count"] = str(rec.tokens_out or 0)
                resp.headers["x-amzn-bedrock-invocation-latency"] = str(round((time.perf_counter() - t0) * 1000))
            return resp

        return handle

    def api_key(self, request: Request) -> str | None:
        return auth.access_key(request)

    def auth_error(self, key: str | None) -> MockVendorError:
        if not key:
            return MockVendorError("Missing Authentication Token", status=403,
                                   kind="MissingAuthenticationTokenException")
        return MockVendorError("The security token included in the request is invalid.", status=403,
                               kind="UnrecognizedClientException")

    def resolve(self, ctx: AppContext, req: GenerateRequest) -> Engine:
        try:
            engine = ctx.models.resolve(req.model)
        except ModelNotFound:
            raise ModelNotFound(INVALID_MODEL, status=400, param="modelId") from None
        if isinstance(req, BedrockRequest):
            req.engine = engine
        return engine

    def parse(self, body: Any, request: Request) -> GenerateRequest:
        return converse.request(model_id(request), body, request.url.path.endswith("-stream"))

    # -- answers ------------------------------------------------------------------------
    def render_count(self, req: GenerateRequest, tokens: int) -> Any:
        return wire.CountTokensResponse(inputTokens=tokens)

    def render(self, req: GenerateRequest, c: Completion) -> Any:
        if isinstance(req, BedrockRequest) and req.api == "invoke":
            return claude.answer(req, c)
        if isinstance(req, BedrockRequest) and req.api in native.APIS:
            return native.answer(req, c)
        return converse.answer(c)

    def render_stream(self, req: GenerateRequest, events: AsyncIterator[Chunk | Completion]) -> AsyncIterator[bytes]:
        if isinstance(req, BedrockRequest) and req.api == "invoke":
            return claude.stream(req, events)
        if isinstance(req, BedrockRequest) and req.api in native.APIS:
            return native.stream(req, events)
        return converse.stream(events)

    # -- errors -------------------------------------------------------------------------
    def error_body(self, err: MockVendorError) -> Any:
        return wire.ErrorBody(message=err.message)

    def error_headers(self, err: MockVendorError) -> dict[str, str]:
        return {**err.response_headers(), "x-amzn-ErrorType": error_code(err)[0]}

    def error_response(self, err: MockVendorError) -> Response:
        return JSONResponse(self.error_body(err), error_code(err)[1], self.error_headers(err))

    def stream_error(self, err: MockVendorError) -> bytes | None:
        code, status = error_code(err)
        if code in STREAM_ERRORS:
            return eventstream.exception(code[0].lower() + code[1:], dumps(wire.ErrorBody(message=err.message)))
        payload = wire.ModelStreamError(message=err.message, originalStatusCode=status, originalMessage=err.message)
        return eventstream.exception("modelStreamErrorException", dumps(payload))

    def ratelimit_headers(self, state: RateLimitState) -> dict[str, str]:
        return {}  # Bedrock sends no rate-limit headers

    def openapi(self) -> dict[str, Any]:
        return docs.bedrock_paths(self)


async def _framed(body: AsyncIterator[bytes], fault: str | None) -> AsyncIterator[bytes]:
    """The stream's messages as sent. The fault lab's frame layer speaks SSE: what it injects
    into a binary stream (a malformed frame, the cut of a last frame) is not one of our messages,
    and is sent as the same damage in this framing: a message whose checksum fails (``malformed``),
    or nothing (``no-terminator``: the last message dropped)."""
    last: bytes | None = None
    async for data in body:
        if not fault or eventstream.is_message(data):
            last = data
            yield data
        elif fault != "no-terminator":
            yield eventstream.corrupt(last or eventstream.event("messageStart", b"{}"))


VENDOR = BedrockVendor
