"""Cohere's v2 bodies, declared once: parsing (with Cohere's ``invalid request: ...`` words) and
the OpenAPI document come from here. Field names follow the official SDK's types
(``cohere/types/``, ``cohere/v2/types/``); unknown fields are accepted, as Cohere's are.

Answers and stream events are Structs whose field order is the key order Cohere sends; every
stream event carries its ``type`` in the JSON (the SDK discriminates on it) and is sent under
an ``event:`` line of the same name.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar, Union

from msgspec import UNSET, Meta, Struct, UnsetType, field

from ...wire import Problem, Wording
from ..openapi import TOOLS_DOC

T = TypeVar("T")
Maybe = Union[T, UnsetType]  # noqa: UP007

MAX_STOP_SEQUENCES = 5
MAX_TEXTS = 96  # per embed call
TOOL_NAME = "^[a-zA-Z0-9_-]{1,64}$"


class CohereWording(Wording):
    """mockvendor's words for a field that does not fit, after Cohere's ``invalid request: ``."""

    def message(self, p: Problem) -> str:
        return "invalid request: " + super().message(p)


WORDING = CohereWording()

Model = Annotated[str, Meta(min_length=1, max_length=256, examples=["command-a-03-2025"])]
JSONObject = dict[str, Any]


# -- chat requests: content -------------------------------------------------------------------
class TextContent(Struct, tag_field="type", tag="text"):
    text: str


class ImageURL(Struct, kw_only=True):
    url: str
    detail: Maybe[Literal["auto", "low", "high"]] = UNSET


class ImageContent(Struct, tag_field="type", tag="image_url"):
    """An image. The model reads text only: it sees `[image]` in its place."""

    image_url: ImageURL


class ThinkingContent(Struct, tag_field="type", tag="thinking"):
    """An earlier turn's reasoning (accepted; not read)."""

    thinking: str


class Document(Struct, kw_only=True):
    """A document: its `data` is read by the model as `key: value` lines."""

    data: JSONObject
    id: Maybe[str] = UNSET


class DocumentContent(Struct, tag_field="type", tag="document"):
    document: Document


class FunctionCall(Struct, kw_only=True):
    name: Maybe[str] = UNSET
    arguments: Maybe[Annotated[str, Meta(description="A JSON object, as text.")]] = UNSET


class ToolCall(Struct, kw_only=True):
    """A call the assistant made (in an assistant turn) or makes (in an answer)."""

    id: str
    type: Literal["function"] = "function"
    function: Maybe[FunctionCall] = UNSET


# -- chat requests: turns ---------------------------------------------------------------------
class UserMessage(Struct, kw_only=True, tag_field="role", tag="user"):
    content: str | list[TextContent | ImageContent]


class SystemMessage(Struct, kw_only=True, tag_field="role", tag="system"):
    content: str | list[TextContent]


class AssistantMessage(Struct, kw_only=True, tag_field="role", tag="assistant"):
    tool_calls: Maybe[list[ToolCall] | None] = UNSET
    tool_plan: Maybe[str | None] = UNSET
    content: Maybe[str | list[TextContent | ThinkingContent] | None] = UNSET
    citations: Maybe[list[JSONObject] | None] = UNSET


class ToolMessage(Struct, kw_only=True, tag_field="role", tag="tool"):
    """A tool's result: answers a call of the assistant turn before it."""

    tool_call_id: str
    content: str | list[TextContent | DocumentContent]


ChatMessage = UserMessage | SystemMessage | AssistantMessage | ToolMessage


# -- chat requests: tools, formats, the rest --------------------------------------------------
class FunctionDefinition(Struct, kw_only=True):
    name: Annotated[str, Meta(pattern=TOOL_NAME)]
    description: Maybe[str | None] = UNSET
    parameters: Annotated[JSONObject, Meta(description="The arguments' JSON Schema.")]


class Tool(Struct, kw_only=True):
    """A function tool (Cohere's v2 tools are OpenAI's)."""

    type: Literal["function"] = "function"
    function: FunctionDefinition


class TextFormat(Struct, tag_field="type", tag="text"):
    pass


class JSONObjectFormat(Struct, kw_only=True, tag_field="type", tag="json_object"):
    """The answer's text is a JSON object; with `json_schema`, one valid against it."""

    json_schema: Maybe[JSONObject | None] = UNSET


class CitationOptions(Struct, kw_only=True):
    mode: Maybe[Literal["ENABLED", "DISABLED", "FAST", "ACCURATE", "OFF"] | None] = UNSET


class Thinking(Struct, kw_only=True):
    type: Literal["enabled", "disabled"]
    token_budget: Maybe[Annotated[int, Meta(ge=1)] | None] = UNSET


class ChatRequest(Struct, kw_only=True):
    """A v2 chat request (`stream: true` for the named-event stream)."""

    model: Model
    messages: Annotated[list[ChatMessage], Meta(min_length=1)]
    stream: Maybe[bool | None] = UNSET
    tools: Annotated[Maybe[list[Tool] | None], Meta(description=TOOLS_DOC)] = UNSET
    strict_tools: Annotated[Maybe[bool | None], Meta(description="Accepted: calls always fit their schema.")] = UNSET
    documents: Annotated[Maybe[list[str | Document] | None],
                         Meta(description="Read by the model after the system turns; no citations.")] = UNSET
    citation_options: Maybe[CitationOptions | None] = UNSET
    response_format: Maybe[TextFormat | JSONObjectFormat | None] = UNSET
    safety_mode: Maybe[Literal["CONTEXTUAL", "STRICT", "OFF"] | None] = UNSET
    max_tokens: Maybe[Annotated[int, Meta(ge=1)] | None] = UNSET
    stop_sequences: Maybe[Annotated[list[str], Meta(max_length=MAX_STOP_SEQUENCES)] | None] = UNSET
    temperature: Maybe[Annotated[float, Meta(ge=0)] | None] = UNSET
    seed: Annotated[Maybe[Annotated[int, Meta(ge=-(2**63), le=2**63 - 1)] | None],
                    Meta(description="Same seed and prompt: same text.")] = UNSET
    frequency_penalty: Maybe[Annotated[float, Meta(ge=0, le=1)] | None] = UNSET
    presence_penalty: Maybe[Annotated[float, Meta(ge=0, le=1)] | None] = UNSET
    k: Maybe[Annotated[int, Meta(ge=0, le=500)] | None] = UNSET
    p: Maybe[Annotated[float, Meta(ge=0.01, le=0.99)] | None] = UNSET
    logprobs: Maybe[bool | None] = UNSET
    tool_choice: Annotated[Maybe[Literal["REQUIRED", "NONE"] | None],
                           Meta(description="Only with `tools`.")] = UNSET
    thinking: Annotated[Maybe[Thinking | None], Meta(description="Accepted; the model does not think aloud.")] = UNSET
    priority: Maybe[Annotated[int, Meta(ge=0)] | None] = UNSET


# -- chat answers -------------------------------------------------------------------------------
FinishReason = Literal["COMPLETE", "STOP_SEQUENCE", "MAX_TOKENS", "TOOL_CALL", "ERROR", "TIMEOUT"]


class TextOut(Struct, tag_field="type", tag="text"):
    text: str


class BilledUnits(Struct, kw_only=True):
    input_tokens: int
    output_tokens: int


class Tokens(Struct, kw_only=True):
    input_tokens: int
    output_tokens: int


class Usage(Struct, kw_only=True):
    billed_units: BilledUnits
    tokens: Tokens


class AnswerMessage(Struct, kw_only=True):
    role: Literal["assistant"] = "assistant"
    tool_calls: Maybe[list[ToolCall]] = UNSET
    tool_plan: Maybe[str] = UNSET
    content: Maybe[list[TextOut]] = UNSET


class ChatResponse(Struct, kw_only=True):
    """A v2 chat answer."""

    id: str
    finish_reason: FinishReason
    message: AnswerMessage
    usage: Usage


# -- stream events --------------------------------------------------------------------------------
class StartMessage(Struct, kw_only=True):
    role: Literal["assistant"] = "assistant"
    content: list[Any] = []
    tool_plan: str = ""
    tool_calls: list[Any] = []
    citations: list[Any] = []


class StartDelta(Struct):
    message: StartMessage


class MessageStart(Struct, kw_only=True, tag_field="type", tag="message-start"):
    id: str
    delta: StartDelta


class ContentPiece(Struct, kw_only=True):
    type: Maybe[Literal["text"]] = UNSET
    text: str


class ContentMessage(Struct):
    content: ContentPiece


class ContentDelta(Struct):
    message: ContentMessage


class ContentStart(Struct, kw_only=True, tag_field="type", tag="content-start"):
    index: int
    delta: ContentDelta


class ContentDeltaEvent(Struct, kw_only=True, tag_field="type", tag="content-delta"):
    index: int
    delta: ContentDelta


class ContentEnd(Struct, kw_only=True, tag_field="type", tag="content-end"):
    index: int


class ToolPlanMessage(Struct):
    tool_plan: str


class ToolPlanDelta(Struct):
    message: ToolPlanMessage


class ToolPlanDeltaEvent(Struct, kw_only=True, tag_field="type", tag="tool-plan-delta"):
    delta: ToolPlanDelta


class ToolCallMessage(Struct):
    tool_calls: ToolCall


class ToolCallDelta(Struct):
    message: ToolCallMessage


class ToolCallStart(Struct, kw_only=True, tag_field="type", tag="tool-call-start"):
    index: int
    delta: ToolCallDelta


class ArgumentsPiece(Struct):
    arguments: str


class ArgumentsCall(Struct):
    function: ArgumentsPiece


class ArgumentsMessage(Struct):
    tool_calls: ArgumentsCall


class ArgumentsDelta(Struct):
    message: ArgumentsMessage


class ToolCallDeltaEvent(Struct, kw_only=True, tag_field="type", tag="tool-call-delta"):
    index: int
    delta: ArgumentsDelta


class ToolCallEnd(Struct, kw_only=True, tag_field="type", tag="tool-call-end"):
    index: int


class EndDelta(Struct, kw_only=True):
    error: Maybe[str] = UNSET
    finish_reason: FinishReason
    usage: Maybe[Usage] = UNSET


class MessageEnd(Struct, kw_only=True, tag_field="type", tag="message-end"):
    """The last event: why the answer ended and its usage (an in-band error: `ERROR` with `error`)."""

    id: Maybe[str] = UNSET
    delta: EndDelta


StreamEvent = (MessageStart | ContentStart | ContentDeltaEvent | ContentEnd | ToolPlanDeltaEvent | ToolCallStart
               | ToolCallDeltaEvent | ToolCallEnd | MessageEnd)


# -- embed ----------------------------------------------------------------------------------------
class EmbedText(Struct, tag_field="type", tag="text"):
    text: str


class EmbedImage(Struct, tag_field="type", tag="image_url"):
    image_url: JSONObject


class EmbedInput(Struct, kw_only=True):
    """One input of text parts (an image part is a 400: mockvendor embeds text)."""

    content: list[EmbedText | EmbedImage]


EmbeddingType = Literal["float", "int8", "uint8", "binary", "ubinary", "base64"]


class EmbedRequest(Struct, kw_only=True):
    """A v2 embed request: `texts` (or text-only `inputs`)."""

    model: Annotated[str, Meta(min_length=1, max_length=256, examples=["embed-english-v3.0"])]
    input_type: Literal["search_document", "search_query", "classification", "clustering", "image"]
    texts: Maybe[Annotated[list[str], Meta(max_length=MAX_TEXTS)] | None] = UNSET
    images: Maybe[list[str] | None] = UNSET
    inputs: Maybe[Annotated[list[EmbedInput], Meta(max_length=MAX_TEXTS)] | None] = UNSET
    max_tokens: Maybe[Annotated[int, Meta(ge=1)] | None] = UNSET
    output_dimension: Maybe[Literal[256, 512, 1024, 1536] | None] = UNSET
    embedding_types: Annotated[Maybe[list[EmbeddingType] | None],
                               Meta(description="`float` (the default) and `base64` (little-endian float32); "
                                                "the quantised types are a 400.")] = UNSET
    truncate: Maybe[Literal["NONE", "START", "END"] | None] = UNSET
    priority: Maybe[Annotated[int, Meta(ge=0)] | None] = UNSET


class Embeddings(Struct, kw_only=True):
    floats: Maybe[list[list[float]]] = field(default=UNSET, name="float")
    base64: Maybe[list[str]] = UNSET


class ApiVersion(Struct):
    version: str = "2"


class EmbedBilledUnits(Struct):
    input_tokens: int


class EmbedMeta(Struct, kw_only=True):
    api_version: ApiVersion
    billed_units: EmbedBilledUnits


class EmbedResponse(Struct, kw_only=True):
    """Embeddings by type, in the order of the texts."""

    id: str
    embeddings: Embeddings
    texts: list[str]
    meta: EmbedMeta
    response_type: Literal["embeddings_by_type"] = "embeddings_by_type"


# -- errors ---------------------------------------------------------------------------------------
class ErrorBody(Struct, kw_only=True):
    """An error: `{"id": ..., "message": ...}`."""

    id: str
    message: str
