"""Mistral's chat completions and embeddings under ``/mistral/v1/`` (the ``mistralai`` SDK with
``server_url=<server>/mistral``): OpenAI's shape with Mistral's differences (9-character
alphanumeric tool call ids, ``random_seed``, ``safe_prompt``, ``tool_choice: "any"``, a call
streamed whole in one chunk, usage on the last chunk) and Mistral's errors: a body that does not
fit is a 422 with pydantic's ``detail`` items (the SDK's ``HTTPValidationError``); every other
error is ``{"object": "error", "message", "type", "param", "code"}`` (the SDK's ``SDKError``)."""

from __future__ import annotations

import base64
import json
import math
import struct
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from msgspec import UNSET
from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from ...errors import AuthenticationFailed, InvalidRequest, MockVendorError, ModelNotFound
from ...http import sse
from ...ids import random_hex
from ...pipeline import endpoint
from ...tools import arguments_json
from ...types import Chunk, Completion, GenerateRequest, Message, ResponseFormat, Tool, ToolCall
from ...wire import decode
from ..base import BaseVendor
from . import openapi as docs
from . import wire

if TYPE_CHECKING:
    from ...context import AppContext
    from ...engines import Engine
    from ...settings import Settings

PREFIX = "/mistral"
FINISH: dict[str, wire.Finish] = {"stop": "stop", "length": "length", "stop_sequence": "stop",
                                  "tool_calls": "tool_calls", "refusal": "stop"}
CHOICE = {"auto": "auto", "none": "none", "any": "required", "required": "required"}
# What `safe_prompt: true` puts before the conversation (docs.mistral.ai, "Guardrailing").
SAFE_PROMPT = ("Always assist with care, respect, and truth. Respond with utmost utility yet securely. Avoid harmful, "
               "unethical, prejudiced, or negative content. Ensure replies promote fairness and positivity.")
DONE = b"data: [DONE]\n\n"
ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
               404: "not_found_error", 429: "rate_limited"}


class InvalidModel(ModelNotFound):
    """Mistral answers a model nobody serves with a 400 ``invalid_model`` (code 1500), not a 404."""

    status, kind = 400, "invalid_model"


@dataclass(slots=True)
class MistralEmbedRequest(GenerateRequest):
    """An embeddings request: ``embed_input`` holds the texts."""

    encoding_format: str = "float"
    dimension: int | None = None


def _given(v: Any) -> Any:
    return None if v is UNSET else v


def new_id() -> str:
    return random_hex(16)


def call_id(call: ToolCall) -> str:
    """Mistral's tool call ids are 9 letters and digits (the neutral id is longer, of the same letters)."""
    return call.id[:9]


# -- the declared request -> neutral turns --------------------------------------------------------
def _text(content: Any) -> str:
    if content is None or content is UNSET:
        return ""
    if isinstance(content, str):
        return content
    out = []
    for c in content:
        if isinstance(c, wire.TextChunk):
            out.append(c.text)
        elif isinstance(c, wire.ImageURLChunk):
            out.append("[image]")
        else:
            out.append("[document]")
    return "\n".join(out)


def _arguments(args: dict[str, Any] | str) -> dict[str, Any]:
    if isinstance(args, dict):
        return args
    try:
        value = json.loads(args) if args.strip() else {}
    except ValueError:
        return {"arguments": args}
    return value if isinstance(value, dict) else {"arguments": value}


def _messages(turns: list[wire.Message]) -> list[Message]:
    """Neutral turns; a tool turn answers a call of the assistant turn before it (by id, or in order
    when it names none)."""
    out: list[Message] = []
    open_calls: dict[str, str] = {}
    for i, m in enumerate(turns):
        if isinstance(m, wire.ToolMessage):
            cid = _given(m.tool_call_id) or next(iter(open_calls), None)
            if cid not in open_calls:
                raise InvalidRequest(f"Tool message {i} answers no tool call of the assistant message before it "
                                     f"(tool_call_id {cid!r}).", param=f"messages.{i}.tool_call_id")
            out.append(Message("tool", _text(m.content), tool_call_id=cid, name=open_calls.pop(cid)))
            continue
        open_calls = {}
        if isinstance(m, wire.AssistantMessage):
            calls = [ToolCall(c.id, c.function.name, _arguments(c.function.arguments))
                     for c in (_given(m.tool_calls) or [])]
            out.append(Message("assistant", _text(_given(m.content)), tool_calls=calls))
            open_calls = {c.id: c.name for c in calls}
        else:
            out.append(Message("system" if isinstance(m, wire.SystemMessage) else "user", _text(m.content)))
    return out


def _tools(b: wire.ChatRequest) -> tuple[list[Tool], str]:
    tools: list[Tool] = []
    for i, t in enumerate(_given(b.tools) or []):
        if any(x.name == t.function.name for x in tools):
            raise InvalidRequest(f"Duplicate tool name {t.function.name!r}.", param=f"tools.{i}.function.name")
        tools.append(Tool(t.function.name, _given(t.function.description) or "", t.function.parameters))
    choice = _given(b.tool_choice)
    if choice is None:
        return tools, "auto"
    if not tools and choice not in ("auto", "none"):
        raise InvalidRequest("tool_choice requires tools to be specified.", param="tool_choice")
    if isinstance(choice, str):
        return tools, CHOICE[choice]
    if not any(t.name == choice.function.name for t in tools):
        raise InvalidRequest(f"tool_choice names the function {choice.function.name!r}, which is not among the "
                             "tools.", param="tool_choice.function.name")
    return tools, f"tool:{choice.function.name}"


def _response_format(b: wire.ChatRequest) -> ResponseFormat | None:
    fmt = _given(b.response_format)
    kind = None if fmt is None else _given(fmt.type)
    if kind == "json_object":
        return ResponseFormat("json_object")
    if kind == "json_schema":
        js = _given(fmt.json_schema)  # type: ignore[union-attr]
        if js is None:
            raise InvalidRequest("response_format.json_schema is required when response_format.type is "
                                 "'json_schema'.", param="response_format.json_schema")
        return ResponseFormat("json_schema", js.schema, js.name, _given(js.strict) is True)
    return None


def parse_chat(body: Any) -> GenerateRequest:
    b = decode(wire.ChatRequest, body, wire.WORDING)
    if (_given(b.n) or 1) > 1:
        raise InvalidRequest("mockvendor answers one choice: n must be 1.", param="n")
    messages = _messages(b.messages)
    if b.safe_prompt is True:
        messages.insert(0, Message("system", SAFE_PROMPT))
    tools, choice = _tools(b)
    stop = _given(b.stop)
    return GenerateRequest(
        b.model, messages, max_tokens=_given(b.max_tokens) or None, temperature=_given(b.temperature),
        top_p=_given(b.top_p), stop=[stop] if isinstance(stop, str) else list(stop or []), seed=_given(b.random_seed),
        stream=b.stream is True, tools=tools, tool_choice=choice,
        parallel_tool_calls=b.parallel_tool_calls is not False, response_format=_response_format(b),
    )


def parse_embeddings(body: Any) -> GenerateRequest:
    b = decode(wire.EmbeddingRequest, body, wire.WORDING)
    dtype = _given(b.output_dtype)
    if dtype not in (None, "float"):
        raise InvalidRequest(f"output_dtype {dtype!r} is not supported by mockvendor; use 'float'.",
                             param="output_dtype")
    texts = [b.input] if isinstance(b.input, str) else b.input
    return MistralEmbedRequest(b.model, embed_input=texts, encoding_format=_given(b.encoding_format) or "float",
                               dimension=_given(b.output_dimension))


# -- answers -----------------------------------------------------------------------------------------
def _usage(c: Completion) -> wire.Usage:
    u = c.usage
    return wire.Usage(prompt_tokens=u.input_tokens, total_tokens=u.total_tokens, completion_tokens=u.output_tokens)


def _call(call: ToolCall, index: int) -> wire.ToolCallOut:
    return wire.ToolCallOut(id=call_id(call), function=wire.FunctionOut(name=call.name, arguments=arguments_json(call)),
                            index=index)


def _unit(v: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in v)) or 1.0
    return [x / norm for x in v]


class MistralVendor(BaseVendor):
    """Mistral's chat completions and embeddings on the configured models."""

    name = "mistral"
    title = "Mistral-compatible"
    url_prefixes: ClassVar[tuple[str, ...]] = (PREFIX + "/",)

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def routes(self, ctx: AppContext) -> list[BaseRoute]:
        return [
            Route(f"{PREFIX}/v1/chat/completions", endpoint(ctx, self), methods=["POST"], name="mistral-chat"),
            Route(f"{PREFIX}/v1/embeddings", endpoint(ctx, self, parse=lambda body, request: parse_embeddings(body)),
                  methods=["POST"], name="mistral-embeddings"),
        ]

    def parse(self, body: Any, request: Request) -> GenerateRequest:
        return parse_chat(body)

    def resolve(self, ctx: AppContext, req: GenerateRequest) -> Engine:
        try:
            return ctx.models.resolve(req.model)
        except ModelNotFound:
            raise InvalidModel(f"Invalid model: {req.model}", param="model") from None

    def auth_error(self, key: str | None) -> MockVendorError:
        return AuthenticationFailed("Unauthorized")

    # -- answers --------------------------------------------------------------------
    def render(self, req: GenerateRequest, c: Completion) -> Any:
        calls = [_call(t, i) for i, t in enumerate(c.tool_calls)] if c.finish_reason == "tool_calls" else None
        message = wire.AnswerMessage(tool_calls=calls, content="" if calls else c.text)
        return wire.ChatCompletion(id=new_id(), created=int(time.time()), model=req.model,
                                   choices=[wire.Choice(message=message, finish_reason=FINISH[c.finish_reason])],
                                   usage=_usage(c))

    async def render_stream(
        self, req: GenerateRequest, events: AsyncIterator[Chunk | Completion]
    ) -> AsyncIterator[bytes]:
        rid, created = new_id(), int(time.time())

        def chunk(delta: wire.Delta, finish: wire.Finish | None = None, usage: Any = UNSET) -> bytes:
            return sse(wire.ChatChunk(id=rid, created=created, model=req.model,
                                      choices=[wire.ChunkChoice(delta=delta, finish_reason=finish)], usage=usage))

        yield chunk(wire.Delta(role="assistant", content=""))
        # Mistral sends each call whole: its arguments are gathered, then the call goes in one chunk.
        pending: tuple[ToolCall, int, list[str]] | None = None

        def flush() -> bytes | None:
            nonlocal pending
            if pending is None:
                return None
            call, index, pieces = pending
            pending = None
            out = wire.ToolCallOut(id=call_id(call), function=wire.FunctionOut(name=call.name,
                                                                               arguments="".join(pieces)), index=index)
            return chunk(wire.Delta(content="", tool_calls=[out]))

        async for ev in events:
            if isinstance(ev, Completion):
                if (data := flush()) is not None:
                    yield data
                if ev.finish_reason == "refusal" and ev.text:
                    yield chunk(wire.Delta(content=ev.text))
                yield chunk(wire.Delta(content=""), FINISH[ev.finish_reason], _usage(ev))
                yield DONE
            elif ev.tool_call is not None:
                if pending is None or pending[1] != ev.tool_index:
                    if (data := flush()) is not None:
                        yield data
                    pending = (ev.tool_call, ev.tool_index, [])
                pending[2].append(ev.text)
            elif ev.text:
                yield chunk(wire.Delta(content=ev.text))

    def render_embeddings(self, req: GenerateRequest, vectors: list[list[float]], tokens: int) -> Any:
        assert isinstance(req, MistralEmbedRequest)
        dim = req.dimension
        if dim is not None:
            if dim > len(vectors[0]):
                raise InvalidRequest(f"output_dimension {dim} is larger than the model's {len(vectors[0])} "
                                     "dimensions.", param="output_dimension")
            vectors = [_unit(v[:dim]) for v in vectors]
        data = [wire.Embedding(embedding=base64.b64encode(struct.pack(f"<{len(v)}f", *v)).decode()
                               if req.encoding_format == "base64" else v, index=i) for i, v in enumerate(vectors)]
        return wire.EmbeddingList(id=new_id(), data=data, model=req.model,
                                  usage=wire.EmbeddingUsage(prompt_tokens=tokens, total_tokens=tokens))

    # -- errors ---------------------------------------------------------------------
    def error_body(self, err: MockVendorError) -> Any:
        detail = getattr(err, "detail", None)
        kind = err.kind if err.kind in ("invalid_model", "invalid_request_message_error") else (
            ERROR_TYPES.get(err.status) or ("internal_server_error" if err.status >= 500 else "invalid_request_error"))
        return wire.ErrorBody(message=err.message, type=kind, param=err.param,
                              code="1500" if err.kind == "invalid_model" else None,
                              detail=UNSET if detail is None else [wire.ErrorItem(**d) for d in detail])

    def stream_error(self, err: MockVendorError) -> bytes | None:
        return sse(self.error_body(err))

    def openapi(self) -> dict[str, Any]:
        return docs.mistral_paths(self)


VENDOR = MistralVendor
