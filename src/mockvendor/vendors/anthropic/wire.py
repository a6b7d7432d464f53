"""Anthropic's bodies, declared once: parsing (in Anthropic's pydantic words and paths), the
renderers' answers and stream events, and the OpenAPI document all come from here.

Field names and shapes follow the official SDK's types (``anthropic.types``:
``MessageCreateParams``, ``Message``, the ``Raw*Event`` stream events). Every request field
the current API documents is declared, so an application's request parses as it does at
Anthropic: those mockvendor has no use for (``metadata``, ``service_tier``, ``cache_control``,
``container``...) are checked and then ignored. Unknown fields are accepted, as
the API's own are not refused by the SDKs either.

Rules that need the whole conversation (which blocks each role may hold, every ``tool_use``
answered by a ``tool_result`` in the next turn, ``tool_choice`` naming an offered tool) live
in the vendor's conversion to the neutral request.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, TypeVar, Union

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from ...wire import Problem, PydanticWording
from ..openapi import TOOLS_DOC

T = TypeVar("T")
Maybe = Union[T, UnsetType]  # noqa: UP007

NO_NUL = "^[^\\x00]*$"
TOOL_NAME = "^[a-zA-Z0-9_-]{1,64}$"
MAX_STOP_SEQUENCES = 64  # not documented; generous, as the API is
SERVER_TOOLS = (
    "mockvendor does not run server tools (web search, web fetch, code execution, bash, text editor, memory, "
    "computer use, tool search); declare a custom tool with a name and an input_schema instead"
)


class AnthropicWording(PydanticWording):
    """Pydantic's words, as the API's 400s have them, plus mockvendor's for what it does not do."""

    def message(self, p: Problem) -> str:
        if p.kind == "type" and p.got == "null":  # a required field sent as null: as good as missing
            return f"{p.path}: Field required"
        if p.kind == "pattern" and p.bound in (NO_NUL, NO_NUL.replace("\\", "\\\\")):
            return f"{p.path}: text must not contain NUL characters"
        if p.kind == "enum" and re.fullmatch(r"tools\.\d+\.type", p.path):
            return f"{p.path}: tool type {p.value!r} is not supported: {SERVER_TOOLS}"
        if p.kind == "enum" and re.fullmatch(r"messages\.\d+\.role", p.path):
            return super().message(p) + " (a system prompt goes in the top-level 'system' field)"
        if p.kind == "enum" and p.what == "tag" and ".content." in p.path:
            return super().message(p) + " (mockvendor takes text, image, document, search_result, thinking, " \
                "tool_use and tool_result blocks; server tool blocks are not supported)"
        return super().message(p)

    def locate(self, p: Problem, kind: Any, data: Any) -> Problem:
        p = super().locate(p, kind, data)
        # A custom tool is the one member of the tools union without a tag: pydantic names it `custom`.
        m = re.fullmatch(r"(tools\.\d+)\.(.+)", p.path)
        if m and m[2] != "type":
            p = msgspec.structs.replace(p, path=f"{m[1]}.custom.{m[2]}")
        return p


WORDING = AnthropicWording()

Text = Annotated[str, Meta(pattern=NO_NUL)]
JSONObject = dict[str, Any]


# -- requests: shared pieces -----------------------------------------------------------------
class CacheControl(Struct, kw_only=True):
    """A prompt-caching breakpoint (accepted; mockvendor caches nothing here)."""

    type: Literal["ephemeral"]
    ttl: Maybe[Literal["5m", "1h"]] = UNSET


Cache = Annotated[Maybe[CacheControl | None], Meta(
    description="Prompt caching: with a breakpoint, usage reports the prompt prefix the engine reused as "
                "`cache_read_input_tokens` (a first request: `cache_creation_input_tokens`).")]


class CitationsConfig(Struct, kw_only=True):
    enabled: Maybe[bool] = UNSET


# -- requests: content blocks ----------------------------------------------------------------
class TextBlock(Struct, kw_only=True, tag_field="type", tag="text"):
    """Text."""

    text: Text
    cache_control: Cache = UNSET
    citations: Maybe[list[JSONObject] | None] = UNSET


class Base64Image(Struct, kw_only=True, tag_field="type", tag="base64"):
    media_type: Literal["image/jpeg", "image/png", "image/gif", "image/webp"]
    data: Annotated[str, Meta(min_length=1, description="The image, base64.")]


class URLImage(Struct, kw_only=True, tag_field="type", tag="url"):
    url: Annotated[str, Meta(min_length=1)]


class FileSource(Struct, kw_only=True, tag_field="type", tag="file"):
    file_id: Annotated[str, Meta(min_length=1, description="A Files API id.")]


class ImageBlock(Struct, kw_only=True, tag_field="type", tag="image"):
    """An image (base64, URL or file id). The model reads text only: it sees `[image]` in its place."""

    source: Base64Image | URLImage | FileSource
    cache_control: Cache = UNSET


class Base64PDF(Struct, kw_only=True, tag_field="type", tag="base64"):
    media_type: Literal["application/pdf"]
    data: Annotated[str, Meta(min_length=1, description="The PDF, base64.")]


class PlainText(Struct, kw_only=True, tag_field="type", tag="text"):
    media_type: Literal["text/plain"]
    data: Annotated[Text, Meta(description="The document's text: the model reads it.")]


class ContentSource(Struct, kw_only=True, tag_field="type", tag="content"):
    content: str | list[TextBlock | ImageBlock]


class URLPDF(Struct, kw_only=True, tag_field="type", tag="url"):
    url: Annotated[str, Meta(min_length=1)]


class DocumentBlock(Struct, kw_only=True, tag_field="type", tag="document"):
    """A document: a PDF (the model sees `[document]`), plain text or content blocks (the model reads them)."""

    source: Base64PDF | PlainText | ContentSource | URLPDF | FileSource
    title: Maybe[str | None] = UNSET
    context: Maybe[str | None] = UNSET
    citations: Maybe[CitationsConfig | None] = UNSET
    cache_control: Cache = UNSET


class SearchResultBlock(Struct, kw_only=True, tag_field="type", tag="search_result"):
    """A search result your code found, with its text blocks (the model reads them)."""

    source: str
    title: str
    content: list[TextBlock]
    citations: Maybe[CitationsConfig] = UNSET
    cache_control: Cache = UNSET


class ThinkingBlock(Struct, kw_only=True, tag_field="type", tag="thinking"):
    """An earlier turn's thinking, sent back in a tool loop (accepted; not read)."""

    thinking: str
    signature: str


class RedactedThinkingBlock(Struct, kw_only=True, tag_field="type", tag="redacted_thinking"):
    data: str


class ToolUseBlock(Struct, kw_only=True, tag_field="type", tag="tool_use"):
    """In an assistant turn: a call the model made."""

    id: str
    name: str
    input: JSONObject
    cache_control: Cache = UNSET


ToolResultContent = TextBlock | ImageBlock | DocumentBlock | SearchResultBlock


class ToolResultBlock(Struct, kw_only=True, tag_field="type", tag="tool_result"):
    """In a user turn: answers a tool_use of the previous assistant turn."""

    tool_use_id: str
    content: Maybe[str | list[ToolResultContent]] = UNSET
    is_error: Maybe[bool] = UNSET
    cache_control: Cache = UNSET


Block = (TextBlock | ImageBlock | DocumentBlock | SearchResultBlock | ThinkingBlock | RedactedThinkingBlock
         | ToolUseBlock | ToolResultBlock)


class MessageParam(Struct, kw_only=True):
    """One turn."""

    role: Literal["user", "assistant"]
    content: str | Annotated[list[Block], Meta(min_length=1)]


# -- requests: tools -------------------------------------------------------------------------
class InputSchema(Struct, kw_only=True):
    """A JSON Schema of type object (its other keywords are taken as they are)."""

    type: Literal["object"]
    properties: Maybe[JSONObject | None] = UNSET
    required: Maybe[list[str] | None] = UNSET


class Tool(Struct, kw_only=True):
    """A custom tool. Anthropic's server tools (`web_search_...`, `bash_...`) are a 400."""

    type: Maybe[Literal["custom"] | None] = UNSET
    name: Annotated[str, Meta(pattern=TOOL_NAME)]
    description: Maybe[str] = UNSET
    input_schema: InputSchema
    strict: Annotated[Maybe[bool], Meta(description="Accepted: calls always fit their schema here.")] = UNSET
    input_examples: Maybe[list[JSONObject]] = UNSET
    cache_control: Cache = UNSET
    defer_loading: Maybe[bool] = UNSET
    eager_input_streaming: Maybe[bool | None] = UNSET


class ToolChoiceAuto(Struct, kw_only=True, tag_field="type", tag="auto"):
    disable_parallel_tool_use: Maybe[bool] = UNSET


class ToolChoiceAny(Struct, kw_only=True, tag_field="type", tag="any"):
    disable_parallel_tool_use: Maybe[bool] = UNSET


class ToolChoiceTool(Struct, kw_only=True, tag_field="type", tag="tool"):
    name: str
    disable_parallel_tool_use: Maybe[bool] = UNSET


class ToolChoiceNone(Struct, kw_only=True, tag_field="type", tag="none"):
    pass


ToolChoice = ToolChoiceAuto | ToolChoiceAny | ToolChoiceTool | ToolChoiceNone


# -- requests: the rest ----------------------------------------------------------------------
class ThinkingEnabled(Struct, kw_only=True, tag_field="type", tag="enabled"):
    budget_tokens: Annotated[int, Meta(ge=1024, description="Less than max_tokens.")]
    display: Maybe[Literal["summarized", "omitted"] | None] = UNSET


class ThinkingDisabled(Struct, kw_only=True, tag_field="type", tag="disabled"):
    pass


class ThinkingAdaptive(Struct, kw_only=True, tag_field="type", tag="adaptive"):
    display: Maybe[Literal["summarized", "omitted"] | None] = UNSET


class JSONOutputFormat(Struct, kw_only=True):
    """Structured output: the answer's text is JSON valid against `schema` (the model writes it under
    a grammar built from the schema)."""

    type: Literal["json_schema"]
    schema: JSONObject


class OutputConfig(Struct, kw_only=True):
    effort: Maybe[Literal["low", "medium", "high", "xhigh", "max"] | None] = UNSET
    format: Maybe[JSONOutputFormat | None] = UNSET


class ThreadCreate(Struct, kw_only=True, tag_field="type", tag="create"):
    """Hold this conversation under the answer's `id`."""


class ThreadContinue(Struct, kw_only=True, tag_field="type", tag="continue"):
    """Resume from an earlier answer: only the new turn's messages are sent; `system` and `tools` come
    from the thread."""

    previous_message_id: Annotated[str, Meta(min_length=1)]


class Metadata(Struct, kw_only=True):
    user_id: Maybe[Annotated[str, Meta(max_length=256)] | None] = UNSET


ACCEPTED = "Accepted; it does not change the embedded model's answer."


class _Params(Struct, kw_only=True):
    """What a Messages request and a token count share."""

    model: Annotated[str, Meta(min_length=1, max_length=256, pattern=NO_NUL, examples=["claude-sonnet-4-5"])]
    messages: Annotated[list[MessageParam], Meta(max_length=100_000,
                                                 description="At least one, except when continuing a thread.")]
    system: Maybe[str | list[TextBlock] | None] = UNSET
    tools: Annotated[Maybe[list[Tool] | None], Meta(description=TOOLS_DOC + " Server tools (web_search, bash, ...) "
                                                                     "are a 400.")] = UNSET
    tool_choice: Annotated[Maybe[ToolChoice | None],
                           Meta(description="Only with `tools`; `name` with type `tool`.")] = UNSET
    thinking: Annotated[Maybe[ThinkingEnabled | ThinkingDisabled | ThinkingAdaptive | None],
                        Meta(description="`enabled` or `adaptive`: the model writes a thinking block first (at most "
                                         "64 tokens on the embedded model); `display: omitted` leaves its text "
                                         "empty.")] = UNSET
    output_config: Maybe[OutputConfig | None] = UNSET
    cache_control: Cache = UNSET
    thread: Annotated[Maybe[ThreadCreate | ThreadContinue | None],
                      Meta(description="Server-held conversation state (beta `message-threads-2026-08-12`), as the "
                                       "SDK's tool runner uses it.")] = UNSET


class MessagesRequest(_Params, kw_only=True):
    """A Messages request."""

    max_tokens: Annotated[int, Meta(ge=1, le=1_000_000)]
    stream: Maybe[bool | None] = UNSET
    stop_sequences: Maybe[Annotated[list[Text], Meta(max_length=MAX_STOP_SEQUENCES)] | None] = UNSET
    temperature: Maybe[Annotated[float, Meta(ge=0, le=1)] | None] = UNSET
    top_p: Maybe[Annotated[float, Meta(ge=0, le=1)] | None] = UNSET
    top_k: Maybe[Annotated[int, Meta(ge=1, le=1_000_000)] | None] = UNSET
    metadata: Maybe[Metadata | None] = UNSET
    service_tier: Maybe[Literal["auto", "standard_only"] | None] = UNSET
    container: Maybe[str | JSONObject | None] = UNSET
    inference_geo: Maybe[str | None] = UNSET
    speed: Maybe[Literal["standard", "fast"] | None] = UNSET
    seed: Annotated[Maybe[Annotated[int, Meta(ge=-(2**63), le=2**63 - 1)] | None],
                    Meta(description="mockvendor extension: the same seed and prompt give the same text.")] = UNSET
    # Accepted as Anthropic documents them; none changes the embedded model's answer.
    diagnostics: Annotated[Maybe[JSONObject | None], Meta(description=ACCEPTED)] = UNSET
    user_profile_id: Annotated[Maybe[str | None], Meta(description=ACCEPTED)] = UNSET
    workspace_id: Annotated[Maybe[str | None], Meta(description=ACCEPTED)] = UNSET
    # Beta (the `anthropic-beta` header's features).
    context_management: Annotated[Maybe[JSONObject | None], Meta(description=ACCEPTED)] = UNSET
    compaction: Annotated[Maybe[JSONObject | None], Meta(description=ACCEPTED)] = UNSET
    billing_policy: Annotated[Maybe[JSONObject | None], Meta(description=ACCEPTED)] = UNSET
    fallback_credit_token: Annotated[Maybe[str | JSONObject | None], Meta(description=ACCEPTED)] = UNSET
    fallbacks: Annotated[Maybe[list[JSONObject] | Literal["default"] | None], Meta(
        description="Accepted; the embedded model answers, so no fallback model is ever used.")] = UNSET
    mcp_servers: Annotated[Maybe[list[JSONObject] | None], Meta(
        description="Accepted; the servers are not contacted, so their tools are not offered to the model.")] = UNSET

    def __post_init__(self) -> None:
        if isinstance(self.thinking, ThinkingEnabled) and self.thinking.budget_tokens >= self.max_tokens:
            raise ValueError("`max_tokens` must be greater than `thinking.budget_tokens`")


class CountTokensRequest(_Params, kw_only=True):
    """A token count: a Messages request without `max_tokens` and sampling."""


# -- answers ---------------------------------------------------------------------------------
StopReason = Literal["end_turn", "max_tokens", "stop_sequence", "tool_use", "refusal", "pause_turn"]


class TextOut(Struct, kw_only=True, tag_field="type", tag="text"):
    text: str


class ToolUseOut(Struct, kw_only=True, tag_field="type", tag="tool_use"):
    id: str
    name: str
    input: JSONObject


class ThinkingOut(Struct, kw_only=True, tag_field="type", tag="thinking"):
    """The model's thinking, before the answer; `signature` is opaque (base64)."""

    thinking: str
    signature: str


class Usage(Struct, kw_only=True):
    input_tokens: int
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    output_tokens: int
    service_tier: Literal["standard", "priority", "batch"] = "standard"


class Message(Struct, kw_only=True):
    """A Messages answer."""

    id: str
    type: Literal["message"] = "message"
    role: Literal["assistant"] = "assistant"
    model: str
    content: list[ThinkingOut | TextOut | ToolUseOut]
    stop_reason: StopReason | None
    stop_sequence: str | None
    usage: Usage


class CountTokensResponse(Struct):
    input_tokens: int


class ErrorDetail(Struct, kw_only=True):
    type: str
    message: str
    details: Maybe[JSONObject] = UNSET  # {"error_code": "thread_not_found"}, ...


class ErrorBody(Struct, kw_only=True):
    """An error: `{"type": "error", "error": {...}, "request_id": ...}`."""

    type: Literal["error"] = "error"
    error: ErrorDetail
    request_id: Maybe[str] = UNSET


# -- stream events (each an SSE event named by its `type`) -----------------------------------
class MessageStart(Struct, tag_field="type", tag="message_start"):
    message: Message


class ToolUseStart(Struct, kw_only=True, tag_field="type", tag="tool_use"):
    id: str
    name: str
    input: JSONObject = msgspec.field(default_factory=dict)


class ContentBlockStart(Struct, kw_only=True, tag_field="type", tag="content_block_start"):
    index: int
    content_block: TextOut | ToolUseStart | ThinkingOut


class Ping(Struct, tag_field="type", tag="ping"):
    pass


class TextDelta(Struct, tag_field="type", tag="text_delta"):
    text: str


class InputJSONDelta(Struct, tag_field="type", tag="input_json_delta"):
    partial_json: str


class ThinkingDelta(Struct, tag_field="type", tag="thinking_delta"):
    thinking: str


class SignatureDelta(Struct, tag_field="type", tag="signature_delta"):
    signature: str


class ContentBlockDelta(Struct, kw_only=True, tag_field="type", tag="content_block_delta"):
    index: int
    delta: TextDelta | InputJSONDelta | ThinkingDelta | SignatureDelta


class ContentBlockStop(Struct, kw_only=True, tag_field="type", tag="content_block_stop"):
    index: int


class MessageDeltaBody(Struct, kw_only=True):
    stop_reason: StopReason
    stop_sequence: str | None


class DeltaUsage(Struct, kw_only=True):
    """Cumulative usage at the end of a stream (the SDK's ``MessageDeltaUsage``)."""

    output_tokens: int
    input_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None


class MessageDelta(Struct, kw_only=True, tag_field="type", tag="message_delta"):
    delta: MessageDeltaBody
    usage: DeltaUsage


class MessageStop(Struct, tag_field="type", tag="message_stop"):
    pass


class StreamError(Struct, kw_only=True, tag_field="type", tag="error"):
    error: ErrorDetail


StreamEvent = (MessageStart | ContentBlockStart | Ping | ContentBlockDelta | ContentBlockStop | MessageDelta
               | MessageStop | StreamError)
