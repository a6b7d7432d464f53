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
from ...types import Chunk, Completion, GenerateRequest, Message, Reasoning, Tool, ToolCall
from ...wire import decode
from . import logprobs, media, wire
from .common import DONE, FINISH, add_tool, model, new_id, only_with_stream, usage
from .structured import chat_format, check_strict

ROLES: dict[type[wire.ChatMessage], str] = {
    wire.SystemMessage: "system", wire.DeveloperMessage: "system", wire.UserMessage: "user",
    wire.AssistantMessage: "assistant", wire.ToolMessage: "tool", wire.FunctionMessage: "tool",
}


@dataclass(slots=True)
class OpenAIRequest(GenerateRequest):
    """A chat (``chat=True``) or legacy text completion request, with its stream options."""

    chat: bool = True
    include_usage: bool = False
    functions: bool = False  # the deprecated `functions`: a call answers in `function_call`
    service_tier: str = "default"  # echoed (`auto` answers `default`)


# -- requests ----------------------------------------------------------------------------------
def parse(body: Any) -> OpenAIRequest:
    b = decode(wire.ChatRequest, body, wire.CHAT_WORDS)
    cost = [0]
    messages = [_message(m, i, cost) for i, m in enumerate(b.messages)]
    _pair_function_turns(b.messages, messages)
    _check_tool_turns(messages)
    tools, choice = _functions(b) if b.functions is not None else _tools(b)
    return OpenAIRequest(
        model(b.model), messages, max_tokens=b.max_completion_tokens or b.max_tokens, stop=stop_list(b.stop),
        tools=tools, tool_choice=choice,
        parallel_tool_calls=b.parallel_tool_calls is not False and b.functions is None,
        response_format=chat_format(b.response_format, messages), media_tokens=cost[0],
        functions=b.functions is not None, service_tier=_tier(b.service_tier),
        logprobs=logprobs.chat_ask(b.logprobs, b.top_logprobs), reasoning=reasoning(b.reasoning_effort),
        **common(b),
    )


def _tier(tier: str | None) -> str:
    return "default" if tier in (None, "auto") else tier  # type: ignore[return-value]


def reasoning(effort: str | None) -> Reasoning | None:
    """``reasoning_effort`` as the neutral option (``none``: no thinking); the text stays hidden."""
    if effort is None or effort == "none":
        return None
    return Reasoning(effort="high" if effort == "xhigh" else effort)



def common(b: wire.ChatRequest | wire.CompletionRequest) -> dict[str, Any]:
    """The fields chat and legacy completions share, in neutral terms."""
    only_with_stream(b.stream_options, b.stream)
    return {"temperature": b.temperature, "top_p": b.top_p, "seed": b.seed, "stream": bool(b.stream),
            "include_usage": bool(b.stream_options and b.stream_options.include_usage), "n": b.n or 1,
            "presence_penalty": b.presence_penalty or 0.0, "frequency_penalty": b.frequency_penalty or 0.0,
            "logit_bias": _logit_bias(b.logit_bias)}


def _logit_bias(bias: dict[str, float] | None) -> dict[int, float]:
    out = {}
    for key, value in (bias or {}).items():
        if not key.isdigit():
            raise InvalidRequest(f"Invalid 'logit_bias': the key {key!r} is not a token id.", param="logit_bias")
        out[int(key)] = value
    return out


def stop_list(stop: str | list[str] | None) -> list[str]:
    return [] if stop is None else [stop] if isinstance(stop, str) else stop


def content(m: wire.ChatMessage, i: int) -> tuple[str, int]:
    """A message's text (a string, null for assistant turns, or parts: media leave a marker) and
    the tokens its images, audio and files cost."""
    c = m.content
    if c is None or isinstance(c, str):
        return c or "", 0
    texts, tokens = [], 0
    for j, part in enumerate(c):
        text, cost = media.chat_part(part, ROLES[type(m)], f"messages[{i}].content[{j}]")
        texts.append(text)
        tokens += cost
    return "\n".join(texts), tokens


def _message(m: wire.ChatMessage, i: int, cost: list[int]) -> Message:
    text, tokens = content(m, i)
    cost[0] += tokens
    message = Message(ROLES[type(m)], text)
    if isinstance(m, wire.AssistantMessage) and m.tool_calls is not None:
        message.tool_calls = [ToolCall(c.id, c.function.name, _arguments(c.function.arguments)) for c in m.tool_calls]
    elif isinstance(m, wire.AssistantMessage) and m.function_call is not None:
        call = m.function_call
        message.tool_calls = [ToolCall(f"function-call-{i}", call.name, _arguments(call.arguments))]
    elif isinstance(m, wire.ToolMessage):
        message.tool_call_id = m.tool_call_id
    return message


def _pair_function_turns(turns: list[wire.ChatMessage], messages: list[Message]) -> None:
    """A deprecated ``function`` turn answers the ``function_call`` of the assistant turn before it."""
    last: str | None = None
    for i, (turn, m) in enumerate(zip(turns, messages, strict=True)):
        if isinstance(turn, wire.AssistantMessage):
            last = m.tool_calls[0].id if turn.function_call is not None and m.tool_calls else None
        elif isinstance(turn, wire.FunctionMessage):
            if last is None:
                raise InvalidRequest(
                    f"Invalid parameter: messages[{i}] with role 'function' must follow an assistant message with "
                    "a 'function_call'.", param=f"messages[{i}].role")
            m.tool_call_id, last = last, None


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
    for i, t in enumerate(b.tools or ()):
        if t.function.strict:
            check_strict(t.function.parameters, f"function {t.function.name!r}", f"tools[{i}].function.parameters")
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


def _functions(b: wire.ChatRequest) -> tuple[list[Tool], str]:
    """The deprecated ``functions`` and ``function_call``, as tools and a tool choice."""
    if b.tools is not None or b.tool_choice is not None:
        raise InvalidRequest("Invalid parameter: 'functions' cannot be used with 'tools' or 'tool_choice'; use "
                             "'tools' alone ('functions' is deprecated).", param="functions")
    tools: list[Tool] = []
    for f in b.functions or ():
        add_tool(tools, f.name, f.description, f.parameters)
    choice = b.function_call
    if choice is None or isinstance(choice, str):
        return tools, choice or "auto"
    if not any(t.name == choice.name for t in tools):
        raise InvalidRequest(f"Invalid value for 'function_call': function {choice.name!r} not found in "
                             "'functions'.", param="function_call")
    return tools, f"tool:{choice.name}"


# -- answers -----------------------------------------------------------------------------------
def _call(call: ToolCall) -> wire.ToolCall:
    return wire.ToolCall(id="call_" + call.id, function=wire.FunctionCall(call.name, arguments_json(call)))


def _answer(c: Completion, functions: bool = False) -> wire.AnswerMessage:
    if c.tool_calls and functions:  # one call, the deprecated way
        call = c.tool_calls[0]
        return wire.AnswerMessage(content=None, function_call=wire.FunctionCall(call.name, arguments_json(call)))
    if c.tool_calls:
        return wire.AnswerMessage(content=None, tool_calls=[_call(call) for call in c.tool_calls])
    if c.finish_reason == "refusal":  # the model declined: its words go in `refusal`, not `content`
        return wire.AnswerMessage(content=None, refusal=c.text)
    return wire.AnswerMessage(content=c.text)


def _finish(req: GenerateRequest, reason: str) -> wire.Finish:
    if reason == "tool_calls" and isinstance(req, OpenAIRequest) and req.functions:
        return "function_call"
    return FINISH[reason]


def render(req: GenerateRequest, c: Completion) -> wire.ChatCompletion:
    functions = isinstance(req, OpenAIRequest) and req.functions
    choices = [wire.ChatChoice(index=i, message=_answer(x, functions), logprobs=logprobs.chat(x.logprobs),
                               finish_reason=_finish(req, x.finish_reason))
               for i, x in enumerate(c.all_choices())]
    return wire.ChatCompletion(id=new_id("chatcmpl-"), created=int(time.time()), model=req.model, choices=choices,
                               usage=usage(c.usage), service_tier=_service_tier(req))


def _service_tier(req: GenerateRequest) -> str:
    return req.service_tier if isinstance(req, OpenAIRequest) else "default"


def _opening(call: ToolCall, index: int) -> wire.ToolCallDelta:
    return wire.ToolCallDelta(index=index, id="call_" + call.id, type="function",
                              function=wire.FunctionDelta(name=call.name, arguments=""))


async def render_stream(req: GenerateRequest, events: AsyncIterator[Chunk | Completion],
                        dress: Callable[[wire.ChatChunk], Any] = lambda c: c) -> AsyncIterator[bytes]:
    """The chunks; ``dress`` lets a vendor of this family (Azure) add its own keys to each."""
    rid, created, model_name, tier = new_id("chatcmpl-"), int(time.time()), req.model, _service_tier(req)
    include_usage = isinstance(req, OpenAIRequest) and req.include_usage
    functions = isinstance(req, OpenAIRequest) and req.functions
    # With include_usage every chunk says "usage": null until the usage chunk.
    tail = None if include_usage else UNSET

    def chunk(delta: wire.Delta, finish: wire.Finish | None = None, index: int = 0, lp: Any = None) -> bytes:
        choice = wire.ChunkChoice(index=index, delta=delta, logprobs=lp, finish_reason=finish)
        return sse(dress(wire.ChatChunk(id=rid, created=created, model=model_name, service_tier=tier, choices=[choice],
                                        usage=tail)))

    def role(**more: Any) -> wire.Delta:
        return wire.Delta(role="assistant", content=more.pop("content", ""), refusal=None, **more)

    # Each choice opens with a role delta; with tools it waits for the choice's first event (a
    # call opens in it).
    opened: set[int] = set()
    if not req.tools:
        for i in range(req.n):
            opened.add(i)
            yield chunk(role(), index=i)
    async for ev in events:
        if not isinstance(ev, Completion) and ev.thinking:
            continue  # OpenAI shows no reasoning text in chat
        if isinstance(ev, Completion):
            for i, c in enumerate(ev.all_choices()):
                if i not in opened:
                    yield chunk(role(), index=i)
                if c.finish_reason == "refusal":
                    yield chunk(wire.Delta(refusal=c.text), index=i)
                yield chunk(wire.Delta(), _finish(req, c.finish_reason), index=i)
            if include_usage:
                yield sse(dress(wire.ChatChunk(id=rid, created=created, model=model_name, service_tier=tier,
                                               choices=[], usage=usage(ev.usage))))
            yield DONE
            return
        i = ev.index
        if functions and ev.tool_call is not None:  # the deprecated form: one call, in `function_call`
            if ev.tool_index > 0:
                continue
            if i not in opened:
                opened.add(i)
                yield chunk(role(content=None, function_call=wire.FunctionDelta(name=ev.tool_call.name,
                                                                                 arguments="")), index=i)
            if ev.text:
                yield chunk(wire.Delta(function_call=wire.FunctionDelta(arguments=ev.text)), index=i)
            continue
        if i not in opened:
            opened.add(i)
            if ev.tool_call is not None:
                yield chunk(role(content=None, tool_calls=[_opening(ev.tool_call, ev.tool_index)]), index=i)
                continue
            yield chunk(role(), index=i)
        if ev.tool_call is not None:
            if ev.text:
                piece = wire.ToolCallDelta(index=ev.tool_index, function=wire.FunctionDelta(arguments=ev.text))
            else:  # a further call opens
                piece = _opening(ev.tool_call, ev.tool_index)
            yield chunk(wire.Delta(tool_calls=[piece]), index=i)
        elif ev.text or ev.logprobs:
            yield chunk(wire.Delta(content=ev.text), index=i, lp=logprobs.chat(ev.logprobs))
