"""The Converse API: its request as neutral types (with the checks Bedrock makes on a
conversation), its answer, and ConverseStream's events (one event stream message each)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from msgspec import UNSET

from ...errors import InvalidRequest
from ...http import dumps
from ...types import Chunk, Completion, Message, ResponseFormat, Tool, ToolCall
from ...wire import decode
from . import eventstream, wire
from .common import BedrockRequest, given, pad

STOP_REASON = {"stop": "end_turn", "length": "max_tokens", "stop_sequence": "stop_sequence", "tool_calls": "tool_use",
               "refusal": "content_filtered"}
TOOL_ID_PREFIX = "tooluse_"  # Bedrock's own call ids start so


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


def request(model: str, body: Any, stream: bool) -> BedrockRequest:
    """A Converse (or ConverseStream) body for ``model`` as a neutral request."""
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
        model, messages, max_tokens=given(cfg.maxTokens), temperature=given(cfg.temperature),
        top_p=given(cfg.topP), top_k=_int_field(extra, "top_k"), stop=list(cfg.stopSequences or []),
        seed=_int_field(extra, "seed"), stream=stream, tools=tools, tool_choice=choice,
        response_format=_output_format(c.outputConfig), api="converse",
    )


# -- answers ---------------------------------------------------------------------------------
def stop_reason(c: Completion) -> Any:
    """Converse's stop reason; a call whose arguments are not JSON (the ``invalid-json`` content
    fault) is Bedrock's own ``malformed_tool_use``."""
    if c.finish_reason == "tool_calls" and any(t.raw is not None for t in c.tool_calls):
        return "malformed_tool_use"
    return STOP_REASON[c.finish_reason]


def answer(c: Completion) -> wire.ConverseResponse:
    """A Converse answer: the text (if any), then one toolUse block per call."""
    content = [wire.ContentOut(toolUse=wire.ToolUseOut(toolUseId=TOOL_ID_PREFIX + t.id, name=t.name,
                                                       input=t.arguments)) for t in c.tool_calls]
    if c.text or not content:
        content.insert(0, wire.ContentOut(text=c.text))
    return wire.ConverseResponse(
        output=wire.ConverseOutput(message=wire.MessageOut(content=content)),
        stopReason=stop_reason(c), usage=_usage(c),
        metrics=wire.Metrics(latencyMs=round(c.latency_ms)))


def _usage(c: Completion) -> wire.TokenUsage:
    return wire.TokenUsage(inputTokens=c.usage.input_tokens, outputTokens=c.usage.output_tokens,
                           totalTokens=c.usage.total_tokens)


def _framed(name: str, payload: Any) -> bytes:
    return eventstream.event(name, dumps(payload))


async def stream(events: AsyncIterator[Chunk | Completion],
                 emit: Callable[[str, Any], Any] = _framed) -> AsyncIterator[Any]:
    """messageStart, a block per text run or tool call (toolUse blocks opened by contentBlockStart),
    contentBlockDelta..., contentBlockStop, messageStop, metadata; one message per yield (``emit``
    makes each: an event stream message, or Nova's InvokeModel chunk)."""
    ev = emit

    yield ev("messageStart", wire.MessageStartEvent(p=pad()))
    index, block = -1, None  # the open block: "text" or the call's tool_index
    async for item in events:
        if isinstance(item, Completion):
            if block is None:
                index = 0
                yield ev("contentBlockDelta", wire.ContentBlockDeltaEvent(
                    delta=wire.ContentBlockDelta(text=""), contentBlockIndex=0, p=pad()))
            yield ev("contentBlockStop", wire.ContentBlockStopEvent(contentBlockIndex=index, p=pad()))
            yield ev("messageStop", wire.MessageStopEvent(stopReason=stop_reason(item), p=pad()))
            yield ev("metadata", wire.MetadataEvent(usage=_usage(item),
                                                    metrics=wire.Metrics(latencyMs=round(item.latency_ms)), p=pad()))
            return
        kind = item.tool_index if item.tool_call is not None else "text"
        if kind == "text" and not item.text:
            continue
        if block != kind:
            if block is not None:
                yield ev("contentBlockStop", wire.ContentBlockStopEvent(contentBlockIndex=index, p=pad()))
            index, block = index + 1, kind
            if item.tool_call is not None:
                start = wire.ToolUseStart(toolUseId=TOOL_ID_PREFIX + item.tool_call.id, name=item.tool_call.name)
                yield ev("contentBlockStart", wire.ContentBlockStartEvent(
                    start=wire.ContentBlockStart(toolUse=start), contentBlockIndex=index, p=pad()))
        if item.text:
            delta = wire.ContentBlockDelta(toolUse=wire.ToolUseDelta(input=item.text)) if item.tool_call is not None \
                else wire.ContentBlockDelta(text=item.text)
            yield ev("contentBlockDelta", wire.ContentBlockDeltaEvent(delta=delta, contentBlockIndex=index, p=pad()))
