"""OpenAI's bodies, declared once: parsing (with OpenAI's error words) and the OpenAPI document
come from here. Field names follow the official SDK's types (``openai.types``); every request
field listed is one mockvendor reads, and unknown fields are accepted, as OpenAI's are.

Requests are ``kw_only`` Structs; answers and stream events are Structs whose field order is
the key order OpenAI sends. A key OpenAI leaves out (rather than sending ``null``) is typed
``... | UnsetType`` and defaults to ``UNSET``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, Struct, UnsetType, field

from ...wire import Problem, Wording
from ..openapi import TOOLS_DOC

MAX_TOOLS = 128
MAX_INPUTS = 2048  # embeddings: OpenAI's limit on the array form
MIN_OUTPUT_TOKENS = 16  # Responses: OpenAI refuses fewer
MAX_METADATA = 16
LEGACY_DEFAULT_MAX_TOKENS = 16  # the legacy completions endpoint's documented default
TOOL_NAME = "^[a-zA-Z0-9_-]{1,64}$"


ChatModel = Annotated[str, Meta(min_length=1, max_length=256, examples=["gpt-4o-mini"])]
LegacyModel = Annotated[str, Meta(min_length=1, max_length=256, examples=["gpt-3.5-turbo"])]
EmbeddingModel = Annotated[str, Meta(min_length=1, max_length=256, examples=["text-embedding-3-small"])]

MaxTokens = Annotated[int, Meta(ge=1, le=1_000_000)]
Temperature = Annotated[float, Meta(ge=0, le=2)]
TopP = Annotated[float, Meta(ge=0, le=1)]
Seed = Annotated[int, Meta(ge=-(2**63), le=2**63 - 1, description="Same seed and prompt: same text.")]
Stop = str | Annotated[list[str], Meta(max_length=4)]
Parameters = Annotated[dict[str, Any], Meta(description="The arguments' JSON Schema.")]
Arguments = Annotated[str, Meta(description="A JSON object, as text.")]
ToolName = Annotated[str, Meta(pattern=TOOL_NAME)]
NonEmpty = Annotated[str, Meta(min_length=1)]
Choice = Literal["none", "auto", "required"]
ONLY_WITH_STREAM = "Only with `stream: true`, else a 400."
PENALTY_DOC = "llama.cpp's penalties sampler on the tokens generated so far (-2..2)."
LOGPROBS_DOC = ("The embedded model's own log-probability of each output token: the log-softmax of its raw "
                "logits, before temperature, penalties and bias.")
ECHOED = "Accepted (as OpenAI documents it); it does not change the embedded model's answer."


# == chat completions and legacy completions: requests ============================================
class TextPart(Struct, tag_field="type", tag="text"):
    text: str


Detail = Literal["auto", "low", "high"]
MEDIA_DOC = ("The model reads text only: it sees a marker (`[image]`) in its place; the input tokens count it "
             "as OpenAI bills it. A remote URL is never fetched.")


class ImageURL(Struct, kw_only=True):
    url: Annotated[str, Meta(min_length=1, description="An https URL, or a `data:image/...;base64,` URL.")]
    detail: Detail | None = None


class ImagePart(Struct, kw_only=True, tag_field="type", tag="image_url"):
    __doc__ = "An image (user turns only). " + MEDIA_DOC

    image_url: ImageURL


class InputAudio(Struct, kw_only=True):
    data: Annotated[str, Meta(description="Base64 audio.")]
    format: Literal["wav", "mp3"]


class AudioPart(Struct, kw_only=True, tag_field="type", tag="input_audio"):
    __doc__ = "Audio (user turns only). " + MEDIA_DOC

    input_audio: InputAudio


class FileSpec(Struct, kw_only=True):
    file_data: Annotated[str, Meta(description="A `data:` URL or base64 of the file.")] | None = None
    file_id: str | None = None
    filename: str | None = None


class FilePart(Struct, kw_only=True, tag_field="type", tag="file"):
    __doc__ = "A file, such as a PDF (user turns only). " + MEDIA_DOC

    file: FileSpec


class RefusalPart(Struct, kw_only=True, tag_field="type", tag="refusal"):
    """An earlier refusal (assistant turns only)."""

    refusal: str


Part = TextPart | ImagePart | AudioPart | FilePart | RefusalPart
Content = str | list[Part]


class FunctionCall(Struct):
    name: str
    arguments: Arguments


class ToolCall(Struct, kw_only=True):
    """A function call the assistant made."""

    id: NonEmpty
    type: Literal["function"] = "function"
    function: FunctionCall


class _Turn(Struct, kw_only=True, tag_field="role"):
    content: Content | None = None


class SystemMessage(_Turn, kw_only=True, tag="system"):
    pass


class DeveloperMessage(_Turn, kw_only=True, tag="developer"):
    """A system turn by its newer name."""


class UserMessage(_Turn, kw_only=True, tag="user"):
    pass


class AssistantMessage(_Turn, kw_only=True, tag="assistant"):
    tool_calls: Annotated[
        list[ToolCall], Meta(description="An assistant turn's calls; each must be answered by a `tool` turn.")
    ] | None = None
    function_call: Annotated[FunctionCall, Meta(
        description="Deprecated (`functions`): the turn's one call, answered by the `function` turn after it.")
    ] | None = None


class ToolMessage(_Turn, kw_only=True, tag="tool"):
    tool_call_id: Annotated[str, Meta(min_length=1, description="A `tool` turn: the call it answers.")]


class FunctionMessage(_Turn, kw_only=True, tag="function"):
    """Deprecated (`functions`): the result of the assistant turn's `function_call`."""

    name: Annotated[str, Meta(min_length=1)]


ChatMessage = SystemMessage | DeveloperMessage | UserMessage | AssistantMessage | ToolMessage | FunctionMessage


class FunctionDefinition(Struct, kw_only=True):
    name: ToolName
    description: str | None = None
    parameters: Parameters | None = None
    strict: bool | None = None


class FunctionTool(Struct, tag_field="type", tag="function"):
    function: FunctionDefinition


class FunctionName(Struct):
    name: str


class NamedToolChoice(Struct):
    """Call this function."""

    type: Literal["function"]
    function: FunctionName


class StreamOptions(Struct, kw_only=True):
    include_usage: bool | None = None


# -- structured output (chat's response_format, Responses' text.format) --------------------------
SchemaName = Annotated[str, Meta(pattern="^[a-zA-Z0-9_-]{1,64}$", description="The schema's name.")]
JSONSchemaDoc = Annotated[dict[str, Any], Meta(description="A JSON Schema: the answer's JSON is valid against it "
                                                           "(the embedded model writes it under a grammar).")]
STRICT_DOC = ("With `true`, OpenAI's strict-mode rules apply (every object lists all its properties in "
              "`required` and sets `additionalProperties: false`; a schema breaking them is a 400).")


class FormatText(Struct, tag_field="type", tag="text"):
    """Free text (the default)."""


class FormatJSONObject(Struct, tag_field="type", tag="json_object"):
    """Any JSON object; the conversation must contain the word "json"."""


class JSONSchemaSpec(Struct, kw_only=True):
    name: SchemaName
    description: str | None = None
    schema: JSONSchemaDoc | None = None
    strict: Annotated[bool, Meta(description=STRICT_DOC)] | None = None


class FormatJSONSchema(Struct, tag_field="type", tag="json_schema"):
    """JSON valid against `json_schema.schema` (what `client.chat.completions.parse` sends)."""

    json_schema: JSONSchemaSpec


ResponseFormat = FormatText | FormatJSONObject | FormatJSONSchema


class TextJSONSchema(Struct, kw_only=True, tag_field="type", tag="json_schema"):
    """JSON valid against `schema` (what `client.responses.parse` sends)."""

    name: SchemaName
    schema: JSONSchemaDoc
    description: str | None = None
    strict: Annotated[bool, Meta(description=STRICT_DOC)] | None = None


TextFormat = FormatText | FormatJSONObject | TextJSONSchema


Includable = Literal[
    "file_search_call.results", "web_search_call.results", "web_search_call.action.sources",
    "message.input_image.image_url", "computer_call_output.output.image_url", "code_interpreter_call.outputs",
    "reasoning.encrypted_content", "message.output_text.logprobs",
]


class _Sampling(Struct, kw_only=True):
    """What chat and legacy completions share (each names its own ``model`` example)."""

    model: Annotated[str, Meta(min_length=1, max_length=256)]
    temperature: Temperature | None = None
    top_p: TopP | None = None
    seed: Seed | None = None
    n: Annotated[int, Meta(ge=1, le=128, description="How many choices: generated side by side, choice i "
                                                    "sampled with seed + i.")] | None = None
    stop: Stop | None = None
    stream: bool | None = None
    stream_options: Annotated[StreamOptions, Meta(description=ONLY_WITH_STREAM)] | None = None
    presence_penalty: Annotated[float, Meta(ge=-2, le=2, description=PENALTY_DOC)] | None = None
    frequency_penalty: Annotated[float, Meta(ge=-2, le=2, description=PENALTY_DOC)] | None = None
    logit_bias: Annotated[dict[str, Annotated[float, Meta(ge=-100, le=100)]], Meta(
        max_length=300, description="Bias per token id (the embedded model's vocabulary), -100..100.")] | None = None
    user: Annotated[str, Meta(max_length=512)] | None = None


class PromptCacheOptions(Struct, kw_only=True):
    mode: Literal["implicit", "explicit"] | None = None
    ttl: Literal["30m", "12h"] | None = None
    prewarm: bool | None = None
    comparison_response_id: str | None = None


class Moderation(Struct, kw_only=True):
    model: str
    policy: dict[str, Any] | None = None


class ChatRequest(_Sampling, kw_only=True):
    """A chat completion request."""

    model: ChatModel
    messages: Annotated[list[ChatMessage], Meta(min_length=1)]
    max_tokens: MaxTokens | None = None
    max_completion_tokens: MaxTokens | None = None
    tools: Annotated[list[FunctionTool], Meta(max_length=MAX_TOOLS, description=TOOLS_DOC)] | None = None
    tool_choice: Annotated[Choice | NamedToolChoice, Meta(description="Only with `tools`, else a 400.")] | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    metadata: Annotated[dict[str, str], Meta(max_length=MAX_METADATA, description=ECHOED)] | None = None
    store: Annotated[bool, Meta(description=ECHOED)] | None = None
    service_tier: Annotated[Literal["auto", "default", "flex", "scale", "priority", "fast"], Meta(
        description="Echoed in the answer's `service_tier` (`auto` answers `default`).")] | None = None
    reasoning_effort: Annotated[Literal["none", "minimal", "low", "medium", "high", "xhigh"], Meta(
        description="Reasoning models (o-series, gpt-5...) think first, hidden: usage counts "
                    "`completion_tokens_details.reasoning_tokens`; other models refuse it.")] | None = None
    verbosity: Annotated[Literal["low", "medium", "high"], Meta(description=ECHOED)] | None = None
    modalities: Annotated[list[Literal["text"]], Meta(description="Only `[\"text\"]`: the embedded model "
                                                                  "writes text.")] | None = None
    prediction: Annotated[dict[str, Any], Meta(description=ECHOED)] | None = None
    prompt_cache_key: Annotated[str, Meta(description=ECHOED)] | None = None
    safety_identifier: Annotated[str, Meta(max_length=64, description=ECHOED)] | None = None
    prompt_cache_retention: Annotated[Literal["in_memory", "24h"], Meta(description=ECHOED)] | None = None
    prompt_cache_options: Annotated[PromptCacheOptions, Meta(description=ECHOED)] | None = None
    moderation: Annotated[Moderation, Meta(description=ECHOED)] | None = None
    audio: Annotated[dict[str, Any], Meta(description="Accepted; the answer is text (`modalities` is "
                                                      "`[\"text\"]` only).")] | None = None
    web_search_options: Annotated[dict[str, Any], Meta(description="Accepted; no search is run.")] | None = None
    functions: Annotated[list[FunctionDefinition], Meta(
        min_length=1, max_length=128, description="Deprecated form of `tools`: a call is answered in the message's "
        "`function_call` with `finish_reason: function_call`.")] | None = None
    function_call: Annotated[Literal["none", "auto"] | FunctionName, Meta(
        description="Deprecated form of `tool_choice`, with `functions`.")] | None = None
    logprobs: Annotated[bool, Meta(description=LOGPROBS_DOC)] | None = None
    top_logprobs: Annotated[int, Meta(ge=0, le=20, description="Alternatives per token (0..20); only with "
                                                              "`logprobs: true`, else a 400.")] | None = None


class CompletionRequest(_Sampling, kw_only=True):
    """A legacy text completion request: a raw prompt, continued without a chat template."""

    model: LegacyModel
    prompt: str | Annotated[list[str], Meta(min_length=1, max_length=1)]
    max_tokens: MaxTokens | None = LEGACY_DEFAULT_MAX_TOKENS
    echo: Annotated[bool, Meta(description="The text starts with the prompt; with `logprobs`, the prompt's tokens "
                                           "are scored too (the first one: null).")] | None = None
    suffix: Annotated[str, Meta(description="Only empty: mockvendor does not insert text.")] | None = None
    best_of: Annotated[int, Meta(ge=1, le=20, description="Only 1.")] | None = None
    logprobs: Annotated[int, Meta(ge=0, le=5, description=LOGPROBS_DOC + " The value: alternatives per token "
                                                                         "(0..5).")] | None = None


# == chat completions and legacy completions: answers =============================================
Finish = Literal["stop", "length", "tool_calls", "function_call"]


class PromptTokensDetails(Struct):
    cached_tokens: int = 0  # read from the prefix cache (the answering model's tokens)
    audio_tokens: int = 0


class CompletionTokensDetails(Struct, kw_only=True):
    reasoning_tokens: int = 0
    accepted_prediction_tokens: int = 0
    rejected_prediction_tokens: int = 0
    audio_tokens: int = 0


class Usage(Struct):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_details: PromptTokensDetails = field(default_factory=PromptTokensDetails)
    completion_tokens_details: CompletionTokensDetails | UnsetType = UNSET  # with reasoning


class TopLogprob(Struct):
    token: str
    logprob: float
    bytes: list[int] | None


class TokenLogprob(Struct):
    token: str
    logprob: float
    bytes: list[int] | None
    top_logprobs: list[TopLogprob]


class ChoiceLogprobs(Struct, kw_only=True):
    """Each output token's log-probability (``content``), with the alternatives asked for."""

    content: list[TokenLogprob] | None
    refusal: list[TokenLogprob] | None = None


class TextLogprobs(Struct, kw_only=True):
    """A legacy completion's logprobs: parallel lists, ``text_offset`` in characters of the text."""

    tokens: list[str]
    token_logprobs: list[float | None]
    top_logprobs: list[dict[str, float] | None] | None
    text_offset: list[int]


class AnswerMessage(Struct, kw_only=True):
    """The assistant's turn: text, or (``content: null``) tool calls."""

    role: Literal["assistant"] = "assistant"
    content: str | None
    refusal: str | None = None
    tool_calls: list[ToolCall] | UnsetType = UNSET
    function_call: FunctionCall | UnsetType = UNSET  # the deprecated `functions` form


class ChatChoice(Struct, kw_only=True):
    index: int = 0
    message: AnswerMessage
    logprobs: ChoiceLogprobs | None = None
    finish_reason: Finish


class ChatCompletion(Struct, kw_only=True):
    """A chat completion."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: Usage
    service_tier: str = "default"
    system_fingerprint: str | UnsetType = UNSET  # OpenAI omits it or sends "fp_..."; never null


class FunctionDelta(Struct, kw_only=True):
    name: str | UnsetType = UNSET
    arguments: str


class ToolCallDelta(Struct, kw_only=True):
    """A call opening (``id``, ``type``, the name) or a piece of its arguments."""

    index: int
    id: str | UnsetType = UNSET
    type: Literal["function"] | UnsetType = UNSET
    function: FunctionDelta


class Delta(Struct, kw_only=True):
    role: Literal["assistant"] | UnsetType = UNSET
    content: str | None | UnsetType = UNSET
    refusal: str | None | UnsetType = UNSET
    tool_calls: list[ToolCallDelta] | UnsetType = UNSET
    function_call: FunctionDelta | UnsetType = UNSET  # the deprecated `functions` form


class ChunkChoice(Struct, kw_only=True):
    index: int = 0
    delta: Delta
    logprobs: ChoiceLogprobs | None = None
    finish_reason: Finish | None = None


class ChatChunk(Struct, kw_only=True):
    """One streamed ``chat.completion.chunk``; with ``stream_options.include_usage`` every chunk
    has ``usage`` (null until the last one, whose ``choices`` is empty)."""

    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    service_tier: str = "default"
    system_fingerprint: str | UnsetType = UNSET  # OpenAI omits it or sends "fp_..."; never null
    choices: list[ChunkChoice]
    usage: Usage | None | UnsetType = UNSET


class TextChoice(Struct, kw_only=True):
    text: str
    index: int = 0
    logprobs: TextLogprobs | None = None
    finish_reason: Literal["stop", "length"] | None


class TextCompletion(Struct, kw_only=True):
    """A legacy text completion."""

    id: str
    object: Literal["text_completion"] = "text_completion"
    created: int
    model: str
    choices: list[TextChoice]
    usage: Usage


class TextChunk(Struct, kw_only=True):
    """One streamed legacy completion chunk (``usage`` as on chat chunks)."""

    id: str
    object: Literal["text_completion"] = "text_completion"
    created: int
    model: str
    choices: list[TextChoice]
    usage: Usage | None | UnsetType = UNSET


# == errors ======================================================================================
class ErrorDetail(Struct):
    message: str
    type: str
    param: str | None
    code: str | None


class ErrorBody(Struct):
    """OpenAI's error: ``type`` and ``code`` say what, ``param`` names the field."""

    error: ErrorDetail


# == embeddings ==================================================================================
class EmbeddingRequest(Struct, kw_only=True):
    """An embeddings request."""

    model: EmbeddingModel
    input: Annotated[
        Annotated[str, Meta(min_length=1)]
        | Annotated[list[Annotated[str, Meta(min_length=1)]], Meta(min_length=1, max_length=MAX_INPUTS)],
        Meta(description="Text; token arrays are a 400."),
    ]
    encoding_format: Literal["float", "base64"] | None = "float"
    dimensions: Annotated[
        int, Meta(ge=1, le=1_000_000, description="Shorten, then unit length again; above the model's a 400.")
    ] | None = None
    user: str | None = None


class Embedding(Struct, kw_only=True):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: Annotated[list[float] | str, Meta(description="Floats, or base64 of little-endian float32.")]


class EmbeddingUsage(Struct):
    prompt_tokens: int
    total_tokens: int


class EmbeddingList(Struct, kw_only=True):
    """The embeddings, one per input, in input order."""

    object: Literal["list"] = "list"
    data: list[Embedding]
    model: str
    usage: EmbeddingUsage


# == Responses: requests ==========================================================================
class InputText(Struct, tag_field="type", tag="input_text"):
    text: str


class OutputTextPart(Struct, tag_field="type", tag="output_text"):
    """Text of an earlier answer (its other fields are accepted and not read)."""

    text: str


class InputImage(Struct, kw_only=True, tag_field="type", tag="input_image"):
    __doc__ = "An image by URL or data URL. " + MEDIA_DOC

    image_url: str | None = None
    file_id: str | None = None
    detail: Literal["auto", "low", "high", "original"] = "auto"


class InputFile(Struct, kw_only=True, tag_field="type", tag="input_file"):
    __doc__ = "A file (a PDF...) sent inline in `file_data`. " + MEDIA_DOC

    file_data: str | None = None
    file_id: str | None = None
    file_url: str | None = None
    filename: str | None = None
    detail: Literal["auto", "low", "high"] | None = None


class InputRefusal(Struct, kw_only=True, tag_field="type", tag="refusal"):
    refusal: str


InputContent = str | list[InputText | OutputTextPart | InputImage | InputFile | InputRefusal]


class InputMessage(Struct, kw_only=True, tag_field="type", tag="message"):
    """A message (``type`` may be left out)."""

    role: Literal["user", "system", "developer", "assistant"]
    content: InputContent


class FunctionCallItem(Struct, kw_only=True, tag_field="type", tag="function_call"):
    """A call the model made earlier; a later `function_call_output` item must answer it."""

    call_id: NonEmpty
    name: NonEmpty
    arguments: Arguments
    id: str | None = None
    status: str | None = None


class FunctionCallOutputItem(Struct, kw_only=True, tag_field="type", tag="function_call_output"):
    """The result of an earlier `function_call` item of this input (a 400 otherwise)."""

    call_id: NonEmpty
    output: InputContent


class SummaryText(Struct, kw_only=True, tag_field="type", tag="summary_text"):
    text: str


class ReasoningInput(Struct, kw_only=True, tag_field="type", tag="reasoning"):
    """An earlier answer's reasoning item, sent back (accepted; the model does not read it)."""

    summary: list[SummaryText]
    id: str | None = None
    encrypted_content: str | None = None
    content: list[Any] | None = None
    status: str | None = None


InputItem = InputMessage | FunctionCallItem | FunctionCallOutputItem | ReasoningInput


class ReasoningOptions(Struct, kw_only=True):
    effort: Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"] | None = None
    summary: Literal["auto", "concise", "detailed"] | None = None
    generate_summary: Literal["auto", "concise", "detailed"] | None = None


class ResponsesTool(Struct, kw_only=True, tag_field="type", tag="function"):
    """A function tool (flat here: name and parameters beside ``type``)."""

    name: ToolName
    description: str | None = None
    parameters: Parameters | None = None
    strict: bool | None = None


class NamedFunction(Struct, tag_field="type", tag="function"):
    """Call this function."""

    name: str


class ResponsesStreamOptions(Struct, kw_only=True):
    include_obfuscation: bool | None = None


class TextOptions(Struct, kw_only=True):
    format: TextFormat | None = None
    verbosity: Literal["low", "medium", "high"] | None = None


NO_STATE = "Refused: mockvendor keeps no state."
# The keys' and values' limits are checked after decoding (a dict key's error has no path to name).
Metadata = Annotated[dict[str, Any], Meta(max_length=MAX_METADATA, extra_json_schema={
    "additionalProperties": {"type": "string", "maxLength": 512}, "propertyNames": {"maxLength": 64}})]


class ResponsesRequest(Struct, kw_only=True):
    """`conversation`, `prompt` and `background: true` are refused (mockvendor keeps no conversations, prompt
    templates or background jobs); so are hosted tools."""

    model: ChatModel
    input: str | Annotated[list[InputItem], Meta(min_length=1)]
    instructions: Annotated[str, Meta(description="A system message before `input`.")] | None = None
    max_output_tokens: Annotated[int, Meta(ge=MIN_OUTPUT_TOKENS, le=1_000_000)] | None = None
    max_tool_calls: Annotated[int, Meta(ge=1, le=1_000_000)] | None = None
    temperature: Temperature | None = None
    top_p: TopP | None = None
    seed: Annotated[int, Meta(ge=-(2**63), le=2**63 - 1,
                              description="mockvendor extension: same seed and input, same text.")] | None = None
    stream: bool | None = None
    stream_options: Annotated[ResponsesStreamOptions, Meta(description=ONLY_WITH_STREAM)] | None = None
    tools: Annotated[list[ResponsesTool], Meta(max_length=MAX_TOOLS, description=TOOLS_DOC)] | None = None
    tool_choice: Choice | NamedFunction | None = None
    parallel_tool_calls: bool | None = None
    metadata: Metadata | None = None
    store: Annotated[bool, Meta(description="Keep the response (the default), to be read, listed or continued "
                                            "with `previous_response_id`.")] | None = None
    user: Annotated[str, Meta(max_length=512)] | None = None
    truncation: Literal["auto", "disabled"] | None = None
    top_logprobs: Annotated[int, Meta(ge=0, le=20, description=(
        "Alternatives per token (0..20), with `include: [\"message.output_text.logprobs\"]`."))] | None = None
    include: Annotated[list[Includable], Meta(description=(
        "`message.output_text.logprobs`: each output token's log-probability (the embedded model's raw "
        "logits); the others are accepted."))] | None = None
    text: TextOptions | None = None
    reasoning: Annotated[ReasoningOptions, Meta(
        description="Reasoning models think first (a `reasoning` output item; its `summary` the model's own "
                    "thinking when `summary` is asked); other models refuse it.")] | None = None
    background: Annotated[bool, Meta(description="Only `false`: mockvendor keeps no stored responses.")] | None = None
    previous_response_id: Annotated[str, Meta(
        min_length=1, description="Continue a stored response: its conversation comes before `input`.")] | None = None
    conversation: Annotated[Any, Meta(description=NO_STATE)] = None
    prompt: Annotated[Any, Meta(description="Refused: mockvendor stores no prompt templates.")] = None
    service_tier: Annotated[Literal["auto", "default", "flex", "scale", "priority", "fast", "ultrafast"], Meta(
        description="Echoed in the response's `service_tier` (`auto` answers `default`).")] | None = None
    prompt_cache_key: Annotated[str, Meta(description=ECHOED)] | None = None
    safety_identifier: Annotated[str, Meta(max_length=64, description=ECHOED)] | None = None
    prompt_cache_retention: Annotated[Literal["in_memory", "24h"], Meta(description=ECHOED)] | None = None
    prompt_cache_options: Annotated[PromptCacheOptions, Meta(description=ECHOED)] | None = None
    moderation: Annotated[Moderation, Meta(description=ECHOED)] | None = None
    context_management: Annotated[list[dict[str, Any]], Meta(description=ECHOED)] | None = None
    image: Annotated[dict[str, Any], Meta(description=ECHOED)] | None = None
    access_programs: Annotated[dict[str, Any], Meta(description=ECHOED)] | None = None
    background_options: Annotated[dict[str, Any], Meta(description="Only with `background`, which is refused."
                                                       )] | None = None


# == Responses: answers ===========================================================================
class ResponseTopLogprob(Struct):
    token: str
    bytes: list[int]
    logprob: float


class ResponseLogprob(Struct):
    """An output token's log-probability (``output_text.logprobs``)."""

    token: str
    bytes: list[int]
    logprob: float
    top_logprobs: list[ResponseTopLogprob]


class DeltaTopLogprob(Struct):
    token: str
    logprob: float


class DeltaLogprob(Struct):
    """A streamed token's log-probability (``response.output_text.delta``'s ``logprobs``)."""

    token: str
    logprob: float
    top_logprobs: list[DeltaTopLogprob]


class OutputText(Struct, kw_only=True, tag_field="type", tag="output_text"):
    annotations: list[Any] = field(default_factory=list)
    logprobs: list[Any] = field(default_factory=list)
    text: str


class OutputRefusal(Struct, kw_only=True, tag_field="type", tag="refusal"):
    """The model declined: its words, in place of output text."""

    refusal: str


OutputPart = OutputText | OutputRefusal


class OutputMessage(Struct, kw_only=True, tag_field="type", tag="message"):
    id: str
    status: Literal["in_progress", "completed", "incomplete"]
    content: list[OutputPart]
    role: Literal["assistant"] = "assistant"


class FunctionCallOutput(Struct, kw_only=True, tag_field="type", tag="function_call"):
    id: str
    status: Literal["in_progress", "completed"]
    arguments: str
    call_id: str
    name: str


class ReasoningOutput(Struct, kw_only=True, tag_field="type", tag="reasoning"):
    """The model's reasoning, before its message: a summary (its thinking) only when asked."""

    id: str
    summary: list[SummaryText]


OutputItem = OutputMessage | FunctionCallOutput | ReasoningOutput


class EchoedTool(Struct, kw_only=True, tag_field="type", tag="function"):
    name: str
    description: str | None
    parameters: dict[str, Any]
    strict: bool


class InputTokensDetails(Struct):
    cached_tokens: int = 0
    cache_write_tokens: int = 0


class OutputTokensDetails(Struct):
    reasoning_tokens: int = 0


class ResponseUsage(Struct, kw_only=True):
    input_tokens: int
    input_tokens_details: InputTokensDetails = field(default_factory=InputTokensDetails)
    output_tokens: int
    output_tokens_details: OutputTokensDetails = field(default_factory=OutputTokensDetails)
    total_tokens: int


class IncompleteDetails(Struct):
    reason: str


class Reasoning(Struct):
    effort: str | None = None
    summary: str | None = None


class TextOut(Struct, kw_only=True):
    format: TextFormat = field(default_factory=FormatText)
    verbosity: str


class Response(Struct, kw_only=True):
    """A response object, with the fields (and in the order) OpenAI sends."""

    id: str
    object: Literal["response"] = "response"
    created_at: int
    status: Literal["in_progress", "completed", "incomplete"]
    background: bool = False
    completed_at: int | None
    error: None = None
    incomplete_details: IncompleteDetails | None
    instructions: str | None
    max_output_tokens: int | None
    max_tool_calls: int | None
    model: str
    output: list[OutputItem]
    parallel_tool_calls: bool
    previous_response_id: str | None = None
    prompt_cache_key: str | None = None
    prompt_cache_retention: str | None = None
    reasoning: Reasoning = field(default_factory=Reasoning)
    safety_identifier: str | None = None
    service_tier: str = "default"
    store: bool
    temperature: float
    text: TextOut
    tool_choice: Choice | NamedFunction
    tools: list[EchoedTool]
    top_logprobs: int
    top_p: float
    truncation: Literal["auto", "disabled"]
    usage: ResponseUsage | None
    user: str | None
    metadata: dict[str, str]


# -- Responses: stream events (``event:`` is the ``type``) -----------------------------------------
class _Event(Struct, kw_only=True, tag_field="type"):
    sequence_number: int


class ResponseCreated(_Event, kw_only=True, tag="response.created"):
    response: Response


class ResponseInProgress(_Event, kw_only=True, tag="response.in_progress"):
    response: Response


class ResponseCompleted(_Event, kw_only=True, tag="response.completed"):
    response: Response


class ResponseIncomplete(_Event, kw_only=True, tag="response.incomplete"):
    response: Response


class OutputItemAdded(_Event, kw_only=True, tag="response.output_item.added"):
    output_index: int
    item: OutputItem


class OutputItemDone(_Event, kw_only=True, tag="response.output_item.done"):
    output_index: int
    item: OutputItem


class ContentPartAdded(_Event, kw_only=True, tag="response.content_part.added"):
    item_id: str
    output_index: int
    content_index: int = 0
    part: OutputPart


class ContentPartDone(_Event, kw_only=True, tag="response.content_part.done"):
    item_id: str
    output_index: int
    content_index: int = 0
    part: OutputPart


class RefusalDelta(_Event, kw_only=True, tag="response.refusal.delta"):
    item_id: str
    output_index: int
    content_index: int = 0
    delta: str


class RefusalDone(_Event, kw_only=True, tag="response.refusal.done"):
    item_id: str
    output_index: int
    content_index: int = 0
    refusal: str


class OutputTextDelta(_Event, kw_only=True, tag="response.output_text.delta"):
    item_id: str
    output_index: int
    content_index: int = 0
    logprobs: list[Any] = field(default_factory=list)
    delta: str
    obfuscation: Annotated[str, Meta(description="Padding that evens out event sizes.")] | UnsetType = UNSET


class OutputTextDone(_Event, kw_only=True, tag="response.output_text.done"):
    item_id: str
    output_index: int
    content_index: int = 0
    text: str
    logprobs: list[Any] = field(default_factory=list)


class ArgumentsDelta(_Event, kw_only=True, tag="response.function_call_arguments.delta"):
    item_id: str
    output_index: int
    delta: str
    obfuscation: str | UnsetType = UNSET


class ArgumentsDone(_Event, kw_only=True, tag="response.function_call_arguments.done"):
    item_id: str
    output_index: int
    arguments: str


class NestedError(Struct):
    type: str
    code: str
    message: str
    param: str | None


class ErrorEvent(_Event, kw_only=True, tag="error"):
    """An error mid-stream. The SDK reads ``code``, ``message`` and ``param`` at the top level; the
    live service has been seen nesting them under ``error``: both are sent."""

    code: str
    message: str
    param: str | None
    error: NestedError


class InputTokensRequest(ResponsesRequest, kw_only=True):
    """`POST /v1/responses/input_tokens`: a Responses request's input, counted (`model` may be left out)."""

    model: ChatModel | None = None  # type: ignore[assignment]
    input: str | Annotated[list[InputItem], Meta(min_length=1)] | None = None  # type: ignore[assignment]


class InputTokens(Struct, kw_only=True):
    object: Literal["response.input_tokens"] = "response.input_tokens"
    input_tokens: int


class ItemList(Struct, kw_only=True):
    """A stored response's input items."""

    object: Literal["list"] = "list"
    data: list[Any]
    first_id: str | None
    last_id: str | None
    has_more: bool


class Deleted(Struct, kw_only=True):
    id: str
    object: Literal["response"] = "response"
    deleted: bool = True


class SummaryPartAdded(_Event, kw_only=True, tag="response.reasoning_summary_part.added"):
    item_id: str
    output_index: int
    summary_index: int = 0
    part: SummaryText


class SummaryPartDone(_Event, kw_only=True, tag="response.reasoning_summary_part.done"):
    item_id: str
    output_index: int
    summary_index: int = 0
    part: SummaryText


class SummaryTextDelta(_Event, kw_only=True, tag="response.reasoning_summary_text.delta"):
    item_id: str
    output_index: int
    summary_index: int = 0
    delta: str
    obfuscation: Annotated[str, Meta(description="Padding that evens out event sizes.")] | UnsetType = UNSET


class SummaryTextDone(_Event, kw_only=True, tag="response.reasoning_summary_text.done"):
    item_id: str
    output_index: int
    summary_index: int = 0
    text: str


ResponsesEvent = (
    ResponseCreated | ResponseInProgress | ResponseCompleted | ResponseIncomplete | OutputItemAdded | OutputItemDone
    | ContentPartAdded | ContentPartDone | OutputTextDelta | OutputTextDone | RefusalDelta | RefusalDone
    | ArgumentsDelta | ArgumentsDone | ErrorEvent | SummaryPartAdded | SummaryPartDone | SummaryTextDelta
    | SummaryTextDone
)


# == error words =================================================================================
Hint = str | Callable[[Problem], str]


class Words(Wording):
    """mockvendor's words (as chat and legacy completions speak), with ``hints``: for the problems
    whose ``"<kind> <path>"`` matches a pattern, a sentence of their own. A hint's template gets
    ``f`` (the path), ``parent`` (the path without its last field), ``value`` and ``bound``."""

    def __init__(self, hints: dict[str, Hint] | None = None) -> None:
        self.hints = [(re.compile(k), v) for k, v in (hints or {}).items()]

    def message(self, p: Problem) -> str:
        key = f"{p.kind} {p.path}"
        for pattern, hint in self.hints:
            if pattern.fullmatch(key):
                if callable(hint):
                    return hint(p)
                return hint.format(f=p.path, parent=p.path.rpartition(".")[0], value=p.value, bound=p.bound)
        return self.words(p)

    def words(self, p: Problem) -> str:
        return super().message(p)


class OpenAIWords(Words):
    """OpenAI's own sentences (``Invalid type for 'x': expected an integer, but got a string instead.``),
    as the Responses and embeddings endpoints speak."""

    def names(self, expected: str) -> str:
        kinds = [t.strip() for t in expected.split("|")]
        return super().names(" | ".join(t for t in kinds if t != "null") or "null")

    def words(self, p: Problem) -> str:
        f = p.path
        if p.kind == "missing":
            return f"Missing required parameter: '{f}'."
        if p.kind == "type" and f:
            return f"Invalid type for '{f}': expected {self.names(p.expected)}, but got {self.name(p.got)} instead."
        if p.kind == "bound":
            what = "integer" if p.what == "int" else "decimal"
            below = p.op in (">=", ">")
            return (f"Invalid '{f}': {what} {'below minimum' if below else 'above maximum'} value. "
                    f"Expected a value {p.op} {p.bound}, but got {p.value} instead.")
        if p.kind == "length":
            return self.length(p)
        if p.kind == "pattern":
            return (f"Invalid '{f}': string does not match pattern. Expected a string that matches the pattern "
                    f"'{p.bound}'.")
        if p.kind == "enum":
            return f"Invalid value for '{f}': {p.value!r}. Supported values are: {', '.join(map(repr, p.allowed))}."
        return super().words(p)

    @staticmethod
    def length(p: Problem) -> str:
        f, n, short = p.path, int(p.bound), p.op == ">="
        if p.what == "str":
            if short and n == 1:
                return f"Invalid '{f}': string too short. Expected a non-empty string."
            return (f"Invalid '{f}': string too {'short' if short else 'long'}. Expected a string with "
                    f"{'minimum' if short else 'maximum'} length {n}.")
        if p.what == "object":
            return f"Invalid '{f}': too many properties. Expected an object with at most {n} properties."
        if short:
            return f"Invalid '{f}': empty array. Expected an array with minimum length {n}."
        return f"Invalid '{f}': array too long. Expected an array with maximum length {n}."


_PATTERN = "Invalid '{f}': string does not match pattern. Expected a string that matches the pattern '{bound}'."

CHAT_WORDS = Words({
    r"enum messages\[\d+\]\.content\[\d+\]\.type":
        "Invalid value: {value!r}. Supported values are: 'text', 'image_url', 'input_audio', 'refusal', and 'file'.",
    r"(enum|type) function_call": "Invalid value for 'function_call': expected 'none', 'auto' or "
                                  '{{"name": ...}}.',
    r"enum tools\[\d+\]\.type": "Invalid value for '{f}': {value!r}. mockvendor answers 'function' tools only.",
    r"pattern tools\[\d+\]\.function\.name": _PATTERN,
    r"length tools": OpenAIWords.length,
    r"type tools\[\d+\]\.function\.parameters": "Invalid type for '{f}': expected an object.",
    r"(enum|type) tool_choice(\.type)?": "Invalid value for 'tool_choice': expected 'none', 'auto', 'required' or "
                                         '{{"type": "function", "function": {{"name": ...}}}}.',
    r"(type|length) prompt(\[\d+\])?": "Field 'prompt' must be a string (or an array of one string): mockvendor "
                                        "answers one prompt per request.",
})

RESPONSES_WORDS = OpenAIWords({
    r"type input": "Invalid type for 'input': expected a string or a non-empty array of input items.",
    r"enum input\[\d+\]\.type": "Invalid value for '{f}': {value!r}. mockvendor accepts 'message', 'function_call' "
                                "and 'function_call_output' input items.",
    r"enum input\[\d+\]\.(content|output)\[\d+\]\.type":
        "Invalid value: {value!r}. Supported values are: 'input_text', 'input_image', 'input_file', 'output_text' "
        "and 'refusal'.",
    r"enum tools\[\d+\]\.type": "Invalid value for '{f}': {value!r}. mockvendor runs 'function' tools only (no "
                                "hosted tools such as web_search, file_search or code_interpreter).",
    r"(enum|type) tool_choice(\.type)?": "Invalid value for 'tool_choice': expected 'none', 'auto', 'required' or "
                                         '{{"type": "function", "name": ...}} (mockvendor runs function tools only).',
    r"enum text\.format\.type": "Invalid value for '{f}': {value!r}. Supported values are: 'text', 'json_object' "
                                "and 'json_schema'.",
})


def _embedding_input(p: Problem) -> str:
    if p.got in ("int", "array"):
        return f"Invalid '{p.path}': mockvendor embeds text; token arrays are not supported. Send strings."
    return f"Invalid type for '{p.path}': expected a string."


EMBEDDING_WORDS = OpenAIWords({
    r"type input": "Invalid 'input': expected a string or a non-empty array of strings.",
    r"type input\[\d+\]": _embedding_input,
    r"enum encoding_format": "Invalid value for 'encoding_format': {value!r}. Expected 'float' or 'base64'.",
})
