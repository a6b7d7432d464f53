"""Several tool calls in one turn: a user asking for several things ("the weather in SF and
New York", "the weather in Paris and the time in Tokyo") gets one call each, on the three
APIs through their official SDKs, streamed and not; one call when the client turns parallel
calls off. Every call's arguments validate against its tool's schema."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import jsonschema
import openai
import pytest
from google import genai
from google.genai import types as gt

from .helpers import ServerProcess, running

WEATHER_SCHEMA = {"type": "object", "properties": {"location": {"type": "string"},
                                                   "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                  "required": ["location", "unit"], "additionalProperties": False}
TIME_SCHEMA = {"type": "object", "properties": {"timezone": {"type": "string"}}, "required": ["timezone"],
               "additionalProperties": False}
SCHEMAS = {"get_weather": WEATHER_SCHEMA, "get_time": TIME_SCHEMA}
DESCRIPTIONS = {"get_weather": "Get the current weather in a city", "get_time": "Get the current time in a city"}
TWO_CITIES = "What's the weather in SF and New York?"
TWO_TOOLS = "What is the weather in Paris and the time in Tokyo?"


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    """A real server; published model names (the calls need no generation, only the tokenizer)."""
    yield from running({"MOCKVENDOR_FAULTS": "off", "OPENAI_API_KEY": ""})


def check(calls: list[tuple[str, dict[str, Any]]], expected: list[tuple[str, str]]) -> None:
    """Each call names the expected tool, its arguments validate, and carry the expected words."""
    assert [name for name, _ in calls] == [name for name, _ in expected], calls
    for (name, args), (_, words) in zip(calls, expected, strict=True):
        jsonschema.validate(args, SCHEMAS[name])
        assert words in json.dumps(args), (words, args)


CASES = [
    (TWO_CITIES, [("get_weather", "SF"), ("get_weather", "New York")]),
    (TWO_TOOLS, [("get_weather", "Paris"), ("get_time", "Tokyo")]),
]


# -- OpenAI chat completions -------------------------------------------------------------------
def openai_tools() -> list[dict[str, Any]]:
    return [{"type": "function", "function": {"name": n, "description": DESCRIPTIONS[n], "parameters": s}}
            for n, s in SCHEMAS.items()]


@pytest.mark.parametrize(("question", "expected"), CASES, ids=["two-cities", "two-tools"])
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_openai_parallel_calls(server: ServerProcess, question: str, expected: Any, stream: bool) -> None:
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)
    kw: dict[str, Any] = {"model": "gpt-4o", "tools": openai_tools(), "seed": 1,
                          "messages": [{"role": "user", "content": question}]}
    if stream:
        with client.chat.completions.stream(**kw) as s:
            message = s.get_final_completion().choices[0].message
    else:
        message = client.chat.completions.create(**kw).choices[0].message
    calls = message.tool_calls or []
    assert len({c.id for c in calls}) == len(calls)  # distinct ids
    check([(c.function.name, json.loads(c.function.arguments)) for c in calls], expected)


def test_openai_parallel_off_gives_one_call(server: ServerProcess) -> None:
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)
    message = client.chat.completions.create(
        model="gpt-4o", tools=openai_tools(), parallel_tool_calls=False, seed=1,
        messages=[{"role": "user", "content": TWO_TOOLS}]).choices[0].message
    assert [c.function.name for c in message.tool_calls or []] == ["get_weather"]


# -- Anthropic ---------------------------------------------------------------------------------
def anthropic_tools() -> list[dict[str, Any]]:
    return [{"name": n, "description": DESCRIPTIONS[n], "input_schema": s} for n, s in SCHEMAS.items()]


@pytest.mark.parametrize(("question", "expected"), CASES, ids=["two-cities", "two-tools"])
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_anthropic_parallel_calls(server: ServerProcess, question: str, expected: Any, stream: bool) -> None:
    client = anthropic.Anthropic(base_url=server.url, api_key="sk-ant-test", max_retries=0)
    kw: dict[str, Any] = {"model": "claude-sonnet-4-5", "max_tokens": 256, "tools": anthropic_tools(),
                          "extra_body": {"seed": 1}, "messages": [{"role": "user", "content": question}]}
    if stream:
        with client.messages.stream(**kw) as s:
            message = s.get_final_message()
    else:
        message = client.messages.create(**kw)
    assert message.stop_reason == "tool_use"
    calls = [b for b in message.content if b.type == "tool_use"]
    check([(b.name, b.input) for b in calls], expected)  # type: ignore[union-attr]


def test_anthropic_disable_parallel_gives_one_call(server: ServerProcess) -> None:
    client = anthropic.Anthropic(base_url=server.url, api_key="sk-ant-test", max_retries=0)
    message = client.messages.create(
        model="claude-sonnet-4-5", max_tokens=256, tools=anthropic_tools(),  # type: ignore[arg-type]
        tool_choice={"type": "auto", "disable_parallel_tool_use": True},
        messages=[{"role": "user", "content": TWO_TOOLS}])
    assert [b.name for b in message.content if b.type == "tool_use"] == ["get_weather"]  # type: ignore[union-attr]


# -- Gemini ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("question", "expected"), CASES, ids=["two-cities", "two-tools"])
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_gemini_parallel_calls(server: ServerProcess, question: str, expected: Any, stream: bool) -> None:
    client = genai.Client(api_key="AIza-test", http_options=gt.HttpOptions(base_url=server.url))
    decls = [gt.FunctionDeclaration(name=n, description=DESCRIPTIONS[n], parameters_json_schema=s)
             for n, s in SCHEMAS.items()]
    config = gt.GenerateContentConfig(
        tools=[gt.Tool(function_declarations=decls)], seed=1,
        automatic_function_calling=gt.AutomaticFunctionCallingConfig(disable=True))
    if stream:
        parts = [p for chunk in client.models.generate_content_stream(
            model="gemini-2.5-flash", contents=question, config=config)
            for p in (chunk.candidates[0].content.parts or [])]  # type: ignore[index, union-attr]
        calls = [p.function_call for p in parts if p.function_call]
    else:
        calls = client.models.generate_content(model="gemini-2.5-flash", contents=question,
                                               config=config).function_calls or []
    check([(c.name or "", dict(c.args or {})) for c in calls], expected)
