"""The Responses API's state, through the official SDK over a real socket: responses are stored
(``store``, on by default), read back, listed by their input items, deleted, and continued with
``previous_response_id`` (a tool loop included); ``POST /v1/responses/input_tokens`` counts a
request's input. (Across two replicas sharing Redis: test_redis_replicas.py.)"""

from __future__ import annotations

import json
from collections.abc import Iterator

import openai
import pytest

from .helpers import ServerProcess, running

MODEL = "gpt-4o"
WEATHER = {"type": "function", "name": "get_weather", "description": "The weather in a city.",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
                          "additionalProperties": False}, "strict": True}


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    yield from running({"MOCKVENDOR_FAULTS": "off", "OPENAI_API_KEY": ""})


@pytest.fixture
def client(server: ServerProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)


def test_stored_response_read_listed_and_deleted(client: openai.OpenAI) -> None:
    first = client.responses.create(model=MODEL, input="Name a colour.", max_output_tokens=16, metadata={"k": "v"})
    again = client.responses.retrieve(first.id)
    assert again.model_dump() == first.model_dump()
    items = client.responses.input_items.list(first.id)
    assert [(i.type, i.role, i.content[0].text) for i in items.data] == [  # type: ignore[union-attr]
        ("message", "user", "Name a colour.")]
    client.responses.delete(first.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(first.id)
    with pytest.raises(openai.BadRequestError) as e:
        client.responses.create(model=MODEL, input="And another?", previous_response_id=first.id)
    assert e.value.body["code"] == "previous_response_not_found"  # type: ignore[index]


def test_previous_response_continues_the_conversation(client: openai.OpenAI) -> None:
    first = client.responses.create(model=MODEL, instructions="Answer briefly.", max_output_tokens=24,
                                    input="My name is Ada. What is two plus two?")
    alone = client.responses.input_tokens.count(model=MODEL, input="What is my name?").input_tokens
    second = client.responses.create(model=MODEL, input="What is my name?", previous_response_id=first.id,
                                     max_output_tokens=24)
    assert second.previous_response_id == first.id
    # The second request's input holds the first's input and answer (not its instructions).
    counted = client.responses.input_tokens.count(model=MODEL, input="What is my name?",
                                                  previous_response_id=first.id).input_tokens
    assert second.usage is not None and second.usage.input_tokens == counted > alone
    assert first.usage is not None and counted > first.usage.output_tokens + alone
    # Streamed answers are stored too, and a chain goes back through every turn.
    events = list(client.responses.create(model=MODEL, input="Thanks.", previous_response_id=second.id,
                                          max_output_tokens=16, stream=True))
    third = events[-1].response  # type: ignore[union-attr]  # response.completed, or .incomplete at the limit
    assert client.responses.retrieve(third.id).output_text == third.output_text
    longer = client.responses.input_tokens.count(model=MODEL, input="Bye.", previous_response_id=third.id)
    assert longer.input_tokens > counted


def test_input_tokens_matches_what_a_response_bills(client: openai.OpenAI) -> None:
    ask = {"instructions": "Be brief.", "input": [{"role": "user", "content": "Tell me about tea."}]}
    counted = client.responses.input_tokens.count(model=MODEL, **ask).input_tokens  # type: ignore[arg-type]
    made = client.responses.create(model=MODEL, max_output_tokens=16, **ask)  # type: ignore[arg-type]
    assert made.usage is not None and made.usage.input_tokens == counted


def test_a_tool_loop_over_previous_response_id(client: openai.OpenAI) -> None:
    first = client.responses.create(model=MODEL, tools=[WEATHER], input="What is the weather in Paris?",  # type: ignore[list-item]
                                    max_output_tokens=64)
    call = next(o for o in first.output if o.type == "function_call")
    assert json.loads(call.arguments)["city"]  # type: ignore[union-attr]
    second = client.responses.create(
        model=MODEL, previous_response_id=first.id, tools=[WEATHER], max_output_tokens=32,  # type: ignore[list-item]
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "Sunny, 21 C"}])  # type: ignore[union-attr]
    assert second.output_text and second.status in ("completed", "incomplete")
    # An output for a call no earlier turn made is refused, as OpenAI refuses it.
    with pytest.raises(openai.BadRequestError):
        client.responses.create(model=MODEL, previous_response_id=first.id, input=[
            {"type": "function_call_output", "call_id": "call_nope", "output": "x"}])


def test_store_false_keeps_nothing(client: openai.OpenAI) -> None:
    r = client.responses.create(model=MODEL, input="Hi.", store=False, max_output_tokens=16)
    assert r.store is False
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(r.id)
