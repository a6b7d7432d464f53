"""Gemini's bodies, declared once: parsing (with Gemini's words), the renderers' answers and
the OpenAPI document all come from here.

Google reads its JSON as proto3 does: ``max_output_tokens`` is ``maxOutputTokens`` and a
``null`` is a field left unset. :func:`read` does both before decoding, at the levels the
declarations describe (never inside free-form objects such as a function's ``args``), so
the declarations say each field once, optional ones as ``Maybe[...] = UNSET`` (absent from
the answers too), and an error names the camelCase field either way.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar, Union

from msgspec import UNSET, Meta, Struct, UnsetType
from msgspec import inspect as mi

from ...wire import Problem, Wording, decode
from ..openapi import TOOLS_DOC
from .models import MAX_TEMPERATURE

T = TypeVar("T")
Maybe = Union[T, UnsetType]  # noqa: UP007 (a generic alias: Maybe[int])

NO_NUL = "^[^\\x00]*$"
FUNCTION_NAME = "^[a-zA-Z_][a-zA-Z0-9_.:-]{0,63}$"
FUNCTION_NAME_RULE = (
    "it must start with a letter or an underscore and hold only letters, digits, underscores (_), dots (.), "
    "colons (:) or dashes (-), at most 64 characters."
)
MAX_BATCH_EMBED = 100  # requests per batchEmbedContents, as Google documents
RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
LOCALIZED_MESSAGE = "type.googleapis.com/google.rpc.LocalizedMessage"

# How each problem reads in Gemini's words, where they differ from mockvendor's.
BUILT_IN_TOOLS = (
    "'{f}' is not supported: mockvendor does not run Gemini's built-in tools (Google Search, code execution, "
    "URL context, ...); declare your own functions in '{at}.functionDeclarations' instead."
)


class GeminiWording(Wording):
    """mockvendor's words, plus Gemini's own for NUL characters, function names, text parts and built-in tools."""

    def message(self, p: Problem) -> str:
        if p.kind == "pattern" and p.bound in (NO_NUL, NO_NUL.replace("\\", "\\\\")):  # msgspec doubles "\\"
            return f"Field '{p.path}' must not contain NUL characters."
        if p.kind == "pattern" and p.bound == FUNCTION_NAME:
            return f"Invalid function name at '{p.path}': {FUNCTION_NAME_RULE}"
        if p.kind == "missing" and p.path.endswith("].text"):  # a TextPart
            return f"Missing required field '{p.path}': mockvendor answers text parts only."
        if p.kind == "unknown":  # only Tool forbids unknown fields: a built-in tool
            return BUILT_IN_TOOLS.format(f=p.path, at=p.path.rpartition(".")[0])
        return super().message(p)


WORDING = GeminiWording()

Name = Annotated[str, Meta(min_length=1, pattern=NO_NUL, description="The function's name.")]
CallId = Annotated[str, Meta(pattern=NO_NUL, description="The call's id (Gemini 3 model names on), echoed back "
                                                         "in its functionResponse.")]
JSONObject = dict[str, Any]


# -- requests: contents --------------------------------------------------------------------
class FunctionCall(Struct, kw_only=True):
    """In a `model` turn: a function the model called (ids from Gemini 3 model names on)."""

    name: Name
    args: Annotated[Maybe[JSONObject], Meta(description="Its arguments, a JSON object.")] = UNSET
    id: Maybe[CallId] = UNSET


class FunctionResponse(Struct, kw_only=True):
    """In a `user` turn: a function's result."""

    name: Name
    response: Annotated[JSONObject, Meta(description="The result, a JSON object.")]
    id: Maybe[CallId] = UNSET


MEDIA_DOC = ("The model reads text only: it sees a marker (`[image]`) in its place; the input tokens count it "
             "as Gemini bills it (258 per image tile or PDF page, 32 per second of audio).")


class Blob(Struct, kw_only=True):
    __doc__ = "Inline data (images, audio, video, PDF, text). " + MEDIA_DOC

    mimeType: Annotated[str, Meta(min_length=1)]
    data: Annotated[str, Meta(description="Base64.")]


class FileData(Struct, kw_only=True):
    __doc__ = "A file by URI (never fetched). " + MEDIA_DOC

    fileUri: Annotated[str, Meta(min_length=1)]
    mimeType: Maybe[str] = UNSET


class Part(Struct, kw_only=True):
    """One of `text`, `inlineData`, `fileData`, `functionCall`, `functionResponse`."""

    text: Maybe[str] = UNSET
    inlineData: Maybe[Blob] = UNSET
    fileData: Maybe[FileData] = UNSET
    functionCall: Maybe[FunctionCall] = UNSET
    functionResponse: Maybe[FunctionResponse] = UNSET
    thought: Annotated[Maybe[bool], Meta(description="A thought part of an earlier answer (read as text).")] = UNSET
    thoughtSignature: Maybe[str] = UNSET


Parts = Annotated[list[Part], Meta(min_length=1)]
Role = Literal["user", "model", "function", "tool", ""]


class Content(Struct, kw_only=True):
    """One turn of the conversation."""

    role: Annotated[Maybe[Role], Meta(description="`user` (the default) or `model`; older clients send function "
                                                  "results in a `function` or `tool` turn, read as `user`.")] = UNSET
    parts: Parts


class TextPart(Struct, kw_only=True):
    """A text part (mockvendor answers text parts only)."""

    text: str


class TextContent(Struct, kw_only=True):
    """A Content read for its text alone (its role is not looked at)."""

    role: Maybe[str] = UNSET
    parts: Annotated[list[TextPart], Meta(min_length=1)]


# -- requests: tools -----------------------------------------------------------------------
class FunctionDeclaration(Struct, kw_only=True):
    """A function the model may call."""

    name: Annotated[str, Meta(pattern=FUNCTION_NAME, description="The function's name: " + FUNCTION_NAME_RULE)]
    description: Maybe[Annotated[str, Meta(pattern=NO_NUL, description="What it does.")]] = UNSET
    parameters: Annotated[Maybe[JSONObject], Meta(description="Google's OpenAPI schema subset (OBJECT, STRING, "
                                                              "...).")] = UNSET
    parametersJsonSchema: Annotated[Maybe[JSONObject], Meta(description="Or plain JSON Schema (not both).")] = UNSET


class Tool(Struct, kw_only=True, forbid_unknown_fields=True):
    """Functions the model may call; any other kind of tool (a built-in one) is a 400."""

    functionDeclarations: Maybe[list[FunctionDeclaration]] = UNSET


Mode = Literal["AUTO", "ANY", "NONE", "VALIDATED", "MODE_UNSPECIFIED"]


class FunctionCallingConfig(Struct, kw_only=True):
    mode: Annotated[Maybe[Mode], Meta(description="`AUTO` (the default): a call or text; `ANY`: a call; `NONE`: "
                                                  "text; `VALIDATED`: as `AUTO`.")] = UNSET
    allowedFunctionNames: Annotated[Maybe[list[str]], Meta(description="The functions that may be called (each "
                                                                       "one declared in `tools`).")] = UNSET


class ToolConfig(Struct, kw_only=True):
    functionCallingConfig: Maybe[FunctionCallingConfig] = UNSET


# -- requests: generateContent, countTokens --------------------------------------------------
ACCEPTED = "Accepted; it does not change the embedded model's answer."
Modality = Literal["MODALITY_UNSPECIFIED", "TEXT", "IMAGE", "AUDIO", "VIDEO"]
ThinkingLevel = Literal["THINKING_LEVEL_UNSPECIFIED", "MINIMAL", "LOW", "MEDIUM", "HIGH", "minimal", "low", "medium",
                        "high"]


class ThinkingConfig(Struct, kw_only=True):
    """Think first: the model writes its thoughts (at most 64 tokens on the embedded model) before the answer."""

    includeThoughts: Annotated[Maybe[bool], Meta(description="The thoughts as parts with `thought: true`, before "
                                                             "the answer's.")] = UNSET
    thinkingBudget: Annotated[Maybe[Annotated[int, Meta(ge=-1)]], Meta(
        description="0: no thinking; -1: as the model sees fit.")] = UNSET
    thinkingLevel: Maybe[ThinkingLevel] = UNSET


class GenerationConfig(Struct, kw_only=True):
    """Sampling and length."""

    maxOutputTokens: Maybe[Annotated[int, Meta(ge=1, le=1_000_000)]] = UNSET
    temperature: Maybe[Annotated[float, Meta(ge=0, le=MAX_TEMPERATURE)]] = UNSET
    topP: Maybe[Annotated[float, Meta(ge=0, le=1)]] = UNSET
    topK: Maybe[Annotated[int, Meta(ge=1, le=1_000_000)]] = UNSET
    stopSequences: Annotated[Maybe[Annotated[list[str], Meta(max_length=5)] | str], Meta(
        description="Text that ends the answer (at most 5).")] = UNSET
    seed: Maybe[Annotated[int, Meta(ge=-(2**31), le=2**32 - 1, description="Same seed, same request: same "
                                                                           "answer.")]] = UNSET
    candidateCount: Maybe[Annotated[int, Meta(ge=1, le=8, description=(
        "How many candidates: generated side by side, candidate i sampled with seed + i."))]] = UNSET
    presencePenalty: Maybe[Annotated[float, Meta(ge=-2, lt=2, description="llama.cpp's penalties sampler.")]] = UNSET
    frequencyPenalty: Maybe[Annotated[float, Meta(ge=-2, lt=2, description="llama.cpp's penalties sampler.")]] = UNSET
    responseLogprobs: Annotated[Maybe[bool], Meta(description=(
        "The embedded model's own log-probability of each output token (`logprobsResult`, `avgLogprobs`): the "
        "log-softmax of its raw logits, before temperature and penalties."))] = UNSET
    logprobs: Annotated[Maybe[Annotated[int, Meta(ge=0, le=20)]], Meta(description=(
        "Top alternatives per step (0..20); only with `responseLogprobs: true`, else a 400."))] = UNSET
    thinkingConfig: Maybe[ThinkingConfig] = UNSET
    responseMimeType: Annotated[Maybe[Literal["text/plain", "application/json"]], Meta(
        description="`application/json`: the answer is JSON (valid against `responseSchema` or "
                    "`responseJsonSchema` when given), written by the embedded model under a grammar.")] = UNSET
    responseSchema: Annotated[Maybe[JSONObject], Meta(
        description="The answer's shape as Gemini's Schema object (OpenAPI subset: `type` in capitals, "
                    "`nullable`, `propertyOrdering`); needs `responseMimeType: application/json`.")] = UNSET
    responseJsonSchema: Annotated[Maybe[JSONObject], Meta(
        description="The answer's shape as JSON Schema (`$ref`/`$defs`, `anyOf`...); needs `responseMimeType: "
                    "application/json`; not with `responseSchema`.")] = UNSET
    responseModalities: Annotated[Maybe[list[Modality]], Meta(
        description="`TEXT` only: the embedded model writes text (another is Gemini's 400).")] = UNSET
    mediaResolution: Annotated[Maybe[Literal["MEDIA_RESOLUTION_UNSPECIFIED", "MEDIA_RESOLUTION_LOW",
                                             "MEDIA_RESOLUTION_MEDIUM", "MEDIA_RESOLUTION_HIGH"]],
                               Meta(description=ACCEPTED)] = UNSET
    # Accepted as Google documents them (some only on Vertex AI); none changes the embedded model's answer.
    speechConfig: Annotated[Maybe[JSONObject], Meta(description=ACCEPTED)] = UNSET
    imageConfig: Annotated[Maybe[JSONObject], Meta(description=ACCEPTED)] = UNSET
    audioTimestamp: Annotated[Maybe[bool], Meta(description=ACCEPTED)] = UNSET
    audioTranscriptionConfig: Annotated[Maybe[JSONObject], Meta(description=ACCEPTED)] = UNSET
    enableAffectiveDialog: Annotated[Maybe[bool], Meta(description=ACCEPTED)] = UNSET
    enableEnhancedCivicAnswers: Annotated[Maybe[bool], Meta(description=ACCEPTED)] = UNSET
    routingConfig: Annotated[Maybe[JSONObject], Meta(description=ACCEPTED)] = UNSET
    modelSelectionConfig: Annotated[Maybe[JSONObject], Meta(description=ACCEPTED)] = UNSET
    responseFormat: Annotated[Maybe[list[JSONObject]], Meta(description=ACCEPTED)] = UNSET
    translationConfig: Annotated[Maybe[JSONObject], Meta(description=ACCEPTED)] = UNSET


HarmCategory = Literal[
    "HARM_CATEGORY_UNSPECIFIED", "HARM_CATEGORY_HARASSMENT", "HARM_CATEGORY_HATE_SPEECH",
    "HARM_CATEGORY_SEXUALLY_EXPLICIT", "HARM_CATEGORY_DANGEROUS_CONTENT", "HARM_CATEGORY_CIVIC_INTEGRITY",
    "HARM_CATEGORY_JAILBREAK", "HARM_CATEGORY_IMAGE_HATE", "HARM_CATEGORY_IMAGE_DANGEROUS_CONTENT",
    "HARM_CATEGORY_IMAGE_HARASSMENT", "HARM_CATEGORY_IMAGE_SEXUALLY_EXPLICIT"]


class SafetySetting(Struct, kw_only=True):
    """A block threshold per harm category: accepted; the embedded model's answers are never blocked
    (the content fault `refusal` simulates a block)."""

    category: HarmCategory
    threshold: Literal["HARM_BLOCK_THRESHOLD_UNSPECIFIED", "BLOCK_LOW_AND_ABOVE", "BLOCK_MEDIUM_AND_ABOVE",
                       "BLOCK_ONLY_HIGH", "BLOCK_NONE", "OFF"]
    method: Maybe[Literal["HARM_BLOCK_METHOD_UNSPECIFIED", "SEVERITY", "PROBABILITY"]] = UNSET


class GenerateContentRequest(Struct, kw_only=True):
    """A generateContent request."""

    contents: Annotated[list[Content], Meta(min_length=1, description="The conversation so far.")]
    systemInstruction: Annotated[Maybe[TextContent], Meta(description="The system prompt: text parts (its role is "
                                                                      "not looked at).")] = UNSET
    tools: Annotated[Maybe[list[Tool]], Meta(description=TOOLS_DOC + " Built-in tools (googleSearch, "
                                                         "codeExecution, ...) are a 400.")] = UNSET
    toolConfig: Annotated[Maybe[ToolConfig], Meta(description="How the tools may be used.")] = UNSET
    generationConfig: Annotated[Maybe[GenerationConfig], Meta(description="Sampling and length.")] = UNSET
    safetySettings: Annotated[Maybe[Annotated[list[SafetySetting], Meta(max_length=16)]], Meta(
        description="Accepted; answers are never blocked unless the `refusal` content fault is asked.")] = UNSET
    cachedContent: Annotated[Maybe[str], Meta(
        description="A `cachedContents/...` name: mockvendor keeps none, so any name is Gemini's 'not found'.")] = UNSET
    labels: Annotated[Maybe[dict[str, str]], Meta(description=ACCEPTED)] = UNSET
    serviceTier: Annotated[Maybe[Literal["unspecified", "flex", "standard", "priority"]],
                           Meta(description=ACCEPTED)] = UNSET
    store: Annotated[Maybe[bool], Meta(description=ACCEPTED)] = UNSET
    continuationToken: Annotated[Maybe[str], Meta(description=ACCEPTED)] = UNSET
    generationOutputConfig: Annotated[Maybe[JSONObject], Meta(description=ACCEPTED)] = UNSET
    modelArmorConfig: Annotated[Maybe[JSONObject], Meta(description=ACCEPTED)] = UNSET


class CountTokensRequest(GenerateContentRequest, kw_only=True):
    """A countTokens request: `contents` (with what else a generateContent request holds), or the whole
    generateContent request in `generateContentRequest`."""

    contents: Maybe[Annotated[list[Content], Meta(min_length=1, description="The conversation to count.")]] = UNSET
    generateContentRequest: Annotated[Maybe[GenerateContentRequest], Meta(
        description="Or the whole generateContent request (its `model` is not looked at).")] = UNSET


# -- requests: embeddings -------------------------------------------------------------------
TaskType = Literal["TASK_TYPE_UNSPECIFIED", "RETRIEVAL_QUERY", "RETRIEVAL_DOCUMENT", "SEMANTIC_SIMILARITY",
                   "CLASSIFICATION", "CLUSTERING", "QUESTION_ANSWERING", "FACT_VERIFICATION", "CODE_RETRIEVAL_QUERY"]


class EmbedContentRequest(Struct, kw_only=True):
    """An embedContent request (or one of a batch)."""

    model: Maybe[Annotated[str, Meta(description="`models/{model}`: the model of the URL.")]] = UNSET
    content: Annotated[TextContent, Meta(description="The text to embed: text parts.")]
    taskType: Maybe[TaskType] = UNSET
    title: Maybe[Annotated[str, Meta(pattern=NO_NUL)]] = UNSET
    outputDimensionality: Maybe[Annotated[int, Meta(ge=1, le=100_000, description="Cut the vector to this length "
                                                                                  "(not rescaled).")]] = UNSET


class BatchEmbedContentsRequest(Struct, kw_only=True):
    requests: Annotated[list[EmbedContentRequest], Meta(min_length=1, max_length=MAX_BATCH_EMBED)]


# -- answers --------------------------------------------------------------------------------
class SafetyRating(Struct, kw_only=True):
    category: str
    probability: Literal["NEGLIGIBLE", "LOW", "MEDIUM", "HIGH"]
    blocked: Maybe[bool] = UNSET


class LogprobsCandidate(Struct, kw_only=True):
    token: str
    tokenId: int
    logProbability: float


class TopCandidates(Struct, kw_only=True):
    candidates: list[LogprobsCandidate]


class LogprobsResult(Struct, kw_only=True):
    """Per decoding step: the most likely tokens (``logprobs`` of them) and the one chosen."""

    topCandidates: Maybe[list[TopCandidates]] = UNSET
    chosenCandidates: list[LogprobsCandidate]


class Candidate(Struct, kw_only=True):
    # Absent when the answer was blocked (finishReason SAFETY).
    content: Maybe[Content] = UNSET
    # Only the last event of a stream says why it stopped.
    finishReason: Maybe[Literal["STOP", "MAX_TOKENS", "SAFETY"]] = UNSET
    safetyRatings: Maybe[list[SafetyRating]] = UNSET
    # With responseLogprobs: the mean over the candidate's tokens (the last event of a stream),
    # and each token's (each event: its own).
    avgLogprobs: Maybe[float] = UNSET
    logprobsResult: Maybe[LogprobsResult] = UNSET
    index: int


class UsageMetadata(Struct, kw_only=True):
    promptTokenCount: int
    candidatesTokenCount: int
    totalTokenCount: int
    cachedContentTokenCount: Maybe[int] = UNSET  # of promptTokenCount, read from the cache (absent: none)
    thoughtsTokenCount: Maybe[int] = UNSET  # with thinkingConfig


class GenerateContentResponse(Struct, kw_only=True):
    """An answer, or one event of a stream (only the last one carries finishReason and usageMetadata)."""

    candidates: list[Candidate]
    usageMetadata: Maybe[UsageMetadata] = UNSET
    modelVersion: str
    responseId: str


class ResponseArray(Struct, array_like=True):
    """streamGenerateContent without `alt=sse`: one JSON array of responses (ours holds one)."""

    only: GenerateContentResponse


class ModalityTokenCount(Struct, kw_only=True):
    modality: str
    tokenCount: int


class CountTokensResponse(Struct, kw_only=True):
    totalTokens: int
    promptTokensDetails: list[ModalityTokenCount]


class ContentEmbedding(Struct, kw_only=True):
    values: list[float]


class EmbedContentResponse(Struct, kw_only=True):
    embedding: ContentEmbedding


class BatchEmbedContentsResponse(Struct, kw_only=True):
    embeddings: list[ContentEmbedding]


# -- errors ---------------------------------------------------------------------------------
class RetryInfo(Struct, kw_only=True, tag_field="@type", tag=RETRY_INFO):
    retryDelay: Annotated[str, Meta(description="A google.protobuf.Duration: `41s`, `1.500s`.")]


class ErrorInfo(Struct, kw_only=True, tag_field="@type", tag=ERROR_INFO):
    reason: str
    domain: str
    metadata: dict[str, str]


class LocalizedMessage(Struct, kw_only=True, tag_field="@type", tag=LOCALIZED_MESSAGE):
    locale: str
    message: str


class Status(Struct, kw_only=True):
    code: Annotated[int, Meta(description="The HTTP status.")]
    message: str
    status: Annotated[str, Meta(description="The google.rpc status name: INVALID_ARGUMENT, NOT_FOUND, ...")]
    details: Maybe[list[RetryInfo | ErrorInfo | LocalizedMessage]] = UNSET


class ErrorBody(Struct, kw_only=True):
    """Every Gemini error (a stream's in-band error event too)."""

    error: Status


# -- reading a body: snake_case spellings, then decode ---------------------------------------
def read(kind: type[T], data: Any) -> T:
    """``data`` (parsed JSON) as the declared ``kind``, in Gemini's words (a 400 naming what does not fit)."""
    return decode(kind, _normalizer(kind)(data), WORDING)


def value(x: Maybe[T]) -> T | None:
    """An optional field's value, None when unset."""
    return None if x is UNSET else x  # type: ignore[return-value]


def camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


Normalize = Callable[[Any], Any]


def _same(data: Any) -> Any:
    return data


@functools.cache
def _normalizer(kind: Any) -> Normalize:
    return _for_type(mi.type_info(kind)) or _same


def _members(t: mi.Type) -> list[mi.Type]:
    while isinstance(t, mi.Metadata):
        t = t.type
    members = list(t.types) if isinstance(t, mi.UnionType) else [t]
    return [m.type if isinstance(m, mi.Metadata) else m for m in members]


def _for_type(t: mi.Type) -> Normalize | None:
    """How to normalize a value of type ``t``; None when it holds no declared object."""
    for m in _members(t):
        if isinstance(m, mi.StructType):
            return _SEEN.get(m.cls) or _for_struct(m)
        if isinstance(m, mi.ListType):
            item = _for_type(m.item_type)
            if item is not None:
                return _for_list(item)
    return None


def _for_list(item: Normalize) -> Normalize:
    def normalize(data: Any) -> Any:
        if type(data) is not list:
            return data
        out = None
        for i, x in enumerate(data):
            y = item(x)
            if y is not x:
                if out is None:
                    out = list(data)
                out[i] = y
        return data if out is None else out

    return normalize


def _respelled(data: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in data.items():
        if v is None:
            continue  # unset
        if "_" in k:
            c = camel(k)
            if c in data:
                continue  # the camelCase spelling wins
            k = c
        out[k] = v
    return out


def _for_struct(s: mi.StructType) -> Normalize:
    children: dict[str, Normalize] = {}
    get = children.get

    def normalize(data: Any) -> Any:
        # One pass over the keys; the rare body with a snake_case key or a null is rebuilt first.
        if type(data) is not dict:
            return data
        changed = None
        for k, v in data.items():
            if v is None or "_" in k:
                return normalize(_respelled(data))
            child = get(k)
            if child is not None and (w := child(v)) is not v:
                if changed is None:
                    changed = {}
                changed[k] = w
        return {**data, **changed} if changed else data

    def leaf(data: Any) -> Any:  # a level holding no declared object
        if type(data) is dict:
            for k, v in data.items():
                if v is None or "_" in k:
                    return _respelled(data)
        return data

    _SEEN[s.cls] = normalize  # a recursive declaration reaches itself
    children.update((f.encode_name, n) for f in s.fields if (n := _for_type(f.type)) is not None)
    if not children:
        _SEEN[s.cls] = leaf
        return leaf
    return normalize


_SEEN: dict[type, Normalize] = {}
