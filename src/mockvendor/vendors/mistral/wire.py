"""Mistral's bodies, declared once: parsing (a body that does not fit is Mistral's 422, with
pydantic's ``detail`` list as the ``mistralai`` SDK's ``HTTPValidationError`` reads it) and the
OpenAPI document come from here. Field names follow the SDK's models (``mistralai.client.models``);
unknown fields are accepted.

Answers and stream chunks are OpenAI's shape with Mistral's differences: 9-character
alphanumeric tool call ids, a call streamed whole in one chunk, usage on the last chunk.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, TypeVar, Union

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType, field

from ...errors import MockVendorError
from ...wire import Problem, PydanticWording
from ..openapi import TOOLS_DOC

T = TypeVar("T")
Maybe = Union[T, UnsetType]  # noqa: UP007

TOOL_NAME = "^[a-zA-Z0-9_-]{1,64}$"
TOOL_CALL_ID = "^[a-zA-Z0-9]{9}$"
JSONObject = dict[str, Any]

# pydantic's error types, by the kind of problem (``type`` in each ``detail`` item).
_BOUND_TYPES = {">=": "greater_than_equal", "<=": "less_than_equal", ">": "greater_than", "<": "less_than"}


class ValidationFailed(MockVendorError):
    """A body that does not fit the declaration: Mistral's 422 with pydantic's ``detail`` items."""

    status, kind = 422, "invalid_request_message_error"

    def __init__(self, message: str, detail: list[dict[str, Any]], param: str | None) -> None:
        super().__init__(message, param=param)
        self.detail = detail


class MistralWording(PydanticWording):
    """Pydantic's words (Mistral validates with pydantic) and its error items, loc from ``body``."""

    def error(self, p: Problem) -> MockVendorError:  # type: ignore[override]
        loc: list[Any] = ["body"] + [int(s) if s.isdigit() else s for s in p.path.split(".") if s]
        if p.kind == "enum" and p.what == "tag":
            loc = loc[:-1]
        item: dict[str, Any] = {"type": self.kind(p), "loc": loc, "msg": self.text(p)}
        if p.value is not None:
            item["input"] = p.value
        return ValidationFailed(self.message(p), [item], p.path or None)

    def locate(self, p: Problem, kind: Any, data: Any) -> Problem:
        if p.value is None:  # msgspec names no value for a pattern: the message shows it
            node = data
            for key, index in re.findall(r"\.?([^.\[]+)|\[(\d+)\]", p.path):
                try:
                    node = node[int(index)] if index else node[key]
                except (KeyError, IndexError, TypeError):
                    node = None
                    break
            p = msgspec.structs.replace(p, value=node)
        return super().locate(p, kind, data)

    def text(self, p: Problem) -> str:
        if p.kind == "pattern" and p.bound in (TOOL_CALL_ID, TOOL_CALL_ID.replace("\\", "\\\\")):
            return f"Tool call id was {p.value} but must be a-z, A-Z, 0-9, with a length of 9."
        return super().text(p)

    @staticmethod
    def kind(p: Problem) -> str:
        if p.kind == "missing":
            return "missing"
        if p.kind == "type":
            first = p.expected.split("|")[0].strip()
            return {"str": "string_type", "int": "int_type", "float": "float_type", "bool": "bool_type",
                    "array": "list_type", "object": "dict_type"}.get(first, "model_type")
        if p.kind == "bound":
            return _BOUND_TYPES[p.op]
        if p.kind == "length":
            return ("string_" if p.what == "str" else "") + ("too_short" if p.op == ">=" else "too_long")
        if p.kind == "pattern":
            return "string_pattern_mismatch"
        if p.kind == "enum":
            return "union_tag_invalid" if p.what == "tag" else "literal_error"
        if p.kind == "unknown":
            return "extra_forbidden"
        return "value_error"


WORDING = MistralWording()

Model = Annotated[str, Meta(min_length=1, max_length=256, examples=["mistral-small-latest"])]


# -- chat requests: content -----------------------------------------------------------------------
class TextChunk(Struct, tag_field="type", tag="text"):
    text: str


class ImageURL(Struct, kw_only=True):
    url: str
    detail: Maybe[str | None] = UNSET


class ImageURLChunk(Struct, tag_field="type", tag="image_url"):
    """An image. The model reads text only: it sees `[image]` in its place."""

    image_url: ImageURL | str


class DocumentURLChunk(Struct, kw_only=True, tag_field="type", tag="document_url"):
    """A document by URL. The model sees `[document]` in its place."""

    document_url: str
    document_name: Maybe[str | None] = UNSET


Chunk = TextChunk | ImageURLChunk | DocumentURLChunk
Content = str | list[Chunk]


class FunctionCall(Struct, kw_only=True):
    name: str
    arguments: Annotated[JSONObject | str, Meta(description="A JSON object, or its text.")]


class ToolCall(Struct, kw_only=True):
    """A call the assistant made: its id is 9 letters and digits."""

    id: Annotated[str, Meta(pattern=TOOL_CALL_ID)]
    type: Maybe[Literal["function"] | None] = UNSET
    function: FunctionCall
    index: Maybe[int] = UNSET


class SystemMessage(Struct, kw_only=True, tag_field="role", tag="system"):
    content: str | list[TextChunk]


class UserMessage(Struct, kw_only=True, tag_field="role", tag="user"):
    content: Content | None


class AssistantMessage(Struct, kw_only=True, tag_field="role", tag="assistant"):
    content: Maybe[Content | None] = UNSET
    tool_calls: Maybe[list[ToolCall] | None] = UNSET
    prefix: Annotated[Maybe[bool], Meta(description="Accepted; the answer is not forced to continue it.")] = UNSET


class ToolMessage(Struct, kw_only=True, tag_field="role", tag="tool"):
    content: Content | None
    tool_call_id: Maybe[str | None] = UNSET
    name: Maybe[str | None] = UNSET


Message = SystemMessage | UserMessage | AssistantMessage | ToolMessage


# -- chat requests: tools, formats, the rest --------------------------------------------------------
class Function(Struct, kw_only=True):
    name: Annotated[str, Meta(pattern=TOOL_NAME)]
    parameters: Annotated[JSONObject, Meta(description="The arguments' JSON Schema.")]
    description: Maybe[str | None] = UNSET
    strict: Maybe[bool | None] = UNSET


class Tool(Struct, kw_only=True):
    function: Function
    type: Maybe[Literal["function"]] = UNSET


class FunctionName(Struct):
    name: str


class ToolChoice(Struct, kw_only=True):
    """This function, by name."""

    function: FunctionName
    type: Maybe[Literal["function"]] = UNSET


class JSONSchema(Struct, kw_only=True):
    name: str
    schema: JSONObject
    description: Maybe[str | None] = UNSET
    strict: Maybe[bool | None] = UNSET


class ResponseFormat(Struct, kw_only=True):
    """`json_object`: a JSON object; `json_schema`: one valid against `json_schema.schema`."""

    type: Maybe[Literal["text", "json_object", "json_schema"]] = UNSET
    json_schema: Maybe[JSONSchema | None] = UNSET


class Prediction(Struct, kw_only=True):
    type: Maybe[Literal["content"]] = UNSET
    content: Maybe[str] = UNSET


class ChatRequest(Struct, kw_only=True):
    """A chat completion request (`stream: true`: data-only chunks ending with `data: [DONE]`)."""

    model: Model
    messages: Annotated[list[Message], Meta(min_length=1)]
    temperature: Maybe[Annotated[float, Meta(ge=0, le=2)] | None] = UNSET
    top_p: Maybe[Annotated[float, Meta(ge=0, le=1)] | None] = UNSET
    max_tokens: Maybe[Annotated[int, Meta(ge=0)] | None] = UNSET
    stream: Maybe[bool | None] = UNSET
    stop: Maybe[str | list[str] | None] = UNSET
    random_seed: Annotated[Maybe[Annotated[int, Meta(ge=0, le=2**63 - 1)] | None],
                           Meta(description="The seed: same seed and prompt, same text.")] = UNSET
    metadata: Maybe[JSONObject | None] = UNSET
    response_format: Maybe[ResponseFormat | None] = UNSET
    tools: Annotated[Maybe[list[Tool] | None], Meta(description=TOOLS_DOC)] = UNSET
    tool_choice: Annotated[Maybe[ToolChoice | Literal["auto", "none", "any", "required"] | None],
                           Meta(description="`any` and `required` both force a call.")] = UNSET
    presence_penalty: Maybe[Annotated[float, Meta(ge=-2, le=2)] | None] = UNSET
    frequency_penalty: Maybe[Annotated[float, Meta(ge=-2, le=2)] | None] = UNSET
    n: Annotated[Maybe[Annotated[int, Meta(ge=1)] | None], Meta(description="Only 1 (else a 400).")] = UNSET
    prediction: Maybe[Prediction | None] = UNSET
    parallel_tool_calls: Maybe[bool | None] = UNSET
    safe_prompt: Annotated[Maybe[bool | None],
                           Meta(description="Prepends Mistral's guardrail system prompt (counted in usage).")] = UNSET


# -- chat answers -------------------------------------------------------------------------------------
Finish = Literal["stop", "length", "model_length", "error", "tool_calls"]


class FunctionOut(Struct, kw_only=True):
    name: str
    arguments: str


class ToolCallOut(Struct, kw_only=True):
    id: str
    type: Literal["function"] = "function"
    function: FunctionOut
    index: int


class AnswerMessage(Struct, kw_only=True):
    role: Literal["assistant"] = "assistant"
    tool_calls: list[ToolCallOut] | None = None
    content: str


class Choice(Struct, kw_only=True):
    index: int = 0
    message: AnswerMessage
    finish_reason: Finish


class Usage(Struct, kw_only=True):
    prompt_tokens: int
    total_tokens: int
    completion_tokens: int


class ChatCompletion(Struct, kw_only=True):
    """A chat completion."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage


class Delta(Struct, kw_only=True):
    role: Maybe[Literal["assistant"]] = UNSET
    content: Maybe[str] = UNSET
    tool_calls: Maybe[list[ToolCallOut]] = UNSET


class ChunkChoice(Struct, kw_only=True):
    index: int = 0
    delta: Delta
    finish_reason: Finish | None


class ChatChunk(Struct, kw_only=True):
    """A stream chunk; the last one carries `finish_reason` and `usage`."""

    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Maybe[Usage] = UNSET


# -- embeddings --------------------------------------------------------------------------------------
class EmbeddingRequest(Struct, kw_only=True):
    """Texts to embed."""

    model: Annotated[str, Meta(min_length=1, max_length=256, examples=["mistral-embed"])]
    input: str | Annotated[list[str], Meta(min_length=1)]
    metadata: Maybe[JSONObject | None] = UNSET
    output_dimension: Maybe[Annotated[int, Meta(ge=1)] | None] = UNSET
    output_dtype: Annotated[Maybe[Literal["float", "int8", "uint8", "binary", "ubinary"] | None],
                            Meta(description="`float` only (the quantised types are a 400).")] = UNSET
    encoding_format: Annotated[Maybe[Literal["float", "base64"] | None],
                               Meta(description="`base64`: little-endian float32.")] = UNSET


class Embedding(Struct, kw_only=True):
    object: Literal["embedding"] = "embedding"
    embedding: list[float] | str
    index: int


class EmbeddingUsage(Struct, kw_only=True):
    prompt_tokens: int
    total_tokens: int
    completion_tokens: int = 0


class EmbeddingList(Struct, kw_only=True):
    """The embeddings, in the order of the inputs."""

    id: str
    object: Literal["list"] = "list"
    data: list[Embedding]
    model: str
    usage: EmbeddingUsage


# -- errors -------------------------------------------------------------------------------------------
class ErrorItem(Struct, kw_only=True):
    type: str
    loc: list[str | int]
    msg: str
    input: Maybe[Any] = UNSET


class ErrorBody(Struct, kw_only=True):
    """An error: `object: "error"`, the message, its type; a 422 also has pydantic's `detail` items."""

    object: Literal["error"] = "error"
    message: str
    type: str
    param: str | None = None
    code: str | None = None
    detail: Maybe[list[ErrorItem]] = field(default=UNSET)
