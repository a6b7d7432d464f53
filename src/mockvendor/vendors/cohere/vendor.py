"""Cohere's v2 API: ``POST /v2/chat`` (streamed with Cohere's named events) and ``POST /v2/embed``,
also under ``/cohere/v2/``, in Cohere's JSON, with Bearer keys and ``{"id", "message"}`` errors
whose statuses make the ``cohere`` SDK raise its own classes (``BadRequestError``,
``UnauthorizedError``, ``NotFoundError``, ``TooManyRequestsError``...).

Tools are function tools, as OpenAI's; a call is answered with ``finish_reason: TOOL_CALL``, the
calls and a one-sentence ``tool_plan`` (streamed as ``tool-plan-delta``, then ``tool-call-start``
/ ``tool-call-delta`` / ``tool-call-end`` per call). ``response_format`` ``json_object`` (with
an optional ``json_schema``) is the neutral structured output. An error in a stream already
begun is Cohere's own: a ``message-end`` with ``finish_reason: ERROR`` and ``delta.error``."""

from __future__ import annotations

import base64
import json
import math
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from msgspec import UNSET
from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from ...errors import AuthenticationFailed, InvalidRequest, MockVendorError, ModelNotFound
from ...http import sse
from ...ids import random_uuid
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
    from ...faults.ratelimit import RateLimitState
    from ...settings import Settings

FINISH: dict[str, wire.FinishReason] = {"stop": "COMPLETE", "length": "MAX_TOKENS", "stop_sequence": "STOP_SEQUENCE",
                                        "tool_calls": "TOOL_CALL", "refusal": "COMPLETE"}
CHOICE = {"REQUIRED": "required", "NONE": "none"}
SUPPORTED_EMBEDDINGS = ("float", "base64")


@dataclass(slots=True)
class CohereEmbedRequest(GenerateRequest):
    """An embed request: ``embed_input`` holds the texts."""

    types: list[str] = field(default_factory=lambda: ["float"])
    dimension: int | None = None


def _given(v: Any) -> Any:
    return None if v is UNSET else v


def _invalid(message: str, param: str | None = None) -> InvalidRequest:
    return InvalidRequest("invalid request: " + message, param=param)


# -- the declared request -> neutral turns --------------------------------------------------
def _text(content: Any) -> str:
    if content is None or content is UNSET:
        return ""
    if isinstance(content, str):
        return content
    parts = []
    for c in content:
        if isinstance(c, wire.TextContent):
            parts.append(c.text)
        elif isinstance(c, wire.ImageContent):
            parts.append("[image]")
        elif isinstance(c, wire.DocumentContent):
            parts.append(_document(c.document))
    return "\n".join(p for p in parts if p)


def _document(doc: str | wire.Document) -> str:
    if isinstance(doc, str):
        return doc
    return "\n".join(f"{k}: {v if isinstance(v, str) else json.dumps(v)}" for k, v in doc.data.items())


def _call_name(call: wire.ToolCall) -> str:
    fn = _given(call.function)
    return (_given(fn.name) if fn is not None else None) or ""


def _arguments(call: wire.ToolCall) -> dict[str, Any]:
    fn = _given(call.function)
    text = _given(fn.arguments) if fn is not None else None
    if not text or not text.strip():
        return {}
    try:
        args = json.loads(text)
    except ValueError:
        return {"arguments": text}
    return args if isinstance(args, dict) else {"arguments": args}


def _messages(turns: list[wire.ChatMessage]) -> list[Message]:
    """Neutral turns; a tool turn must answer a call of the assistant turn before it."""
    out: list[Message] = []
    open_calls: dict[str, str] = {}
    for i, m in enumerate(turns):
        if isinstance(m, wire.ToolMessage):
            if m.tool_call_id not in open_calls:
                raise _invalid(f"messages[{i}].tool_call_id {m.tool_call_id!r} does not answer a tool call of the "
                               "assistant message before it.", f"messages[{i}].tool_call_id")
            name = open_calls.pop(m.tool_call_id)
            out.append(Message("tool", _text(m.content), tool_call_id=m.tool_call_id, name=name))
            continue
        open_calls = {}
        if isinstance(m, wire.AssistantMessage):
            calls = [ToolCall(c.id, _call_name(c), _arguments(c)) for c in (_given(m.tool_calls) or [])]
            out.append(Message("assistant", _text(_given(m.content)), tool_calls=calls))
            open_calls = {c.id: c.name for c in calls}
        elif isinstance(m, wire.SystemMessage):
            out.append(Message("system", _text(m.content)))
        else:
            out.append(Message("user", _text(m.content)))
    return out


def _tools(b: wire.ChatRequest) -> tuple[list[Tool], str]:
    tools: list[Tool] = []
    for i, t in enumerate(_given(b.tools) or []):
        if any(x.name == t.function.name for x in tools):
            raise _invalid(f"duplicate tool name {t.function.name!r} in tools.", f"tools[{i}].function.name")
        tools.append(Tool(t.function.name, _given(t.function.description) or "", t.function.parameters))
    choice = _given(b.tool_choice)
    if choice is None:
        return tools, "auto"
    if not tools:
        raise _invalid("tool_choice requires tools to be specified.", "tool_choice")
    return tools, CHOICE[choice]


def _response_format(b: wire.ChatRequest, tools: list[Tool]) -> ResponseFormat | None:
    fmt = _given(b.response_format)
    if not isinstance(fmt, wire.JSONObjectFormat):
        return None
    if tools or _given(b.documents):
        raise _invalid("response_format is not supported together with tools or documents.", "response_format")
    schema = _given(fmt.json_schema)
    return ResponseFormat("json_object") if schema is None else ResponseFormat("json_schema", schema)


def parse_chat(body: Any) -> GenerateRequest:
    b = decode(wire.ChatRequest, body, wire.WORDING)
    messages = _messages(b.messages)
    docs_given = _given(b.documents)
    if docs_given:
        # Read after the system turns, as Cohere's prompt template places them.
        at = next((i for i, m in enumerate(messages) if m.role != "system"), len(messages))
        text = "Documents:\n" + "\n\n".join(_document(d) for d in docs_given)
        messages.insert(at, Message("system", text))
    tools, choice = _tools(b)
    return GenerateRequest(
        b.model, messages, max_tokens=_given(b.max_tokens), temperature=_given(b.temperature), top_p=_given(b.p),
        top_k=_given(b.k) or None, stop=list(_given(b.stop_sequences) or []), seed=_given(b.seed),
        stream=b.stream is True, tools=tools, tool_choice=choice, response_format=_response_format(b, tools),
    )


def parse_embed(body: Any) -> GenerateRequest:
    b = decode(wire.EmbedRequest, body, wire.WORDING)
    if _given(b.images):
        raise _invalid("images are not supported: mockvendor embeds text only.", "images")
    texts = _given(b.texts)
    inputs = _given(b.inputs)
    if texts is not None and inputs is not None:
        raise _invalid("only one of texts or inputs may be provided.", "inputs")
    if inputs is not None:
        texts = []
        for i, one in enumerate(inputs):
            if any(isinstance(c, wire.EmbedImage) for c in one.content):
                raise _invalid(f"inputs[{i}]: image content is not supported: mockvendor embeds text only.",
                               f"inputs[{i}].content")
            texts.append("\n".join(c.text for c in one.content if isinstance(c, wire.EmbedText)))
    if not texts:
        raise _invalid("one of texts or inputs must be provided, with at least one entry.", "texts")
    types = list(_given(b.embedding_types) or ["float"])
    unsupported = [t for t in types if t not in SUPPORTED_EMBEDDINGS]
    if unsupported:
        raise _invalid(f"embedding_types {unsupported} are not supported by mockvendor; use float or base64.",
                       "embedding_types")
    return CohereEmbedRequest(b.model, embed_input=texts, types=types, dimension=_given(b.output_dimension))


# -- answers -------------------------------------------------------------------------------------
def call_id(call: ToolCall) -> str:
    """Cohere's ids name the tool: ``get_weather_5zn5bzn0yqs1``."""
    return f"{call.name}_{call.id[:12].lower()}"


def tool_plan(calls: list[ToolCall]) -> str:
    return f"I will call {calls[0].name} to answer this." if calls else ""


def _usage(c: Completion) -> wire.Usage:
    u = c.usage
    return wire.Usage(billed_units=wire.BilledUnits(input_tokens=u.input_tokens, output_tokens=u.output_tokens),
                      tokens=wire.Tokens(input_tokens=u.input_tokens, output_tokens=u.output_tokens))


def _event(ev: wire.StreamEvent) -> bytes:
    return sse(ev, type(ev).__struct_config__.tag)


def _unit(v: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in v)) or 1.0
    return [x / norm for x in v]


class CohereVendor(BaseVendor):
    """Cohere's v2 chat and embed API on the configured models."""

    name = "cohere"
    title = "Cohere-compatible"
    url_prefixes: ClassVar[tuple[str, ...]] = ("/v2/", "/cohere/")

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def routes(self, ctx: AppContext) -> list[BaseRoute]:
        chat = endpoint(ctx, self)
        embed = endpoint(ctx, self, parse=lambda body, request: parse_embed(body))
        out: list[BaseRoute] = []
        for prefix in ("", "/cohere"):
            tag = prefix.strip("/") or "root"
            out += [Route(f"{prefix}/v2/chat", chat, methods=["POST"], name=f"cohere-chat-{tag}"),
                    Route(f"{prefix}/v2/embed", embed, methods=["POST"], name=f"cohere-embed-{tag}")]
        return out

    def parse(self, body: Any, request: Request) -> GenerateRequest:
        return parse_chat(body)

    def resolve(self, ctx: AppContext, req: GenerateRequest) -> Engine:
        try:
            engine = ctx.models.resolve(req.model)
        except ModelNotFound:
            raise ModelNotFound(
                f"model '{req.model}' not found, make sure the correct model ID was used and that you have access "
                "to the model.", param="model") from None
        # Cohere caps a max_tokens above the model's limit rather than refusing it.
        card = ctx.models.card(req.model)
        if card is not None and req.max_tokens is not None and req.max_tokens > card.max_output:
            req.max_tokens = card.max_output
        return engine

    def auth_error(self, key: str | None) -> MockVendorError:
        return AuthenticationFailed("invalid api token" if key else "no api key supplied")

    # -- answers --------------------------------------------------------------------
    def render(self, req: GenerateRequest, c: Completion) -> Any:
        if c.finish_reason == "tool_calls":
            message = wire.AnswerMessage(
                tool_calls=[wire.ToolCall(id=call_id(t), function=wire.FunctionCall(name=t.name,
                                                                                  arguments=arguments_json(t)))
                            for t in c.tool_calls], tool_plan=tool_plan(c.tool_calls))
        else:
            message = wire.AnswerMessage(content=[wire.TextOut(c.text)])
        return wire.ChatResponse(id=random_uuid(), finish_reason=FINISH[c.finish_reason], message=message,
                                 usage=_usage(c))

    async def render_stream(
        self, req: GenerateRequest, events: AsyncIterator[Chunk | Completion]
    ) -> AsyncIterator[bytes]:
        yield _event(wire.MessageStart(id=random_uuid(), delta=wire.StartDelta(wire.StartMessage())))
        text_open = False
        call_open: int | None = None  # the tool_index of the open call
        planned = False

        def text(piece: str) -> wire.ContentDeltaEvent:
            return wire.ContentDeltaEvent(index=0, delta=wire.ContentDelta(wire.ContentMessage(
                wire.ContentPiece(text=piece))))

        def open_text() -> bytes:
            nonlocal text_open
            text_open = True
            return _event(wire.ContentStart(index=0, delta=wire.ContentDelta(wire.ContentMessage(
                wire.ContentPiece(type="text", text="")))))

        if not req.tools:  # no call can come: the text opens at once
            yield open_text()
        async for ev in events:
            if isinstance(ev, Completion):
                if call_open is not None:
                    yield _event(wire.ToolCallEnd(index=call_open))
                elif ev.finish_reason != "tool_calls":
                    if not text_open:
                        yield open_text()
                    if ev.finish_reason == "refusal" and ev.text:  # a refusal's words come whole, at the end
                        yield _event(text(ev.text))
                    yield _event(wire.ContentEnd(index=0))
                yield _event(wire.MessageEnd(delta=wire.EndDelta(finish_reason=FINISH[ev.finish_reason],
                                                                 usage=_usage(ev))))
                yield b"data: [DONE]\n\n"  # Cohere's last line (the SDK stops on it)
            elif ev.tool_call is not None:
                call = ev.tool_call
                if call_open != ev.tool_index:
                    if call_open is not None:
                        yield _event(wire.ToolCallEnd(index=call_open))
                    if not planned:
                        planned = True
                        yield _event(wire.ToolPlanDeltaEvent(delta=wire.ToolPlanDelta(wire.ToolPlanMessage(
                            tool_plan([call])))))
                    call_open = ev.tool_index
                    yield _event(wire.ToolCallStart(index=ev.tool_index, delta=wire.ToolCallDelta(wire.ToolCallMessage(
                        wire.ToolCall(id=call_id(call), function=wire.FunctionCall(name=call.name, arguments=""))))))
                if ev.text:
                    yield _event(wire.ToolCallDeltaEvent(index=ev.tool_index, delta=wire.ArgumentsDelta(
                        wire.ArgumentsMessage(wire.ArgumentsCall(wire.ArgumentsPiece(ev.text))))))
            elif ev.text:
                if not text_open:
                    yield open_text()
                yield _event(text(ev.text))

    def render_embeddings(self, req: GenerateRequest, vectors: list[list[float]], tokens: int) -> Any:
        assert isinstance(req, CohereEmbedRequest) and req.embed_input is not None
        dim = req.dimension
        if dim is not None:
            if dim > len(vectors[0]):
                raise _invalid(f"output_dimension {dim} is larger than the model's {len(vectors[0])} dimensions.",
                               "output_dimension")
            vectors = [_unit(v[:dim]) for v in vectors]
        out = wire.Embeddings()
        if "float" in req.types:
            out.floats = vectors
        if "base64" in req.types:
            out.base64 = [base64.b64encode(struct.pack(f"<{len(v)}f", *v)).decode() for v in vectors]
        return wire.EmbedResponse(id=random_uuid(), embeddings=out, texts=req.embed_input,
                                  meta=wire.EmbedMeta(api_version=wire.ApiVersion(),
                                                      billed_units=wire.EmbedBilledUnits(tokens)))

    # -- errors ---------------------------------------------------------------------
    def error_body(self, err: MockVendorError) -> Any:
        return wire.ErrorBody(id=random_uuid(), message=err.message)

    def stream_error(self, err: MockVendorError) -> bytes | None:
        return _event(wire.MessageEnd(delta=wire.EndDelta(error=err.message, finish_reason="ERROR")))

    def ratelimit_headers(self, state: RateLimitState) -> dict[str, str]:
        """Cohere's trial-key headers for the requests bucket (tokens have none)."""
        if state.requests is None:
            return {}
        return {"x-trial-endpoint-call-limit": str(state.requests.limit),
                "x-trial-endpoint-call-remaining": str(state.requests.remaining)}

    def openapi(self) -> dict[str, Any]:
        return docs.cohere_paths(self)


VENDOR = CohereVendor
