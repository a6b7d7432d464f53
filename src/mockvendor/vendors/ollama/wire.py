"""Ollama's bodies, declared once: parsing (in the words of Ollama's Go JSON decoder), the
answers and NDJSON stream lines, and the OpenAPI document all come from here.

Field names and shapes follow the official Python client's types (``ollama/_types.py``:
``ChatRequest``, ``GenerateRequest``, ``EmbedRequest``, ``ChatResponse``, ``ListResponse``,
``ShowResponse``...) and Ollama's API reference (docs/api.md). Fields mockvendor has no use for
(``keep_alive``, ``logprobs``, ``template``, ``context``, the load-time options...) are checked
and then ignored; unknown fields and unknown ``options`` are accepted, as Ollama accepts them.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, TypeVar, Union

from msgspec import UNSET, Meta, Struct, UnsetType

from ...wire import Problem, Wording

T = TypeVar("T")
Maybe = Union[T, UnsetType]  # noqa: UP007

JSONObject = dict[str, Any]
# Go's names for JSON kinds and for the declared field types.
_GO_KINDS = {"str": "string", "int": "number", "float": "number", "bool": "bool", "null": "null",
             "object": "object", "array": "array"}
_GO_TYPES = {"str": "string", "int": "int", "float": "float64", "bool": "bool", "object": "map[string]interface {}",
             "array": "[]interface {}"}


class OllamaWording(Wording):
    """Ollama's 400s: its Go decoder's words for a value of the wrong type
    (``json: cannot unmarshal number into Go struct field ChatRequest.messages.content of type
    string``), and its own short sentences for the rest (``model is required``)."""

    def __init__(self, struct: str) -> None:
        self.struct = struct

    def message(self, p: Problem) -> str:
        field = re.sub(r"\[\d+\]", "", p.path)
        if p.kind == "missing":
            return f"{field} is required"
        if p.kind == "type" and not p.path:
            return f"json: cannot unmarshal {_GO_KINDS.get(p.got, p.got)} into Go value of type api.{self.struct}"
        if p.kind == "type":
            want = [t.strip() for t in p.expected.split("|") if t.strip() != "null"]
            go = _GO_TYPES.get(want[0], want[0]) if len(want) == 1 else " or ".join(_GO_TYPES.get(t, t) for t in want)
            return (f"json: cannot unmarshal {_GO_KINDS.get(p.got, p.got)} into Go struct field "
                    f"{self.struct}.{field} of type {go}")
        if p.kind == "enum":
            allowed = ", ".join(repr(a) for a in p.allowed)
            return f"invalid {field} {p.value!r}" + (f": expected one of {allowed}" if allowed else "")
        return f"invalid {field}: " + super().message(p)


CHAT_WORDING = OllamaWording("ChatRequest")
GENERATE_WORDING = OllamaWording("GenerateRequest")
EMBED_WORDING = OllamaWording("EmbedRequest")
EMBEDDINGS_WORDING = OllamaWording("EmbeddingRequest")
SHOW_WORDING = OllamaWording("ShowRequest")
PULL_WORDING = OllamaWording("PullRequest")

Format = Annotated[
    Maybe[str | JSONObject | None],
    Meta(description='Structured output: `"json"` (any JSON object) or a JSON Schema the answer follows.'),
]
Think = Annotated[Maybe[bool | Literal["low", "medium", "high"] | None],
                  Meta(description="Think first: the embedded model writes a short thinking passage (`thinking`, "
                                   "streamed before the answer; `low`/`medium`/`high` set its length).")]
KeepAlive = Annotated[Maybe[float | str | None], Meta(description="How long the model stays loaded (accepted).")]


# -- requests --------------------------------------------------------------------------------
class Options(Struct, kw_only=True):
    """Model options. The runtime ones below are honoured; the load-time ones (``num_ctx``,
    ``num_gpu``, ``num_thread``...) and any other option are accepted and ignored."""

    temperature: Maybe[float | None] = UNSET
    top_p: Maybe[float | None] = UNSET
    top_k: Maybe[int | None] = UNSET
    seed: Maybe[int | None] = UNSET
    num_predict: Annotated[Maybe[int | None], Meta(
        description="Most tokens to answer with; -1 (infinite) and -2 (fill the context) leave the default.")] = UNSET
    stop: Maybe[list[str] | None] = UNSET
    num_ctx: Maybe[int | None] = UNSET
    repeat_penalty: Maybe[float | None] = UNSET
    presence_penalty: Maybe[float | None] = UNSET
    frequency_penalty: Maybe[float | None] = UNSET
    min_p: Maybe[float | None] = UNSET


class CallFunction(Struct, kw_only=True):
    name: str
    arguments: Annotated[JSONObject, Meta(description="The call's arguments: a JSON object, not a string.")]
    index: Maybe[int] = UNSET


class ToolCall(Struct, kw_only=True):
    function: CallFunction
    id: Maybe[str] = UNSET


class Message(Struct, kw_only=True):
    """One turn. A ``tool`` turn is a tool's result (``tool_name`` names the tool); an
    ``assistant`` turn may carry the ``tool_calls`` it made. Images reach the model as `[image]`."""

    role: Literal["system", "user", "assistant", "tool"]
    content: Maybe[str | None] = UNSET
    images: Maybe[list[str] | None] = UNSET
    tool_calls: Maybe[list[ToolCall] | None] = UNSET
    tool_name: Maybe[str | None] = UNSET
    thinking: Maybe[str | None] = UNSET


class ToolFunction(Struct, kw_only=True):
    name: Annotated[str, Meta(min_length=1)]
    description: Maybe[str | None] = UNSET
    parameters: Annotated[Maybe[JSONObject | None], Meta(description="The arguments' JSON Schema.")] = UNSET


class Tool(Struct, kw_only=True):
    """A function the model may call (OpenAI's shape)."""

    type: Literal["function"] = "function"
    function: ToolFunction


class ChatRequest(Struct, kw_only=True):
    """``POST /api/chat``. Streams NDJSON unless ``stream`` is false."""

    model: Annotated[str, Meta(description="A model name, e.g. `llama3.2` or `qwen2.5:7b`.")]
    messages: Maybe[list[Message] | None] = UNSET
    tools: Maybe[list[Tool] | None] = UNSET
    stream: Annotated[Maybe[bool | None], Meta(description="Stream NDJSON lines (the default).")] = UNSET
    format: Format = UNSET
    options: Maybe[Options | None] = UNSET
    think: Think = UNSET
    keep_alive: KeepAlive = UNSET
    logprobs: Maybe[bool | None] = UNSET
    top_logprobs: Maybe[int | None] = UNSET


class GenerateRequest(Struct, kw_only=True):
    """``POST /api/generate``: a completion of ``prompt`` (``raw``: no chat template)."""

    model: Annotated[str, Meta(description="A model name, e.g. `llama3.2`.")]
    prompt: Maybe[str | None] = UNSET
    suffix: Maybe[str | None] = UNSET
    system: Maybe[str | None] = UNSET
    template: Maybe[str | None] = UNSET
    context: Maybe[list[int] | None] = UNSET
    raw: Maybe[bool | None] = UNSET
    images: Maybe[list[str] | None] = UNSET
    stream: Annotated[Maybe[bool | None], Meta(description="Stream NDJSON lines (the default).")] = UNSET
    format: Format = UNSET
    options: Maybe[Options | None] = UNSET
    think: Think = UNSET
    keep_alive: KeepAlive = UNSET
    logprobs: Maybe[bool | None] = UNSET
    top_logprobs: Maybe[int | None] = UNSET


class EmbedRequest(Struct, kw_only=True):
    """``POST /api/embed``: one text or several."""

    model: str
    input: str | list[str]
    truncate: Annotated[Maybe[bool | None], Meta(
        description="Cut a text beyond the window (accepted; such a text is a 400 here).")] = UNSET
    dimensions: Annotated[Maybe[Annotated[int, Meta(ge=1)] | None],
                          Meta(description="Cut each vector to this many dimensions.")] = UNSET
    options: Maybe[Options | None] = UNSET
    keep_alive: KeepAlive = UNSET


class EmbeddingsRequest(Struct, kw_only=True):
    """``POST /api/embeddings`` (deprecated by Ollama in favour of ``/api/embed``)."""

    model: str
    prompt: str
    options: Maybe[Options | None] = UNSET
    keep_alive: KeepAlive = UNSET


class ShowRequest(Struct, kw_only=True):
    """``POST /api/show`` (``name`` is the older spelling of ``model``)."""

    model: Maybe[str] = UNSET
    name: Maybe[str] = UNSET
    verbose: Maybe[bool | None] = UNSET


class PullRequest(Struct, kw_only=True):
    """``POST /api/pull`` (``name`` is the older spelling of ``model``): every model mockvendor
    answers is already here, so a pull only checks the name."""

    model: Maybe[str] = UNSET
    name: Maybe[str] = UNSET
    insecure: Maybe[bool | None] = UNSET
    stream: Annotated[Maybe[bool | None], Meta(description="Stream the progress as NDJSON lines (default).")] = UNSET


# -- answers ---------------------------------------------------------------------------------
class Timings(Struct, kw_only=True):
    """The last line's figures: durations in nanoseconds, token counts."""

    total_duration: int
    load_duration: int
    prompt_eval_count: int
    prompt_eval_duration: int
    eval_count: int
    eval_duration: int


class OutMessage(Struct, kw_only=True):
    role: Literal["assistant"] = "assistant"
    content: str = ""
    thinking: Maybe[str] = UNSET  # with `think`
    tool_calls: Maybe[list[ToolCall]] = UNSET


class ChatResponse(Struct, kw_only=True):
    """An ``/api/chat`` answer, or one of its NDJSON lines (the last has ``done: true`` and the figures)."""

    model: str
    created_at: str
    message: OutMessage
    done: bool
    done_reason: Maybe[Literal["stop", "length"]] = UNSET
    total_duration: Maybe[int] = UNSET
    load_duration: Maybe[int] = UNSET
    prompt_eval_count: Maybe[int] = UNSET
    prompt_eval_duration: Maybe[int] = UNSET
    eval_count: Maybe[int] = UNSET
    eval_duration: Maybe[int] = UNSET


class GenerateResponse(Struct, kw_only=True):
    """An ``/api/generate`` answer, or one of its NDJSON lines."""

    model: str
    created_at: str
    response: str
    thinking: Maybe[str] = UNSET  # with `think`
    done: bool
    done_reason: Maybe[Literal["stop", "length"]] = UNSET
    total_duration: Maybe[int] = UNSET
    load_duration: Maybe[int] = UNSET
    prompt_eval_count: Maybe[int] = UNSET
    prompt_eval_duration: Maybe[int] = UNSET
    eval_count: Maybe[int] = UNSET
    eval_duration: Maybe[int] = UNSET


class EmbedResponse(Struct, kw_only=True):
    model: str
    embeddings: list[list[float]]
    total_duration: int
    load_duration: int
    prompt_eval_count: int


class EmbeddingsResponse(Struct, kw_only=True):
    embedding: list[float]


class ModelDetails(Struct, kw_only=True):
    parent_model: str
    format: str
    family: str
    families: list[str]
    parameter_size: str
    quantization_level: str


class ListedModel(Struct, kw_only=True):
    """One model of ``GET /api/tags``."""

    name: str
    model: str
    modified_at: str
    size: int
    digest: str
    details: ModelDetails


class TagsResponse(Struct, kw_only=True):
    models: list[ListedModel]


class RunningModel(Struct, kw_only=True):
    """One model of ``GET /api/ps``."""

    name: str
    model: str
    size: int
    digest: str
    details: ModelDetails
    expires_at: str
    size_vram: int
    context_length: int


class PsResponse(Struct, kw_only=True):
    models: list[RunningModel]


class ShowResponse(Struct, kw_only=True):
    modelfile: str
    parameters: str
    template: str
    details: ModelDetails
    model_info: JSONObject
    capabilities: list[str]
    modified_at: str
    license: str = ""


class PullStatus(Struct, kw_only=True):
    """A pull's progress line, or its one answer with ``stream: false`` (``{"status": "success"}``)."""

    status: str


class VersionResponse(Struct, kw_only=True):
    version: str


class ErrorBody(Struct, kw_only=True):
    """Every error, and the in-band error line of a stream: ``{"error": "..."}``."""

    error: str
