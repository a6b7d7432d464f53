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
import os
import re
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from ...errors import InvalidRequest, MockVendorError
from ...http import sse
from ...tools import arguments_json
from ...types import Chunk, Completion, GenerateRequest, Message, Tool, ToolCall, Usage
from ..base import boolean, integer, number, obj, string

ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}
TEXT_PARTS = ("input_text", "output_text")
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
MAX_TOOLS = 128
MIN_OUTPUT_TOKENS = 16  # OpenAI refuses fewer
MAX_METADATA = 16
STATEFUL = {
    "previous_response_id": "mockvendor keeps no conversation state, so it cannot continue a stored response: "
                            "send the whole conversation in 'input' instead.",
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
    parallel_tool_calls: bool = True
    store: bool = True
    user: str | None = None
    truncation: str = "disabled"
    top_logprobs: int = 0
    verbosity: str = "medium"
    wire_tools: list[dict[str, Any]] = field(default_factory=list)
    wire_tool_choice: Any = "auto"
    obfuscate: bool = True


def new_id(prefix: str) -> str:
    return prefix + os.urandom(24).hex()


# -- requests ----------------------------------------------------------------------------
def parse(body: Any, request: Request | None = None) -> ResponsesRequest:
    """The JSON body of ``POST /v1/responses`` as a neutral request (a 400 naming the bad field)."""
    b = obj(body)
    model = string(b, "model", required=True, nonempty=True, max_len=256) or ""
    for key, why in STATEFUL.items():
        if b.get(key) is not None:
            raise InvalidRequest(f"Parameter '{key}' is not supported: {why}", param=key)
    if boolean(b, "background"):
        raise InvalidRequest("Background responses are not supported: mockvendor keeps no stored responses to "
                             "poll; send the request without 'background'.", param="background")
    instructions = string(b, "instructions")
    messages = [Message("system", instructions)] if instructions else []
    messages += _input(b)
    tools, wire_tools = _tools(b)
    choice, wire_choice = _tool_choice(b, tools)
    max_out = integer(b, "max_output_tokens", hi=1_000_000)
    if max_out is not None and max_out < MIN_OUTPUT_TOKENS:
        raise InvalidRequest(
            "Invalid 'max_output_tokens': integer below minimum value. Expected a value >= "
            f"{MIN_OUTPUT_TOKENS}, but got {max_out} instead.",
            param="max_output_tokens",
        )
    stream = bool(boolean(b, "stream"))
    return ResponsesRequest(
        model, messages, max_tokens=max_out, temperature=number(b, "temperature", lo=0.0, hi=2.0),
        top_p=number(b, "top_p", lo=0.0, hi=1.0),
        seed=integer(b, "seed", lo=-(2**63), hi=2**64 - 1),  # a mockvendor extension, as on chat
        stream=stream, tools=tools, tool_choice=choice,
        instructions=instructions, max_output_tokens=max_out,
        max_tool_calls=integer(b, "max_tool_calls", lo=1, hi=1_000_000),
        metadata=_metadata(b), parallel_tool_calls=boolean(b, "parallel_tool_calls") is not False,
        store=boolean(b, "store") is not False, user=string(b, "user", max_len=512),
        truncation=_enum(b, "truncation", ("auto", "disabled")) or "disabled",
        top_logprobs=integer(b, "top_logprobs", lo=0, hi=20) or 0,
        verbosity=_text(b), wire_tools=wire_tools, wire_tool_choice=wire_choice,
        obfuscate=_obfuscate(b, stream),
    )


def _enum(b: Mapping[str, Any], key: str, allowed: tuple[str, ...], path: str = "") -> str | None:
    v = string(b, key, path=path)
    if v is not None and v not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        raise InvalidRequest(f"Invalid value for '{path}{key}': {v!r}. Supported values are: {options}.",
                             param=path + key)
    return v


def _input(b: Mapping[str, Any]) -> list[Message]:
    """``input``: a string (one user turn) or message, function_call and function_call_output items."""
    raw = b.get("input")
    if raw is None:
        raise InvalidRequest("Missing required parameter: 'input'.", param="input")
    if isinstance(raw, str):
        return [Message("user", raw)]
    if not isinstance(raw, list) or not raw:
        raise InvalidRequest("Invalid type for 'input': expected a string or a non-empty array of input items.",
                             param="input")
    messages: list[Message] = []
    open_calls: dict[str, str] = {}  # call_id -> name, for calls not yet answered
    for i, item in enumerate(raw):
        path = f"input[{i}]"
        it = obj(item, f"'{path}'")
        kind = it.get("type", "message")
        if kind == "message":
            role = string(it, "role", required=True, path=path + ".")
            if role not in ROLES:
                raise InvalidRequest(f"Invalid value for '{path}.role': {role!r}. Supported values are: "
                                     "'user', 'system', 'developer', 'assistant'.", param=f"{path}.role")
            messages.append(Message(ROLES[role], _content(it, "content", path)))
        elif kind == "function_call":
            call_id = string(it, "call_id", required=True, nonempty=True, path=path + ".") or ""
            name = string(it, "name", required=True, nonempty=True, path=path + ".") or ""
            call = ToolCall(call_id, name, _arguments(string(it, "arguments", required=True, path=path + ".")))
            if messages and messages[-1].role == "assistant":
                messages[-1].tool_calls.append(call)  # the same assistant turn's text or other calls
            else:
                messages.append(Message("assistant", "", [call]))
            open_calls[call_id] = name
        elif kind == "function_call_output":
            call_id = string(it, "call_id", required=True, nonempty=True, path=path + ".") or ""
            if call_id not in open_calls:
                raise InvalidRequest(f"No tool call found for function call output with call_id {call_id}.",
                                     param=f"{path}.call_id")
            messages.append(Message("tool", _content(it, "output", path), tool_call_id=call_id,
                                    name=open_calls.pop(call_id)))
        else:
            raise InvalidRequest(
                f"Invalid value for '{path}.type': {kind!r}. mockvendor accepts 'message', 'function_call' and "
                "'function_call_output' input items.",
                param=f"{path}.type",
            )
    if open_calls:
        raise InvalidRequest(f"No tool output found for function call {next(iter(open_calls))}.", param="input")
    return messages


def _content(item: Mapping[str, Any], key: str, path: str) -> str:
    """A message's ``content`` (or a call output's ``output``): a string or a list of text parts."""
    where = f"{path}.{key}"
    value = item.get(key)
    if value is None:
        raise InvalidRequest(f"Missing required parameter: '{where}'.", param=where)
    if isinstance(value, str):
        return value
    if not isinstance(value, list):
        raise InvalidRequest(f"Invalid type for '{where}': expected a string or an array of content parts.",
                             param=where)
    texts = []
    for j, part in enumerate(value):
        p = obj(part, f"'{where}[{j}]'")
        kind = p.get("type")
        if kind not in TEXT_PARTS:
            raise InvalidRequest(
                f"Content part type {kind!r} in '{where}[{j}]' is not supported: mockvendor answers text parts "
                "('input_text', 'output_text') only.",
                param=f"{where}[{j}].type",
            )
        texts.append(string(p, "text", required=True, path=f"{where}[{j}].") or "")
    return "\n".join(texts)


def _arguments(text: str | None) -> dict[str, Any]:
    try:
        args = json.loads(text) if text and text.strip() else {}
    except ValueError:
        return {"arguments": text}  # OpenAI keeps them as given; the model sees them as text
    return args if isinstance(args, dict) else {"arguments": args}


def _tools(b: Mapping[str, Any]) -> tuple[list[Tool], list[dict[str, Any]]]:
    """Function tools (flat here: name and parameters beside ``type``), neutral and as echoed."""
    raw = b.get("tools")
    if raw is None:
        return [], []
    if not isinstance(raw, list):
        raise InvalidRequest("Invalid type for 'tools': expected an array of tools.", param="tools")
    if len(raw) > MAX_TOOLS:
        raise InvalidRequest(f"Invalid 'tools': array too long. Expected an array with maximum length {MAX_TOOLS}, "
                             f"but got an array with length {len(raw)} instead.", param="tools")
    tools: list[Tool] = []
    wire: list[dict[str, Any]] = []
    for i, item in enumerate(raw):
        path = f"tools[{i}]."
        t = obj(item, f"'tools[{i}]'")
        kind = t.get("type")
        if kind != "function":
            raise InvalidRequest(
                f"Invalid value for 'tools[{i}].type': {kind!r}. mockvendor runs 'function' tools only (no hosted "
                "tools such as web_search, file_search or code_interpreter).",
                param=f"tools[{i}].type",
            )
        name = string(t, "name", required=True, path=path) or ""
        if not TOOL_NAME.match(name):
            raise InvalidRequest(f"Invalid 'tools[{i}].name': string does not match pattern. Expected a string "
                                 "that matches the pattern '^[a-zA-Z0-9_-]{1,64}$'.", param=f"tools[{i}].name")
        if any(x.name == name for x in tools):
            raise InvalidRequest(f"Invalid 'tools': duplicate function name {name!r}.", param="tools")
        params = t.get("parameters")
        if params is None:
            params = {"type": "object", "properties": {}}
        if not isinstance(params, dict):
            raise InvalidRequest(f"Invalid type for 'tools[{i}].parameters': expected an object.",
                                 param=f"tools[{i}].parameters")
        description = string(t, "description", path=path)
        strict = boolean(t, "strict", path=path)
        tools.append(Tool(name, description or "", params))
        wire.append({"type": "function", "name": name, "description": description, "parameters": params,
                     "strict": strict is not False})  # strict is on unless turned off, on this API
    return tools, wire


def _tool_choice(b: Mapping[str, Any], tools: list[Tool]) -> tuple[str, Any]:
    """``tool_choice`` in neutral terms, and as the response echoes it."""
    choice = b.get("tool_choice")
    if choice is None:
        return "auto", "auto"
    if choice in ("none", "auto"):
        return choice, choice
    if choice == "required" or (isinstance(choice, dict) and choice.get("type") == "function"):
        if not tools:
            raise InvalidRequest("Invalid value for 'tool_choice': a required or named function needs 'tools'.",
                                 param="tool_choice")
        if choice == "required":
            return "required", "required"
        name = string(choice, "name", required=True, path="tool_choice.")
        if not any(t.name == name for t in tools):
            raise InvalidRequest(f"Invalid value for 'tool_choice': function {name!r} not found in 'tools'.",
                                 param="tool_choice")
        return f"tool:{name}", {"type": "function", "name": name}
    raise InvalidRequest(
        "Invalid value for 'tool_choice': expected 'none', 'auto', 'required' or "
        '{"type": "function", "name": ...} (mockvendor runs function tools only).',
        param="tool_choice",
    )


def _metadata(b: Mapping[str, Any]) -> dict[str, str]:
    raw = b.get("metadata")
    if raw is None:
        return {}
    m = obj(raw, "'metadata'")
    if len(m) > MAX_METADATA:
        raise InvalidRequest(f"Invalid 'metadata': too many properties. Expected an object with at most "
                             f"{MAX_METADATA} properties, but got {len(m)} instead.", param="metadata")
    for key in m:
        if len(key) > 64:
            raise InvalidRequest("Invalid 'metadata': keys must be at most 64 characters.", param="metadata")
        string(m, key, required=True, max_len=512, path="metadata.")
    return dict(m)


def _text(b: Mapping[str, Any]) -> str:
    """``text``: plain text only (a structured output format is refused); its verbosity."""
    raw = b.get("text")
    if raw is None:
        return "medium"
    t = obj(raw, "'text'")
    fmt = t.get("format")
    if fmt is not None and obj(fmt, "'text.format'").get("type") != "text":
        kind = fmt.get("type")
        raise InvalidRequest(f"Invalid value for 'text.format.type': {kind!r}. mockvendor answers plain text only "
                             "(no structured outputs); use {\"type\": \"text\"}.", param="text.format.type")
    return _enum(t, "verbosity", ("low", "medium", "high"), path="text.") or "medium"


def _obfuscate(b: Mapping[str, Any], stream: bool) -> bool:
    options = b.get("stream_options")
    if options is None:
        return True
    if not stream:
        raise InvalidRequest("The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                             param="stream_options")
    return boolean(obj(options, "'stream_options'"), "include_obfuscation", path="stream_options.") is not False


# -- answers -------------------------------------------------------------------------------
def usage_json(u: Usage) -> dict[str, Any]:
    return {
        "input_tokens": u.input_tokens, "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": u.output_tokens, "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": u.total_tokens,
    }


def response_json(req: ResponsesRequest, rid: str, created: int, status: str, output: list[dict[str, Any]],
                  usage: Usage | None) -> dict[str, Any]:
    """The response object, in the order and with the fields OpenAI sends."""
    return {
        "id": rid, "object": "response", "created_at": created, "status": status, "background": False,
        "completed_at": int(time.time()) if status == "completed" else None,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if status == "incomplete" else None,
        "instructions": req.instructions, "max_output_tokens": req.max_output_tokens,
        "max_tool_calls": req.max_tool_calls, "model": req.model, "output": output,
        "parallel_tool_calls": req.parallel_tool_calls, "previous_response_id": None, "prompt_cache_key": None,
        "reasoning": {"effort": None, "summary": None}, "safety_identifier": None, "service_tier": "default",
        "store": req.store, "temperature": 1.0 if req.temperature is None else req.temperature,
        "text": {"format": {"type": "text"}, "verbosity": req.verbosity},
        "tool_choice": req.wire_tool_choice, "tools": req.wire_tools, "top_logprobs": req.top_logprobs,
        "top_p": 1.0 if req.top_p is None else req.top_p, "truncation": req.truncation,
        "usage": None if usage is None else usage_json(usage), "user": req.user, "metadata": req.metadata,
    }


def _text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}


def _message(item_id: str, status: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": item_id, "type": "message", "status": status, "content": parts, "role": "assistant"}


def _function_call(item_id: str, status: str, call: ToolCall, arguments: str) -> dict[str, Any]:
    return {"id": item_id, "type": "function_call", "status": status, "arguments": arguments,
            "call_id": "call_" + call.id, "name": call.name}


def _status(c: Completion) -> str:
    return "incomplete" if c.finish_reason == "length" else "completed"


def render(req: ResponsesRequest, c: Completion) -> dict[str, Any]:
    """A finished answer as a response object."""
    status = _status(c)
    if c.tool_calls:
        output = [_function_call(new_id("fc_"), "completed", call, arguments_json(call)) for call in c.tool_calls]
    else:
        output = [_message(new_id("msg_"), status, [_text_part(c.text)])]
    return response_json(req, new_id("resp_"), int(time.time()), status, output, c.usage)


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


def _error_fields(err: MockVendorError) -> dict[str, Any]:
    # Imported here: openai.py imports this module at load time.
    from .vendor import error_type_code

    kind, code = error_type_code(err)
    # The SDK's ResponseErrorEvent reads code/message/param at the top level; the live service
    # has been seen nesting them under "error" (openai-python then raises APIError). Both are sent.
    nested = {"type": kind, "code": code or kind, "message": err.message, "param": err.param}
    return {"code": code or kind, "message": err.message, "param": err.param, "error": nested}


def _pad(delta: str) -> str:
    """Random characters for a delta's ``obfuscation`` field (evens out event sizes, as OpenAI's)."""
    n = 16 - len(delta) % 16
    return os.urandom(n).hex()[:n]


async def render_stream(req: ResponsesRequest, events: AsyncIterator[Chunk | Completion]) -> AsyncIterator[bytes]:
    """Engine events as the Responses API's named server-sent events."""
    rid, created = new_id("resp_"), int(time.time())
    seq = itertools.count()
    done: list[dict[str, Any]] = []  # finished output items
    item: dict[str, Any] | None = None  # the open one (its text or arguments so far in "acc")
    acc: list[str] = []

    def event(kind: str, **fields: Any) -> bytes:
        return sse({"type": kind, "sequence_number": next(seq), **fields}, event=kind)

    def open_id() -> str:
        assert item is not None
        return str(item["id"])

    def delta(kind: str, text: str, **where: Any) -> bytes:
        extra = {"obfuscation": _pad(text)} if req.obfuscate else {}
        return event(kind, **where, delta=text, **extra)

    def open_item(new: dict[str, Any]) -> list[bytes]:
        nonlocal item
        item = new
        acc.clear()
        out = [event("response.output_item.added", output_index=len(done), item=new)]
        if new["type"] == "message":
            out.append(event("response.content_part.added", item_id=new["id"], output_index=len(done),
                             content_index=0, part=_text_part("")))
        return out

    def close_item(status: str) -> list[bytes]:
        nonlocal item
        if item is None:
            return []
        where = {"item_id": item["id"], "output_index": len(done)}
        text = "".join(acc)
        if item["type"] == "message":
            part = _text_part(text)
            out = [event("response.output_text.done", **where, content_index=0, text=text, logprobs=[]),
                   event("response.content_part.done", **where, content_index=0, part=part)]
            finished = {**item, "status": status, "content": [part]}
        else:
            out = [event("response.function_call_arguments.done", **where, arguments=text)]
            finished = {**item, "status": "completed", "arguments": text}
        out.append(event("response.output_item.done", output_index=len(done), item=finished))
        done.append(finished)
        item = None
        return out

    try:
        yield event("response.created", response=response_json(req, rid, created, "in_progress", [], None))
        yield event("response.in_progress", response=response_json(req, rid, created, "in_progress", [], None))
        async for ev in events:
            if isinstance(ev, Completion):
                status = _status(ev)
                if not done and item is None and not ev.tool_calls:  # an answer with no text chunks
                    for data in open_item(_message(new_id("msg_"), "in_progress", [])):
                        yield data
                    if ev.text:
                        acc.append(ev.text)
                        yield delta("response.output_text.delta", ev.text, item_id=open_id(), output_index=0,
                                    content_index=0, logprobs=[])
                for data in close_item(status):
                    yield data
                final = "response.incomplete" if status == "incomplete" else "response.completed"
                yield event(final, response=response_json(req, rid, created, status, done, ev.usage))
                return
            if ev.tool_call is not None:
                if not ev.text:  # a call opens
                    for data in [*close_item("completed"),
                                 *open_item(_function_call(new_id("fc_"), "in_progress", ev.tool_call, ""))]:
                        yield data
                    continue
                acc.append(ev.text)
                yield delta("response.function_call_arguments.delta", ev.text, item_id=open_id(),
                            output_index=len(done))
            elif ev.text:
                if item is None or item["type"] != "message":
                    for data in [*close_item("completed"), *open_item(_message(new_id("msg_"), "in_progress", []))]:
                        yield data
                acc.append(ev.text)
                yield delta("response.output_text.delta", ev.text, item_id=open_id(), output_index=len(done),
                            content_index=0, logprobs=[])
    except MockVendorError as err:
        raise InBandError(err, event("error", **_error_fields(err))) from err


# -- OpenAPI -------------------------------------------------------------------------------
def responses_path_item(vendor: Any) -> dict[str, Any]:
    """The OpenAPI path item of ``/v1/responses`` (what :func:`parse` accepts, what the renderers send)."""
    # Imported here: .openapi imports this module.
    from ..openapi import INT, OPENAI_ERROR, STR, TOOLS_DOC, _obj, _operation
    from .openapi import OPENAI_ERRORS

    num = {"type": "number"}
    part = _obj({"type": {"type": "string", "enum": list(TEXT_PARTS)}, "text": STR}, ["type", "text"])
    content = {"anyOf": [STR, {"type": "array", "items": part}]}
    message = _obj({"type": {"const": "message"}, "role": {"type": "string", "enum": list(ROLES)},
                    "content": content}, ["role", "content"])
    call = _obj({"type": {"const": "function_call"}, "call_id": {"type": "string", "minLength": 1},
                 "name": {"type": "string", "minLength": 1},
                 "arguments": {"type": "string", "description": "A JSON object, as text."}, "id": STR, "status": STR},
                ["type", "call_id", "name", "arguments"])
    call_output = _obj({"type": {"const": "function_call_output"}, "call_id": {"type": "string", "minLength": 1},
                        "output": content}, ["type", "call_id", "output"],
                       description="The result of an earlier `function_call` item of this input (a 400 otherwise).")
    tool = _obj({"type": {"const": "function"}, "name": {"type": "string", "pattern": "^[a-zA-Z0-9_-]{1,64}$"},
                 "description": STR, "parameters": {"type": "object", "description": "The arguments' JSON Schema."},
                 "strict": {"type": "boolean"}}, ["type", "name"])
    tool_choice = {"anyOf": [{"type": "string", "enum": ["none", "auto", "required"]},
                             _obj({"type": {"const": "function"}, "name": STR}, ["type", "name"])]}
    request = _obj(
        {
            "model": {"type": "string", "minLength": 1, "examples": ["gpt-4o-mini"]},
            "input": {"anyOf": [STR, {"type": "array", "minItems": 1,
                                      "items": {"anyOf": [message, call, call_output]}}]},
            "instructions": {**STR, "description": "A system message before `input`."},
            "max_output_tokens": {"type": "integer", "minimum": MIN_OUTPUT_TOKENS, "maximum": 1000000},
            "temperature": {"type": "number", "minimum": 0, "maximum": 2},
            "top_p": {"type": "number", "minimum": 0, "maximum": 1},
            "seed": {"type": "integer", "description": "mockvendor extension: same seed and input, same text."},
            "stream": {"type": "boolean"},
            "stream_options": _obj({"include_obfuscation": {"type": "boolean"}},
                                   description="Only with `stream: true`, else a 400."),
            "tools": {"type": "array", "items": tool, "maxItems": MAX_TOOLS, "description": TOOLS_DOC},
            "tool_choice": tool_choice,
            "parallel_tool_calls": {"type": "boolean"},
            "metadata": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 512},
                         "maxProperties": MAX_METADATA},
            "store": {"type": "boolean", "description": "Echoed; mockvendor stores nothing."},
            "user": {"type": "string", "maxLength": 512},
            "truncation": {"type": "string", "enum": ["auto", "disabled"]},
            "text": _obj({"format": _obj({"type": {"const": "text"}}, ["type"]),
                          "verbosity": {"type": "string", "enum": ["low", "medium", "high"]}}),
        },
        ["model", "input"],
        description="`previous_response_id`, `conversation`, `prompt` and `background: true` are refused "
                    "(mockvendor keeps no state); so are hosted tools and non-text content parts.",
    )
    out_part = _obj({"type": {"const": "output_text"}, "text": STR, "annotations": {"type": "array"}},
                    ["type", "text", "annotations"])
    out_message = _obj({"type": {"const": "message"}, "id": STR, "status": {"enum": ["completed", "incomplete"]},
                        "role": {"const": "assistant"}, "content": {"type": "array", "items": out_part}},
                       ["type", "id", "status", "role", "content"])
    out_call = _obj({"type": {"const": "function_call"}, "id": STR, "call_id": STR, "name": STR, "arguments": STR,
                     "status": {"const": "completed"}}, ["type", "id", "call_id", "name", "arguments", "status"])
    usage = _obj({"input_tokens": INT, "input_tokens_details": _obj({"cached_tokens": INT}, ["cached_tokens"]),
                  "output_tokens": INT, "output_tokens_details": _obj({"reasoning_tokens": INT}, ["reasoning_tokens"]),
                  "total_tokens": INT},
                 ["input_tokens", "input_tokens_details", "output_tokens", "output_tokens_details", "total_tokens"])
    response = _obj(
        {
            "id": STR, "object": {"const": "response"}, "created_at": INT,
            "status": {"type": "string", "enum": ["completed", "incomplete"]},
            "error": {"type": "null"},
            "incomplete_details": {"anyOf": [{"type": "null"}, _obj({"reason": STR}, ["reason"])]},
            "model": STR, "output": {"type": "array", "items": {"anyOf": [out_message, out_call]}},
            "parallel_tool_calls": {"type": "boolean"}, "tool_choice": {}, "tools": {"type": "array"},
            "temperature": num, "top_p": num, "metadata": {"type": "object"}, "usage": usage,
        },
        ["id", "object", "created_at", "status", "model", "output", "parallel_tool_calls", "tool_choice", "tools",
         "usage"],
    )
    stream_doc = (
        "with `stream: true`, named server-sent events (`event: <type>`), each `data` a JSON event with `type` and "
        "an increasing `sequence_number`: response.created, response.in_progress, per output item "
        "response.output_item.added, its deltas (response.output_text.delta or "
        "response.function_call_arguments.delta) and response.output_item.done, then response.completed "
        "(response.incomplete when `max_output_tokens` cut the answer); an error mid-stream is an `error` event."
    )
    return {
        "post": _operation(
            vendor, "openai_responses", "OpenAI Responses API (streaming or not; function tools).",
            request=request,
            example={"model": "gpt-4o-mini", "instructions": "You are a helpful assistant.", "input": "Say hello.",
                     "max_output_tokens": 32, "seed": 1},
            response=response, error=OPENAI_ERROR, errors=OPENAI_ERRORS, stream_doc=stream_doc,
        )
    }
