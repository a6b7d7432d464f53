"""Gemini-compatible API: ``models/{model}:generateContent`` and
``:streamGenerateContent`` under ``/v1beta`` and ``/v1``, with Google's JSON, SSE and
error shapes (shared/design/wire-formats.md, "Google Gemini"); the model list in
:mod:`.models`."""

from __future__ import annotations

import json
import math
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from msgspec import UNSET
from starlette.convertors import PathConvertor, register_url_convertor
from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from ... import media
from ...errors import InvalidRequest, MockVendorError, NotFound, PermissionDenied
from ...http import bearer, sse
from ...ids import random_hex
from ...pipeline import endpoint
from ...types import Chunk, Completion, GenerateRequest, Message, Reasoning, TokenLogprob, Tool, ToolCall
from .. import model_list, model_list_openapi
from ..base import BaseVendor
from . import models, wire
from . import openapi as docs
from .schema import response_format

if TYPE_CHECKING:
    from ...context import AppContext
    from ...faults.ratelimit import RateLimitState
    from ...settings import Settings

# A turn that ends in function calls is a plain STOP on the wire: the calls are in its parts.
FINISH = {"stop": "STOP", "length": "MAX_TOKENS", "stop_sequence": "STOP", "tool_calls": "STOP", "refusal": "SAFETY"}
METHODS = ("generateContent", "streamGenerateContent", "countTokens", "embedContent", "batchEmbedContents")
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


def _raw_keys(raw: Any, path: str) -> str:
    """The keys the caller sent at ``path`` (``contents[0].parts[1]``), for an error's words."""
    for key, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        try:
            raw = raw[int(index)] if index else raw[next((k for k in raw if wire.camel(k) == key), key)]
        except (KeyError, IndexError, TypeError):
            return "nothing"
    return ", ".join(sorted(raw)) if isinstance(raw, dict) and raw else "nothing"


def _parts_text(content: wire.TextContent) -> str:
    return "".join(part.text for part in content.parts)


AUDIO_TOKENS_PER_SECOND = 32
VIDEO_TOKENS_PER_SECOND = 263
VIDEO_BYTES_PER_SECOND = 250_000  # a video's length estimated from its size (not decoded)
TILE = 258  # one image tile, one PDF page, a file by URI


def _blob(blob: wire.Blob, where: str) -> tuple[str, int]:
    """Inline data: the marker (or, for text, the text) the model reads, and Gemini's tokens."""
    mime = blob.mimeType.lower()
    try:
        data = media.b64decode(blob.data, urlsafe=True)
    except media.BadMedia:
        raise InvalidRequest(f"Invalid value at '{where}.data' (TYPE_BYTES), Base64 decoding failed.",
                             param=f"{where}.data") from None
    try:
        if mime in media.IMAGE_TYPES:
            info = media.image(data, mime)
            return "[image]", media.gemini_image_tokens(info.width, info.height)
        if mime.startswith("image/"):  # HEIC and others: not measured
            return "[image]", TILE
        if mime == "application/pdf":
            return "[document]", media.pdf(data).pages * TILE
        if mime.startswith("audio/"):
            info = media.audio(data) if media.sniff(data) in ("audio/wav", "audio/mpeg") else \
                media.Media("audio", mime, seconds=len(data) / media.MP3_BYTES_PER_SECOND)
            return "[audio]", max(1, math.ceil(info.seconds * AUDIO_TOKENS_PER_SECOND))
        if mime.startswith("video/"):
            return "[video]", max(1, math.ceil(len(data) / VIDEO_BYTES_PER_SECOND)) * VIDEO_TOKENS_PER_SECOND
        if mime.startswith("text/") or mime in ("application/json", "application/xml"):
            return data.decode("utf-8", "replace"), 0  # the model reads it
    except media.BadMedia as e:
        what = "image" if mime.startswith("image/") else "document" if mime == "application/pdf" else "data"
        raise InvalidRequest(f"Unable to process input {what}: {e}", param=f"{where}.data") from None
    raise InvalidRequest(f"Unsupported MIME type: {blob.mimeType}", param=f"{where}.mimeType")


def _turn(content: wire.Content, raw: Any, path: str, cost: list[int]) -> list[Message]:
    """One Content as neutral messages: a model turn with its function calls, or a user turn
    as one ``tool`` message per function response followed by its text (if any)."""
    model = content.role == "model"
    texts: list[str] = []
    calls: list[ToolCall] = []
    results: list[Message] = []
    for j, p in enumerate(content.parts):
        if type(p.text) is str:
            texts.append(p.text)
        elif isinstance(p.inlineData, wire.Blob):
            text, tokens = _blob(p.inlineData, f"{path}.parts[{j}].inlineData")
            texts.append(text)
            cost[0] += tokens
        elif isinstance(p.fileData, wire.FileData):
            texts.append("[file]")
            cost[0] += TILE
        elif isinstance(call := p.functionCall, wire.FunctionCall):
            where = f"{path}.parts[{j}].functionCall"
            if not model:
                raise InvalidRequest(
                    f"'{where}' may only appear in a 'model' turn; a function's result goes back in a "
                    "'functionResponse' part of a 'user' turn.",
                    param=where,
                )
            _name(call.name, f"{where}.name")
            calls.append(ToolCall(call.id or "", call.name, call.args or {}))
        elif isinstance(result := p.functionResponse, wire.FunctionResponse):
            where = f"{path}.parts[{j}].functionResponse"
            if model:
                raise InvalidRequest(
                    f"'{where}' may only appear in a 'user' turn, after the 'model' turn that called the function.",
                    param=where,
                )
            _name(result.name, f"{where}.name")
            results.append(Message("tool", json.dumps(result.response, ensure_ascii=False), name=result.name,
                                   tool_call_id=wire.value(result.id)))
        else:
            where = f"{path}.parts[{j}]"
            raise InvalidRequest(
                f"'{where}' must hold 'text', 'inlineData', 'fileData', 'functionCall' or 'functionResponse' (got "
                f"{_raw_keys(raw, where)}).",
                param=where,
            )
    text = "".join(texts)
    if model:
        return [Message("assistant", text, tool_calls=calls)]
    if results:
        return [*results, Message("user", text)] if text else results
    return [Message("user", text)]


def _name(name: str, path: str) -> None:
    if not name.strip():
        raise InvalidRequest(f"Field '{path}' must not be empty.", param=path)


def _tools(declared: wire.Maybe[list[wire.Tool]], at: str) -> list[Tool]:
    """The functions in ``tools[].functionDeclarations`` (a built-in tool is a 400 in decoding)."""
    tools: list[Tool] = []
    for i, t in enumerate(declared or ()):
        for j, d in enumerate(t.functionDeclarations or ()):
            path = f"{at}tools[{i}].functionDeclarations[{j}]"
            if not FUNCTION_NAME.fullmatch(d.name):  # the declared pattern lets a final newline through
                raise InvalidRequest(f"Invalid function name {d.name!r} at '{path}.name': {wire.FUNCTION_NAME_RULE}",
                                     param=f"{path}.name")
            if d.parameters is not UNSET and d.parametersJsonSchema is not UNSET:
                raise InvalidRequest(f"'{path}' may set 'parameters' or 'parametersJsonSchema', not both.",
                                     param=f"{path}.parameters")
            if any(x.name == d.name for x in tools):
                raise InvalidRequest(
                    f"Duplicate function declaration {d.name!r} at '{path}.name': each function needs its own name.",
                    param=f"{path}.name",
                )
            # 'parameters' is Google's OpenAPI subset (types may be upper-case: OBJECT, STRING, ...),
            # 'parametersJsonSchema' plain JSON Schema: the neutral argument builder reads both.
            schema = d.parameters if d.parameters is not UNSET else d.parametersJsonSchema
            tools.append(Tool(d.name, d.description or "", schema or {"type": "object", "properties": {}}))
    return tools


def _tool_choice(config: wire.Maybe[wire.ToolConfig], tools: list[Tool], at: str) -> tuple[list[Tool], str]:
    """``toolConfig.functionCallingConfig`` in neutral terms: the tools on offer and the choice."""
    f = config.functionCallingConfig if config else UNSET
    if not f:
        return tools, "auto"
    p = f"{at}toolConfig.functionCallingConfig."
    mode = f.mode or "AUTO"
    allowed = f.allowedFunctionNames
    if allowed is not UNSET:
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


NO_CONFIG = wire.GenerationConfig()


def _generate(model: str, b: wire.GenerateContentRequest, raw: Any, at: str = "", **kw: Any) -> GeminiRequest:
    """A generateContent request (``at``: where it sits in the body) in neutral terms."""
    messages = []
    if b.systemInstruction:
        messages.append(Message("system", _parts_text(b.systemInstruction)))
    cost = [0]
    for i, content in enumerate(b.contents):
        messages += _turn(content, raw, f"{at}contents[{i}]", cost)
    tools, choice = _tool_choice(b.toolConfig, _tools(b.tools, at), at)
    cfg = b.generationConfig or NO_CONFIG
    stop = cfg.stopSequences
    _text_only(cfg, at)
    if b.cachedContent is not UNSET:
        raise NotFound(f"CachedContent not found (or permission denied): {b.cachedContent!r} (mockvendor keeps no "
                       "cached contents; send the contents themselves).", param=at + "cachedContent")
    return GeminiRequest(
        model,
        messages,
        max_tokens=wire.value(cfg.maxOutputTokens),
        temperature=wire.value(cfg.temperature),
        top_p=wire.value(cfg.topP),
        top_k=wire.value(cfg.topK),
        stop=[stop] if isinstance(stop, str) else (stop or []),
        seed=wire.value(cfg.seed),
        tools=tools,
        tool_choice=choice,
        response_format=response_format(wire.value(cfg.responseMimeType), wire.value(cfg.responseSchema),
                                        wire.value(cfg.responseJsonSchema), at),
        media_tokens=cost[0],
        n=wire.value(cfg.candidateCount) or 1,
        presence_penalty=wire.value(cfg.presencePenalty) or 0.0,
        frequency_penalty=wire.value(cfg.frequencyPenalty) or 0.0,
        logprobs=_logprobs_asked(cfg, at),
        reasoning=_reasoning(wire.value(cfg.thinkingConfig)),
        **kw,
    )


def _text_only(cfg: wire.GenerationConfig, at: str) -> None:
    modalities = wire.value(cfg.responseModalities) or []
    other = [m for m in modalities if m not in ("TEXT", "MODALITY_UNSPECIFIED")]
    if other:
        raise InvalidRequest(f"The requested response modalities {other} are not supported by this model: "
                             "it answers in TEXT only.", param=at + "generationConfig.responseModalities")


def _logprobs_asked(cfg: wire.GenerationConfig, at: str) -> int | None:
    """``responseLogprobs`` / ``logprobs`` as the neutral request's ``logprobs``."""
    top = wire.value(cfg.logprobs)
    if not cfg.responseLogprobs:
        if top is not None:
            raise InvalidRequest("logprobs is only allowed when response_logprobs is set to true.",
                                 param=f"{at}generationConfig.logprobs")
        return None
    return top or 0


def _logprobs_result(tokens: list[TokenLogprob], top: int) -> wire.LogprobsResult:
    def one(t: TokenLogprob) -> wire.LogprobsCandidate:
        return wire.LogprobsCandidate(token=t.token, tokenId=t.id, logProbability=t.logprob)

    return wire.LogprobsResult(
        topCandidates=[wire.TopCandidates(candidates=[one(a) for a in t.top]) for t in tokens] if top else UNSET,
        chosenCandidates=[one(t) for t in tokens],
    )


def _with_logprobs(cand: wire.Candidate, tokens: list[TokenLogprob] | None, top: int) -> wire.Candidate:
    if tokens is not None:
        cand.logprobsResult = _logprobs_result(tokens, top)
    return cand


def _reasoning(t: wire.ThinkingConfig | None) -> Reasoning | None:
    """``thinkingConfig`` as the neutral option: a budget of 0 turns thinking off."""
    if t is None:
        return None
    budget, level = wire.value(t.thinkingBudget), (wire.value(t.thinkingLevel) or "").lower()
    if budget == 0:
        return None
    effort = level if level in ("minimal", "low", "medium", "high") else "medium"
    return Reasoning(effort=effort, budget_tokens=budget if budget and budget > 0 else None,
                     include=wire.value(t.includeThoughts) is True)


def _thought(req: GenerateRequest, c: Completion) -> list[wire.Part]:
    """The thought part before the answer's, when asked for."""
    if req.reasoning is None or not req.reasoning.include or not c.thinking:
        return []
    return [wire.Part(text=c.thinking, thought=True)]


def _count(model: str, body: Any) -> GeminiRequest:
    """countTokens: ``contents`` (as generateContent has them), or the whole request in
    ``generateContentRequest`` (its own model field is not looked at)."""
    b = wire.read(wire.CountTokensRequest, body)
    if b.generateContentRequest:
        return _generate(model, b.generateContentRequest, body, "generateContentRequest.", count_only=True)
    if b.contents is UNSET:
        raise InvalidRequest("Missing required field 'contents'.", param="contents")
    return _generate(model, b, body, count_only=True)  # type: ignore[arg-type]


def _embed_request(model: str, body: Any, *, batch: bool) -> GeminiRequest:
    """``embedContent`` (one ``content``) or ``batchEmbedContents`` (``requests``, each one
    embedContent request for the same model)."""
    if batch:
        rs = wire.read(wire.BatchEmbedContentsRequest, body).requests
        items = [(r, f"requests[{i}].") for i, r in enumerate(rs)]
    else:
        items = [(wire.read(wire.EmbedContentRequest, body), "")]
    texts: list[str] = []
    dims: set[int | None] = set()
    for r, p in items:
        if r.model is not UNSET and r.model.removeprefix("models/") != model:
            raise InvalidRequest(
                f"'{p}model' is {r.model!r}, but the batch is for models/{model}: every request must name the "
                "model of the URL.",
                param=f"{p}model",
            )
        texts.append(_parts_text(r.content))
        dims.add(wire.value(r.outputDimensionality))
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
        if method in ("embedContent", "batchEmbedContents"):
            return _embed_request(model, body, batch=method == "batchEmbedContents")
        if method == "countTokens":
            return _count(model, body)
        stream = method == "streamGenerateContent"
        alt_sse = request.query_params.get("alt") == "sse"
        # Without alt=sse Google streams one JSON array; we send it as one body.
        return _generate(model, wire.read(wire.GenerateContentRequest, body), body,
                         stream=stream and alt_sse, as_array=stream and not alt_sse)

    # -- answers --------------------------------------------------------------------
    def render_embeddings(self, req: GenerateRequest, vectors: list[list[float]], tokens: int) -> Any:
        dims = req.dimensions if isinstance(req, GeminiRequest) else None
        if dims is not None and dims > len(vectors[0]):
            raise InvalidRequest(
                f"'outputDimensionality' {dims} is larger than the model's {len(vectors[0])} dimensions.",
                param="outputDimensionality",
            )
        # Google cuts the vector and leaves it as is (only the full length is unit norm).
        out = [wire.ContentEmbedding(values=v[:dims] if dims else v) for v in vectors]
        if isinstance(req, GeminiRequest) and req.embed_batch:
            return wire.BatchEmbedContentsResponse(embeddings=out)
        return wire.EmbedContentResponse(embedding=out[0])

    def render_count(self, req: GenerateRequest, tokens: int) -> Any:
        return wire.CountTokensResponse(totalTokens=tokens, promptTokensDetails=[
            wire.ModalityTokenCount(modality="TEXT", tokenCount=tokens)])

    def render(self, req: GenerateRequest, c: Completion) -> Any:
        parts = [[*_thought(req, x), *(_call_parts(req, x.tool_calls, x.text) if x.tool_calls
                                      else [wire.Part(text=x.text)])] for x in c.all_choices()]
        body = self._final(req, parts, c, _response_id())
        return wire.ResponseArray(body) if isinstance(req, GeminiRequest) and req.as_array else body

    def _final(self, req: GenerateRequest, parts: list[list[wire.Part]], c: Completion, rid: str,
               lp_from: dict[int, int] | None = None) -> wire.GenerateContentResponse:
        """The last event (or the whole answer): every candidate with its finishReason, and usage
        (``lp_from``: per candidate, the tokens already streamed, left out of its logprobsResult)."""
        lp_from = lp_from or {}
        candidates = []
        for i, (x, p) in enumerate(zip(c.all_choices(), parts, strict=True)):
            if x.finish_reason == "refusal":  # blocked: no content, the rating that blocked it
                rating = wire.SafetyRating(category="HARM_CATEGORY_DANGEROUS_CONTENT", probability="HIGH", blocked=True)
                candidates.append(wire.Candidate(finishReason="SAFETY", safetyRatings=[rating], index=i))
            else:
                cand = wire.Candidate(content=wire.Content(role="model", parts=p),
                                      finishReason=FINISH[x.finish_reason], index=i)
                if x.logprobs is not None:  # the whole answer's; a stream's last event: its own
                    _with_logprobs(cand, x.logprobs[lp_from.get(i, 0):], req.logprobs or 0)
                    cand.avgLogprobs = sum(t.logprob for t in x.logprobs) / len(x.logprobs) if x.logprobs else 0.0
                candidates.append(cand)
        return wire.GenerateContentResponse(
            candidates=candidates,
            usageMetadata=wire.UsageMetadata(promptTokenCount=c.usage.input_tokens,
                                             candidatesTokenCount=c.usage.output_tokens - c.usage.reasoning_tokens,
                                             totalTokenCount=c.usage.total_tokens,
                                             thoughtsTokenCount=c.usage.reasoning_tokens or UNSET,
                                             cachedContentTokenCount=c.usage.cache_hit() or UNSET),
            modelVersion=req.model,
            responseId=rid,
        )

    async def render_stream(
        self, req: GenerateRequest, events: AsyncIterator[Chunk | Completion]
    ) -> AsyncIterator[bytes]:
        rid = _response_id()
        # One piece per candidate is held back so the last event carries text, finishReason and
        # usage together, as Gemini's own last event does.
        held: dict[int, str] = {}
        # Gemini sends a function call whole: its argument pieces are gathered here and the
        # calls go out in the last event.
        calls: dict[int, dict[int, tuple[ToolCall, list[str]]]] = {}
        # With logprobs: the tokens of the held piece, and how many went out before it.
        held_lp: dict[int, list[TokenLogprob]] = {}
        sent_lp: dict[int, int] = {}
        async for ev in events:
            if isinstance(ev, Completion):
                parts = []
                for i, x in enumerate(ev.all_choices()):
                    mine = calls.get(i, {})
                    if mine or x.tool_calls:
                        streamed = [_whole(call, pieces) for call, pieces in mine.values()] or x.tool_calls
                        parts.append(_call_parts(req, streamed, held.get(i, "")))
                    else:
                        parts.append([wire.Part(text=held.get(i, ""))])
                yield sse(self._final(req, parts, ev, rid, sent_lp))
            elif ev.thinking:
                if req.reasoning is not None and req.reasoning.include and ev.text:  # thoughts go out as they come
                    yield sse(self._partial(req, ev.text, rid, ev.index, thought=True))
            elif ev.tool_call is not None:
                calls.setdefault(ev.index, {}).setdefault(ev.tool_index, (ev.tool_call, []))[1].append(ev.text)
            elif ev.text or ev.logprobs:
                i = ev.index
                if ev.text:
                    if i in held:
                        out = held_lp.pop(i, [] if req.logprobs is not None else None)
                        yield sse(self._partial(req, held[i], rid, i, out))
                        sent_lp[i] = sent_lp.get(i, 0) + len(out or ())
                    held[i] = ev.text
                if ev.logprobs is not None:
                    held_lp[i] = held_lp.get(i, []) + ev.logprobs

    def _partial(self, req: GenerateRequest, text: str, rid: str, index: int = 0,
                 lp: list[TokenLogprob] | None = None, *, thought: bool = False) -> wire.GenerateContentResponse:
        part = wire.Part(text=text, thought=True) if thought else wire.Part(text=text)
        cand = wire.Candidate(content=wire.Content(role="model", parts=[part]), index=index)
        return wire.GenerateContentResponse(
            candidates=[_with_logprobs(cand, lp, req.logprobs or 0)],
            modelVersion=req.model,
            responseId=rid,
        )

    # -- errors ---------------------------------------------------------------------
    def error_body(self, err: MockVendorError) -> Any:
        details: Any = UNSET
        if err.status == 429 and err.retry_after_ms is not None:
            details = [wire.RetryInfo(retryDelay=proto_duration(err.retry_after_ms))]
        elif err.kind == API_KEY_INVALID:
            details = [
                wire.ErrorInfo(reason="API_KEY_INVALID", domain="googleapis.com",
                               metadata={"service": "generativelanguage.googleapis.com"}),
                wire.LocalizedMessage(locale="en-US", message=err.message),
            ]
        return wire.ErrorBody(error=wire.Status(code=err.status, message=err.message,
                                                status=status_name(err.status), details=details))

    def stream_error(self, err: MockVendorError) -> bytes | None:
        return sse(self.error_body(err))

    def ratelimit_headers(self, state: RateLimitState) -> dict[str, str]:
        # Gemini sends no rate-limit headers: its 429 says when to retry in the body (RetryInfo).
        return {}

    def openapi(self) -> dict[str, Any]:
        return {**docs.gemini_paths(self), **model_list_openapi.gemini_paths(self)}


def _response_id() -> str:
    return random_hex(12)


def _call_parts(req: GenerateRequest, calls: list[ToolCall], text: str = "") -> list[wire.Part]:
    """A model turn's parts: its text (if any), then one ``functionCall`` part per call."""
    with_id = _gives_call_ids(req.model)
    parts = [wire.Part(text=text)] if text else []
    for c in calls:
        call = wire.FunctionCall(name=c.name, args=c.arguments, id=c.id if with_id else UNSET)
        parts.append(wire.Part(functionCall=call))
    return parts


def _whole(call: ToolCall, pieces: list[str]) -> ToolCall:
    """A streamed call with the arguments its chunks spelled out (the chunk's own, failing that)."""
    try:
        args = json.loads("".join(pieces))
    except ValueError:
        return call
    return ToolCall(call.id, call.name, args) if isinstance(args, dict) else call


VENDOR = GeminiVendor
