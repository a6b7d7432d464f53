"""Tool use on the Anthropic-compatible Messages API: the official SDK against a real server
process (echo engine, so calls and answers are instant), and one agent loop on the real
embedded model in-process."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import jsonschema
import pytest

from .helpers import ServerProcess, assert_vendor_error, running
from .sse import events

MODEL = "claude-3-5-haiku-latest"
QUESTION = "What's the weather in Paris right now?"
WEATHER: dict[str, Any] = {
    "name": "get_weather",
    "description": "Get the current weather in a given city",
    "input_schema": {
        "type": "object",
        "properties": {
            "location": {"type": "string", "description": "The city, e.g. Paris", "minLength": 1},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "days": {"type": "integer", "minimum": 1, "maximum": 7},
        },
        "required": ["location", "unit", "days"],
        "additionalProperties": False,
    },
}
TIME: dict[str, Any] = {
    "name": "get_time",
    "description": "The local time in a timezone",
    "input_schema": {"type": "object", "properties": {"timezone": {"type": "string"}}, "required": ["timezone"]},
}
TOOLS = [WEATHER, TIME]


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    """A real server whose every model name is the echo engine (no model load)."""
    with tempfile.TemporaryDirectory(prefix="mockvendor-tools-") as d:
        config = Path(d) / "echo.toml"
        config.write_text(f'vendor_a_model = "echo"\nvendor_b_model = "echo"\n[models."{MODEL}"]\nengine = "echo"\n')
        yield from running({"MOCKVENDOR_CONFIG": str(config), "MOCKVENDOR_FAULTS": "off", "OPENAI_API_KEY": ""}, 60)


def sdk(server: ServerProcess) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=server.url, api_key="sk-ant-test", max_retries=0)


def ask(**kw: Any) -> dict[str, Any]:
    """Arguments of a tool-offering request (mockvendor's ``seed`` makes it reproducible)."""
    args: dict[str, Any] = {
        "model": MODEL, "max_tokens": 256, "tools": TOOLS, "extra_body": {"seed": 11},
        "messages": [{"role": "user", "content": QUESTION}],
    }
    return {**args, **kw}


def only_tool_use(message: anthropic.types.Message) -> anthropic.types.ToolUseBlock:
    (block,) = message.content
    assert isinstance(block, anthropic.types.ToolUseBlock), message
    return block


def after_call(call: anthropic.types.ToolUseBlock, result: Any = "18 degrees celsius, sunny") -> list[dict[str, Any]]:
    """The conversation after the model's call and the caller's result."""
    return [
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": [call.model_dump(exclude_none=True)]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": result}]},
    ]


def test_create_returns_tool_use_matching_the_schema(server: ServerProcess) -> None:
    message = sdk(server).messages.create(**ask())
    assert message.stop_reason == "tool_use" and message.stop_sequence is None
    call = only_tool_use(message)
    assert call.name == "get_weather" and call.id.startswith("toolu_")
    jsonschema.Draft202012Validator(WEATHER["input_schema"]).validate(call.input)
    assert call.input["location"] == "Paris"  # taken from the question's words
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0


def test_stream_helper_assembles_the_same_call(server: ServerProcess) -> None:
    client = sdk(server)
    plain = client.messages.create(**ask())
    with client.messages.stream(**ask()) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_message()
    assert "input_json" in kinds and "text" not in kinds
    assert final.stop_reason == "tool_use"
    assert only_tool_use(final) == only_tool_use(plain)
    assert final.usage.input_tokens == plain.usage.input_tokens
    assert final.usage.output_tokens == plain.usage.output_tokens


def test_stream_events_on_the_wire(server: ServerProcess) -> None:
    body = {"model": MODEL, "max_tokens": 256, "tools": TOOLS, "stream": True, "seed": 11,
            "messages": [{"role": "user", "content": QUESTION}]}
    r = httpx.post(server.url + "/v1/messages", json=body, timeout=30)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    evs = [(name, json.loads(data)) for name, data in events(r.text)]
    assert all(data["type"] == name for name, data in evs)
    names = [name for name, _ in evs]
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(names[3:-3]) == {"content_block_delta"}
    start = evs[1][1]
    assert start["index"] == 0 and start["content_block"]["type"] == "tool_use"
    assert start["content_block"]["input"] == {} and start["content_block"]["id"].startswith("toolu_")
    deltas = [data["delta"] for name, data in evs if name == "content_block_delta"]
    assert len(deltas) > 1 and all(d["type"] == "input_json_delta" for d in deltas)
    plain = httpx.post(server.url + "/v1/messages", json={**body, "stream": False}, timeout=30).json()
    assert json.loads("".join(d["partial_json"] for d in deltas)) == plain["content"][0]["input"]
    assert evs[-2][1]["delta"] == {"stop_reason": "tool_use", "stop_sequence": None}
    assert evs[-2][1]["usage"]["output_tokens"] == plain["usage"]["output_tokens"]


@pytest.mark.parametrize("stream", [False, True])
def test_agent_loop_ends_in_text(server: ServerProcess, stream: bool) -> None:
    client = sdk(server)
    call = only_tool_use(client.messages.create(**ask()))
    follow = ask(messages=after_call(call))
    if stream:
        with client.messages.stream(**follow) as s:
            answer = s.get_final_message()
    else:
        answer = client.messages.create(**follow)
    assert answer.stop_reason == "end_turn"
    (block,) = answer.content
    assert isinstance(block, anthropic.types.TextBlock)
    # The echo engine repeats the last turn: the tool result, named after the call it answers.
    assert block.text == "Result of get_weather: 18 degrees celsius, sunny"


def test_tool_result_blocks_and_error_flag(server: ServerProcess) -> None:
    client = sdk(server)
    call = only_tool_use(client.messages.create(**ask()))
    messages = after_call(call, [{"type": "text", "text": "city"}, {"type": "text", "text": "not found"}])
    messages[-1]["content"][0]["is_error"] = True
    answer = client.messages.create(**ask(messages=messages))
    assert answer.content[0].type == "text"
    assert answer.content[0].text == "Result of get_weather: Error: city\nnot found"


@pytest.mark.parametrize(
    ("choice", "after_result", "expect"),
    [
        ({"type": "auto"}, False, "get_weather"),
        ({"type": "auto"}, True, None),  # a result came back: answer in text
        ({"type": "none"}, False, None),
        ({"type": "any"}, True, "get_weather"),  # forced even after a result
        ({"type": "any", "disable_parallel_tool_use": True}, False, "get_weather"),
        ({"type": "tool", "name": "get_time"}, False, "get_time"),  # not the best match: forced
        ({"type": "tool", "name": "get_time"}, True, "get_time"),
    ],
)
def test_tool_choice(server: ServerProcess, choice: dict[str, Any], after_result: bool, expect: str | None) -> None:
    client = sdk(server)
    kw: dict[str, Any] = {"tool_choice": choice}
    if after_result:
        kw["messages"] = after_call(only_tool_use(client.messages.create(**ask())))
    message = client.messages.create(**ask(**kw))
    if expect is None:
        assert message.stop_reason == "end_turn" and message.content[0].type == "text"
        assert message.content[0].text
    else:
        assert message.stop_reason == "tool_use"
        call = only_tool_use(message)
        assert call.name == expect
        schema = next(t["input_schema"] for t in TOOLS if t["name"] == expect)
        jsonschema.Draft202012Validator(schema).validate(call.input)


def test_same_request_same_call(server: ServerProcess) -> None:
    client = sdk(server)
    first, again = (only_tool_use(client.messages.create(**ask())) for _ in range(2))
    assert first == again  # id included
    other = only_tool_use(client.messages.create(**ask(extra_body={"seed": 12})))
    assert other.id != first.id and other.name == first.name


def _bad_tools(**changes: Any) -> list[dict[str, Any]]:
    return [{**WEATHER, **changes}]


CALL = {"type": "tool_use", "id": "toolu_01abc", "name": "get_weather", "input": {"location": "Paris"}}
RESULT = {"type": "tool_result", "tool_use_id": "toolu_01abc", "content": "sunny"}


@pytest.mark.parametrize(
    ("changes", "mentions"),
    [
        ({"tool_choice": {"type": "tool", "name": "get_stock"}}, "tool_choice.tool.name: tool 'get_stock'"),
        ({"tool_choice": {"type": "tool"}}, "tool_choice.tool.name: Field required"),
        ({"tool_choice": {"type": "sometimes"}}, "tool_choice: Input tag 'sometimes'"),
        ({"tools": None, "tool_choice": {"type": "any"}}, "tool_choice may only be specified while providing tools"),
        ({"tools": _bad_tools(input_schema=None)}, "tools.0.custom.input_schema: Field required"),
        ({"tools": _bad_tools(input_schema={"type": "array"})}, "tools.0.custom.input_schema.type: Input should be"),
        ({"tools": _bad_tools(input_schema={"properties": {}})}, "tools.0.custom.input_schema.type: Field required"),
        ({"tools": _bad_tools(input_schema="{}")}, "tools.0.custom.input_schema: Input should be a valid dict"),
        ({"tools": _bad_tools(name="get weather")}, "tools.0.custom.name: String should match pattern"),
        ({"tools": _bad_tools(name="x" * 65)}, "tools.0.custom.name"),
        ({"tools": [WEATHER, WEATHER]}, "tools: Tool names must be unique"),
        ({"tools": [{"type": "web_search_20250305", "name": "web_search"}]}, "does not run server tools"),
        ({"tools": [WEATHER, {"type": "bash_20250124", "name": "bash"}]}, "tools.1.type"),
        (
            {"messages": [{"role": "user", "content": [RESULT]}]},
            "messages.0.content.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_01abc",
        ),
        (
            {"messages": [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": [CALL]},
                          {"role": "user", "content": [{**RESULT, "tool_use_id": "toolu_02xyz"}]}]},
            "messages.2.content.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_02xyz",
        ),
        (
            {"messages": [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": [CALL]},
                          {"role": "user", "content": "and?"}]},
            "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_01abc",
        ),
        (
            {"messages": [{"role": "user", "content": QUESTION},
                          {"role": "assistant", "content": [{**CALL, "input": "Paris"}]}]},
            "messages.1.content.0.tool_use.input: Input should be a valid dictionary",
        ),
        ({"messages": [{"role": "user", "content": [CALL]}]}, "messages.0.content.0: `tool_use` blocks can only"),
    ],
)
def test_bad_tool_requests(server: ServerProcess, changes: dict[str, Any], mentions: str) -> None:
    body = {"model": MODEL, "max_tokens": 64, "tools": TOOLS, "messages": [{"role": "user", "content": QUESTION}],
            **changes}
    body = {k: v for k, v in body.items() if v is not None}
    r = httpx.post(server.url + "/v1/messages", json=body, timeout=30)
    err = assert_vendor_error("anthropic", r, 400, mentions=mentions)
    assert err["error"]["type"] == "invalid_request_error" and err["request_id"] == r.headers["request-id"]


def test_sdk_raises_bad_request_naming_the_field(server: ServerProcess) -> None:
    with pytest.raises(anthropic.BadRequestError) as e:
        sdk(server).messages.create(**ask(tool_choice={"type": "tool", "name": "get_stock"}))
    assert e.value.status_code == 400 and "tool_choice.tool.name" in str(e.value)


async def test_agent_loop_on_the_real_model(client: httpx.AsyncClient) -> None:
    """The embedded model (in-process), behind the call rule, answers the tool's result in text."""
    body = {"model": MODEL, "max_tokens": 24, "tools": TOOLS, "seed": 11,
            "messages": [{"role": "user", "content": QUESTION}]}
    first = (await client.post("/v1/messages", json=body)).json()
    assert first["stop_reason"] == "tool_use", first
    (call,) = first["content"]
    assert call["type"] == "tool_use" and call["name"] == "get_weather"
    jsonschema.Draft202012Validator(WEATHER["input_schema"]).validate(call["input"])
    messages = [*body["messages"], {"role": "assistant", "content": first["content"]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call["id"], "content": "18 C"}]}]
    r = await client.post("/v1/messages", json={**body, "messages": messages})
    answer = r.json()
    assert r.status_code == 200 and answer["stop_reason"] in ("end_turn", "max_tokens"), answer
    (block,) = answer["content"]
    assert block["type"] == "text" and block["text"].strip()
    assert 0 < answer["usage"]["output_tokens"] <= 24
