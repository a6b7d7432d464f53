"""Tool calls on the OpenAI-compatible API, through the official openai SDK against a real
server process on the embedded model: calls parse into the SDK's types (streamed and not),
arguments satisfy the tool's schema, an agent loop ends in a text answer from the model, the
decision follows tool_choice, and malformed tool fields get OpenAI's 400s."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema
import openai
import pytest

from .helpers import ServerProcess, serving

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "minLength": 2},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
                "hourly": {"type": "boolean"},
            },
            "required": ["city", "unit", "days"],
            "additionalProperties": False,
        },
    },
}
SEARCH = {
    "type": "function",
    "function": {"name": "search_docs", "description": "Search the product documentation",
                 "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}},
}
QUESTION = [{"role": "user", "content": "What is the weather in Paris this week?"}]


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with serving() as s:
        yield s


@pytest.fixture
def client(server: ServerProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)


def ask(client: openai.OpenAI, messages: list[Any] = QUESTION, **kw: Any) -> Any:
    kw.setdefault("tools", [SEARCH, WEATHER])
    return client.chat.completions.create(model="gpt-4o-mini", messages=messages, seed=3, max_tokens=12, **kw)


def test_a_question_gets_a_call_whose_arguments_fit_the_schema(client: openai.OpenAI) -> None:
    done = ask(client)
    choice = done.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None and choice.message.role == "assistant"
    (call,) = choice.message.tool_calls or []
    assert call.type == "function" and call.id.startswith("call_") and len(call.id) > 20
    assert call.function.name == "get_weather"  # the tool whose words match the question
    args = json.loads(call.function.arguments)
    jsonschema.validate(args, WEATHER["function"]["parameters"])  # type: ignore[index]
    assert args["city"] == "Paris"  # string arguments come from the user's words
    assert done.usage and done.usage.completion_tokens > 3
    assert done.usage.total_tokens == done.usage.prompt_tokens + done.usage.completion_tokens


def test_the_streamed_call_is_the_same_call(client: openai.OpenAI) -> None:
    plain = ask(client).choices[0].message.tool_calls[0]  # type: ignore[index]
    chunks = list(ask(client, stream=True, stream_options={"include_usage": True}))
    first = chunks[0].choices[0].delta
    assert first.role == "assistant" and first.tool_calls and first.tool_calls[0].id == plain.id
    assert first.tool_calls[0].function and first.tool_calls[0].function.name == "get_weather"
    pieces = [tc.function.arguments for c in chunks if c.choices for tc in c.choices[0].delta.tool_calls or []
              if tc.function and tc.function.arguments]
    assert len(pieces) > 3 and "".join(pieces) == plain.function.arguments
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["tool_calls"] and chunks[-1].usage and chunks[-1].usage.completion_tokens > 3
    # The SDK's own stream helper assembles it too.
    with client.chat.completions.stream(model="gpt-4o-mini", messages=QUESTION, tools=[SEARCH, WEATHER],
                                        seed=3) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.tool_calls[0].function.arguments == plain.function.arguments  # type: ignore[index]


def test_an_agent_loop_ends_with_the_models_text(client: openai.OpenAI) -> None:
    first = ask(client).choices[0].message
    call = first.tool_calls[0]  # type: ignore[index]
    messages = [*QUESTION, first.model_dump(exclude_none=True),
                {"role": "tool", "tool_call_id": call.id, "content": '{"forecast": "sunny", "high_c": 24}'}]
    answer = ask(client, messages)
    choice = answer.choices[0]
    assert choice.finish_reason in ("stop", "length") and not choice.message.tool_calls
    assert choice.message.content and choice.message.content.strip()
    # The tool's result reached the model: the prompt is longer than the question alone.
    assert answer.usage and answer.usage.prompt_tokens > ask(client).usage.prompt_tokens + 10  # type: ignore[union-attr]


def test_tool_choice_decides(client: openai.OpenAI) -> None:
    none = ask(client, tool_choice="none").choices[0]
    assert none.finish_reason in ("stop", "length") and none.message.content and not none.message.tool_calls
    named = ask(client, tool_choice={"type": "function", "function": {"name": "search_docs"}}).choices[0]
    assert named.message.tool_calls and named.message.tool_calls[0].function.name == "search_docs"
    assert json.loads(named.message.tool_calls[0].function.arguments)["query"]
    # After a tool result "auto" answers in text, "required" calls again.
    call = ask(client).choices[0].message.tool_calls[0]  # type: ignore[index]
    loop = [*QUESTION, {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
            {"role": "tool", "tool_call_id": call.id, "content": "sunny"}]
    assert ask(client, loop, tool_choice="required").choices[0].finish_reason == "tool_calls"
    assert ask(client, loop, tool_choice="auto").choices[0].finish_reason != "tool_calls"


def test_the_same_request_gives_the_same_call_and_another_seed_another_id(client: openai.OpenAI) -> None:
    one, two = (ask(client).choices[0].message.tool_calls[0] for _ in range(2))  # type: ignore[index]
    assert one == two
    other = client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION, tools=[WEATHER], seed=4)
    assert other.choices[0].message.tool_calls[0].id != one.id  # type: ignore[index]


@pytest.mark.parametrize(
    ("extra", "param", "words"),
    [
        ({"tool_choice": "required", "tools": None}, "tool_choice", "only allowed when 'tools'"),
        ({"tool_choice": {"type": "function", "function": {"name": "nope"}}}, "tool_choice", "'nope' not found"),
        ({"tools": [{"type": "function", "function": {"name": "bad name!"}}]}, "tools[0].function.name", "pattern"),
        ({"tools": [{"type": "web_search"}]}, "tools[0].type", "'function' tools only"),
        ({"tools": [WEATHER, WEATHER]}, "tools", "duplicate"),
        ({"tools": [{"type": "function", "function": {"name": "f", "parameters": "x"}}]},
         "tools[0].function.parameters", "expected an object"),
        ({"tool_choice": "sometimes"}, "tool_choice", "expected 'none'"),
    ],
)
def test_malformed_tool_fields(server: ServerProcess, extra: dict[str, Any], param: str, words: str) -> None:
    body = {"model": "gpt-4o-mini", "messages": QUESTION, "tools": [WEATHER], **extra}
    body = {k: v for k, v in body.items() if v is not None}
    r = httpx.post(server.url + "/v1/chat/completions", json=body, timeout=30)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["type"] == "invalid_request_error" and err["param"] == param and words in err["message"], err


def test_tool_turns_must_answer_calls(server: ServerProcess) -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
    orphan = [*QUESTION, {"role": "tool", "tool_call_id": "call_9", "content": "x"}]
    unanswered = [*QUESTION, {"role": "assistant", "tool_calls": [call]}, {"role": "user", "content": "and?"}]
    no_id = [*QUESTION, {"role": "assistant", "tool_calls": [call]}, {"role": "tool", "content": "x"}]
    for messages, param, words in [
        (orphan, "messages[1].tool_call_id", "must be a response to a preceeding message"),
        (unanswered, "messages[2].role", "did not have response messages: call_1"),
        (no_id, "messages[2].tool_call_id", "tool_call_id"),
    ]:
        r = httpx.post(server.url + "/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": messages},
                       timeout=30)
        assert r.status_code == 400, r.text
        err = r.json()["error"]
        assert err["param"] == param and words in err["message"], err
