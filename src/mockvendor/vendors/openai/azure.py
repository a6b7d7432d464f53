"""Azure OpenAI: OpenAI's API as Azure serves it, a vendor of the openai family.

Two URL styles, both answered here:

- deployments: ``/openai/deployments/{deployment}/chat/completions`` (and ``/completions``,
  ``/embeddings``) with ``?api-version=`` (what ``openai.AzureOpenAI`` and LiteLLM's
  ``azure/`` send). Without it Azure answers ``404 Resource not found``; a version it does
  not publish is ``400 API version not supported``.
- v1: ``/openai/v1/chat/completions`` etc. (and ``/responses``), the model (a deployment name) in the body and no
  ``api-version`` needed (what a plain ``openai.OpenAI(base_url=.../openai/v1)`` sends).

A deployment name maps to a model: with ``Settings.azure_deployments`` set
(``name=model,...``) only those exist (any other is Azure's ``DeploymentNotFound``);
without it a deployment named like a model (``gpt-4o``) is that model, and any other name is
``gpt-4o`` (``text-embedding-3-small`` for embeddings), all answered by the embedded model.
Answers are OpenAI's plus Azure's content-filter annotations; a ``refusal`` content fault
is Azure's content filter (a 400 ``content_filter``; ``finish_reason: content_filter`` when
streaming). Requests and answers are the openai family's declarations, extended here.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, Literal

from msgspec import UNSET, Struct, UnsetType, structs
from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from ...errors import InvalidRequest, MockVendorError, ModelNotFound, NotFound
from ...http import bearer, sse
from ...pipeline import endpoint
from ...types import Chunk, Completion, GenerateRequest
from ...wire import schema
from .. import model_list
from ..openapi import STR, _operation
from . import chat, completions, embeddings, responses, wire
from .common import error_type_code
from .openapi import OPENAI_STREAM, responses_path_item
from .vendor import OpenAIVendor, timed

if TYPE_CHECKING:
    from ...context import AppContext
    from ...engines import Engine
    from ...settings import Settings

# Azure OpenAI's published data-plane versions (learn.microsoft.com, "API version lifecycle").
API_VERSIONS = (
    "2022-12-01", "2023-05-15", "2023-06-01-preview", "2023-07-01-preview", "2023-08-01-preview",
    "2023-09-01-preview", "2023-10-01-preview", "2023-12-01-preview", "2024-02-01", "2024-02-15-preview",
    "2024-03-01-preview", "2024-04-01-preview", "2024-05-01-preview", "2024-06-01", "2024-07-01-preview",
    "2024-08-01-preview", "2024-09-01-preview", "2024-10-01-preview", "2024-10-21", "2024-12-01-preview",
    "2025-01-01-preview", "2025-02-01-preview", "2025-03-01-preview", "2025-04-01-preview",
)
V1_VERSIONS = ("preview", "latest")  # the v1 routes: no api-version, or one of these
_DATED = re.compile(r"(\d{4}-\d{2}-\d{2})(-preview)?")
DEFAULT_CHAT, DEFAULT_EMBEDDING = "gpt-4o", "text-embedding-3-small"
NOT_FOUND = "Resource not found"
DEPLOYMENT_NOT_FOUND = ("The API deployment for this resource does not exist. If you created the deployment "
                        "within the last 5 minutes, please wait a moment and try again.")
ACCESS_DENIED = ("Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a "
                 "valid key for an active subscription and use a correct regional API endpoint for your resource.")
FILTERED = ("The response was filtered due to the prompt triggering Azure OpenAI's content management policy. "
            "Please modify your prompt and retry. To learn more about our content filtering policies please "
            "read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766")
# Azure's own codes; the rest of its errors are OpenAI's, passed through.
CODES = {"content_filter": "content_filter", "api_version": "BadRequest", "model_not_found": "DeploymentNotFound",
         "not_found": "404", "authentication": "401"}
SERVER_CODES = {500: "InternalServerError", 503: "ServiceUnavailable", 408: "Timeout"}


# == declarations: the openai family's, with Azure's content-filter annotations ====================
Severity = Literal["safe", "low", "medium", "high"]
Finish = Literal["stop", "length", "tool_calls", "content_filter"]


class FilterResult(Struct, frozen=True):
    filtered: bool = False
    severity: Severity = "safe"


class ContentFilterResults(Struct, kw_only=True, frozen=True):
    """What each of Azure's content filters made of a prompt or an answer."""

    hate: FilterResult = FilterResult()
    self_harm: FilterResult = FilterResult()
    sexual: FilterResult = FilterResult()
    violence: FilterResult = FilterResult()


SAFE = ContentFilterResults()
BLOCKED = ContentFilterResults(violence=FilterResult(True, "high"))  # what a simulated filter says it found


class PromptFilterResult(Struct, kw_only=True, frozen=True):
    prompt_index: int = 0
    content_filter_results: ContentFilterResults = SAFE


class AzureChatChoice(wire.ChatChoice, kw_only=True):
    finish_reason: Finish
    content_filter_results: ContentFilterResults = SAFE


class AzureChatCompletion(wire.ChatCompletion, kw_only=True):
    """A chat completion on Azure: OpenAI's, with the prompt's and each choice's filter results."""

    choices: list[AzureChatChoice]  # type: ignore[assignment]
    prompt_filter_results: list[PromptFilterResult]


class AzureTextChoice(wire.TextChoice, kw_only=True):
    content_filter_results: ContentFilterResults = SAFE


class AzureTextCompletion(wire.TextCompletion, kw_only=True):
    """A legacy completion on Azure, annotated like a chat completion."""

    choices: list[AzureTextChoice]  # type: ignore[assignment]
    prompt_filter_results: list[PromptFilterResult]


class AzureChunkChoice(wire.ChunkChoice, kw_only=True):
    finish_reason: Finish | None = None
    content_filter_results: ContentFilterResults | UnsetType = UNSET


class AzureChatChunk(wire.ChatChunk, kw_only=True):
    """A chunk on Azure: content chunks carry their filter results."""

    choices: list[AzureChunkChoice]  # type: ignore[assignment]


class PromptFilterChunk(Struct, kw_only=True):
    """The first chunk of an Azure stream: no choices, only the prompt's filter results."""

    choices: list[AzureChunkChoice] = []
    created: int = 0
    id: str = ""
    model: str = ""
    object: Literal[""] = ""
    prompt_filter_results: list[PromptFilterResult]


class InnerError(Struct, kw_only=True):
    code: str = "ResponsibleAIPolicyViolation"
    content_filter_result: ContentFilterResults


class AzureErrorDetail(Struct, kw_only=True):
    code: str | None
    message: str
    param: str | None = None
    type: str | None = None
    innererror: InnerError | UnsetType = UNSET


class AzureErrorBody(Struct):
    """Azure's error: ``code`` is Azure's own (``DeploymentNotFound``, ``429``, ``content_filter``...)
    or OpenAI's; a filtered prompt says which filter in ``innererror.content_filter_result``."""

    error: AzureErrorDetail


class ModelCapabilities(Struct, kw_only=True):
    fine_tune: bool = False
    inference: bool = True
    completion: bool
    chat_completion: bool
    embeddings: bool


class AzureModel(Struct, kw_only=True):
    """One base model of the resource, as Azure's "Models - Get" answers it."""

    status: str = "succeeded"
    capabilities: ModelCapabilities
    lifecycle_status: str = "generally-available"
    id: str
    created_at: int
    object: Literal["model"] = "model"


class AzureModelList(Struct, kw_only=True):
    data: list[AzureModel]
    object: Literal["list"] = "list"


class ContentFiltered(InvalidRequest):
    kind = "content_filter"


# == the vendor ====================================================================================
class AzureVendor(OpenAIVendor):
    """Azure OpenAI's deployments and v1 routes on the configured models."""

    name = "azure"
    title = "Azure OpenAI"
    url_prefixes = ("/openai/",)

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.deployments = deployments(settings.azure_deployments)

    def routes(self, ctx: AppContext) -> list[BaseRoute]:
        out: list[BaseRoute] = []
        for op, parse in (("chat/completions", chat.parse), ("completions", completions.parse),
                          ("embeddings", embeddings.parse)):
            slug = op.replace("/", "-")
            out.append(Route(f"/openai/deployments/{{deployment}}/{op}", methods=["POST"], name=f"azure-{slug}",
                             endpoint=timed(endpoint(ctx, self, parse=on_deployment(parse)))))
            out.append(Route(f"/openai/v1/{op}", methods=["POST"], name=f"azure-v1-{slug}",
                             endpoint=timed(endpoint(ctx, self, parse=on_v1(parse)))))
        # The Responses API is on the v1 routes only (its deployments form takes no deployment).
        out.append(Route("/openai/v1/responses", methods=["POST"], name="azure-v1-responses",
                         endpoint=timed(endpoint(ctx, self, parse=on_v1(responses.parse)))))
        # The resource's base models (Azure's "Models - List" / "Models - Get"), both URL styles.
        models = self.models_handler(ctx)
        for prefix in ("/openai", "/openai/v1"):
            tag = prefix.rsplit("/", 1)[-1]
            out += [Route(f"{prefix}/models", models, methods=["GET"], name=f"azure-{tag}-models"),
                    Route(f"{prefix}/models/{{model_id:path}}", models, methods=["GET"],
                          name=f"azure-{tag}-model")]
        return out

    # -- models -----------------------------------------------------------------------
    def check_models_request(self, request: Request) -> None:
        check_version(request)

    def list_models(self, ctx: AppContext, request: Request) -> Any:
        return AzureModelList(data=[self.model_info(ctx, name) for name in ctx.models.names("openai")])

    def model_info(self, ctx: AppContext, name: str) -> Any:
        """Azure's model object: capabilities by kind, lifecycle, no ``owned_by``."""
        card = ctx.models.card(name)
        kind = card.kind if card is not None else "chat"
        return AzureModel(id=name, created_at=model_list.MODEL_CREATED, capabilities=ModelCapabilities(
            completion=kind == "completion", chat_completion=kind == "chat", embeddings=kind == "embedding"))

    # -- deployments ------------------------------------------------------------------
    def resolve(self, ctx: AppContext, req: GenerateRequest) -> Engine:
        """The deployment's model; the answer names the model (its snapshot), as Azure's do."""
        model = self.model_of(ctx, req.model, embedding=req.embed_input is not None)
        try:
            engine = ctx.models.resolve(model)
        except ModelNotFound:
            raise ModelNotFound(DEPLOYMENT_NOT_FOUND) from None
        card = ctx.models.card(model)
        req.model = (card.alias_of or model) if card is not None else model
        return engine

    def model_of(self, ctx: AppContext, deployment: str, *, embedding: bool) -> str:
        if self.deployments:
            if deployment not in self.deployments:
                raise ModelNotFound(DEPLOYMENT_NOT_FOUND)
            return self.deployments[deployment]
        try:
            ctx.models.resolve(deployment)
            return deployment
        except ModelNotFound:
            return DEFAULT_EMBEDDING if embedding else DEFAULT_CHAT

    # -- answers ------------------------------------------------------------------------
    def render(self, req: GenerateRequest, c: Completion) -> Any:
        if c.finish_reason == "refusal":  # a simulated content filter: the prompt is refused
            raise ContentFiltered(FILTERED, param="prompt", fault="refusal")
        out = super().render(req, c)
        if isinstance(out, wire.ChatCompletion):
            choices = [AzureChatChoice(**structs.asdict(ch)) for ch in out.choices]
            return AzureChatCompletion(**{**structs.asdict(out), "choices": choices}, prompt_filter_results=[
                PromptFilterResult()])
        if isinstance(out, wire.TextCompletion):
            texts = [AzureTextChoice(**structs.asdict(ch)) for ch in out.choices]
            return AzureTextCompletion(**{**structs.asdict(out), "choices": texts}, prompt_filter_results=[
                PromptFilterResult()])
        return out

    def render_stream(self, req: GenerateRequest, events: AsyncIterator[Chunk | Completion]) -> AsyncIterator[bytes]:
        if isinstance(req, chat.OpenAIRequest) and req.chat:
            return _chat_stream(req, events)
        return super().render_stream(req, events)

    # -- errors and auth ----------------------------------------------------------------
    def error_body(self, err: MockVendorError) -> Any:
        kind, code = error_type_code(err)
        own = CODES.get(err.kind) or SERVER_CODES.get(err.status) or (str(err.status) if err.status == 429 else None)
        if err.kind == "insufficient_quota":
            own = None
        inner = InnerError(content_filter_result=BLOCKED) if err.kind == "content_filter" else UNSET
        return AzureErrorBody(AzureErrorDetail(
            code=own or code, message=err.message, param=err.param, type=None if own else kind, innererror=inner))

    def stream_error(self, err: MockVendorError) -> bytes | None:
        return sse(self.error_body(err))

    def api_key(self, request: Request) -> str | None:
        return request.headers.get("api-key") or bearer(request)

    def auth_error(self, key: str | None) -> MockVendorError:
        return MockVendorError(ACCESS_DENIED, status=401, kind="authentication")

    def openapi(self) -> dict[str, Any]:
        return azure_paths(self)


def deployments(spec: str) -> dict[str, str]:
    """``name=model,name2`` (a name alone: a deployment of the model so named)."""
    out = {}
    for item in spec.split(","):
        name, _, model = item.partition("=")
        if name.strip():
            out[name.strip()] = model.strip() or name.strip()
    return out


# -- requests: the api-version, the deployment ------------------------------------------------------
Parse = Callable[[Any], GenerateRequest]


def on_deployment(parse: Parse) -> Callable[[Any, Request], GenerateRequest]:
    """A deployments route: an ``api-version`` Azure publishes; the model is the deployment's."""

    def parse_deployment(body: Any, request: Request) -> GenerateRequest:
        version = request.query_params.get("api-version")
        if version is None:
            raise NotFound(NOT_FOUND)
        if not supported(version):
            raise InvalidRequest("API version not supported", kind="api_version", param="api-version")
        if isinstance(body, dict):
            body = {**body, "model": request.path_params["deployment"]}
        return parse(body)

    return parse_deployment


def check_version(request: Request) -> None:
    """The ``api-version`` of a GET: required on ``/openai/...``, optional on ``/openai/v1/...``."""
    version = request.query_params.get("api-version")
    if "/openai/v1/" in request.url.path:
        if version is not None and version not in V1_VERSIONS:
            raise InvalidRequest("API version not supported", kind="api_version", param="api-version")
    elif version is None:
        raise NotFound(NOT_FOUND)
    elif not supported(version):
        raise InvalidRequest("API version not supported", kind="api_version", param="api-version")


def on_v1(parse: Parse) -> Callable[[Any, Request], GenerateRequest]:
    """A v1 route: no ``api-version`` (or ``preview``, ``latest``); the model (a deployment) in the body."""

    def parse_v1(body: Any, request: Request) -> GenerateRequest:
        version = request.query_params.get("api-version")
        if version is not None and version not in V1_VERSIONS:
            raise InvalidRequest("API version not supported", kind="api_version", param="api-version")
        return parse(body)

    return parse_v1


def supported(version: str) -> bool:
    """Published, or dated after the newest published one and not in the future (next month's)."""
    if version in API_VERSIONS:
        return True
    m = _DATED.fullmatch(version)
    if m is None:
        return False
    try:
        time.strptime(m.group(1), "%Y-%m-%d")  # a real day
    except ValueError:
        return False
    return API_VERSIONS[-1][:10] < m.group(1) <= time.strftime("%Y-%m-%d", time.gmtime())


# -- the chat stream ----------------------------------------------------------------------------------
async def _chat_stream(req: GenerateRequest, events: AsyncIterator[Chunk | Completion]) -> AsyncIterator[bytes]:
    """OpenAI's chunks after Azure's prompt-filter chunk, content chunks with their filter results;
    a refused answer ends with ``finish_reason: content_filter``."""
    filtered = False

    async def unrefused() -> AsyncIterator[Chunk | Completion]:
        nonlocal filtered
        async for ev in events:
            if isinstance(ev, Completion) and ev.finish_reason == "refusal":
                filtered = True
                ev = dataclasses.replace(ev, text="", finish_reason="stop")
            yield ev

    def dress(c: wire.ChatChunk) -> AzureChatChunk:
        choices = []
        for ch in c.choices:
            d = ch.delta
            results: ContentFilterResults | UnsetType = UNSET
            finish: Any = ch.finish_reason
            if finish is not None and filtered:
                finish, results = "content_filter", BLOCKED
            elif d.content or d.tool_calls:
                results = SAFE
            choices.append(AzureChunkChoice(**{**structs.asdict(ch), "finish_reason": finish},
                                            content_filter_results=results))
        return AzureChatChunk(**{**structs.asdict(c), "choices": choices})

    yield sse(PromptFilterChunk(prompt_filter_results=[PromptFilterResult()]))
    async for data in chat.render_stream(req, unrefused(), dress):
        yield data


# -- the OpenAPI document --------------------------------------------------------------------------
AZURE_ERRORS = {
    "400": "OpenAI's invalid_request_error; `BadRequest` for an unsupported api-version; `content_filter` "
           "(with innererror.content_filter_result) for a `refusal` fault.",
    "401": "code 401 (only when MOCKVENDOR_API_KEYS is set, or simulated).",
    "404": "code 404 `Resource not found` without api-version; `DeploymentNotFound`.",
    "429": "code 429 with `retry-after`, `retry-after-ms`, `x-ratelimit-*` (simulated).",
    "500": "InternalServerError (simulated only).",
}
DEPLOYMENT = {"name": "deployment", "in": "path", "required": True, "schema": STR, "example": "gpt-4o"}
VERSION = {"name": "api-version", "in": "query", "required": True, "schema": STR, "example": "2024-10-21"}
KEY = {"name": "api-key", "in": "header", "required": False, "schema": STR}


def azure_paths(vendor: Any) -> dict[str, Any]:
    error = schema(AzureErrorBody)
    hello = [{"role": "user", "content": "Say hello."}]
    ops = (
        ("chat/completions", "chat", wire.ChatRequest, {"messages": hello, "max_tokens": 32, "seed": 1},
         AzureChatCompletion, OPENAI_STREAM),
        ("completions", "completions", wire.CompletionRequest, {"prompt": "Once upon a time", "max_tokens": 16},
         AzureTextCompletion, "with `stream: true`, data-only `text_completion` chunks ending with `data: [DONE]`."),
        ("embeddings", "embeddings", wire.EmbeddingRequest, {"input": ["The cat sat on the mat."]},
         wire.EmbeddingList, None),
    )
    paths: dict[str, Any] = {}
    for op, slug, request, example, answer, stream in ops:
        model = "text-embedding-3-small" if slug == "embeddings" else "gpt-4o"
        for path, params, body in (
            (f"/openai/deployments/{{deployment}}/{op}", [DEPLOYMENT, VERSION, KEY], {**example, "model": model}),
            (f"/openai/v1/{op}", [KEY], {**example, "model": model}),
        ):
            style = "v1" if "/v1/" in path else "deployments"
            paths[path] = {"post": _operation(
                vendor, f"azure_{style}_{slug.replace('/', '_')}", f"Azure OpenAI {op} ({style} style).",
                request=schema(request), example=body, response=schema(answer), error=error, errors=AZURE_ERRORS,
                stream_doc=stream, parameters=params)}
    item = responses_path_item(vendor)
    item["post"] = {**item["post"], "operationId": "azure_v1_responses",
                    "summary": "Azure OpenAI responses (v1 style).", "parameters": [KEY, *item["post"]["parameters"]]}
    paths["/openai/v1/responses"] = item
    model_id = {"name": "model_id", "in": "path", "required": True, "schema": STR, "example": "gpt-4o"}
    for prefix, params in (("/openai", [VERSION, KEY]), ("/openai/v1", [KEY])):
        style = "v1" if prefix.endswith("v1") else "deployments"
        paths[f"{prefix}/models"] = {"get": _operation(
            vendor, f"azure_{style}_list_models", f"The resource's base models ({style} style).", request=None,
            example=None, response=schema(AzureModelList), error=error, errors=AZURE_ERRORS, stream_doc=None,
            parameters=params)}
        paths[f"{prefix}/models/{{model_id}}"] = {"get": _operation(
            vendor, f"azure_{style}_get_model", f"One base model ({style} style).", request=None, example=None,
            response=schema(AzureModel), error=error, errors=AZURE_ERRORS, stream_doc=None,
            parameters=[model_id, *params])}
    return paths


VENDOR = AzureVendor
