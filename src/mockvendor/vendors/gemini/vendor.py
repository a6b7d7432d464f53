"""Gemini-compatible API: ``models/{model}:generateContent`` and
``:streamGenerateContent`` under ``/v1beta`` and ``/v1``, with Google's JSON, SSE and
error shapes (shared/design/wire-formats.md, "Google Gemini"); the model list in
:mod:`.models`."""

from __future__ import annotations

import json
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from starlette.convertors import PathConvertor, register_url_convertor
from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from ...errors import InvalidRequest, MockVendorError, NotFound, PermissionDenied
from ...http import bearer, sse
from ...pipeline import endpoint
from ...types import Chunk, Completion, GenerateRequest, Message, Tool, ToolCall
from .. import model_list, model_list_openapi
from ..base import BaseVendor, integer, number, obj, stop_list, string
from . import models
from . import openapi as docs

if TYPE_CHECKING:
    from ...context import AppContext
    from ...faults.ratelimit import RateLimitState
    from ...settings import Settings

# A turn that ends in function calls is a plain STOP on the wire: the calls are in its parts.
FINISH = {"stop": "STOP", "length": "MAX_TOKENS", "stop_sequence": "STOP", "tool_calls": "STOP"}
METHODS = ("generateContent", "streamGenerateContent", "countTokens", "embedContent", "batchEmbedContents")
EMBED_TASKS = {"TASK_TYPE_UNSPECIFIED", "RETRIEVAL_QUERY", "RETRIEVAL_DOCUMENT", "SEMANTIC_SIMILARITY",
               "CLASSIFICATION", "CLUSTERING", "QUESTION_ANSWERING", "FACT_VERIFICATION", "CODE_RETRIEVAL_QUERY"}
MAX_BATCH_EMBED = 100  # requests per batchEmbedContents, as Google documents
# Roles a Content may have: older clients send function results in a "function" turn.
ROLES = ("user", "model", "function", "tool")
FUNCTION_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_.:-]{0,63}")
# functionCallingConfig.mode in neutral terms (VALIDATED: calls or text, as AUTO, but
# schema-checked, which every call of ours is).
MODES = {"AUTO": "auto", "MODE_UNSPECIFIED": "auto", "VALIDATED": "auto", "ANY": "required", "NONE": "none"}
# google.rpc status names by HTTP status (the standard gRPC <-> HTTP mapping).
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
    529: "UNAVAILABLE",
}
RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
LOCALIZED_MESSAGE = "type.googleapis.com/google.rpc.LocalizedMessage"
API_KEY_INVALID = "api_key_invalid"  # the error kind of a wrong key (keys configured)


class _AnyPath(PathConvertor):
    """``path``, across line breaks too: a model name holding a newline still reaches this
    route (a 404 in Gemini's shape naming the model), not the unknown-route answer in
    OpenAI's shape that everything else under ``/v1/`` gets. Found by the fuzzer."""

    regex = r"[\s\S]*"


register_url_convertor("gemini_target", _AnyPath())


@dataclass(slots=True)
class GeminiRequest(GenerateRequest):
    """A generateContent request; ``as_array``: a stream asked for without ``alt=sse``."""

    as_array: bool = False
    embed_batch: bool = False  # batchEmbedContents: a list of embeddings
    dimensions: int | None = None  # outputDimensionality: the vectors cut to this length


def status_name(status: int) -> str:
    return STATUS_NAMES.get(status) or ("INTERNAL" if status >= 500 else "INVALID_ARGUMENT")


def proto_duration(ms: int) -> str:
    """A google.protobuf.Duration in JSON: seconds with 0 or 3 fractional digits."""
    seconds, rest = divmod(ms, 1000)
    return f"{seconds}.{rest:03d}s" if rest else f"{seconds}s"


def _camel(d: Any) -> dict[str, Any]:
    """Google's JSON accepts ``max_output_tokens`` as well as ``maxOutputTokens``."""
    out: dict[str, Any] = {}
    for key, value in d.items():
        head, *rest = key.split("_")
        out[head + "".join(w[:1].upper() + w[1:] for w in rest)] = value
    return out


def _parts_text(content: Any, path: str) -> str:
    c = obj(content, f"'{path}'")
    parts = c.get("parts")
    if not isinstance(parts, list) or not parts:
        raise InvalidRequest(f"'{path}.parts' must be a non-empty array of parts.", param=f"{path}.parts")
    texts = []
    for j, part in enumerate(parts):
        p = obj(part, f"'{path}.parts[{j}]'")
        text = p.get("text")
        if not isinstance(text, str):
            kinds = ", ".join(sorted(p)) or "nothing"
            raise InvalidRequest(
                f"'{path}.parts[{j}]' must hold a 'text' string (got {kinds}): mockvendor answers text "
                "parts only.",
                param=f"{path}.parts[{j}]",
            )
        texts.append(text)
    return "".join(texts)


def _turn(content: Any, path: str) -> list[Message]:
    """One Content as neutral messages: a model turn with its function calls, or a user turn
    as one ``tool`` message per function response followed by its text (if any)."""
    c = obj(content, f"'{path}'")
    role = c.get("role") or "user"
    if role not in ROLES:
        raise InvalidRequest(
            f"Invalid value {role!r} for '{path}.role': expected 'user' or 'model'.", param=f"{path}.role"
        )
    parts = c.get("parts")
    if not isinstance(parts, list) or not parts:
        raise InvalidRequest(f"'{path}.parts' must be a non-empty array of parts.", param=f"{path}.parts")
    texts: list[str] = []
    calls: list[ToolCall] = []
    results: list[Message] = []
    for j, part in enumerate(parts):
        where = f"{path}.parts[{j}]"
        p = _camel(obj(part, f"'{where}'"))
        if isinstance(p.get("text"), str):
            texts.append(p["text"])
        elif p.get("functionCall") is not None:
            if role != "model":
                raise InvalidRequest(
                    f"'{where}.functionCall' may only appear in a 'model' turn; a function's result goes "
                    "back in a 'functionResponse' part of a 'user' turn.",
                    param=f"{where}.functionCall",
                )
            calls.append(_function_call(p["functionCall"], f"{where}.functionCall"))
        elif p.get("functionResponse") is not None:
            if role == "model":
                raise InvalidRequest(
                    f"'{where}.functionResponse' may only appear in a 'user' turn, after the 'model' turn "
                    "that called the function.",
                    param=f"{where}.functionResponse",
                )
            results.append(_function_response(p["functionResponse"], f"{where}.functionResponse"))
        else:
            kinds = ", ".join(sorted(part)) or "nothing"
            raise InvalidRequest(
                f"'{where}' must hold a 'text' string, a 'functionCall' or a 'functionResponse' (got {kinds}): "
                "mockvendor answers text and function parts only.",
                param=where,
            )
    text = "".join(texts)
    if role == "model":
        return [Message("assistant", text, tool_calls=calls)]
    if results:
        return [*results, Message("user", text)] if text else results
    return [Message("user", text)]


def _function_call(value: Any, path: str) -> ToolCall:
    f = _camel(obj(value, f"'{path}'"))
    name = string(f, "name", required=True, nonempty=True, path=f"{path}.") or ""
    args = f.get("args")
    return ToolCall(string(f, "id", path=f"{path}.") or "", name,
                    dict(obj(args, f"'{path}.args'")) if args is not None else {})


def _function_response(value: Any, path: str) -> Message:
    f = _camel(obj(value, f"'{path}'"))
    name = string(f, "name", required=True, nonempty=True, path=f"{path}.") or ""
    if f.get("response") is None:
        raise InvalidRequest(f"Missing required field '{path}.response'.", param=f"{path}.response")
    response = obj(f["response"], f"'{path}.response'")
    return Message("tool", json.dumps(response, ensure_ascii=False), name=name,
                   tool_call_id=string(f, "id", path=f"{path}."))


def _tools(body: Any) -> list[Tool]:
    """The functions in ``tools[].functionDeclarations``; any other kind of tool is a 400."""
    raw = body.get("tools")
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise InvalidRequest("'tools' must be an array of Tool objects.", param="tools")
    tools: list[Tool] = []
    for i, item in enumerate(raw):
        t = _camel(obj(item, f"'tools[{i}]'"))
        for key, value in t.items():
            if key != "functionDeclarations" and value is not None:
                raise InvalidRequest(
                    f"'tools[{i}].{key}' is not supported: mockvendor does not run Gemini's built-in tools "
                    "(Google Search, code execution, URL context, ...); declare your own functions in "
                    f"'tools[{i}].functionDeclarations' instead.",
                    param=f"tools[{i}].{key}",
                )
        decls = t.get("functionDeclarations")
        if decls is None:
            continue
        if not isinstance(decls, list):
            raise InvalidRequest(
                f"'tools[{i}].functionDeclarations' must be an array of FunctionDeclaration.",
                param=f"tools[{i}].functionDeclarations",
            )
        for j, decl in enumerate(decls):
            tool = _declaration(decl, f"tools[{i}].functionDeclarations[{j}]")
            if any(x.name == tool.name for x in tools):
                raise InvalidRequest(
                    f"Duplicate function declaration {tool.name!r} at 'tools[{i}].functionDeclarations[{j}].name': "
                    "each function needs its own name.",
                    param=f"tools[{i}].functionDeclarations[{j}].name",
                )
            tools.append(tool)
    return tools


def _declaration(value: Any, path: str) -> Tool:
    d = _camel(obj(value, f"'{path}'"))
    name = string(d, "name", required=True, path=f"{path}.") or ""
    if not FUNCTION_NAME.fullmatch(name):
        raise InvalidRequest(
            f"Invalid function name {name!r} at '{path}.name': it must start with a letter or an underscore "
            "and hold only letters, digits, underscores (_), dots (.), colons (:) or dashes (-), at most 64 "
            "characters.",
            param=f"{path}.name",
        )
    given = [k for k in ("parameters", "parametersJsonSchema") if d.get(k) is not None]
    if len(given) > 1:
        raise InvalidRequest(
            f"'{path}' may set 'parameters' or 'parametersJsonSchema', not both.", param=f"{path}.parameters"
        )
    # 'parameters' is Google's OpenAPI subset (types may be upper-case: OBJECT, STRING, ...),
    # 'parametersJsonSchema' plain JSON Schema: the neutral argument builder reads both.
    schema = dict(obj(d[given[0]], f"'{path}.{given[0]}'")) if given else {"type": "object", "properties": {}}
    return Tool(name, string(d, "description", path=f"{path}.") or "", schema)


def _tool_choice(body: Any, tools: list[Tool]) -> tuple[list[Tool], str]:
    """``toolConfig.functionCallingConfig`` in neutral terms: the tools on offer and the choice."""
    config = body.get("toolConfig", body.get("tool_config"))
    fcc = _camel(obj(config, "'toolConfig'")).get("functionCallingConfig") if config is not None else None
    if fcc is None:
        return tools, "auto"
    f = _camel(obj(fcc, "'toolConfig.functionCallingConfig'"))
    p = "toolConfig.functionCallingConfig."
    mode = string(f, "mode", path=p) or "AUTO"
    if mode not in MODES:
        raise InvalidRequest(
            f"Invalid value {mode!r} for '{p}mode': expected AUTO, ANY, NONE or VALIDATED.", param=p + "mode"
        )
    allowed = f.get("allowedFunctionNames")
    if allowed is not None:
        if not isinstance(allowed, list) or not all(isinstance(n, str) for n in allowed):
            raise InvalidRequest(f"'{p}allowedFunctionNames' must be an array of strings.",
                                 param=p + "allowedFunctionNames")
        declared = {t.name for t in tools}
        for n in allowed:
            if n not in declared:
                raise InvalidRequest(
                    f"Invalid value {n!r} in '{p}allowedFunctionNames': no function of that name is declared "
                    f"in 'tools' (declared: {', '.join(sorted(declared)) or 'none'}).",
                    param=p + "allowedFunctionNames",
                )
        if allowed and mode != "NONE":
            tools = [t for t in tools if t.name in allowed]
    choice = MODES[mode]
    if choice == "required":
        if not tools:
            raise InvalidRequest(f"'{p}mode' is ANY, but 'tools' declares no function to call.", param=p + "mode")
        if len(tools) == 1:
            choice = f"tool:{tools[0].name}"
    return tools, choice


def _embed_request(model: str, b: dict[str, Any], *, batch: bool) -> GeminiRequest:
    """``embedContent`` (one ``content``) or ``batchEmbedContents`` (``requests``, each one
    embedContent request for the same model)."""
    if batch:
        raw = b.get("requests")
        if not isinstance(raw, list) or not raw:
            raise InvalidRequest("'requests' must be a non-empty array of EmbedContentRequest.", param="requests")
        if len(raw) > MAX_BATCH_EMBED:
            raise InvalidRequest(f"At most {MAX_BATCH_EMBED} requests are allowed in a batch, got {len(raw)}.",
                                 param="requests")
        items = [(_camel(obj(r, f"'requests[{i}]'")), f"requests[{i}].") for i, r in enumerate(raw)]
    else:
        items = [(_camel(b), "")]
    texts: list[str] = []
    dims: set[int | None] = set()
    for r, p in items:
        named = r.get("model")
        if named is not None and str(named).removeprefix("models/") != model:
            raise InvalidRequest(
                f"'{p}model' is {named!r}, but the batch is for models/{model}: every request must name the "
                "model of the URL.",
                param=f"{p}model",
            )
        if r.get("content") is None:
            raise InvalidRequest(f"Missing required field '{p}content'.", param=f"{p}content")
        texts.append(_parts_text(r["content"], f"{p}content"))
        task = r.get("taskType")
        if task is not None and task not in EMBED_TASKS:
            raise InvalidRequest(f"Invalid value {task!r} for '{p}taskType'.", param=f"{p}taskType")
        string(r, "title", path=p)
        dims.add(integer(r, "outputDimensionality", lo=1, hi=100_000, path=p))
    if len(dims) > 1:
        raise InvalidRequest("Every request of a batch must ask for the same 'outputDimensionality'.",
                             param="requests")
    return GeminiRequest(model, embed_input=texts, embed_batch=batch, dimensions=dims.pop())


def _gives_call_ids(model: str) -> bool:
    """Gemini 3 and later give every functionCall an ``id`` (echoed in its functionResponse);
    earlier models give none, so neither do we under their names."""
    m = re.match(r"gemini-(\d+)", model)
    return m is not None and int(m.group(1)) >= 3


class GeminiVendor(BaseVendor):
    """Google's Generative Language API on the configured models."""

    name = "gemini"
    title = "Gemini-compatible"
    url_prefixes: ClassVar[tuple[str, ...]] = ("/v1beta/",)

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def routes(self, ctx: AppContext) -> list[BaseRoute]:
        handler = endpoint(ctx, self)
        listing = self.models_handler(ctx)
        # "{model}:{method}" is one path segment: split in parse(), not by the router.
        # (GET /v1/models is shared with OpenAI's route, which hands it on: model_list.shared.)
        return [
            Route("/v1beta/models/{target:gemini_target}", handler, methods=["POST"], name="gemini-v1beta"),
            Route("/v1/models/{target:gemini_target}", handler, methods=["POST"], name="gemini-v1"),
            Route("/v1beta/models", listing, methods=["GET"], name="gemini-models"),
            Route("/v1beta/models/{model_id:gemini_target}", listing, methods=["GET"], name="gemini-model"),
        ]

    def api_key(self, request: Request) -> str | None:
        return request.headers.get("x-goog-api-key") or request.query_params.get("key") or bearer(request)

    def auth_error(self, key: str | None) -> MockVendorError:
        # Google's own answers: no key is a 403, a wrong one a 400 with reason API_KEY_INVALID.
        if not key:
            return PermissionDenied(
                "Method doesn't allow unregistered callers (callers without established identity). "
                "Please use API Key or other form of API consumer identity to call this API."
            )
        return InvalidRequest("API key not valid. Please pass a valid API key.", kind=API_KEY_INVALID)

    # -- models ---------------------------------------------------------------------
    def claims_models(self, request: Request) -> bool:
        return models.claims(request)

    def models_handler(self, ctx: AppContext) -> model_list.Handler:
        return model_list.handler(ctx, self)

    def list_models(self, ctx: AppContext, request: Request) -> Any:
        return models.list_models(ctx, request)

    def model_info(self, ctx: AppContext, name: str) -> Any:
        return models.model_info(ctx, name)

    # -- requests -------------------------------------------------------------------
    def parse(self, body: Any, request: Request) -> GenerateRequest:
        target = request.path_params.get("target", "")
        model, sep, method = target.removeprefix("models/").rpartition(":")
        if not sep or not model or method not in METHODS:
            raise NotFound(
                f"Method {target!r} is not found: use models/{{model}}:<method> with one of "
                + ", ".join(METHODS) + "."
            )
        b = obj(body)
        if method in ("embedContent", "batchEmbedContents"):
            return _embed_request(model, b, batch=method == "batchEmbedContents")
        if method == "countTokens" and b.get("generateContentRequest") is not None:
            # The full request form: what generateContent would be sent (its own model field is ignored).
            b = obj(b["generateContentRequest"], "'generateContentRequest'")
        messages = []
        system = b.get("systemInstruction", b.get("system_instruction"))
        if system is not None:
            messages.append(Message("system", _parts_text(system, "systemInstruction")))
        contents = b.get("contents")
        if contents is None:
            raise InvalidRequest("Missing required field 'contents'.", param="contents")
        if not isinstance(contents, list) or not contents:
            raise InvalidRequest("'contents' must be a non-empty array of Content.", param="contents")
        for i, content in enumerate(contents):
            messages.extend(_turn(content, f"contents[{i}]"))
        tools, choice = _tool_choice(b, _tools(b))
        cfg = _camel(obj(b.get("generationConfig", b.get("generation_config")) or {}, "'generationConfig'"))
        p = "generationConfig."
        count = integer(cfg, "candidateCount", lo=1, hi=8, path=p)
        if count not in (None, 1):
            raise InvalidRequest(
                f"mockvendor answers one candidate per request; 'candidateCount' must be 1, got {count}.",
                param=p + "candidateCount",
            )
        stream = method == "streamGenerateContent"
        return GeminiRequest(
            model,
            messages,
            max_tokens=integer(cfg, "maxOutputTokens", lo=1, hi=1_000_000, path=p),
            temperature=number(cfg, "temperature", lo=0.0, hi=models.MAX_TEMPERATURE, path=p),
            top_p=number(cfg, "topP", lo=0.0, hi=1.0, path=p),
            top_k=integer(cfg, "topK", lo=1, hi=1_000_000, path=p),
            stop=stop_list(cfg, "stopSequences", max_items=5),
            seed=integer(cfg, "seed", lo=-(2**31), hi=2**32 - 1, path=p),
            stream=stream and request.query_params.get("alt") == "sse",
            # Without alt=sse Google streams one JSON array; we send it as one body.
            as_array=stream and request.query_params.get("alt") != "sse",
            tools=tools,
            tool_choice=choice,
            count_only=method == "countTokens",
        )

    # -- answers --------------------------------------------------------------------
    def render_embeddings(self, req: GenerateRequest, vectors: list[list[float]], tokens: int) -> Any:
        dims = req.dimensions if isinstance(req, GeminiRequest) else None
        if dims is not None and dims > len(vectors[0]):
            raise InvalidRequest(
                f"'outputDimensionality' {dims} is larger than the model's {len(vectors[0])} dimensions.",
                param="outputDimensionality",
            )
        # Google cuts the vector and leaves it as is (only the full length is unit norm).
        out = [{"values": v[:dims] if dims else v} for v in vectors]
        if isinstance(req, GeminiRequest) and req.embed_batch:
            return {"embeddings": out}
        return {"embedding": out[0]}

    def render_count(self, req: GenerateRequest, tokens: int) -> Any:
        return {"totalTokens": tokens, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": tokens}]}

    def render(self, req: GenerateRequest, c: Completion) -> Any:
        parts = _call_parts(req, c.tool_calls, c.text) if c.tool_calls else [{"text": c.text}]
        body = self._final(req, parts, c, _response_id())
        return [body] if isinstance(req, GeminiRequest) and req.as_array else body

    def _final(self, req: GenerateRequest, parts: list[dict[str, Any]], c: Completion, rid: str) -> dict[str, Any]:
        return {
            "candidates": [
                {
                    "content": {"role": "model", "parts": parts},
                    "finishReason": FINISH[c.finish_reason],
                    "index": 0,
                }
            ],
            "usageMetadata": {
                "promptTokenCount": c.usage.input_tokens,
                "candidatesTokenCount": c.usage.output_tokens,
                "totalTokenCount": c.usage.total_tokens,
            },
            "modelVersion": req.model,
            "responseId": rid,
        }

    async def render_stream(
        self, req: GenerateRequest, events: AsyncIterator[Chunk | Completion]
    ) -> AsyncIterator[bytes]:
        rid = _response_id()
        # One piece is held back so the last event carries text, finishReason and usage
        # together, as Gemini's own last event does.
        held: str | None = None
        # Gemini sends a function call whole: its argument pieces are gathered here and the
        # calls go out in the last event.
        calls: dict[int, tuple[ToolCall, list[str]]] = {}
        async for ev in events:
            if isinstance(ev, Completion):
                if calls or ev.tool_calls:
                    streamed = [_whole(call, pieces) for call, pieces in calls.values()] or ev.tool_calls
                    parts = _call_parts(req, streamed, held or "")
                else:
                    parts = [{"text": held or ""}]
                yield sse(self._final(req, parts, ev, rid))
            elif ev.tool_call is not None:
                calls.setdefault(ev.tool_index, (ev.tool_call, []))[1].append(ev.text)
            elif ev.text:
                if held is not None:
                    yield sse(self._partial(req, held, rid))
                held = ev.text

    def _partial(self, req: GenerateRequest, text: str, rid: str) -> dict[str, Any]:
        return {
            "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "index": 0}],
            "modelVersion": req.model,
            "responseId": rid,
        }

    # -- errors ---------------------------------------------------------------------
    def error_body(self, err: MockVendorError) -> Any:
        error: dict[str, Any] = {"code": err.status, "message": err.message, "status": status_name(err.status)}
        if err.status == 429 and err.retry_after_ms is not None:
            error["details"] = [{"@type": RETRY_INFO, "retryDelay": proto_duration(err.retry_after_ms)}]
        elif err.kind == API_KEY_INVALID:
            error["details"] = [
                {"@type": ERROR_INFO, "reason": "API_KEY_INVALID", "domain": "googleapis.com",
                 "metadata": {"service": "generativelanguage.googleapis.com"}},
                {"@type": LOCALIZED_MESSAGE, "locale": "en-US", "message": err.message},
            ]
        return {"error": error}

    def stream_error(self, err: MockVendorError) -> bytes | None:
        return sse(self.error_body(err))

    def ratelimit_headers(self, state: RateLimitState) -> dict[str, str]:
        # Gemini sends no rate-limit headers: its 429 says when to retry in the body (RetryInfo).
        return {}

    def openapi(self) -> dict[str, Any]:
        return {**docs.gemini_paths(self), **model_list_openapi.gemini_paths(self)}


def _response_id() -> str:
    return os.urandom(12).hex()


def _call_parts(req: GenerateRequest, calls: list[ToolCall], text: str = "") -> list[dict[str, Any]]:
    """A model turn's parts: its text (if any), then one ``functionCall`` part per call."""
    with_id = _gives_call_ids(req.model)
    parts: list[dict[str, Any]] = [{"text": text}] if text else []
    for c in calls:
        call: dict[str, Any] = {"name": c.name, "args": c.arguments}
        if with_id:
            call["id"] = c.id
        parts.append({"functionCall": call})
    return parts


def _whole(call: ToolCall, pieces: list[str]) -> ToolCall:
    """A streamed call with the arguments its chunks spelled out (the chunk's own, failing that)."""
    try:
        args = json.loads("".join(pieces))
    except ValueError:
        return call
    return ToolCall(call.id, call.name, args) if isinstance(args, dict) else call


VENDOR = GeminiVendor
