"""InvokeModel with Claude's body: Anthropic's Messages request as neutral types, and its
answers: Anthropic's JSON, and Anthropic's stream events each carried base64 in an event
stream ``chunk`` message."""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator
from typing import Any

from msgspec import UNSET

from ...catalog import anthropic_name
from ...errors import InvalidRequest
from ...http import dumps
from ...ids import random_hex
from ...types import Chunk, Completion, GenerateRequest, Message, ResponseFormat, Tool, ToolCall
from ...wire import decode
from . import eventstream, wire
from .common import BedrockRequest, given, pad

STOP_REASON = {"stop": "end_turn", "length": "max_tokens", "stop_sequence": "stop_sequence", "tool_calls": "tool_use",
               "refusal": "refusal"}
TOOL_ID_PREFIX = "toolu_bdrk_"  # Claude's call ids on Bedrock
# Providers whose InvokeModel bodies are their own (mockvendor's InvokeModel takes Claude's).
NOT_CLAUDE = {"amazon", "meta", "mistral", "cohere", "ai21", "deepseek", "openai", "qwen", "writer"}


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


def request(model: str, body: Any, stream: bool) -> BedrockRequest:
    """An InvokeModel body (Claude's) for ``model`` as a neutral request."""
    if isinstance(body, dict) and "anthropic_version" not in body and model.split(".", 1)[0] in NOT_CLAUDE:
        # Another provider's own body (Nova's, Llama's...): say what is taken instead.
        raise InvalidRequest(
            f"Malformed input request: mockvendor's InvokeModel takes Claude's Anthropic Messages body "
            "(anthropic_version, max_tokens, messages) and the native bodies of Amazon Titan Text, Amazon Nova and "
            f"Meta Llama; send {model}'s requests through Converse, please reformat your input and try again.",
            param="body")
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
        model, messages, max_tokens=m.max_tokens, temperature=given(m.temperature), top_p=given(m.top_p),
        top_k=given(m.top_k) or None, stop=list(m.stop_sequences or []), seed=given(m.seed), stream=stream,
        tools=tools, tool_choice=choice, parallel_tool_calls=parallel,
        response_format=ResponseFormat("json_schema", fmt.schema) if fmt else None, api="invoke",
    )


# -- answers ---------------------------------------------------------------------------------
def _claude_model(req: GenerateRequest) -> str:
    return anthropic_name(req.model) or req.model


def answer(req: GenerateRequest, c: Completion) -> wire.AMessageOut:
    content: list[Any] = [wire.AToolUseOut(id=TOOL_ID_PREFIX + t.id, name=t.name, input=t.arguments)
                          for t in c.tool_calls] if c.finish_reason == "tool_calls" else [wire.ATextOut(text=c.text)]
    return wire.AMessageOut(
        id=_msg_id(), model=_claude_model(req), content=content, stop_reason=STOP_REASON[c.finish_reason],  # type: ignore[arg-type]
        stop_sequence=c.stop_sequence if c.finish_reason == "stop_sequence" else None,
        usage=wire.AUsage(input_tokens=c.usage.input_tokens, output_tokens=c.usage.output_tokens))


def _chunk(event: wire.AStreamEvent) -> bytes:
    part = wire.PayloadPart(bytes=base64.b64encode(dumps(event)).decode(), p=pad())
    return eventstream.event("chunk", dumps(part))


async def stream(req: BedrockRequest, events: AsyncIterator[Chunk | Completion]) -> AsyncIterator[bytes]:
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
                delta=wire.AMessageDeltaBody(stop_reason=STOP_REASON[ev.finish_reason], stop_sequence=stop_seq),
                usage=wire.ADeltaUsage(output_tokens=ev.usage.output_tokens)))
            now = time.perf_counter()
            yield _chunk(wire.AMessageStop(invocation_metrics=wire.InvocationMetrics(
                inputTokenCount=ev.usage.input_tokens, outputTokenCount=ev.usage.output_tokens,
                invocationLatency=round((now - t0) * 1000), firstByteLatency=round((first_byte - t0) * 1000))))
            return
        if ev.tool_call is not None:
            if block != ev.tool_index:
                start_block = wire.AToolUseStart(id=TOOL_ID_PREFIX + ev.tool_call.id, name=ev.tool_call.name)
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
    return "msg_bdrk_" + random_hex(12)
