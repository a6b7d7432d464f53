"""Request declarations: today's hand-written parsing against msgspec and pydantic, in the same run.

    python bench/declarations.py [--runs 7] [--target-ms 30]

Issue 12 chooses the declaration library by measurement. Every candidate does the same job on
the same body: bytes -> validated OpenAI chat-completions request -> the neutral request -> a
``chat.completion`` body as bytes; for the invalid body, the library's error -> our message and a
param path (``messages[3].content``) -> the error body as bytes. Candidate (1) is a snapshot of the
hand-written path (the ``obj/string/integer/number/boolean/stop_list`` helpers of vendors/base.py
and ``OpenAIVendor.parse``; tool-call turns left out, no body here has them) and the baseline of
every ratio. Before timing, every candidate's neutral request must equal (1)'s, and its response
too (apart from id and created), so no candidate can be a no-op. Self-contained: imports no mockvendor code.
"""

from __future__ import annotations

import argparse
import os
import re
import time
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import msgspec
import orjson
import pydantic
from msgspec import Meta, Struct
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant", "tool": "tool"}
TOOL_NAME_RE = r"^[a-zA-Z0-9_-]{1,64}$"
TOOL_NAME = re.compile(TOOL_NAME_RE)
MAX_TOOLS = 128
_MISSING: Any = object()


class InvalidRequest(Exception):
    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message, self.param = message, param


@dataclass(slots=True)
class Tool:
    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Msg:
    role: str
    content: str


@dataclass(slots=True)
class Req:
    """The neutral request every candidate ends with (what the engines read)."""

    model: str
    messages: list[Msg]
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    seed: int | None = None
    stop: list[str] = field(default_factory=list)
    stream: bool = False
    include_usage: bool = False
    tools: list[Tool] = field(default_factory=list)
    tool_choice: str = "auto"


# -- (1) the hand-written path: a snapshot of vendors/base.py and vendors/openai/vendor.py ----------

def obj(body: Any, what: str = "Request body") -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidRequest(f"{what} must be a JSON object, got {_type(body)}.")
    return body


def string(body: dict[str, Any], key: str, *, required: bool = False, nonempty: bool = False,
           max_len: int | None = None, path: str = "") -> str | None:
    name, v = path + key, body.get(key, _MISSING)
    if v is _MISSING or v is None:
        if required:
            raise InvalidRequest(f"Missing required field '{name}'.", param=name)
        return None
    if not isinstance(v, str):
        raise InvalidRequest(f"Field '{name}' must be a string, got {_type(v)}.", param=name)
    if nonempty and not v.strip():
        raise InvalidRequest(f"Field '{name}' must not be empty.", param=name)
    if "\x00" in v:
        raise InvalidRequest(f"Field '{name}' must not contain NUL characters.", param=name)
    if max_len is not None and len(v) > max_len:
        raise InvalidRequest(f"Field '{name}' is longer than {max_len} characters.", param=name)
    return v


def integer(body: dict[str, Any], key: str, *, lo: int | None = None, hi: int | None = None) -> int | None:
    v = body.get(key, _MISSING)
    if v is _MISSING or v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int):
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        else:
            raise InvalidRequest(f"Field '{key}' must be an integer, got {_type(v)}.", param=key)
    if lo is not None and v < lo:
        raise InvalidRequest(f"Field '{key}' must be at least {lo}, got {v}.", param=key)
    if hi is not None and v > hi:
        raise InvalidRequest(f"Field '{key}' must be at most {hi}, got {v}.", param=key)
    return v


def number(body: dict[str, Any], key: str, *, lo: float, hi: float) -> float | None:
    v = body.get(key, _MISSING)
    if v is _MISSING or v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise InvalidRequest(f"Field '{key}' must be a number, got {_type(v)}.", param=key)
    if v < lo or v > hi:
        raise InvalidRequest(f"Field '{key}' must be between {lo} and {hi}, got {v}.", param=key)
    return float(v)


def boolean(body: dict[str, Any], key: str, *, path: str = "") -> bool | None:
    v = body.get(key, _MISSING)
    if v is _MISSING or v is None:
        return None
    if not isinstance(v, bool):
        raise InvalidRequest(f"Field '{path + key}' must be a boolean, got {_type(v)}.", param=path + key)
    return v


def stop_list(body: dict[str, Any], key: str, *, max_items: int = 4) -> list[str]:
    v = body.get(key)
    if v is None:
        return []
    if isinstance(v, str):
        return [v]
    if isinstance(v, list) and all(isinstance(s, str) for s in v):
        if len(v) > max_items:
            raise InvalidRequest(f"Field '{key}' may hold at most {max_items} strings.", param=key)
        return list(v)
    raise InvalidRequest(f"Field '{key}' must be a string or a list of strings.", param=key)


def _type(v: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", int: "an integer",
            float: "a number", type(None): "null"}.get(type(v), type(v).__name__)


def _content(value: Any, path: str) -> str:
    if value is None or isinstance(value, str):
        return value or ""
    if not isinstance(value, list):
        raise InvalidRequest(f"Field '{path}' must be a string or an array of content parts.", param=path)
    texts = []
    for j, part in enumerate(value):
        p = obj(part, f"'{path}[{j}]'")
        if p.get("type") != "text":
            raise InvalidRequest(f"Content part type {p.get('type')!r} in '{path}[{j}]' is not supported.",
                                 param=f"{path}[{j}].type")
        texts.append(string(p, "text", required=True, path=f"{path}[{j}].") or "")
    return "\n".join(texts)


def _tools(b: dict[str, Any]) -> tuple[list[Tool], str]:
    raw, tools = b.get("tools"), []
    if raw is not None:
        if not isinstance(raw, list) or len(raw) > MAX_TOOLS:
            raise InvalidRequest("Invalid 'tools': expected an array of at most 128 tools.", param="tools")
        for i, item in enumerate(raw):
            t = obj(item, f"'tools[{i}]'")
            if t.get("type") != "function":
                raise InvalidRequest(f"Invalid value for 'tools[{i}].type'.", param=f"tools[{i}].type")
            f = obj(t.get("function"), f"'tools[{i}].function'")
            name = string(f, "name", required=True, path=f"tools[{i}].function.") or ""
            if not TOOL_NAME.match(name):
                raise InvalidRequest(f"Invalid 'tools[{i}].function.name': string does not match pattern.",
                                     param=f"tools[{i}].function.name")
            if any(x.name == name for x in tools):
                raise InvalidRequest(f"Invalid 'tools': duplicate function name {name!r}.", param="tools")
            params = f.get("parameters", {"type": "object", "properties": {}})
            if not isinstance(params, dict):
                raise InvalidRequest("Invalid type for parameters.", param=f"tools[{i}].function.parameters")
            boolean(f, "strict", path=f"tools[{i}].function.")
            tools.append(Tool(name, string(f, "description", path=f"tools[{i}].function.") or "", params))
    boolean(b, "parallel_tool_calls")
    choice = b.get("tool_choice")
    if choice is None:
        return tools, "auto"
    if not tools:
        raise InvalidRequest("'tool_choice' is only allowed when 'tools' are specified.", param="tool_choice")
    if choice in ("none", "auto", "required"):
        return tools, choice
    if isinstance(choice, dict) and choice.get("type") == "function":
        name = string(obj(choice.get("function")), "name", required=True, path="tool_choice.function.")
        return tools, _choose(tools, name)
    raise InvalidRequest("Invalid value for 'tool_choice'.", param="tool_choice")


def _choose(tools: list[Tool], name: Any) -> str:
    if not any(t.name == name for t in tools):
        raise InvalidRequest(f"Invalid value for 'tool_choice': function {name!r} not found.", param="tool_choice")
    return f"tool:{name}"


def parse_hand(body: bytes) -> Req:
    b = obj(orjson.loads(body))
    model = string(b, "model", required=True, nonempty=True, max_len=256) or ""
    raw = b.get("messages")
    if not isinstance(raw, list) or not raw:
        raise InvalidRequest("Field 'messages' must be a non-empty array of messages.", param="messages")
    messages = []
    for i, item in enumerate(raw):
        m = obj(item, f"'messages[{i}]'")
        role = string(m, "role", required=True, path=f"messages[{i}].")
        if role not in ROLES:
            raise InvalidRequest(f"Invalid value {role!r} for 'messages[{i}].role'.", param=f"messages[{i}].role")
        messages.append(Msg(ROLES[role], _content(m.get("content"), f"messages[{i}].content")))
    tools, choice = _tools(b)
    stream, include_usage, options = bool(boolean(b, "stream")), False, b.get("stream_options")
    if options is not None:
        if not stream:
            raise InvalidRequest("'stream_options' is only allowed when 'stream' is enabled.", param="stream_options")
        include_usage = bool(boolean(obj(options), "include_usage", path="stream_options."))
    max_tokens = integer(b, "max_completion_tokens", lo=1, hi=1_000_000) or integer(b, "max_tokens", lo=1, hi=1_000_000)
    return Req(model, messages, max_tokens, number(b, "temperature", lo=0.0, hi=2.0),
               number(b, "top_p", lo=0.0, hi=1.0), integer(b, "seed", lo=-(2**63), hi=2**64 - 1),
               stop_list(b, "stop"), stream, include_usage, tools, choice)


# -- the shared tail of (2)-(5): a declared request -> the neutral one, with the checks across fields ---

def neutral(r: Any) -> Req:
    if r.stream_options is not None and not r.stream:
        raise InvalidRequest("'stream_options' is only allowed when 'stream' is enabled.", param="stream_options")
    tools = [Tool(t.function.name, t.function.description or "", t.function.parameters) for t in r.tools or ()]
    if len({t.name for t in tools}) < len(tools):
        raise InvalidRequest("Invalid 'tools': duplicate function name.", param="tools")
    choice = r.tool_choice
    if choice is not None and not tools:
        raise InvalidRequest("'tool_choice' is only allowed when 'tools' are specified.", param="tool_choice")
    choice = "auto" if choice is None else choice if isinstance(choice, str) else _choose(tools, choice.function.name)
    messages = []
    for i, m in enumerate(r.messages):
        c = m.content
        if isinstance(c, list):
            if any(not hasattr(p, "text") for p in c):
                raise InvalidRequest("Only text parts are supported.", param=f"messages[{i}].content")
            c = "\n".join(p.text for p in c)
        messages.append(Msg(ROLES[m.role], c or ""))
    stop = [r.stop] if isinstance(r.stop, str) else list(r.stop or ())
    include_usage = bool(r.stream_options and r.stream_options.include_usage)
    return Req(r.model, messages, r.max_completion_tokens or r.max_tokens, r.temperature, r.top_p, r.seed, stop,
               bool(r.stream), include_usage, tools, choice)


def default_parameters() -> dict[str, Any]:
    return {"type": "object", "properties": {}}


# -- (2), (3) msgspec declarations --------------------------------------------------------------------------
MaxTokens = Annotated[int, Meta(ge=1, le=1_000_000)]
Role = Literal["system", "developer", "user", "assistant", "tool"]


class TextPart(Struct, tag_field="type", tag="text"):
    text: str


class ImagePart(Struct, tag_field="type", tag="image_url"):
    image_url: dict[str, Any]


class Message(Struct):
    role: Role
    content: str | list[TextPart | ImagePart] | None = None
    name: str | None = None


class Function(Struct):
    name: Annotated[str, Meta(pattern=TOOL_NAME_RE)]
    description: str | None = None
    parameters: dict[str, Any] = msgspec.field(default_factory=default_parameters)
    strict: bool | None = None


class FunctionTool(Struct):
    type: Literal["function"]
    function: Function


class ToolChoice(Struct):
    type: Literal["function"]
    function: Function


class StreamOptions(Struct):
    include_usage: bool | None = None


class ChatRequest(Struct):
    model: Annotated[str, Meta(min_length=1, max_length=256)]
    messages: Annotated[list[Message], Meta(min_length=1)]
    max_tokens: MaxTokens | None = None
    max_completion_tokens: MaxTokens | None = None
    temperature: Annotated[float, Meta(ge=0, le=2)] | None = None
    top_p: Annotated[float, Meta(ge=0, le=1)] | None = None
    seed: Annotated[int, Meta(ge=-(2**63))] | None = None  # msgspec: bounds must fit an int64
    stop: str | Annotated[list[str], Meta(max_length=4)] | None = None
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    tools: Annotated[list[FunctionTool], Meta(max_length=MAX_TOOLS)] | None = None
    tool_choice: Literal["none", "auto", "required"] | ToolChoice | None = None
    parallel_tool_calls: bool | None = None


class ChatCompletion(Struct):
    id: str
    object: str
    created: int
    model: str
    choices: list[dict[str, Any]]
    usage: dict[str, int]
    system_fingerprint: str | None = None


DECODER, ENCODER = msgspec.json.Decoder(ChatRequest), msgspec.json.Encoder()
MSGSPEC_ERROR = re.compile(r"^(.*?)(?: - at `\$\.?(.*)`)?$", re.S)  # "Expected `int`, got `str` - at `$.seed`"


def msgspec_error(e: msgspec.ValidationError) -> InvalidRequest:
    what, path = MSGSPEC_ERROR.match(str(e)).groups()  # type: ignore[union-attr]
    return InvalidRequest(f"Invalid value for '{path}': {what.replace('`', '')}." if path else str(e), param=path)


# -- (4), (5) pydantic declarations, strict (no "5" -> 5) like the hand-written path -----------------------
class P(BaseModel):
    model_config = ConfigDict(strict=True)


class PTextPart(P):
    type: Literal["text"]
    text: str


class PImagePart(P):
    type: Literal["image_url"]
    image_url: dict[str, Any]


class PMessage(P):
    role: Role
    content: str | list[Annotated[PTextPart | PImagePart, Field(discriminator="type")]] | None = None
    name: str | None = None


class PFunction(P):
    name: Annotated[str, Field(pattern=TOOL_NAME_RE)]
    description: str | None = None
    parameters: dict[str, Any] = Field(default_factory=default_parameters)
    strict: bool | None = None


class PFunctionTool(P):
    type: Literal["function"]
    function: PFunction


class PToolChoice(P):
    type: Literal["function"]
    function: PFunction


class PStreamOptions(P):
    include_usage: bool | None = None


PMaxTokens = Annotated[int, Field(ge=1, le=1_000_000)]


class PChatRequest(P):
    model: Annotated[str, Field(min_length=1, max_length=256)]
    messages: Annotated[list[PMessage], Field(min_length=1)]
    max_tokens: PMaxTokens | None = None
    max_completion_tokens: PMaxTokens | None = None
    temperature: Annotated[float, Field(ge=0, le=2)] | None = None
    top_p: Annotated[float, Field(ge=0, le=1)] | None = None
    seed: Annotated[int, Field(ge=-(2**63), le=2**64 - 1)] | None = None
    stop: str | Annotated[list[str], Field(max_length=4)] | None = None
    stream: bool | None = None
    stream_options: PStreamOptions | None = None
    tools: Annotated[list[PFunctionTool], Field(max_length=MAX_TOOLS)] | None = None
    tool_choice: Literal["none", "auto", "required"] | PToolChoice | None = None
    parallel_tool_calls: bool | None = None


class PChatCompletion(P):
    id: str
    object: str
    created: int
    model: str
    choices: list[dict[str, Any]]
    usage: dict[str, int]
    system_fingerprint: str | None = None


ADAPTER = TypeAdapter(PChatRequest)


def pydantic_error(e: pydantic.ValidationError) -> InvalidRequest:
    errors = e.errors(include_url=False)
    loc = errors[0]["loc"]
    for other in errors[1:]:  # a union reports each member it tried under the field: keep the shared part
        n = next((i for i, (a, b) in enumerate(zip(loc, other["loc"], strict=False)) if a != b), len(loc))
        loc = loc[:n]
    param = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
    return InvalidRequest(f"Invalid value for '{param}': {errors[0]['msg']}.", param=param)


def declared(decode: Any, error: type[Exception], translate: Any) -> Any:
    """A parser on a declaration: ``decode`` (bytes -> declared request), its errors turned into ours."""
    def parse(body: bytes) -> Req:
        try:
            return neutral(decode(body))
        except error as e:
            raise translate(e) from None
    return parse


# -- rendering: the echo's answer (the last user turn) as a chat.completion ----------------------------------
def answer(req: Req) -> dict[str, Any]:
    text = next((m.content for m in reversed(req.messages) if m.role == "user"), "")
    p, c = sum(len(m.content) for m in req.messages) // 4, len(text) // 4
    return {"id": "chatcmpl-" + os.urandom(15).hex(), "object": "chat.completion", "created": int(time.time()),
            "model": req.model, "choices": [{"index": 0, "message": {"role": "assistant", "content": text,
                                                                     "refusal": None},
                                             "logprobs": None, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}, "system_fingerprint": None}


parse_msgspec = declared(DECODER.decode, msgspec.ValidationError, msgspec_error)
parse_convert = declared(lambda b: msgspec.convert(orjson.loads(b), ChatRequest), msgspec.ValidationError,
                         msgspec_error)
parse_pydantic_json = declared(PChatRequest.model_validate_json, pydantic.ValidationError, pydantic_error)
parse_adapter = declared(ADAPTER.validate_json, pydantic.ValidationError, pydantic_error)
parse_pydantic_dict = declared(lambda b: PChatRequest.model_validate(orjson.loads(b)), pydantic.ValidationError,
                               pydantic_error)
CANDIDATES = [  # (label, parse: bytes -> Req raising InvalidRequest, render: Req -> bytes)
    ("(1) hand-written: orjson + walk", parse_hand, lambda r: orjson.dumps(answer(r))),
    ("(2) msgspec decode, encode Struct", parse_msgspec, lambda r: ENCODER.encode(ChatCompletion(**answer(r)))),
    ("(2) msgspec decode, encode dict", parse_msgspec, lambda r: ENCODER.encode(answer(r))),
    ("(3) msgspec convert(orjson dict)", parse_convert, lambda r: orjson.dumps(answer(r))),
    ("(4) pydantic validate_json+dump_json", parse_pydantic_json,
     lambda r: PChatCompletion(**answer(r)).model_dump_json().encode()),
    ("(4) pydantic TypeAdapter + orjson", parse_adapter, lambda r: orjson.dumps(answer(r))),
    ("(5) pydantic validate(orjson dict)", parse_pydantic_dict, lambda r: orjson.dumps(answer(r))),
]


def handle(parse: Any, render: Any, body: bytes) -> bytes:
    """What the pipeline does with a body: the answer, or the error body naming the field."""
    try:
        req = parse(body)
    except InvalidRequest as e:
        return orjson.dumps({"error": {"message": e.message, "type": "invalid_request_error", "param": e.param,
                                       "code": None}})
    return render(req)


# -- bodies -------------------------------------------------------------------------------------------------
SMALL = {"model": "gpt-4o-mini", "messages": [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What is the capital of France? Answer in one word, please."}],
    "max_tokens": 64, "temperature": 0.7}
WEATHER = {"type": "object", "properties": {
    "location": {"type": "string", "description": "City and country, e.g. Paris, France"},
    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}, "required": ["location"]}
SEARCH = {"type": "object", "properties": {"query": {"type": "string"}, "limit": {"type": "integer", "minimum": 1}},
          "required": ["query"]}
TURN = "Could you look at the forecast for the trip we discussed and tell me what to pack for each day? "
MEDIUM = {
    "model": "gpt-4o", "messages": [{"role": "developer", "content": "You plan trips. Use the tools when useful."}]
    + [{"role": "user" if i % 2 == 0 else "assistant", "content": f"{i}: {TURN}{TURN[: 40 + 7 * i]}"}
       for i in range(9)]
    + [{"role": "user", "content": [{"type": "text", "text": TURN}, {"type": "text", "text": "Lyon, France."}]}],
    "tools": [{"type": "function", "function": {"name": name, "description": f"{name} for trip planning.",
                                                "parameters": params}}
              for name, params in (("get_weather", WEATHER), ("search_docs", SEARCH), ("get_hotels", SEARCH))],
    "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
    "max_completion_tokens": 512, "temperature": 0.2, "top_p": 0.9, "seed": 42, "stop": ["\n\nUser:"],
    "stream": True, "stream_options": {"include_usage": True}, "parallel_tool_calls": False}
INVALID = {**MEDIUM, "messages": [*MEDIUM["messages"][:3], {"role": "user", "content": 42}, *MEDIUM["messages"][4:]]}
BODIES = {"small": orjson.dumps(SMALL), "medium": orjson.dumps(MEDIUM), "invalid": orjson.dumps(INVALID)}


def check() -> None:
    """Every candidate parses (1)'s request and renders (1)'s answer; all name the same bad field."""
    for body in (BODIES["small"], BODIES["medium"]):
        want = parse_hand(body)
        assert want.tools or body is BODIES["small"], "the medium body must carry tools"
        answer_of = [{k: v for k, v in orjson.loads(handle(p, r, body)).items() if k not in ("id", "created")}
                     for _, p, r in CANDIDATES]
        for (label, parse, _), got in zip(CANDIDATES, answer_of, strict=True):
            assert parse(body) == want, f"{label} parsed {parse(body)} != {want}"
            assert got == answer_of[0], f"{label} rendered {got} != {answer_of[0]}"
    for label, parse, render in CANDIDATES:
        err = orjson.loads(handle(parse, render, BODIES["invalid"]))["error"]
        assert err["param"] == "messages[3].content", f"{label}: {err}"


def per_call_us(body: bytes, runs: int, target_ns: int) -> list[float]:
    """µs per call of each candidate on ``body``: the best of ``runs`` rounds, each round timing every
    candidate once in turn (a loop sized to last about ``target_ns``), so background load hits all alike."""
    sizes = []
    for _, parse, render in CANDIDATES:
        for _ in range(200):
            handle(parse, render, body)
        t = time.perf_counter_ns()
        for _ in range(200):
            handle(parse, render, body)
        sizes.append(max(100, target_ns * 200 // (time.perf_counter_ns() - t)))
    best = [float("inf")] * len(CANDIDATES)
    for _ in range(runs):
        for i, ((_, parse, render), n) in enumerate(zip(CANDIDATES, sizes, strict=True)):
            t = time.perf_counter_ns()
            for _ in range(n):
                handle(parse, render, body)
            best[i] = min(best[i], (time.perf_counter_ns() - t) / n / 1000)
    return best


def schemas(runs: int) -> None:
    """How long each library takes to write the chat request's JSON Schema, how big it is, and its refs."""
    ref = "#/components/schemas/{%s}"
    print(f"\nJSON Schema of the chat request (best of {runs}):")
    for name, make in (
        ("msgspec schema_components", lambda: msgspec.json.schema_components([ChatRequest], ref_template=ref % "name")),
        ("pydantic model_json_schema", lambda: PChatRequest.model_json_schema(ref_template=ref % "model")),
    ):
        best = float("inf")
        for _ in range(runs):
            t = time.perf_counter_ns()
            out = make()
            best = min(best, time.perf_counter_ns() - t)
        top, defs = (out[0][0], out[1]) if isinstance(out, tuple) else (out, out.pop("$defs", {}))
        size, refs = len(orjson.dumps([top, defs])), orjson.dumps(defs).count(b'"$ref":"#/components/schemas/')
        print(f"  {name:28} {best / 1000:8.0f} µs  {size:6d} bytes  {len(defs):2d} named schemas, {refs} refs "
              "between them into #/components/schemas")
    print("  msgspec: returns (schemas, components) with refs by ref_template: the components drop straight into "
          "OpenAPI 3.1 components/schemas.\n  pydantic: one document with $defs (ref_template sets the refs): pop "
          "$defs into components/schemas (or pydantic.json_schema.models_json_schema for several models).")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--target-ms", type=float, default=30)
    args = ap.parse_args()
    check()
    print(f"msgspec {msgspec.__version__}, pydantic {pydantic.__version__}, orjson {orjson.__version__}; "
          "bodies: " + ", ".join(f"{k} {len(v)} B" for k, v in BODIES.items()))
    print("µs per call (parse + validate + neutral request + render; invalid: error message + param + error body),"
          f" best of {args.runs}; ratio = time / (1)'s time, below 1 is faster")
    print(f"{'candidate':38}" + "".join(f"{k:>20}" for k in BODIES))
    times = [per_call_us(body, args.runs, int(args.target_ms * 1e6)) for body in BODIES.values()]
    for i, (label, _, _) in enumerate(CANDIDATES):
        print(f"{label:38}" + "".join(f"{f'{t[i]:9.2f} ({t[i] / t[0]:5.2f}x)':>20}" for t in times))
    schemas(args.runs)


if __name__ == "__main__":
    main()
