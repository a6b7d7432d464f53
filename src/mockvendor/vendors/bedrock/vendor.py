"""Amazon Bedrock Runtime: ``POST /model/{modelId}/converse`` and ``/converse-stream`` (the
Converse API) and ``/invoke`` and ``/invoke-with-response-stream`` (InvokeModel with Claude's
Anthropic Messages body), with AWS's error shapes (``{"message": ...}`` and the
``x-amzn-ErrorType`` header) and streams in AWS event stream framing (:mod:`.eventstream`).

Callers sign with SigV4 (:mod:`.auth`: the header's shape is checked, the signature is not).
Model ids (``anthropic.claude-3-5-sonnet-20240620-v1:0``, ``us.amazon.nova-lite-v1:0``, ARNs)
resolve through the catalog's Bedrock family rule; an unknown id is Bedrock's
``ValidationException`` ("The provided model identifier is invalid.")."""

from __future__ import annotations

import base64
import json
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from msgspec import UNSET
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from ...catalog import anthropic_name
from ...errors import InvalidRequest, MockVendorError, ModelNotFound
from ...http import JSONResponse, dumps
from ...pipeline import endpoint, record_of
from ...types import Chunk, Completion, GenerateRequest, Message, ResponseFormat, Tool, ToolCall
from ...wire import decode
from ..base import BaseVendor
from . import auth, eventstream, wire
from . import openapi as docs

if TYPE_CHECKING:
    from ...context import AppContext
    from ...engines import Engine
    from ...faults.ratelimit import RateLimitState
    from ...settings import Settings

Handler = Callable[[Request], Awaitable[Response]]

STOP_REASON = {"stop": "end_turn", "length": "max_tokens", "stop_sequence": "stop_sequence", "tool_calls": "tool_use",
               "refusal": "content_filtered"}
ANTHROPIC_STOP = {**STOP_REASON, "refusal": "refusal"}
TOOL_ID_PREFIX = "tooluse_"  # Bedrock's own call ids start so; Claude's (on invoke) with toolu_
CLAUDE_TOOL_ID_PREFIX = "toolu_bdrk_"
# The error names of the operations (botocore's service model), by HTTP status.
CODES = {
    400: "ValidationException",
    403: "AccessDeniedException",
    404: "ResourceNotFoundException",
    408: "ModelTimeoutException",
    409: "ConflictException",
    424: "ModelErrorException",
    429: "ThrottlingException",
    500: "InternalServerException",
    503: "ServiceUnavailableException",
}
# The error members both streams declare (ConverseStreamOutput, ResponseStream); any other error
# is a modelStreamErrorException carrying its original status.
STREAM_ERRORS = {"ValidationException", "ThrottlingException", "ServiceUnavailableException",
                 "InternalServerException"}
INVALID_MODEL = "The provided model identifier is invalid."
# Providers whose InvokeModel bodies are their own (mockvendor's InvokeModel takes Claude's).
NOT_CLAUDE = {"amazon", "meta", "mistral", "cohere", "ai21", "deepseek", "openai", "qwen", "writer"}
_ATTEMPT = re.compile(r"attempt=(\d+)")


@dataclass(slots=True)
class BedrockRequest(GenerateRequest):
    """A Converse or InvokeModel request (``api``), with its engine kept for a stream's first event."""

    api: str = "converse"
    engine: Any = None


def error_code(err: MockVendorError) -> tuple[str, int]:
    """Bedrock's name for an error, and the status it answers with. A simulated error keeps the
    status it was forced with (the fault lab's contract: ``x-mockvendor-fault: 401`` is a 401);
    otherwise AWS's own: an overloaded model is a 503 there."""
    status = err.status
    if err.kind[:1].isupper():  # already one of AWS's names (the SigV4 checks')
        return err.kind, status
    if err.kind == "authentication":
        code = "UnrecognizedClientException"
    elif err.kind == "overloaded":
        code, status = "ServiceUnavailableException", status if err.fault else 503
    elif err.kind == "insufficient_quota":
        code = "ServiceQuotaExceededException"
    elif err.kind == "method_not_allowed":
        code = "UnknownOperationException"
    else:
        code = CODES.get(status) or ("InternalServerException" if status >= 500 else "ValidationException")
    return code, status


def model_id(request: Request) -> str:
    """The path's model id; an ARN names its model (or inference profile) after the last ``/``."""
    raw: str = request.path_params.get("model_id", "")
    return raw.rsplit("/", 1)[-1] if raw.startswith("arn:") else raw


def _given(v: Any) -> Any:
    """A declared optional field's value, None when left out."""
    return None if v is UNSET else v


def _pad() -> str:
    """Bedrock's ``p`` member: letters of varying length, so an event's size does not tell its text."""
    return "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[: 1 + os.urandom(1)[0] % 40]


# -- Converse -> neutral -------------------------------------------------------------------
def _document_text(d: wire.DocumentBlock) -> str:
    src = d.source
    if src.text is not UNSET:
        return f"{d.name}\n{src.text}"
    if src.content is not UNSET:
        return d.name + "\n" + "\n".join(c.text for c in src.content)
    return "[document]"


def _block_text(b: wire.ContentBlock | wire.ToolResultContent) -> str:
    if b.text is not UNSET:
        return b.text
    if b.image is not UNSET:
        return "[image]"
    if b.document is not UNSET:
        return _document_text(b.document)
    if isinstance(b, wire.ToolResultContent) and b.json is not UNSET:
        return json.dumps(b.json, ensure_ascii=False)
    if isinstance(b, wire.ContentBlock) and (b.video is not UNSET or b.audio is not UNSET):
        return "[video]" if b.video is not UNSET else "[audio]"
    return ""  # cache points, reasoning, guard content: not read


def _converse_messages(turns: list[wire.Message], has_tools: bool) -> list[Message]:
    """The conversation as neutral turns, with the checks Bedrock makes (who starts, turns
    alternate, every toolUse answered by a toolResult in the next turn)."""
    if not turns:
        raise InvalidRequest("A conversation must start with a user message. Try again with a conversation that "
                             "starts with a user message.", param="messages")
    out: list[Message] = []
    pending: dict[str, str] = {}  # the previous assistant turn's toolUse ids -> names
    for i, turn in enumerate(turns):
        where = f"messages.{i}.content"
        if i == 0 and turn.role != "user":
            raise InvalidRequest("A conversation must start with a user message. Try again with a conversation "
                                 "that starts with a user message.", param="messages.0.role")
        if i and turns[i - 1].role == turn.role:
            raise InvalidRequest("A conversation must alternate between user and assistant roles. Make sure the "
                                 "conversation alternates between user and assistant roles and try again.",
                                 param=f"messages.{i}.role")
        if not turn.content:
            raise InvalidRequest(f"The content field in the Message object at messages.{i} is empty. Add a "
                                 "ContentBlock object to the content field and try again.", param=where)
        uses = [b.toolUse for b in turn.content if b.toolUse is not UNSET]
        results = [b.toolResult for b in turn.content if b.toolResult is not UNSET]
        if (uses or results) and not has_tools:
            raise InvalidRequest("The toolConfig field must be defined when using toolUse and toolResult content "
                                 "blocks.", param="toolConfig")
        texts = [t for t in (_block_text(b) for b in turn.content) if t]
        if turn.role == "assistant":
            if results:
                raise InvalidRequest(f"A toolResult block can only be in a user message ({where}).", param=where)
            out.append(Message("assistant", "\n".join(texts),
                               tool_calls=[ToolCall(u.toolUseId, u.name, u.input if isinstance(u.input, dict)
                                                    else {"value": u.input}) for u in uses]))
            pending = {u.toolUseId: u.name for u in uses}
            continue
        if uses:
            raise InvalidRequest(f"A toolUse block can only be in an assistant message ({where}).", param=where)
        answered = {r.toolUseId for r in results}
        if pending and not set(pending) <= answered:
            missing = ", ".join(sorted(set(pending) - answered))
            raise InvalidRequest(f"Expected toolResult blocks at {where} for the following Ids: {missing}",
                                 param=where)
        if len(results) > len(pending) or not answered <= set(pending):
            raise InvalidRequest(f"The number of toolResult blocks at {where} exceeds the number of toolUse "
                                 "blocks of previous turn.", param=where)
        for r in results:
            text = "\n".join(t for t in (_block_text(c) for c in r.content) if t)
            if r.status == "error":
                text = "Error: " + text  # the neutral turn has no flag: the model reads it in the text
            out.append(Message("tool", text, tool_call_id=r.toolUseId, name=pending[r.toolUseId]))
        if texts or not results:
            out.append(Message("user", "\n".join(texts)))
        pending = {}
    if pending:
        raise InvalidRequest(f"Expected toolResult blocks in a user message after messages.{len(turns) - 1} for "
                             f"the following Ids: {', '.join(pending)}", param="messages")
    return out


def _converse_tools(config: wire.ToolConfiguration | Any) -> tuple[list[Tool], str]:
    if config is UNSET:
        return [], "auto"
    tools: list[Tool] = []
    for i, t in enumerate(config.tools):
        if t.systemTool is not UNSET:
            raise InvalidRequest(f"toolConfig.tools.{i}.systemTool: mockvendor runs no system tools; declare a "
                                 "toolSpec instead.", param=f"toolConfig.tools.{i}.systemTool")
        if t.toolSpec is not UNSET:
            spec = t.toolSpec
            if any(x.name == spec.name for x in tools):
                raise InvalidRequest(f"The tool name {spec.name} is used more than once. Tool names must be unique.",
                                     param=f"toolConfig.tools.{i}.toolSpec.name")
            desc = "" if spec.description is UNSET else spec.description
            tools.append(Tool(spec.name, desc, dict(spec.inputSchema.json)))
    choice = config.toolChoice
    if choice is UNSET or choice.auto is not UNSET:
        return tools, "auto"
    if choice.any is not UNSET:
        return tools, "required"
    name = choice.tool.name  # type: ignore[union-attr]
    if name not in {t.name for t in tools}:
        raise InvalidRequest(f"toolConfig.toolChoice.tool.name: {name} is not one of the tools in "
                             f"toolConfig.tools ({', '.join(t.name for t in tools)}).",
                             param="toolConfig.toolChoice.tool.name")
    return tools, f"tool:{name}"


def _output_format(config: wire.OutputConfig | Any) -> ResponseFormat | None:
    if config is UNSET or config.textFormat is UNSET:
        return None
    text = config.textFormat.structure.jsonSchema.schema
    try:
        schema = json.loads(text)
    except ValueError:
        schema = None
    if not isinstance(schema, dict):
        raise InvalidRequest("outputConfig.textFormat.structure.jsonSchema.schema must be a JSON Schema object "
                             "written as JSON text.", param="outputConfig.textFormat.structure.jsonSchema.schema")
    return ResponseFormat("json_schema", schema, name=config.textFormat.structure.jsonSchema.name or "")


def _int_field(fields: Any, key: str) -> int | None:
    v = fields.get(key) if isinstance(fields, dict) else None
    if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
        raise InvalidRequest(f"additionalModelRequestFields.{key} must be an integer.",
                             param=f"additionalModelRequestFields.{key}")
    return v


def converse_request(model: str, body: Any, stream: bool) -> BedrockRequest:
    c = decode(wire.ConverseRequest, body, wire.CONVERSE_WORDING)
    tools, choice = _converse_tools(c.toolConfig)
    messages = []
    system = [s.text for s in (c.system or ()) if s.text is not UNSET]
    if system:
        messages.append(Message("system", "\n".join(system)))
    messages += _converse_messages(c.messages or [], c.toolConfig is not UNSET)
    cfg = c.inferenceConfig or wire.InferenceConfiguration()
    extra = c.additionalModelRequestFields or {}
    return BedrockRequest(
        model, messages, max_tokens=_given(cfg.maxTokens), temperature=_given(cfg.temperature),
        top_p=_given(cfg.topP), top_k=_int_field(extra, "top_k"), stop=list(cfg.stopSequences or []),
        seed=_int_field(extra, "seed"), stream=stream, tools=tools, tool_choice=choice,
        response_format=_output_format(c.outputConfig), api="converse",
    )


# -- InvokeModel (Claude's body) -> neutral --------------------------------------------------
def _claude_text(b: Any) -> str:
    if isinstance(b, wire.AText):
        return b.text
    if isinstance(b, wire.AImage):
        return "[image]"
    if isinstance(b, wire.ADocument):
        src = b.source
        if src.get("type") == "text" and isinstance(src.get("data"), str):
            return src["data"]
        return "[document]"
    return ""


def _claude_messages(turns: list[wire.AMessage]) -> list[Message]:
    out: list[Message] = []
    pending: dict[str, str] = {}
    for i, turn in enumerate(turns):
        blocks = [wire.AText(text=turn.content)] if isinstance(turn.content, str) else turn.content
        where = f"messages.{i}.content"
        texts = [t for t in (_claude_text(b) for b in blocks) if t]
        if turn.role == "assistant":
            calls = [ToolCall(b.id, b.name, b.input) for b in blocks if isinstance(b, wire.AToolUse)]
            if any(isinstance(b, wire.AToolResult) for b in blocks):
                raise InvalidRequest(f"{where}: `tool_result` blocks can only be in `user` messages", param=where)
            out.append(Message("assistant", "\n".join(texts), tool_calls=calls))
            pending = {c.id: c.name for c in calls}
            continue
        if any(isinstance(b, wire.AToolUse) for b in blocks):
            raise InvalidRequest(f"{where}: `tool_use` blocks can only be in `assistant` messages", param=where)
        results = [b for b in blocks if isinstance(b, wire.AToolResult)]
        for r in results:
            if r.tool_use_id not in pending:
                raise InvalidRequest(
                    f"{where}: unexpected `tool_use_id` found in `tool_result` blocks: {r.tool_use_id}. Each "
                    "`tool_result` block must have a corresponding `tool_use` block in the previous message.",
                    param=where)
            content = r.content
            text = "" if content is UNSET else content if isinstance(content, str) else "\n".join(
                _claude_text(c) for c in content)
            if r.is_error is True:
                text = "Error: " + text
            out.append(Message("tool", text, tool_call_id=r.tool_use_id, name=pending[r.tool_use_id]))
        if texts or not results:
            out.append(Message("user", "\n".join(texts)))
        pending = {}
    return out


def invoke_request(model: str, body: Any, stream: bool) -> BedrockRequest:
    if isinstance(body, dict) and "anthropic_version" not in body and model.split(".", 1)[0] in NOT_CLAUDE:
        # Another provider's own body (Nova's, Llama's...): say what is taken instead.
        raise InvalidRequest(
            f"Malformed input request: mockvendor's InvokeModel takes Claude's Anthropic Messages body "
            f"(anthropic_version, max_tokens, messages); send {model}'s requests through Converse, please reformat "
            "your input and try again.", param="body")
    m = decode(wire.InvokeRequest, body, wire.INVOKE_WORDING)
    messages = []
    system = m.system
    if system is not UNSET:
        text = system if isinstance(system, str) else "\n".join(b.text for b in system)
        if text:
            messages.append(Message("system", text))
    messages += _claude_messages(m.messages)
    tools = [Tool(t.name, t.description or "", dict(t.input_schema)) for t in (m.tools or ())]
    choice, parallel = "auto", True
    tc = m.tool_choice
    if tc is not UNSET:
        if not tools:
            raise InvalidRequest("tool_choice: tool_choice may only be specified while providing tools.",
                                 param="tool_choice")
        parallel = getattr(tc, "disable_parallel_tool_use", None) is not True
        tag = type(tc).__struct_config__.tag
        choice = {"auto": "auto", "any": "required", "none": "none"}.get(str(tag), f"tool:{getattr(tc, 'name', '')}")
        if choice.startswith("tool:") and choice[5:] not in {t.name for t in tools}:
            raise InvalidRequest(f"tool_choice.name: tool {choice[5:]!r} was not found among the request's tools.",
                                 param="tool_choice.name")
    fmt = m.output_config.format if m.output_config is not UNSET else None
    return BedrockRequest(
        model, messages, max_tokens=m.max_tokens, temperature=_given(m.temperature), top_p=_given(m.top_p),
        top_k=_given(m.top_k) or None, stop=list(m.stop_sequences or []), seed=_given(m.seed), stream=stream,
        tools=tools, tool_choice=choice, parallel_tool_calls=parallel,
        response_format=ResponseFormat("json_schema", fmt.schema) if fmt else None, api="invoke",
    )


def count_request(model: str, body: Any) -> BedrockRequest:
    """CountTokens: the ``input`` is a Converse request's prompt or an InvokeModel body (base64)."""
    given = decode(wire.CountTokensRequest, body, wire.CONVERSE_WORDING).input
    if given.converse is not UNSET:
        req = converse_request(model, body["input"]["converse"], False)  # already checked: its words
    else:
        try:
            claude = json.loads(base64.b64decode(given.invokeModel.body, validate=True))  # type: ignore[union-attr]
        except ValueError:
            raise InvalidRequest("input.invokeModel.body must be a JSON body, base64.",
                                 param="input.invokeModel.body") from None
        req = invoke_request(model, claude, False)
    req.count_only = True
    return req


# -- the vendor ------------------------------------------------------------------------------
class BedrockVendor(BaseVendor):
    """Amazon Bedrock Runtime's Converse and InvokeModel APIs on the configured models."""

    name = "bedrock"
    title = "Amazon Bedrock-compatible"
    url_prefixes: ClassVar[tuple[str, ...]] = ("/model/",)

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def routes(self, ctx: AppContext) -> list[BaseRoute]:
        def route(op: str, parse: Callable[[Any, Request], GenerateRequest]) -> Route:
            return Route(f"/model/{{model_id:path}}/{op}", self._serve(endpoint(ctx, self, parse=parse), op),
                         methods=["POST"], name=f"bedrock-{op}")

        return [
            route("converse", lambda body, r: converse_request(model_id(r), body, False)),
            route("converse-stream", lambda body, r: converse_request(model_id(r), body, True)),
            route("invoke", lambda body, r: invoke_request(model_id(r), body, False)),
            route("invoke-with-response-stream", lambda body, r: invoke_request(model_id(r), body, True)),
            route("count-tokens", lambda body, r: count_request(model_id(r), body)),
        ]

    def _serve(self, handler: Handler, op: str) -> Handler:
        """Around the request path: the SigV4 header's shape, AWS's request id and attempt count,
        InvokeModel's token headers, and streams sent as AWS event streams."""

        async def handle(request: Request) -> Response:
            rec = record_of(request)
            attempt = _ATTEMPT.search(request.headers.get("amz-sdk-request", ""))
            if attempt:  # botocore's attempt number (1 = the first try)
                rec.retry_count = max(0, int(attempt[1]) - 1)
            t0 = time.perf_counter()
            problem = auth.check(request)
            if problem is not None:
                rec.vendor, rec.error = self.name, problem.message
                resp = self.error_response(problem)
            else:
                resp = await handler(request)
            resp.headers["x-amzn-requestid"] = rec.id
            if isinstance(resp, StreamingResponse) and resp.media_type == "text/event-stream":
                resp.headers["content-type"] = eventstream.CONTENT_TYPE
                if op.startswith("invoke"):
                    resp.headers["x-amzn-bedrock-content-type"] = "application/json"
                resp.body_iterator = _framed(resp.body_iterator, resp.headers.get("x-mockvendor-fault"))
            elif op == "invoke" and resp.status_code == 200:
                resp.headers["x-amzn-bedrock-input-token-count"] = str(rec.tokens_in or 0)
                resp.headers["x-amzn-bedrock-output-token-count"] = str(rec.tokens_out or 0)
                resp.headers["x-amzn-bedrock-invocation-latency"] = str(round((time.perf_counter() - t0) * 1000))
            return resp

        return handle

    def api_key(self, request: Request) -> str | None:
        return auth.access_key(request)

    def auth_error(self, key: str | None) -> MockVendorError:
        if not key:
            return MockVendorError("Missing Authentication Token", status=403,
                                   kind="MissingAuthenticationTokenException")
        return MockVendorError("The security token included in the request is invalid.", status=403,
                               kind="UnrecognizedClientException")

    def resolve(self, ctx: AppContext, req: GenerateRequest) -> Engine:
        try:
            engine = ctx.models.resolve(req.model)
        except ModelNotFound:
            raise ModelNotFound(INVALID_MODEL, status=400, param="modelId") from None
        if isinstance(req, BedrockRequest):
            req.engine = engine
        return engine

    def parse(self, body: Any, request: Request) -> GenerateRequest:
        return converse_request(model_id(request), body, request.url.path.endswith("-stream"))

    # -- answers ------------------------------------------------------------------------
    def render_count(self, req: GenerateRequest, tokens: int) -> Any:
        return wire.CountTokensResponse(inputTokens=tokens)

    def render(self, req: GenerateRequest, c: Completion) -> Any:
        if isinstance(req, BedrockRequest) and req.api == "invoke":
            return _claude_message(req, c)
        content = [wire.ContentOut(toolUse=wire.ToolUseOut(toolUseId=TOOL_ID_PREFIX + t.id, name=t.name,
                                                           input=t.arguments)) for t in c.tool_calls]
        if c.text or not content:
            content.insert(0, wire.ContentOut(text=c.text))
        return wire.ConverseResponse(
            output=wire.ConverseOutput(message=wire.MessageOut(content=content)),
            stopReason=STOP_REASON[c.finish_reason], usage=_usage(c),
            metrics=wire.Metrics(latencyMs=round(c.latency_ms)))

    def render_stream(self, req: GenerateRequest, events: AsyncIterator[Chunk | Completion]) -> AsyncIterator[bytes]:
        if isinstance(req, BedrockRequest) and req.api == "invoke":
            return _claude_stream(req, events)
        return _converse_stream(events)

    # -- errors -------------------------------------------------------------------------
    def error_body(self, err: MockVendorError) -> Any:
        return wire.ErrorBody(message=err.message)

    def error_headers(self, err: MockVendorError) -> dict[str, str]:
        return {**err.response_headers(), "x-amzn-ErrorType": error_code(err)[0]}

    def error_response(self, err: MockVendorError) -> Response:
        return JSONResponse(self.error_body(err), error_code(err)[1], self.error_headers(err))

    def stream_error(self, err: MockVendorError) -> bytes | None:
        code, status = error_code(err)
        if code in STREAM_ERRORS:
            return eventstream.exception(code[0].lower() + code[1:], dumps(wire.ErrorBody(message=err.message)))
        payload = wire.ModelStreamError(message=err.message, originalStatusCode=status, originalMessage=err.message)
        return eventstream.exception("modelStreamErrorException", dumps(payload))

    def ratelimit_headers(self, state: RateLimitState) -> dict[str, str]:
        return {}  # Bedrock sends no rate-limit headers

    def openapi(self) -> dict[str, Any]:
        return docs.bedrock_paths(self)


def _usage(c: Completion) -> wire.TokenUsage:
    return wire.TokenUsage(inputTokens=c.usage.input_tokens, outputTokens=c.usage.output_tokens,
                           totalTokens=c.usage.total_tokens)


async def _framed(body: AsyncIterator[bytes], fault: str | None) -> AsyncIterator[bytes]:
    """The stream's messages as sent. The fault lab's frame layer speaks SSE: what it injects
    into a binary stream (a malformed frame, the cut of a last frame) is not one of our messages,
    and is sent as the same damage in this framing: a message whose checksum fails (``malformed``),
    or nothing (``no-terminator``: the last message dropped)."""
    last: bytes | None = None
    async for data in body:
        if not fault or eventstream.is_message(data):
            last = data
            yield data
        elif fault != "no-terminator":
            yield eventstream.corrupt(last or eventstream.event("messageStart", b"{}"))


async def _converse_stream(events: AsyncIterator[Chunk | Completion]) -> AsyncIterator[bytes]:
    """messageStart, a block per text run or tool call (toolUse blocks opened by contentBlockStart),
    contentBlockDelta..., contentBlockStop, messageStop, metadata; one message per yield."""
    def ev(name: str, payload: Any) -> bytes:
        return eventstream.event(name, dumps(payload))

    yield ev("messageStart", wire.MessageStartEvent(p=_pad()))
    index, block = -1, None  # the open block: "text" or the call's tool_index
    async for item in events:
        if isinstance(item, Completion):
            if block is None:
                index = 0
                yield ev("contentBlockDelta", wire.ContentBlockDeltaEvent(
                    delta=wire.ContentBlockDelta(text=""), contentBlockIndex=0, p=_pad()))
            yield ev("contentBlockStop", wire.ContentBlockStopEvent(contentBlockIndex=index, p=_pad()))
            yield ev("messageStop", wire.MessageStopEvent(stopReason=STOP_REASON[item.finish_reason], p=_pad()))
            yield ev("metadata", wire.MetadataEvent(usage=_usage(item),
                                                    metrics=wire.Metrics(latencyMs=round(item.latency_ms)), p=_pad()))
            return
        kind = item.tool_index if item.tool_call is not None else "text"
        if kind == "text" and not item.text:
            continue
        if block != kind:
            if block is not None:
                yield ev("contentBlockStop", wire.ContentBlockStopEvent(contentBlockIndex=index, p=_pad()))
            index, block = index + 1, kind
            if item.tool_call is not None:
                start = wire.ToolUseStart(toolUseId=TOOL_ID_PREFIX + item.tool_call.id, name=item.tool_call.name)
                yield ev("contentBlockStart", wire.ContentBlockStartEvent(
                    start=wire.ContentBlockStart(toolUse=start), contentBlockIndex=index, p=_pad()))
        if item.text:
            delta = wire.ContentBlockDelta(toolUse=wire.ToolUseDelta(input=item.text)) if item.tool_call is not None \
                else wire.ContentBlockDelta(text=item.text)
            yield ev("contentBlockDelta", wire.ContentBlockDeltaEvent(delta=delta, contentBlockIndex=index, p=_pad()))


# -- Claude's answers on InvokeModel ---------------------------------------------------------
def _claude_model(req: GenerateRequest) -> str:
    return anthropic_name(req.model) or req.model


def _claude_message(req: GenerateRequest, c: Completion) -> wire.AMessageOut:
    content: list[Any] = [wire.AToolUseOut(id=CLAUDE_TOOL_ID_PREFIX + t.id, name=t.name, input=t.arguments)
                          for t in c.tool_calls] if c.finish_reason == "tool_calls" else [wire.ATextOut(text=c.text)]
    return wire.AMessageOut(
        id=_msg_id(), model=_claude_model(req), content=content, stop_reason=ANTHROPIC_STOP[c.finish_reason],  # type: ignore[arg-type]
        stop_sequence=c.stop_sequence if c.finish_reason == "stop_sequence" else None,
        usage=wire.AUsage(input_tokens=c.usage.input_tokens, output_tokens=c.usage.output_tokens))


def _chunk(event: wire.AStreamEvent) -> bytes:
    part = wire.PayloadPart(bytes=base64.b64encode(dumps(event)).decode(), p=_pad())
    return eventstream.event("chunk", dumps(part))


async def _claude_stream(req: BedrockRequest, events: AsyncIterator[Chunk | Completion]) -> AsyncIterator[bytes]:
    """Anthropic's event sequence, each event a ``chunk`` whose ``bytes`` are its JSON; the last
    (message_stop) carries ``amazon-bedrock-invocationMetrics`` as Bedrock's does."""
    t0 = time.perf_counter()
    first_byte: float | None = None
    input_tokens = req.engine.prompt_tokens(req) if req.engine is not None else 0
    start = wire.AMessageOut(id=_msg_id(), model=_claude_model(req), content=[], stop_reason=None, stop_sequence=None,
                             usage=wire.AUsage(input_tokens=input_tokens, output_tokens=1))
    yield _chunk(wire.AMessageStart(start))
    index, block = -1, None

    def open_block(kind: Any, content_block: Any) -> list[bytes]:
        nonlocal index, block
        out = [] if block is None else [_chunk(wire.AContentBlockStop(index=index))]
        index, block = index + 1, kind
        out.append(_chunk(wire.AContentBlockStart(index=index, content_block=content_block)))
        return out

    async for ev in events:
        if first_byte is None:
            first_byte = time.perf_counter()
        if isinstance(ev, Completion):
            if block is None:
                for data in open_block("text", wire.ATextOut(text="")):
                    yield data
            yield _chunk(wire.AContentBlockStop(index=index))
            stop_seq = ev.stop_sequence if ev.finish_reason == "stop_sequence" else None
            yield _chunk(wire.AMessageDelta(
                delta=wire.AMessageDeltaBody(stop_reason=ANTHROPIC_STOP[ev.finish_reason], stop_sequence=stop_seq),
                usage=wire.ADeltaUsage(output_tokens=ev.usage.output_tokens)))
            now = time.perf_counter()
            yield _chunk(wire.AMessageStop(invocation_metrics=wire.InvocationMetrics(
                inputTokenCount=ev.usage.input_tokens, outputTokenCount=ev.usage.output_tokens,
                invocationLatency=round((now - t0) * 1000), firstByteLatency=round((first_byte - t0) * 1000))))
            return
        if ev.tool_call is not None:
            if block != ev.tool_index:
                start_block = wire.AToolUseStart(id=CLAUDE_TOOL_ID_PREFIX + ev.tool_call.id, name=ev.tool_call.name)
                for data in open_block(ev.tool_index, start_block):
                    yield data
            if ev.text:
                yield _chunk(wire.AContentBlockDelta(index=index, delta=wire.AInputJSONDelta(ev.text)))
        elif ev.text:
            if block != "text":
                for data in open_block("text", wire.ATextOut(text="")):
                    yield data
            yield _chunk(wire.AContentBlockDelta(index=index, delta=wire.ATextDelta(ev.text)))


def _msg_id() -> str:
    return "msg_bdrk_" + os.urandom(12).hex()


VENDOR = BedrockVendor
