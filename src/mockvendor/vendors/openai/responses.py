"""OpenAI's Responses API (``POST /v1/responses``): its request items, its response object
and its named stream events, spoken on OpenAIVendor's behalf (vendor name "openai").

Field names follow the official SDK's own models (``openai.types.responses``); the event
order follows what its stream helper (``client.responses.stream``) accumulates:
``response.created``, ``response.in_progress``, then per output item ``output_item.added``,
its content or argument deltas and ``output_item.done``, and last ``response.completed`` (or
``response.incomplete`` when ``max_output_tokens`` cut the answer).

mockvendor keeps no conversation state, so what needs stored responses (``previous_response_id``,
``conversation``, ``background``) is a 400 saying so; hosted tools and non-text inputs likewise.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from msgspec import UNSET
from msgspec.structs import replace
from starlette.requests import Request

from ...errors import InvalidRequest, MockVendorError
from ...http import sse
from ...ids import random_hex
from ...tools import arguments_json
from ...types import Chunk, Completion, GenerateRequest, Message, Reasoning, TokenLogprob, Tool, ToolCall, Usage
from ...wire import decode
from . import logprobs, media, wire
from .common import add_tool, error_type_code, model, only_with_stream
from .openapi import responses_path_item  # noqa: F401 (documented with the family's other routes)
from .stored import StoredResponses
from .structured import check_strict, text_format

ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}
COUNT_MODEL = "gpt-4o"  # what input_tokens counts with when the body names no model
STATEFUL = {
    "conversation": "mockvendor keeps no conversation state: send the whole conversation in 'input' instead.",
    "prompt": "mockvendor stores no prompt templates: send the text in 'instructions' and 'input' instead.",
}


@dataclass(slots=True)
class ResponsesRequest(GenerateRequest):
    """A Responses API request: the neutral fields plus what the response object echoes back."""

    instructions: str | None = None
    max_output_tokens: int | None = None
    max_tool_calls: int | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    store: bool = True
    user: str | None = None
    truncation: str = "disabled"
    top_logprobs: int = 0
    verbosity: str = "medium"
    wire_tools: list[wire.EchoedTool] = field(default_factory=list)
    wire_tool_choice: Any = "auto"
    wire_format: Any = None  # text.format as sent, echoed in the response's ``text``
    obfuscate: bool = True
    previous_response_id: str | None = None
    conversation: list[Message] = field(default_factory=list)  # earlier turns and this input, no instructions
    input_items: list[Any] = field(default_factory=list)
    keeper: StoredResponses | None = None
    echoed: dict[str, Any] = field(default_factory=dict)  # prompt_cache_key, safety_identifier... as sent
    wire_reasoning: wire.Reasoning = field(default_factory=wire.Reasoning)  # echoed


def new_id(prefix: str) -> str:
    return prefix + random_hex(24)


# -- requests ----------------------------------------------------------------------------
async def parse_stored(body: Any, stored: StoredResponses | None, *, count: bool = False) -> ResponsesRequest:
    """:func:`parse`, continuing the stored response ``previous_response_id`` names."""
    rid = body.get("previous_response_id") if isinstance(body, dict) else None
    previous = await stored.conversation(rid) if isinstance(rid, str) and rid and stored is not None else []
    req = parse(body, previous=previous, count=count)
    req.keeper = stored
    return req


def parse(body: Any, request: Request | None = None, previous: list[Message] | None = None, *,
          count: bool = False) -> ResponsesRequest:
    """The JSON body of ``POST /v1/responses`` as a neutral request (a 400 naming the bad field);
    ``previous``: the conversation of the response it continues; ``count``: the body of
    ``POST /v1/responses/input_tokens`` (only the input is needed)."""
    b = decode(wire.InputTokensRequest if count else wire.ResponsesRequest, _typed(body), wire.RESPONSES_WORDS)
    name = model(b.model) if b.model is not None else COUNT_MODEL
    for key, why in STATEFUL.items():
        if getattr(b, key) is not None:
            raise InvalidRequest(f"Parameter '{key}' is not supported: {why}", param=key)
    if b.background:
        raise InvalidRequest("Background responses are not supported: mockvendor runs no background jobs to "
                             "poll; send the request without 'background'.", param="background")
    only_with_stream(b.stream_options, b.stream)
    cost = [0]
    turns = list(previous or [])
    if isinstance(b.input, str):
        turns.append(Message("user", b.input))
    elif b.input is not None:
        turns += _items(b.input, cost, _unanswered(turns))
    elif not count or not turns:
        raise InvalidRequest("Missing required parameter: 'input'.", param="input")
    messages = ([Message("system", b.instructions)] if b.instructions else []) + turns
    tools, wire_tools = _tools(b.tools or [])
    choice, wire_choice = _tool_choice(b.tool_choice, tools)
    fmt = b.text.format if b.text is not None else None
    return ResponsesRequest(
        name, messages, max_tokens=b.max_output_tokens, temperature=b.temperature, top_p=b.top_p,
        seed=b.seed,  # a mockvendor extension, as on chat
        stream=bool(b.stream), tools=tools, tool_choice=choice, count_only=count,
        instructions=b.instructions, max_output_tokens=b.max_output_tokens, max_tool_calls=b.max_tool_calls,
        metadata=_metadata(b.metadata), parallel_tool_calls=b.parallel_tool_calls is not False,
        store=b.store is not False, user=b.user, truncation=b.truncation or "disabled",
        top_logprobs=b.top_logprobs or 0, logprobs=logprobs.responses_ask(b.include, b.top_logprobs),
        verbosity=(b.text and b.text.verbosity) or "medium",
        wire_tools=wire_tools, wire_tool_choice=wire_choice, response_format=text_format(fmt, messages),
        wire_format=fmt or wire.FormatText(), media_tokens=cost[0],
        obfuscate=not (b.stream_options and b.stream_options.include_obfuscation is False),
        previous_response_id=b.previous_response_id, conversation=turns,
        input_items=_input_items(body.get("input")),
        echoed={"prompt_cache_key": b.prompt_cache_key, "safety_identifier": b.safety_identifier,
                "prompt_cache_retention": b.prompt_cache_retention,
                "service_tier": "default" if b.service_tier in (None, "auto") else b.service_tier},
        reasoning=_reasoning(b.reasoning), wire_reasoning=_wire_reasoning(b.reasoning),
    )


def _reasoning(r: wire.ReasoningOptions | None) -> Reasoning | None:
    """``reasoning`` as the neutral option: thinking when an effort (other than none) is given."""
    if r is None or r.effort in (None, "none"):
        return None
    summary = r.summary or r.generate_summary
    return Reasoning(effort={"xhigh": "high", "max": "high"}.get(r.effort, r.effort), include=summary is not None)


def _wire_reasoning(r: wire.ReasoningOptions | None) -> wire.Reasoning:
    return wire.Reasoning() if r is None else wire.Reasoning(effort=r.effort, summary=r.summary or r.generate_summary)


def _unanswered(turns: list[Message]) -> dict[str, str]:
    """The calls of the earlier conversation that no tool turn has answered yet (id -> name)."""
    open_calls: dict[str, str] = {}
    for m in turns:
        if m.role == "assistant":
            open_calls = {c.id: c.name for c in m.tool_calls}
        elif m.role == "tool":
            open_calls.pop(m.tool_call_id or "", None)
    return open_calls


def _input_items(raw: Any) -> list[Any]:
    """The request's input as ``input_items`` lists it: items with ids, messages with parts."""
    if raw is None:
        return []
    items = [{"role": "user", "content": raw}] if isinstance(raw, str) else raw
    out = []
    for it in items:
        item = {"type": "message", **it} if "type" not in it else dict(it)
        if item["type"] == "message":
            if isinstance(item.get("content"), str):
                part = "output_text" if item.get("role") == "assistant" else "input_text"
                item["content"] = [{"type": part, "text": item["content"]}]
            item.setdefault("status", "completed")
        item.setdefault("id", new_id("msg_" if item["type"] == "message" else "item_"))
        out.append(item)
    return out


def _typed(body: Any) -> Any:
    """An input item may leave out its ``type``: then it is a message (the declaration's tagged
    union needs the tag, so it is filled in; the body itself is left as sent)."""
    items = body.get("input") if isinstance(body, dict) else None
    if not isinstance(items, list) or all(not isinstance(it, dict) or "type" in it for it in items):
        return body
    typed = [{"type": "message", **it} if isinstance(it, dict) and "type" not in it else it for it in items]
    return {**body, "input": typed}


def _items(items: list[wire.InputItem], cost: list[int], earlier: dict[str, str]) -> list[Message]:
    """Message, function_call and function_call_output items; each output answers a call before it."""
    messages: list[Message] = []
    open_calls: dict[str, str] = dict(earlier)  # call_id -> name, for calls not yet answered
    for i, it in enumerate(items):
        if isinstance(it, wire.InputMessage):
            messages.append(Message(ROLES[it.role], _text(it.content, f"input[{i}].content", cost)))
        elif isinstance(it, wire.ReasoningInput):
            continue  # an earlier answer's reasoning: not read
        elif isinstance(it, wire.FunctionCallItem):
            call = ToolCall(it.call_id, it.name, _arguments(it.arguments))
            if messages and messages[-1].role == "assistant":
                messages[-1].tool_calls.append(call)  # the same assistant turn's text or other calls
            else:
                messages.append(Message("assistant", "", [call]))
            open_calls[it.call_id] = it.name
        else:
            if it.call_id not in open_calls:
                raise InvalidRequest(f"No tool call found for function call output with call_id {it.call_id}.",
                                     param=f"input[{i}].call_id")
            messages.append(Message("tool", _text(it.output, f"input[{i}].output", cost), tool_call_id=it.call_id,
                                    name=open_calls.pop(it.call_id)))
    if open_calls:
        raise InvalidRequest(f"No tool output found for function call {next(iter(open_calls))}.", param="input")
    return messages


def _text(content: wire.InputContent, where: str, cost: list[int]) -> str:
    """An item's text; images and files leave a marker and add what they cost to ``cost``."""
    if isinstance(content, str):
        return content
    texts = []
    for j, p in enumerate(content):
        param = f"{where}[{j}]"
        if isinstance(p, (wire.InputText, wire.OutputTextPart)):
            texts.append(p.text)
            continue
        if isinstance(p, wire.InputRefusal):
            texts.append(p.refusal)
            continue
        if isinstance(p, wire.InputImage):
            text, tokens = media.image(p.image_url, p.detail, param + ".image_url")
        else:
            if p.file_url is not None and p.file_data is None:
                text, tokens = media.remote_file(p.file_url, p.filename)
            else:
                text, tokens = media.file(p.file_data, p.file_id, p.filename, param + ".file_data")
        texts.append(text)
        cost[0] += tokens
    return "\n".join(texts)


def _arguments(text: str) -> dict[str, Any]:
    try:
        args = json.loads(text) if text.strip() else {}
    except ValueError:
        return {"arguments": text}  # OpenAI keeps them as given; the model sees them as text
    return args if isinstance(args, dict) else {"arguments": args}


def _tools(declared: list[wire.ResponsesTool]) -> tuple[list[Tool], list[wire.EchoedTool]]:
    """Function tools, neutral and as the response echoes them (strict unless turned off, on this API)."""
    tools: list[Tool] = []
    for i, t in enumerate(declared):
        if t.strict:
            check_strict(t.parameters, f"function {t.name!r}", f"tools[{i}].parameters")
        add_tool(tools, t.name, t.description, t.parameters)
    return tools, [wire.EchoedTool(name=t.name, description=d.description, parameters=t.parameters,
                                   strict=d.strict is not False) for t, d in zip(tools, declared, strict=True)]


def _tool_choice(choice: wire.Choice | wire.NamedFunction | None, tools: list[Tool]) -> tuple[str, Any]:
    """``tool_choice`` in neutral terms, and as the response echoes it."""
    if choice is None:
        return "auto", "auto"
    if choice in ("none", "auto"):
        return choice, choice  # type: ignore[return-value]
    if not tools:
        raise InvalidRequest("Invalid value for 'tool_choice': a required or named function needs 'tools'.",
                             param="tool_choice")
    if isinstance(choice, str):
        return "required", "required"
    if not any(t.name == choice.name for t in tools):
        raise InvalidRequest(f"Invalid value for 'tool_choice': function {choice.name!r} not found in 'tools'.",
                             param="tool_choice")
    return f"tool:{choice.name}", choice


def _metadata(raw: dict[str, Any] | None) -> dict[str, str]:
    """Up to 16 string values (the declaration counts them); keys up to 64 characters, values 512."""
    for key, value in (raw or {}).items():
        if len(key) > 64:
            raise InvalidRequest("Invalid 'metadata': keys must be at most 64 characters.", param="metadata")
        where = f"metadata.{key}"
        if not isinstance(value, str):
            raise InvalidRequest(f"Invalid type for '{where}': expected a string.", param=where)
        if len(value) > 512:
            raise InvalidRequest(f"Invalid '{where}': string too long. Expected a string with maximum length 512.",
                                 param=where)
    return raw or {}


# -- answers -------------------------------------------------------------------------------
def _usage(u: Usage) -> wire.ResponseUsage:
    return wire.ResponseUsage(input_tokens=u.input_tokens, output_tokens=u.output_tokens, total_tokens=u.total_tokens,
                              input_tokens_details=wire.InputTokensDetails(cached_tokens=u.cache_hit(128)),
                              output_tokens_details=wire.OutputTokensDetails(reasoning_tokens=u.reasoning_tokens))


def response(req: ResponsesRequest, rid: str, created: int, status: str, output: list[wire.OutputItem],
             usage: Usage | None) -> wire.Response:
    """The response object."""
    return wire.Response(
        id=rid, created_at=created, status=status,  # type: ignore[arg-type]
        completed_at=int(time.time()) if status == "completed" else None,
        incomplete_details=wire.IncompleteDetails("max_output_tokens") if status == "incomplete" else None,
        instructions=req.instructions, max_output_tokens=req.max_output_tokens, max_tool_calls=req.max_tool_calls,
        model=req.model, output=output, parallel_tool_calls=req.parallel_tool_calls, store=req.store,
        temperature=1.0 if req.temperature is None else req.temperature,
        text=wire.TextOut(format=req.wire_format or wire.FormatText(), verbosity=req.verbosity),
        tool_choice=req.wire_tool_choice, tools=req.wire_tools, top_logprobs=req.top_logprobs,
        top_p=1.0 if req.top_p is None else req.top_p, truncation=req.truncation,  # type: ignore[arg-type]
        usage=None if usage is None else _usage(usage), user=req.user, metadata=req.metadata,
        previous_response_id=req.previous_response_id, reasoning=req.wire_reasoning, **req.echoed,
    )


def _reasoning_item(req: ResponsesRequest, item_id: str, thinking: str) -> wire.ReasoningOutput:
    shown = req.reasoning is not None and req.reasoning.include
    return wire.ReasoningOutput(id=item_id, summary=[wire.SummaryText(text=thinking)] if shown else [])


def _message(item_id: str, status: str, parts: list[wire.OutputPart]) -> wire.OutputMessage:
    return wire.OutputMessage(id=item_id, status=status, content=parts)  # type: ignore[arg-type]


def _function_call(item_id: str, status: str, call: ToolCall, arguments: str) -> wire.FunctionCallOutput:
    return wire.FunctionCallOutput(id=item_id, status=status, arguments=arguments,  # type: ignore[arg-type]
                                   call_id="call_" + call.id, name=call.name)


def _status(c: Completion) -> str:
    return "incomplete" if c.finish_reason == "length" else "completed"


def render(req: ResponsesRequest, c: Completion) -> wire.Response | Awaitable[wire.Response]:
    """A finished answer as a response object (kept first when it is to be stored)."""
    status = _status(c)
    output: list[wire.OutputItem]
    if c.tool_calls:
        output = [_function_call(new_id("fc_"), "completed", call, arguments_json(call)) for call in c.tool_calls]
    else:
        part = (wire.OutputRefusal(refusal=c.text) if c.finish_reason == "refusal"
                else wire.OutputText(text=c.text, logprobs=logprobs.responses(c.logprobs)))
        output = [_message(new_id("msg_"), status, [part])]
    if req.reasoning is not None:
        output.insert(0, _reasoning_item(req, new_id("rs_"), c.thinking))
    resp = response(req, new_id("resp_"), int(time.time()), status, output, c.usage)
    return _kept(req, resp, c) if req.store and req.keeper is not None else resp


async def _kept(req: ResponsesRequest, resp: wire.Response, c: Completion) -> wire.Response:
    await keep(req, resp, c)
    return resp


async def keep(req: ResponsesRequest, resp: wire.Response, c: Completion) -> None:
    """Store the response with its conversation (this answer appended) and input items."""
    if not req.store or req.keeper is None:
        return
    calls = [ToolCall("call_" + call.id, call.name, call.arguments) for call in c.tool_calls]
    answer = Message("assistant", "" if calls else c.text, calls)
    await req.keeper.keep(resp.id, msgspec.json.encode(resp), [*req.conversation, answer], req.input_items)


class InBandError(MockVendorError):
    """An error struck mid-stream, with its ``error`` event already rendered: only the stream
    knows the next sequence number, so it renders the event and hands it to ``stream_error``."""

    def __init__(self, err: MockVendorError, event: bytes) -> None:
        super().__init__(err.message, status=err.status, kind=err.kind, param=err.param, fault=err.fault,
                         retry_after_ms=err.retry_after_ms, should_retry=err.should_retry, headers=err.headers)
        self.event = event


def stream_error(err: MockVendorError) -> bytes | None:
    """The in-band event for an error raised inside :func:`render_stream` (None for any other)."""
    return err.event if isinstance(err, InBandError) else None


def _error_event(seq: int, err: MockVendorError) -> wire.ErrorEvent:
    kind, code = error_type_code(err)
    nested = wire.NestedError(kind, code or kind, err.message, err.param)
    return wire.ErrorEvent(sequence_number=seq, code=code or kind, message=err.message, param=err.param, error=nested)


def _pad(delta: str) -> str:
    """Random characters for a delta's ``obfuscation`` field (evens out event sizes, as OpenAI's)."""
    n = 16 - len(delta) % 16
    return random_hex(n)[:n]


async def render_stream(req: ResponsesRequest, events: AsyncIterator[Chunk | Completion]) -> AsyncIterator[bytes]:
    """Engine events as the Responses API's named server-sent events."""
    rid, created = new_id("resp_"), int(time.time())
    seq = itertools.count()
    done: list[wire.OutputItem] = []  # finished output items
    item: wire.OutputItem | None = None  # the open one (its text or arguments so far in "acc")
    acc: list[str] = []
    acc_lp: list[TokenLogprob] = []  # the open message's token logprobs (when asked)

    def event(kind: type[wire.ResponsesEvent], **fields: Any) -> bytes:
        ev = kind(sequence_number=next(seq), **fields)
        return sse(ev, event=kind.__struct_config__.tag)  # type: ignore[arg-type]

    def open_id() -> str:
        assert item is not None
        return item.id

    def pad(text: str) -> Any:
        return _pad(text) if req.obfuscate else UNSET

    def open_item(new: wire.OutputItem) -> list[bytes]:
        nonlocal item
        item = new
        acc.clear()
        acc_lp.clear()
        out = [event(wire.OutputItemAdded, output_index=len(done), item=new)]
        if isinstance(new, wire.OutputMessage):
            out.append(event(wire.ContentPartAdded, item_id=new.id, output_index=len(done),
                             part=wire.OutputText(text="")))
        return out

    def close_item(status: str) -> list[bytes]:
        nonlocal item
        if item is None:
            return []
        where = {"item_id": item.id, "output_index": len(done)}
        text = "".join(acc)
        finished: wire.OutputItem
        if isinstance(item, wire.OutputMessage):
            part = wire.OutputText(text=text, logprobs=logprobs.responses(acc_lp))
            out = [event(wire.OutputTextDone, **where, text=text, logprobs=logprobs.responses_delta(acc_lp)),
                   event(wire.ContentPartDone, **where, part=part)]
            finished = replace(item, status=status, content=[part])
        else:
            out = [event(wire.ArgumentsDone, **where, arguments=text)]
            finished = replace(item, status="completed", arguments=text)
        out.append(event(wire.OutputItemDone, output_index=len(done), item=finished))
        done.append(finished)
        item = None
        return out

    thought: list[str] = []
    reasoning_id = new_id("rs_") if req.reasoning is not None else None
    summary = req.reasoning is not None and req.reasoning.include
    reasoning_open = False

    def open_reasoning() -> list[bytes]:
        nonlocal reasoning_open
        assert reasoning_id is not None
        reasoning_open = True
        out = [event(wire.OutputItemAdded, output_index=len(done), item=wire.ReasoningOutput(id=reasoning_id,
                                                                                              summary=[]))]
        if summary:
            out.append(event(wire.SummaryPartAdded, item_id=reasoning_id, output_index=len(done),
                             part=wire.SummaryText(text="")))
        return out

    def close_reasoning() -> list[bytes]:
        """The reasoning item ends before the answer's first item opens (opened first if it had no text)."""
        nonlocal reasoning_id
        if reasoning_id is None:
            return []
        out = [] if reasoning_open else open_reasoning()
        text = "".join(thought).strip()
        where = {"item_id": reasoning_id, "output_index": len(done)}
        if summary:
            out += [event(wire.SummaryTextDone, **where, text=text),
                    event(wire.SummaryPartDone, **where, part=wire.SummaryText(text=text))]
        finished = _reasoning_item(req, reasoning_id, text)
        out.append(event(wire.OutputItemDone, output_index=len(done), item=finished))
        done.append(finished)
        reasoning_id = None
        return out

    try:
        yield event(wire.ResponseCreated, response=response(req, rid, created, "in_progress", [], None))
        yield event(wire.ResponseInProgress, response=response(req, rid, created, "in_progress", [], None))
        async for ev in events:
            if not isinstance(ev, Completion) and ev.thinking:
                if not reasoning_open:
                    for data in open_reasoning():
                        yield data
                thought.append(ev.text)
                if summary and reasoning_id is not None:
                    yield event(wire.SummaryTextDelta, item_id=reasoning_id, output_index=len(done), delta=ev.text,
                                obfuscation=pad(ev.text))
                continue
            for data in close_reasoning():
                yield data
            if isinstance(ev, Completion):
                status = _status(ev)
                if ev.finish_reason == "refusal" and item is None:  # the words go in a refusal part
                    for data in _refusal(event, new_id("msg_"), len(done), ev.text, done):
                        yield data
                elif (item is None and not ev.tool_calls
                      and all(isinstance(d, wire.ReasoningOutput) for d in done)):  # an answer with no text chunks
                    for data in open_item(_message(new_id("msg_"), "in_progress", [])):
                        yield data
                    if ev.text:
                        acc.append(ev.text)
                        acc_lp.extend(ev.logprobs or ())
                        yield event(wire.OutputTextDelta, item_id=open_id(), output_index=len(done), delta=ev.text,
                                    logprobs=logprobs.responses_delta(ev.logprobs), obfuscation=pad(ev.text))
                for data in close_item(status):
                    yield data
                final = wire.ResponseIncomplete if status == "incomplete" else wire.ResponseCompleted
                whole = response(req, rid, created, status, done, ev.usage)
                await keep(req, whole, ev)
                yield event(final, response=whole)
                return
            if ev.tool_call is not None:
                if not ev.text:  # a call opens
                    for data in [*close_item("completed"),
                                 *open_item(_function_call(new_id("fc_"), "in_progress", ev.tool_call, ""))]:
                        yield data
                    continue
                acc.append(ev.text)
                yield event(wire.ArgumentsDelta, item_id=open_id(), output_index=len(done), delta=ev.text,
                            obfuscation=pad(ev.text))
            elif ev.text or ev.logprobs:
                if not isinstance(item, wire.OutputMessage):
                    for data in [*close_item("completed"), *open_item(_message(new_id("msg_"), "in_progress", []))]:
                        yield data
                acc.append(ev.text)
                acc_lp.extend(ev.logprobs or ())
                yield event(wire.OutputTextDelta, item_id=open_id(), output_index=len(done), delta=ev.text,
                            logprobs=logprobs.responses_delta(ev.logprobs), obfuscation=pad(ev.text))
    except MockVendorError as err:
        raise InBandError(err, sse(_error_event(next(seq), err), event="error")) from err


def _refusal(event: Any, item_id: str, index: int, text: str, done: list[wire.OutputItem]) -> list[bytes]:
    """A message item holding one refusal part, its words in one delta."""
    where = {"item_id": item_id, "output_index": index}
    part = wire.OutputRefusal(refusal=text)
    finished = _message(item_id, "completed", [part])
    out = [event(wire.OutputItemAdded, output_index=index, item=_message(item_id, "in_progress", [])),
           event(wire.ContentPartAdded, **where, part=wire.OutputRefusal(refusal="")),
           event(wire.RefusalDelta, **where, delta=text), event(wire.RefusalDone, **where, refusal=text),
           event(wire.ContentPartDone, **where, part=part),
           event(wire.OutputItemDone, output_index=index, item=finished)]
    done.append(finished)
    return out
