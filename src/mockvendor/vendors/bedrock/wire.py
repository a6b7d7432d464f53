"""Bedrock Runtime's bodies, declared once: the Converse API (``ConverseRequest``,
``ConverseResponse``, the ``ConverseStreamOutput`` events) as botocore's service model
(``bedrock-runtime/2023-09-30/service-2.json``) names them, and the Anthropic Messages body
that ``InvokeModel`` takes for Claude (``anthropic_version: "bedrock-2023-05-31"``, no
``model``, no ``stream``) with Anthropic's answers and stream events.

The Anthropic shapes are declared again here rather than imported: vendor families are
independent, and Bedrock's variant differs (``anthropic_version`` required, unknown keys
refused, ``amazon-bedrock-invocationMetrics`` on ``message_stop``); only what Bedrock takes is
declared.

Smithy unions (a content block, a tool, a tool choice) are JSON objects with exactly one
member set: declared as Structs of optional members, checked in ``__post_init__``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, TypeVar, Union

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from ...wire import Problem, Wording
from ..openapi import TOOLS_DOC

T = TypeVar("T")
Maybe = Union[T, UnsetType]  # noqa: UP007
JSONObject = dict[str, Any]

TOOL_NAME = "^[a-zA-Z0-9_-]+$"
TOOL_USE_ID = "^[a-zA-Z0-9_.:-]+$"
NonEmpty = Annotated[str, Meta(min_length=1)]
ToolName = Annotated[str, Meta(min_length=1, max_length=64, pattern=TOOL_NAME)]
ToolUseId = Annotated[str, Meta(min_length=1, max_length=64, pattern=TOOL_USE_ID)]


def _one_of(obj: Struct, what: str) -> None:
    """A Smithy union: exactly one member set."""
    given = [f for f in obj.__struct_fields__ if getattr(obj, f) is not UNSET]
    if len(given) != 1:
        names = ", ".join(obj.__struct_fields__)
        raise ValueError(f"{what} must set exactly one of [{names}], got {len(given)}")


# -- the AWS words -----------------------------------------------------------------------------
def _aws_path(path: str) -> str:
    """``messages[0].content`` as AWS writes member paths: ``messages.1.member.content``."""
    return re.sub(r"\[(\d+)\]", lambda m: f".{int(m[1]) + 1}.member", path).lstrip(".")


class ConverseWording(Wording):
    """AWS's validation words: ``1 validation error detected: Value '2.0' at
    'inferenceConfig.temperature' failed to satisfy constraint: Member must have value less
    than or equal to 1``."""

    BOUNDS = {">=": "greater than or equal to", "<=": "less than or equal to", ">": "greater than", "<": "less than"}

    def constraint(self, p: Problem) -> str:
        if p.kind == "missing":
            return "Member must not be null"
        if p.kind == "type":
            return f"Member must be {self.names(p.expected)}"
        if p.kind == "bound":
            return f"Member must have value {self.BOUNDS[p.op]} {p.bound}"
        if p.kind == "length":
            return f"Member must have length {self.BOUNDS[p.op]} {p.bound}"
        if p.kind == "pattern":
            return f"Member must satisfy regular expression pattern: {p.bound.strip('^$')}"
        if p.kind == "enum":
            return "Member must satisfy enum value set: [" + ", ".join(str(a) for a in p.allowed) + "]"
        if p.kind == "unknown":
            return "Member is not a known field"
        return p.text

    def message(self, p: Problem) -> str:
        where = _aws_path(p.path)
        if p.kind == "custom":
            return f"1 validation error detected: {where}: {p.text}" if where else p.text
        if not where:
            return "1 validation error detected: the request body must be a JSON object"
        value = "" if p.value is None or isinstance(p.value, dict | list) else f" '{p.value}'"
        return f"1 validation error detected: Value{value} at '{where}' failed to satisfy constraint: " \
               + self.constraint(p)


class InvokeWording(Wording):
    """The words Bedrock answers a Claude body with: a JSON Schema validator's, inside
    ``Malformed input request: ..., please reformat your input and try again.``"""

    TYPES = {"int": "Integer", "float": "Number", "str": "String", "bool": "Boolean", "null": "Null",
             "object": "JSONObject", "array": "JSONArray", "bytes": "String"}

    def detail(self, p: Problem) -> str:
        path = "#" + "".join(f"/{s}" for s in re.findall(r"[^.\[\]]+", p.path))
        parent, _, key = path.rpartition("/")
        if p.kind == "missing":
            return f"{parent}: required key [{key}] not found"
        if p.kind == "unknown":
            return f"{parent}: extraneous key [{key}] is not permitted"
        if p.kind == "type":
            return f"{path}: expected type: {self.names(p.expected)}, found: {self.name(p.got)}"
        if p.kind == "bound":
            words = {">=": "greater or equal to", "<=": "less or equal to", ">": "greater than", "<": "less than"}
            return f"{path}: {p.value} is not {words[p.op]} {p.bound}"
        if p.kind == "length":
            kind = "length" if p.what == "str" else "item count"
            return f"{path}: expected {'minimum' if p.op == '>=' else 'maximum'} {kind}: {p.bound}"
        if p.kind == "enum":
            return f"{path}: {p.value} is not a valid enum value"
        if p.kind == "pattern":
            return f"{path}: string does not match pattern {p.bound}"
        return f"{path}: {p.text}"

    def names(self, expected: str) -> str:
        return "/".join(self.name(t.strip()) for t in expected.split("|"))

    def message(self, p: Problem) -> str:
        return f"Malformed input request: {self.detail(p)}, please reformat your input and try again."


CONVERSE_WORDING = ConverseWording()
INVOKE_WORDING = InvokeWording()


# -- Converse: content blocks ------------------------------------------------------------------
class S3Location(Struct, kw_only=True):
    uri: Annotated[str, Meta(min_length=1, max_length=1024, pattern="^s3://")]
    bucketOwner: Maybe[str] = UNSET


class ImageSource(Struct, kw_only=True):
    bytes: Maybe[Annotated[str, Meta(min_length=1, description="The image, base64.")]] = UNSET
    s3Location: Maybe[S3Location] = UNSET

    def __post_init__(self) -> None:
        _one_of(self, "source")


class ImageBlock(Struct, kw_only=True):
    """An image. The model reads text only: it sees `[image]` in its place."""

    format: Literal["png", "jpeg", "gif", "webp"]
    source: ImageSource


class DocumentContent(Struct, kw_only=True):
    text: str


class DocumentSource(Struct, kw_only=True):
    bytes: Maybe[Annotated[str, Meta(min_length=1)]] = UNSET
    s3Location: Maybe[S3Location] = UNSET
    text: Maybe[str] = UNSET
    content: Maybe[list[DocumentContent]] = UNSET

    def __post_init__(self) -> None:
        _one_of(self, "source")


class DocumentBlock(Struct, kw_only=True):
    """A document: its `text` (or `content`) the model reads; bytes it sees as `[document]`."""

    format: Maybe[Literal["pdf", "csv", "doc", "docx", "xls", "xlsx", "html", "txt", "md"]] = UNSET
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    source: DocumentSource
    context: Maybe[str] = UNSET
    citations: Maybe[JSONObject] = UNSET


class ToolUseBlock(Struct, kw_only=True):
    """In an assistant turn: a call the model made."""

    toolUseId: ToolUseId
    name: ToolName
    input: Any
    type: Maybe[Literal["server_tool_use"]] = UNSET


class ToolResultContent(Struct, kw_only=True):
    json: Maybe[Any] = UNSET
    text: Maybe[str] = UNSET
    image: Maybe[ImageBlock] = UNSET
    document: Maybe[DocumentBlock] = UNSET

    def __post_init__(self) -> None:
        _one_of(self, "ToolResultContentBlock")


class ToolResultBlock(Struct, kw_only=True):
    """In a user turn: answers a toolUse of the previous assistant turn."""

    toolUseId: ToolUseId
    content: list[ToolResultContent]
    status: Maybe[Literal["success", "error"]] = UNSET
    type: Maybe[str] = UNSET


class CachePointBlock(Struct, kw_only=True):
    """A prompt-caching checkpoint (accepted; mockvendor caches nothing here)."""

    type: Literal["default"]
    ttl: Maybe[Literal["5m", "1h"]] = UNSET


class ReasoningText(Struct, kw_only=True):
    text: str
    signature: Maybe[str] = UNSET


class ReasoningContent(Struct, kw_only=True):
    """An earlier turn's reasoning, sent back (accepted; not read)."""

    reasoningText: Maybe[ReasoningText] = UNSET
    redactedContent: Maybe[str] = UNSET


class ContentBlock(Struct, kw_only=True):
    """One member: `text`, `image`, `document`, `toolUse`, `toolResult`, `cachePoint`,
    `reasoningContent` (video, audio, guardContent and searchResult are accepted, not read)."""

    text: Maybe[str] = UNSET
    image: Maybe[ImageBlock] = UNSET
    document: Maybe[DocumentBlock] = UNSET
    video: Maybe[JSONObject] = UNSET
    audio: Maybe[JSONObject] = UNSET
    toolUse: Maybe[ToolUseBlock] = UNSET
    toolResult: Maybe[ToolResultBlock] = UNSET
    guardContent: Maybe[JSONObject] = UNSET
    cachePoint: Maybe[CachePointBlock] = UNSET
    reasoningContent: Maybe[ReasoningContent] = UNSET
    searchResult: Maybe[JSONObject] = UNSET

    def __post_init__(self) -> None:
        _one_of(self, "ContentBlock")


class Message(Struct, kw_only=True):
    """One turn (a system prompt goes in the top-level `system`)."""

    role: Literal["user", "assistant"]
    content: list[ContentBlock]


class SystemContentBlock(Struct, kw_only=True):
    text: Maybe[NonEmpty] = UNSET
    guardContent: Maybe[JSONObject] = UNSET
    cachePoint: Maybe[CachePointBlock] = UNSET

    def __post_init__(self) -> None:
        _one_of(self, "SystemContentBlock")


# -- Converse: configuration -------------------------------------------------------------------
class InferenceConfiguration(Struct, kw_only=True):
    maxTokens: Maybe[Annotated[int, Meta(ge=1)]] = UNSET
    temperature: Maybe[Annotated[float, Meta(ge=0, le=1)]] = UNSET
    topP: Maybe[Annotated[float, Meta(ge=0, le=1)]] = UNSET
    stopSequences: Maybe[Annotated[list[NonEmpty], Meta(max_length=2500)]] = UNSET


class ToolInputSchema(Struct, kw_only=True):
    json: Annotated[JSONObject, Meta(description="The tool's input, a JSON Schema.")]


class ToolSpecification(Struct, kw_only=True):
    name: ToolName
    description: Maybe[NonEmpty] = UNSET
    inputSchema: ToolInputSchema
    strict: Annotated[Maybe[bool], Meta(description="Accepted: calls always fit their schema here.")] = UNSET


class SystemTool(Struct, kw_only=True):
    name: ToolName


class Tool(Struct, kw_only=True):
    """`toolSpec` (a function); `cachePoint` accepted; `systemTool` is a 400 (none is run here)."""

    toolSpec: Maybe[ToolSpecification] = UNSET
    systemTool: Maybe[SystemTool] = UNSET
    cachePoint: Maybe[CachePointBlock] = UNSET

    def __post_init__(self) -> None:
        _one_of(self, "Tool")


class Empty(Struct, kw_only=True):
    pass


class SpecificToolChoice(Struct, kw_only=True):
    name: ToolName


class ToolChoice(Struct, kw_only=True):
    auto: Maybe[Empty] = UNSET
    any: Maybe[Empty] = UNSET
    tool: Maybe[SpecificToolChoice] = UNSET

    def __post_init__(self) -> None:
        _one_of(self, "ToolChoice")


class ToolConfiguration(Struct, kw_only=True):
    tools: Annotated[list[Tool], Meta(min_length=1, description=TOOLS_DOC)]
    toolChoice: Maybe[ToolChoice] = UNSET


class JsonSchemaDefinition(Struct, kw_only=True):
    schema: Annotated[str, Meta(description="The JSON Schema, as JSON text.")]
    name: Maybe[str] = UNSET
    description: Maybe[str] = UNSET


class OutputFormatStructure(Struct, kw_only=True):
    jsonSchema: JsonSchemaDefinition


class OutputFormat(Struct, kw_only=True):
    type: Literal["json_schema"]
    structure: OutputFormatStructure


class OutputConfig(Struct, kw_only=True):
    """Structured output: the answer's text is JSON valid against the schema."""

    textFormat: Maybe[OutputFormat] = UNSET
    effort: Maybe[Annotated[str, Meta(max_length=16)]] = UNSET


class ConverseRequest(Struct, kw_only=True):
    """A Converse (or ConverseStream) request; the model id is in the path."""

    messages: Maybe[list[Message]] = UNSET
    system: Maybe[list[SystemContentBlock]] = UNSET
    inferenceConfig: Maybe[InferenceConfiguration] = UNSET
    toolConfig: Maybe[ToolConfiguration] = UNSET
    guardrailConfig: Annotated[Maybe[JSONObject], Meta(description="Accepted; no guardrail runs here.")] = UNSET
    additionalModelRequestFields: Annotated[
        Maybe[JSONObject],
        Meta(description="Model-specific fields: mockvendor reads `top_k` and `seed` (the same seed and prompt "
                         "give the same text); the rest is accepted.")] = UNSET
    promptVariables: Maybe[JSONObject] = UNSET
    additionalModelResponseFieldPaths: Maybe[Annotated[list[NonEmpty], Meta(max_length=10)]] = UNSET
    requestMetadata: Maybe[dict[str, str]] = UNSET
    performanceConfig: Maybe[JSONObject] = UNSET
    serviceTier: Maybe[JSONObject] = UNSET
    outputConfig: Maybe[OutputConfig] = UNSET


# -- CountTokens ---------------------------------------------------------------------------------
class ConverseTokensRequest(Struct, kw_only=True):
    messages: Maybe[list[Message]] = UNSET
    system: Maybe[list[SystemContentBlock]] = UNSET
    toolConfig: Maybe[ToolConfiguration] = UNSET
    additionalModelRequestFields: Maybe[JSONObject] = UNSET


class InvokeModelTokensRequest(Struct, kw_only=True):
    body: Annotated[str, Meta(description="An InvokeModel body (Claude's), base64.")]


class CountTokensInput(Struct, kw_only=True):
    invokeModel: Maybe[InvokeModelTokensRequest] = UNSET
    converse: Maybe[ConverseTokensRequest] = UNSET

    def __post_init__(self) -> None:
        _one_of(self, "input")


class CountTokensRequest(Struct, kw_only=True):
    """The prompt of a Converse or InvokeModel request, counted with the model's own tokenizer."""

    input: CountTokensInput


class CountTokensResponse(Struct, kw_only=True):
    inputTokens: int


# -- Converse: answers -------------------------------------------------------------------------
StopReason = Literal["end_turn", "tool_use", "max_tokens", "stop_sequence", "guardrail_intervened",
                     "content_filtered", "malformed_model_output", "malformed_tool_use",
                     "model_context_window_exceeded"]


class ToolUseOut(Struct, kw_only=True):
    toolUseId: str
    name: str
    input: JSONObject


class ContentOut(Struct, kw_only=True):
    text: Maybe[str] = UNSET
    toolUse: Maybe[ToolUseOut] = UNSET


class MessageOut(Struct, kw_only=True):
    role: Literal["assistant"] = "assistant"
    content: list[ContentOut]


class ConverseOutput(Struct, kw_only=True):
    message: MessageOut


class TokenUsage(Struct, kw_only=True):
    inputTokens: int
    outputTokens: int
    totalTokens: int


class Metrics(Struct, kw_only=True):
    latencyMs: int


class ConverseResponse(Struct, kw_only=True):
    """A Converse answer."""

    output: ConverseOutput
    stopReason: StopReason
    usage: TokenUsage
    metrics: Metrics


# -- ConverseStream events: each the payload of an event message named by its member ----------
# Bedrock pads every event with a `p` member of varying length (so sizes do not tell the text);
# clients ignore it.
class MessageStartEvent(Struct, kw_only=True):
    role: Literal["assistant"] = "assistant"
    p: str = ""


class ToolUseStart(Struct, kw_only=True):
    toolUseId: str
    name: str


class ContentBlockStart(Struct, kw_only=True):
    toolUse: ToolUseStart


class ContentBlockStartEvent(Struct, kw_only=True):
    start: ContentBlockStart
    contentBlockIndex: int
    p: str = ""


class ToolUseDelta(Struct, kw_only=True):
    input: str


class ContentBlockDelta(Struct, kw_only=True):
    text: Maybe[str] = UNSET
    toolUse: Maybe[ToolUseDelta] = UNSET


class ContentBlockDeltaEvent(Struct, kw_only=True):
    delta: ContentBlockDelta
    contentBlockIndex: int
    p: str = ""


class ContentBlockStopEvent(Struct, kw_only=True):
    contentBlockIndex: int
    p: str = ""


class MessageStopEvent(Struct, kw_only=True):
    stopReason: StopReason
    p: str = ""


class MetadataEvent(Struct, kw_only=True):
    usage: TokenUsage
    metrics: Metrics
    p: str = ""


class ConverseStreamOutput(Struct, kw_only=True):
    """One event of a ConverseStream (for the OpenAPI document: on the wire each member is its
    own event message, `:event-type` naming it)."""

    messageStart: Maybe[MessageStartEvent] = UNSET
    contentBlockStart: Maybe[ContentBlockStartEvent] = UNSET
    contentBlockDelta: Maybe[ContentBlockDeltaEvent] = UNSET
    contentBlockStop: Maybe[ContentBlockStopEvent] = UNSET
    messageStop: Maybe[MessageStopEvent] = UNSET
    metadata: Maybe[MetadataEvent] = UNSET


class ErrorBody(Struct, kw_only=True):
    """An error: `{"message": ...}`, its name in the `x-amzn-ErrorType` header (and in an exception
    event's `:exception-type`)."""

    message: str


# -- InvokeModel: the Anthropic Messages body Bedrock takes ------------------------------------
class AText(Struct, kw_only=True, tag_field="type", tag="text"):
    text: str
    cache_control: Maybe[JSONObject] = UNSET
    citations: Maybe[list[JSONObject] | None] = UNSET


class ABase64Image(Struct, kw_only=True, tag_field="type", tag="base64"):
    media_type: Literal["image/jpeg", "image/png", "image/gif", "image/webp"]
    data: Annotated[str, Meta(min_length=1)]


class AImage(Struct, kw_only=True, tag_field="type", tag="image"):
    """An image (base64): the model sees `[image]`."""

    source: ABase64Image
    cache_control: Maybe[JSONObject] = UNSET


class ADocument(Struct, kw_only=True, tag_field="type", tag="document"):
    """A document: a plain-text source the model reads; any other it sees as `[document]`."""

    source: JSONObject
    title: Maybe[str | None] = UNSET
    context: Maybe[str | None] = UNSET
    citations: Maybe[JSONObject] = UNSET
    cache_control: Maybe[JSONObject] = UNSET


class AThinking(Struct, kw_only=True, tag_field="type", tag="thinking"):
    thinking: str
    signature: str


class ARedactedThinking(Struct, kw_only=True, tag_field="type", tag="redacted_thinking"):
    data: str


class AToolUse(Struct, kw_only=True, tag_field="type", tag="tool_use"):
    id: str
    name: str
    input: JSONObject
    cache_control: Maybe[JSONObject] = UNSET


class AToolResult(Struct, kw_only=True, tag_field="type", tag="tool_result"):
    tool_use_id: str
    content: Maybe[str | list[AText | AImage]] = UNSET
    is_error: Maybe[bool] = UNSET
    cache_control: Maybe[JSONObject] = UNSET


ABlock = AText | AImage | ADocument | AThinking | ARedactedThinking | AToolUse | AToolResult


class AMessage(Struct, kw_only=True):
    role: Literal["user", "assistant"]
    content: str | Annotated[list[ABlock], Meta(min_length=1)]


class ATool(Struct, kw_only=True):
    name: Annotated[str, Meta(pattern="^[a-zA-Z0-9_-]{1,64}$")]
    description: Maybe[str] = UNSET
    input_schema: JSONObject
    type: Maybe[Literal["custom"]] = UNSET
    cache_control: Maybe[JSONObject] = UNSET


class AToolChoiceAuto(Struct, kw_only=True, tag_field="type", tag="auto"):
    disable_parallel_tool_use: Maybe[bool] = UNSET


class AToolChoiceAny(Struct, kw_only=True, tag_field="type", tag="any"):
    disable_parallel_tool_use: Maybe[bool] = UNSET


class AToolChoiceTool(Struct, kw_only=True, tag_field="type", tag="tool"):
    name: str
    disable_parallel_tool_use: Maybe[bool] = UNSET


class AToolChoiceNone(Struct, kw_only=True, tag_field="type", tag="none"):
    pass


class AJSONFormat(Struct, kw_only=True):
    type: Literal["json_schema"]
    schema: JSONObject


class AOutputConfig(Struct, kw_only=True):
    format: Maybe[AJSONFormat | None] = UNSET
    effort: Maybe[str | None] = UNSET


class InvokeRequest(Struct, kw_only=True, forbid_unknown_fields=True):
    """Claude's body on InvokeModel: Anthropic's Messages fields, `anthropic_version` instead of
    `model` (an unknown key, `model` included, is refused as Bedrock refuses it)."""

    anthropic_version: Annotated[str, Meta(
        pattern=r"^(bedrock-)?\d{4}-\d{2}-\d{2}$", examples=["bedrock-2023-05-31"],
        description="`bedrock-2023-05-31`, or the dated API version the current Anthropic SDK sends.")]
    anthropic_beta: Maybe[list[str]] = UNSET
    max_tokens: Annotated[int, Meta(ge=1)]
    messages: Annotated[list[AMessage], Meta(min_length=1)]
    system: Maybe[str | list[AText]] = UNSET
    stop_sequences: Maybe[list[str]] = UNSET
    temperature: Maybe[Annotated[float, Meta(ge=0, le=1)]] = UNSET
    top_p: Maybe[Annotated[float, Meta(ge=0, le=1)]] = UNSET
    top_k: Maybe[Annotated[int, Meta(ge=0)]] = UNSET
    tools: Annotated[Maybe[list[ATool]], Meta(description=TOOLS_DOC)] = UNSET
    tool_choice: Maybe[AToolChoiceAuto | AToolChoiceAny | AToolChoiceTool | AToolChoiceNone] = UNSET
    thinking: Annotated[Maybe[JSONObject], Meta(description="Accepted; the embedded model does not think aloud.")] \
        = UNSET
    output_config: Maybe[AOutputConfig] = UNSET
    metadata: Maybe[JSONObject] = UNSET
    user_profile_id: Maybe[str] = UNSET
    seed: Annotated[Maybe[int], Meta(description="mockvendor extension: the same seed and prompt give the same "
                                                 "text.")] = UNSET


# -- InvokeModel: Anthropic's answers ----------------------------------------------------------
class ATextOut(Struct, kw_only=True, tag_field="type", tag="text"):
    text: str


class AToolUseOut(Struct, kw_only=True, tag_field="type", tag="tool_use"):
    id: str
    name: str
    input: JSONObject


class AUsage(Struct, kw_only=True):
    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0


class AMessageOut(Struct, kw_only=True):
    """Claude's answer, as Anthropic's Messages API writes it."""

    id: str
    type: Literal["message"] = "message"
    role: Literal["assistant"] = "assistant"
    model: str
    content: list[ATextOut | AToolUseOut]
    stop_reason: Literal["end_turn", "max_tokens", "stop_sequence", "tool_use", "refusal"] | None
    stop_sequence: str | None
    usage: AUsage


class AMessageStart(Struct, tag_field="type", tag="message_start"):
    message: AMessageOut


class AToolUseStart(Struct, kw_only=True, tag_field="type", tag="tool_use"):
    id: str
    name: str
    input: JSONObject = msgspec.field(default_factory=dict)


class AContentBlockStart(Struct, kw_only=True, tag_field="type", tag="content_block_start"):
    index: int
    content_block: ATextOut | AToolUseStart


class ATextDelta(Struct, tag_field="type", tag="text_delta"):
    text: str


class AInputJSONDelta(Struct, tag_field="type", tag="input_json_delta"):
    partial_json: str


class AContentBlockDelta(Struct, kw_only=True, tag_field="type", tag="content_block_delta"):
    index: int
    delta: ATextDelta | AInputJSONDelta


class AContentBlockStop(Struct, kw_only=True, tag_field="type", tag="content_block_stop"):
    index: int


class AMessageDeltaBody(Struct, kw_only=True):
    stop_reason: str
    stop_sequence: str | None = None


class ADeltaUsage(Struct, kw_only=True):
    output_tokens: int


class AMessageDelta(Struct, kw_only=True, tag_field="type", tag="message_delta"):
    delta: AMessageDeltaBody
    usage: ADeltaUsage


class InvocationMetrics(Struct, kw_only=True):
    inputTokenCount: int
    outputTokenCount: int
    invocationLatency: int
    firstByteLatency: int


class AMessageStop(Struct, kw_only=True, tag_field="type", tag="message_stop"):
    invocation_metrics: Maybe[InvocationMetrics] = msgspec.field(default=UNSET,
                                                                 name="amazon-bedrock-invocationMetrics")


AStreamEvent = AMessageStart | AContentBlockStart | AContentBlockDelta | AContentBlockStop | AMessageDelta \
    | AMessageStop


class PayloadPart(Struct, kw_only=True):
    """An `InvokeModelWithResponseStream` chunk: one Anthropic stream event's JSON, base64."""

    bytes: Annotated[str, Meta(description="base64 of one Anthropic stream event (JSON).")]
    p: str = ""


class ModelStreamError(Struct, kw_only=True):
    """The payload of a `modelStreamErrorException` event: an error the stream's own members do not
    name, with the status it would have had."""

    message: str
    originalStatusCode: int
    originalMessage: str


# == InvokeModel with other providers' own bodies (Amazon Titan Text, Meta Llama; Amazon Nova
# takes the Converse shapes, base64 for bytes) =====================================================
class TitanConfig(Struct, kw_only=True):
    maxTokenCount: Maybe[Annotated[int, Meta(ge=0, le=8192)]] = UNSET
    temperature: Maybe[Annotated[float, Meta(ge=0, le=1)]] = UNSET
    topP: Maybe[Annotated[float, Meta(ge=0, le=1)]] = UNSET
    stopSequences: Maybe[list[str]] = UNSET


class TitanRequest(Struct, kw_only=True, forbid_unknown_fields=True):
    """Amazon Titan Text's body: a raw prompt, continued (``User: ...\\nBot:`` is Titan's chat form)."""

    inputText: Annotated[str, Meta(min_length=1)]
    textGenerationConfig: Maybe[TitanConfig] = UNSET


class TitanResult(Struct, kw_only=True):
    tokenCount: int
    outputText: str
    completionReason: Literal["FINISH", "LENGTH", "STOP_CRITERIA_MET", "CONTENT_FILTERED"]


class TitanResponse(Struct, kw_only=True):
    inputTextTokenCount: int
    results: list[TitanResult]


class TitanChunk(Struct, kw_only=True):
    """One streamed piece; the first says the prompt's size, the last why it ended (with Bedrock's
    invocation metrics)."""

    outputText: str
    index: int = 0
    totalOutputTextTokenCount: int
    completionReason: str | None
    inputTextTokenCount: Maybe[int] = UNSET
    invocation_metrics: Maybe[InvocationMetrics] = msgspec.field(default=UNSET,
                                                                  name="amazon-bedrock-invocationMetrics")


class LlamaRequest(Struct, kw_only=True, forbid_unknown_fields=True):
    """Meta Llama's body: a raw prompt (with Llama's chat template tokens if the caller wrote them)."""

    prompt: Annotated[str, Meta(min_length=1)]
    temperature: Maybe[Annotated[float, Meta(ge=0, le=1)]] = UNSET
    top_p: Maybe[Annotated[float, Meta(ge=0, le=1)]] = UNSET
    max_gen_len: Maybe[Annotated[int, Meta(ge=1, le=8192)]] = UNSET
    images: Maybe[list[str]] = UNSET


class LlamaResponse(Struct, kw_only=True):
    generation: str
    prompt_token_count: int | None
    generation_token_count: int
    stop_reason: Literal["stop", "length"] | None


class LlamaChunk(LlamaResponse, kw_only=True):
    invocation_metrics: Maybe[InvocationMetrics] = msgspec.field(default=UNSET,
                                                                  name="amazon-bedrock-invocationMetrics")
