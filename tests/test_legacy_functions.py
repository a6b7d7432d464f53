"""OpenAI's deprecated function calling (``functions`` / ``function_call`` in the request, the
message's ``function_call`` and ``finish_reason: function_call`` in the answer, ``function``
turns in the conversation), as older applications still send it: through the openai SDK on the
embedded model, streamed and not, and the 400s for what OpenAI refuses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema
import openai
import pytest

from .helpers import ServerProcess, assert_vendor_error, serving

WEATHER = {
    "name": "get_weather",
    "description": "Get the current weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "minLength": 2},
                                                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                   "required": ["city", "unit"], "additionalProperties": False},
}
ASK = [{"role": "user", "content": "What is the weather in Paris?"}]


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with serving() as s:
        yield s


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)


def test_a_named_function_is_called_in_function_call(client: openai.OpenAI) -> None:
    out = client.chat.completions.create(model="gpt-4o-mini", messages=ASK, functions=[WEATHER],  # type: ignore[list-item]
                                         function_call={"name": "get_weather"}, seed=3)
    choice = out.choices[0]
    assert choice.finish_reason == "function_call"
    message = choice.message
    assert message.tool_calls is None and message.content is None
    assert message.function_call is not None and message.function_call.name == "get_weather"
    jsonschema.validate(json.loads(message.function_call.arguments), WEATHER["parameters"])


def test_streamed_function_call_is_the_same_call(client: openai.OpenAI) -> None:
    args: dict[str, Any] = {"model": "gpt-4o-mini", "messages": ASK, "functions": [WEATHER],
                            "function_call": {"name": "get_weather"}, "seed": 3}
    plain = client.chat.completions.create(**args).choices[0].message.function_call
    chunks = list(client.chat.completions.create(stream=True, **args))
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    assert deltas[0].role == "assistant" and deltas[0].function_call.name == "get_weather"  # type: ignore[union-attr]
    arguments = "".join(d.function_call.arguments or "" for d in deltas if d.function_call)
    assert plain is not None and arguments == plain.arguments
    assert all(d.tool_calls is None for d in deltas)
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "function_call"


def test_the_function_turn_answers_and_the_model_replies(client: openai.OpenAI) -> None:
    turns: list[Any] = [*ASK, {"role": "assistant", "content": None,
                               "function_call": {"name": "get_weather",
                                                 "arguments": '{"city": "Paris", "unit": "celsius"}'}},
                        {"role": "function", "name": "get_weather", "content": '{"temperature": 21}'}]
    out = client.chat.completions.create(model="gpt-4o-mini", messages=turns, functions=[WEATHER],  # type: ignore[list-item]
                                         function_call="none", max_tokens=16, seed=1)
    assert out.choices[0].finish_reason in ("stop", "length") and out.choices[0].message.content
    assert out.choices[0].message.function_call is None


@pytest.mark.parametrize("extra,param,words", [
    ({"tools": [{"type": "function", "function": WEATHER}]}, "functions", "cannot be used with 'tools'"),
    ({"function_call": {"name": "nope"}}, "function_call", "'nope' not found in 'functions'"),
    ({"function_call": "sometimes"}, "function_call", "Invalid value for 'function_call'"),
])
def test_what_openai_refuses(server: ServerProcess, extra: dict[str, Any], param: str, words: str) -> None:
    body = {"model": "gpt-4o-mini", "messages": ASK, "functions": [WEATHER], **extra}
    r = httpx.post(server.url + "/v1/chat/completions", json=body, timeout=30)
    assert assert_vendor_error("openai", r, 400, mentions=words)["error"]["param"] == param


def test_a_function_turn_without_a_call_before_it(server: ServerProcess) -> None:
    body = {"model": "gpt-4o-mini", "messages": [*ASK, {"role": "function", "name": "get_weather", "content": "21"}]}
    r = httpx.post(server.url + "/v1/chat/completions", json=body, timeout=30)
    assert assert_vendor_error("openai", r, 400, mentions="role 'function'")["error"]["param"] == "messages[1].role"
