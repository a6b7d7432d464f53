"""``POST /v1/chat/completions``: the declared request as a neutral one (plus the rules no
declaration states: tool turns answer calls, ``tool_choice`` needs ``tools``...), and the
chat completion and its ``chat.completion.chunk`` stream back."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from msgspec import UNSET

from ...errors import InvalidRequest
from ...http import sse
from ...tools import arguments_json
from ...types import Chunk, Completion, GenerateRequest, Message, Tool, ToolCall
from ...wire import decode
from . import wire
from .common import DONE, FINISH, add_tool, model, new_id, only_with_stream, usage

ROLES: dict[type[wire.ChatMessage], str] = {
    wire.SystemMessage: "system", wire.DeveloperMessage: "system", wire.UserMessage: "user",
    wire.AssistantMessage: "assistant", wire.ToolMessage: "tool",
}


@dataclass(slots=True)
class OpenAIRequest(GenerateRequest):
    """A chat (``chat=True``) or legacy text completion request, with its stream options."""

    chat: bool = True
    include_usage: bool = False


# -- requests ----------------------------------------------------------------------------------
def parse(body: Any) -> OpenAIRequest:
    b = decode(wire.ChatRequest, body, wire.CHAT_WORDS)
    messages = [_message(m) for m in b.messages]
    _check_tool_turns(messages)
    tools, choice = _tools(b)
    return OpenAIRequest(
        model(b.model), messages, max_tokens=b.max_completion_tokens or b.max_tokens, stop=stop_list(b.stop),
        tools=tools, tool_choice=choice, parallel_tool_calls=b.parallel_tool_calls is not False, **common(b),
    )


def common(b: wire.ChatRequest | wire.CompletionRequest) -> dict[str, Any]:
    """The fields chat and legacy completions share, in neutral terms."""
    only_with_stream(b.stream_options, b.stream)
    return {"temperature": b.temperature, "top_p": b.top_p, "seed": b.seed, "stream": bool(b.stream),
            "include_usage": bool(b.stream_options and b.stream_options.include_usage)}


def stop_list(stop: str | list[str] | None) -> list[str]:
    return [] if stop is None else [stop] if isinstance(stop, str) else stop


def text(content: wire.Content | None) -> str:
    """A message's text: a string, null (assistant turns) or text parts."""
    if content is None or isinstance(content, str):
        return content or ""
    return "\n".join(p.text for p in content)


def _message(m: wire.ChatMessage) -> Message:
    message = Message(ROLES[type(m)], text(m.content))
    if isinstance(m, wire.AssistantMessage) and m.tool_calls is not None:
        message.tool_calls = [ToolCall(c.id, c.function.name, _arguments(c.function.arguments)) for c in m.tool_calls]
    elif isinstance(m, wire.ToolMessage):
        message.tool_call_id = m.tool_call_id
    return message


def _arguments(text: str) -> dict[str, Any]:
    try:
        args = json.loads(text) if text.strip() else {}
    except ValueError:
        return {"arguments": text}  # OpenAI stores them as given; the model sees them as text
    return args if isinstance(args, dict) else {"arguments": args}


def _check_tool_turns(messages: list[Message]) -> None:
    """Each tool turn answers a call of the assistant turn before it, and every call is answered."""
    open_calls: dict[str, str] = {}
    for i, m in enumerate(messages):
        if m.role == "tool":
            if m.tool_call_id not in open_calls:
                raise InvalidRequest(
                    "Invalid parameter: messages with role 'tool' must be a response to a preceeding message "
                    f"with 'tool_calls'. messages[{i}].tool_call_id {m.tool_call_id!r} answers no such call.",
                    param=f"messages[{i}].tool_call_id",
                )
            m.name = open_calls.pop(m.tool_call_id or "")
            continue
        if open_calls:
            raise InvalidRequest(
                "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
                "'tool_call_id'. The following tool_call_ids did not have response messages: "
                + ", ".join(open_calls),
                param=f"messages[{i}].role",
            )
        open_calls = {c.id: c.name for c in m.tool_calls}
    if open_calls:
        raise InvalidRequest(
            "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
            "'tool_call_id'. The following tool_call_ids did not have response messages: " + ", ".join(open_calls),
            param="messages",
        )


def _tools(b: wire.ChatRequest) -> tuple[list[Tool], str]:
    """``tools`` and ``tool_choice`` (function tools; the choice in neutral terms)."""
    tools: list[Tool] = []
    for t in b.tools or ():
        add_tool(tools, t.function.name, t.function.description, t.function.parameters)
    choice = b.tool_choice
    if choice is None:
        return tools, "auto"
    if not tools:
        raise InvalidRequest(
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
            param="tool_choice",
        )
    if isinstance(choice, str):
        return tools, choice
    name = choice.function.name
    if not any(t.name == name for t in tools):
        raise InvalidRequest(f"Invalid value for 'tool_choice': function {name!r} not found in 'tools'.",
                             param="tool_choice")
    return tools, f"tool:{name}"


# -- answers -----------------------------------------------------------------------------------
def _call(call: ToolCall) -> wire.ToolCall:
    return wire.ToolCall(id="call_" + call.id, function=wire.FunctionCall(call.name, arguments_json(call)))


def render(req: GenerateRequest, c: Completion) -> wire.ChatCompletion:
    if c.tool_calls:
        message = wire.AnswerMessage(content=None, tool_calls=[_call(call) for call in c.tool_calls])
    elif c.finish_reason == "refusal":  # the model declined: its words go in `refusal`, not `content`
        message = wire.AnswerMessage(content=None, refusal=c.text)
    else:
        message = wire.AnswerMessage(content=c.text)
    return wire.ChatCompletion(
        id=new_id("chatcmpl-"), created=int(time.time()), model=req.model,
        choices=[wire.ChatChoice(message=message, finish_reason=FINISH[c.finish_reason])], usage=usage(c.usage),
    )


def _opening(call: ToolCall, index: int) -> wire.ToolCallDelta:
    return wire.ToolCallDelta(index=index, id="call_" + call.id, type="function",
                              function=wire.FunctionDelta(name=call.name, arguments=""))


async def render_stream(req: GenerateRequest, events: AsyncIterator[Chunk | Completion],
                        dress: Callable[[wire.ChatChunk], Any] = lambda c: c) -> AsyncIterator[bytes]:
    """The chunks; ``dress`` lets a vendor of this family (Azure) add its own keys to each."""
    rid, created, model_name = new_id("chatcmpl-"), int(time.time()), req.model
    include_usage = isinstance(req, OpenAIRequest) and req.include_usage
    # With include_usage every chunk says "usage": null until the usage chunk.
    tail = None if include_usage else UNSET

    def chunk(delta: wire.Delta, finish: wire.Finish | None = None) -> bytes:
        choice = wire.ChunkChoice(delta=delta, finish_reason=finish)
        return sse(dress(wire.ChatChunk(id=rid, created=created, model=model_name, choices=[choice], usage=tail)))

    def role(**more: Any) -> wire.Delta:
        return wire.Delta(role="assistant", content=more.pop("content", ""), refusal=None, **more)

    # With tools the first delta waits for the first event: a call opens in it.
    opening = bool(req.tools)
    if not opening:
        yield chunk(role())
    async for ev in events:
        if opening:
            opening = False
            if isinstance(ev, Chunk) and ev.tool_call is not None:
                yield chunk(role(content=None, tool_calls=[_opening(ev.tool_call, ev.tool_index)]))
                continue
            yield chunk(role())
        if isinstance(ev, Completion):
            if ev.finish_reason == "refusal":
                yield chunk(wire.Delta(refusal=ev.text))
            yield chunk(wire.Delta(), FINISH[ev.finish_reason])
            if include_usage:
                yield sse(dress(wire.ChatChunk(id=rid, created=created, model=model_name, choices=[],
                                               usage=usage(ev.usage))))
            yield DONE
        elif ev.tool_call is not None:
            if ev.text:
                piece = wire.ToolCallDelta(index=ev.tool_index, function=wire.FunctionDelta(arguments=ev.text))
            else:  # a further call opens
                piece = _opening(ev.tool_call, ev.tool_index)
            yield chunk(wire.Delta(tool_calls=[piece]))
        elif ev.text:
            yield chunk(wire.Delta(content=ev.text))
