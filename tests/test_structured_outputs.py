"""Structured output on OpenAI's two APIs and Gemini's, through the official SDKs over a real
socket, written by the embedded model under a grammar: ``chat.completions.parse`` /
``.stream``, ``responses.parse`` / ``.stream``, google-genai ``response_schema`` /
``response_json_schema``, and LiteLLM's Router. Strict mode's rules refused as OpenAI refuses
them; the same seed gives byte-identical JSON, alone or inside a full batch.
(Anthropic's ``messages.parse`` is in test_anthropic_dropin.py.)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum
from typing import Any

import jsonschema
import litellm
import openai
import pytest
from google import genai
from google.genai import types as gt
from pydantic import BaseModel

from mockvendor.faults.content import REFUSAL

from .helpers import ServerProcess, running

MODEL = "gpt-4o-2024-08-06"


class Color(StrEnum):
    red = "red"
    green = "green"
    blue = "blue"


class Item(BaseModel):
    name: str
    count: int
    color: Color


class Order(BaseModel):
    customer: str
    items: list[Item]
    note: str | None


class Node(BaseModel):
    label: str
    children: list[Node]


ASK = [{"role": "user", "content": "Alice orders two red apples and one blue pen."}]


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    yield from running({"MOCKVENDOR_FAULTS": "off", "OPENAI_API_KEY": ""})


def gpt(server: ServerProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)


def valid(model: type[BaseModel], text: str) -> Any:
    """``text`` parses, and validates against the model's own JSON Schema."""
    value = json.loads(text)
    jsonschema.validate(value, model.model_json_schema())
    return value


# -- OpenAI chat ---------------------------------------------------------------------------------
def test_chat_parse_nested_models(server: ServerProcess) -> None:
    done = gpt(server).chat.completions.parse(model=MODEL, messages=ASK, response_format=Order,  # type: ignore[arg-type]
                                              max_tokens=600, seed=4)
    message = done.choices[0].message
    assert done.choices[0].finish_reason == "stop"
    assert isinstance(message.parsed, Order)
    assert valid(Order, message.content or "") == message.parsed.model_dump(mode="json")


def test_chat_stream_builds_the_parsed_object(server: ServerProcess) -> None:
    with gpt(server).chat.completions.stream(model=MODEL, messages=ASK, response_format=Order,  # type: ignore[arg-type]
                                             max_tokens=600, seed=5) as stream:
        deltas = [e.delta for e in stream if e.type == "content.delta"]
        final = stream.get_final_completion()
    assert len(deltas) > 3  # the JSON arrives in pieces
    parsed = final.choices[0].message.parsed
    assert isinstance(parsed, Order) and "".join(deltas) == final.choices[0].message.content


def test_chat_parse_recursive_model(server: ServerProcess) -> None:
    done = gpt(server).chat.completions.parse(
        model=MODEL, messages=[{"role": "user", "content": "A family tree of three people."}],
        response_format=Node, max_tokens=400, seed=5)
    assert isinstance(done.choices[0].message.parsed, Node)


def test_chat_json_object_needs_the_word_json(server: ServerProcess) -> None:
    with pytest.raises(openai.BadRequestError) as e:
        gpt(server).chat.completions.create(model=MODEL, messages=ASK, response_format={"type": "json_object"})
    assert e.value.body["param"] == "messages" and "'json'" in e.value.body["message"]  # type: ignore[index]
    done = gpt(server).chat.completions.create(
        model=MODEL, response_format={"type": "json_object"}, max_tokens=100, seed=1,
        messages=[{"role": "user", "content": "Describe a cat as JSON."}])
    assert isinstance(json.loads(done.choices[0].message.content or ""), dict)


@pytest.mark.parametrize(("schema", "words"), [
    ({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
     "In context=(), 'additionalProperties' is required to be supplied and to be false."),
    ({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}, "required": ["a"],
      "additionalProperties": False},
     "In context=(), 'required' is required to be supplied and to be an array including every key in "
     "properties. Missing 'b'."),
    ({"type": "object", "additionalProperties": False, "required": ["a"],
      "properties": {"a": {"type": "array", "items": {"type": "object", "properties": {"x": {"type": "string"}},
                                                      "required": ["x"]}}}},
     "In context=('properties', 'a', 'items'), 'additionalProperties' is required"),
    ({"type": "array", "items": {"type": "string"}}, "schema must be a JSON Schema of 'type: \"object\"'"),
])
def test_strict_mode_rules(server: ServerProcess, schema: dict[str, Any], words: str) -> None:
    fmt = {"type": "json_schema", "json_schema": {"name": "Thing", "schema": schema, "strict": True}}
    with pytest.raises(openai.BadRequestError) as e:
        gpt(server).chat.completions.create(model=MODEL, messages=ASK, response_format=fmt)  # type: ignore[arg-type]
    body: dict[str, Any] = e.value.body  # type: ignore[assignment]
    assert body["param"] == "response_format" and body["type"] == "invalid_request_error"
    assert body["message"].startswith("Invalid schema for response_format 'Thing': ") and words in body["message"]
    # Not strict: the same schema is answered, and the answer is valid against it.
    fmt["json_schema"]["strict"] = False  # type: ignore[index]
    done = gpt(server).chat.completions.create(model=MODEL, messages=ASK, response_format=fmt,  # type: ignore[arg-type]
                                               max_tokens=200, seed=2)
    if done.choices[0].finish_reason == "stop":
        jsonschema.validate(json.loads(done.choices[0].message.content or ""), schema)


def test_strict_function_tool_follows_the_rules(server: ServerProcess) -> None:
    tool = {"type": "function", "function": {"name": "lookup", "strict": True, "parameters": {
        "type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}}}
    with pytest.raises(openai.BadRequestError) as e:
        gpt(server).chat.completions.create(model=MODEL, messages=ASK, tools=[tool])  # type: ignore[list-item]
    assert e.value.body["param"] == "tools[0].function.parameters"  # type: ignore[index]
    assert "Invalid schema for function 'lookup'" in e.value.body["message"]  # type: ignore[index]


def test_same_seed_same_bytes_alone_and_in_a_full_batch(server: ServerProcess) -> None:
    def ask(seed: int) -> str:
        done = gpt(server).chat.completions.parse(model=MODEL, messages=ASK, response_format=Order,  # type: ignore[arg-type]
                                                  max_tokens=300, seed=seed, temperature=1.0)
        return done.choices[0].message.content or ""

    alone = ask(11)
    with ThreadPoolExecutor(8) as pool:  # eight at once: the engine batches them together
        batch = list(pool.map(ask, [11, 12, 13, 14, 11, 15, 16, 17]))
    assert batch[0] == alone and batch[4] == alone
    assert len(set(batch)) > 2  # other seeds sample other JSON


def test_length_mid_object_is_the_sdks_length_error(server: ServerProcess) -> None:
    with pytest.raises(openai.LengthFinishReasonError):
        gpt(server).chat.completions.parse(model=MODEL, messages=ASK, response_format=Order, max_tokens=8)  # type: ignore[arg-type]


# -- OpenAI Responses ------------------------------------------------------------------------------
def test_responses_parse(server: ServerProcess) -> None:
    r = gpt(server).responses.parse(model=MODEL, input=ASK, text_format=Order, max_output_tokens=800,  # type: ignore[arg-type]
                                    extra_body={"seed": 4})
    assert isinstance(r.output_parsed, Order)
    valid(Order, r.output_text)
    assert r.text is not None and r.text.format is not None and r.text.format.type == "json_schema"
    assert r.text.format.name == "Order"  # type: ignore[union-attr]


def test_responses_stream_parse(server: ServerProcess) -> None:
    with gpt(server).responses.stream(model=MODEL, input=ASK, text_format=Order,  # type: ignore[arg-type]
                                      max_output_tokens=800, extra_body={"seed": 4}) as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert len(deltas) > 3 and isinstance(final.output_parsed, Order)


def test_responses_strict_by_default(server: ServerProcess) -> None:
    loose = {"type": "object", "properties": {"a": {"type": "string"}}}
    fmt: dict[str, Any] = {"type": "json_schema", "name": "Loose", "schema": loose}
    with pytest.raises(openai.BadRequestError) as e:
        gpt(server).responses.create(model=MODEL, input="hi", text={"format": fmt})  # type: ignore[typeddict-item]
    assert e.value.body["param"] == "text.format.schema"  # type: ignore[index]
    fmt["strict"] = False
    r = gpt(server).responses.create(model=MODEL, input="hi", text={"format": fmt}, max_output_tokens=800,  # type: ignore[typeddict-item]
                                     extra_body={"seed": 1})  # seeded, with room to close the object
    assert isinstance(json.loads(r.output_text), dict)


def test_responses_refusal(server: ServerProcess) -> None:
    fault = {"extra_headers": {"x-mockvendor-fault": "refusal"}}
    r = gpt(server).responses.parse(model=MODEL, input=ASK, text_format=Order, **fault)  # type: ignore[arg-type]
    part = r.output[0].content[0]  # type: ignore[union-attr]
    assert part.type == "refusal" and part.refusal == REFUSAL and r.output_parsed is None  # type: ignore[union-attr]
    with gpt(server).responses.stream(model=MODEL, input=ASK, text_format=Order, **fault) as stream:  # type: ignore[arg-type]
        kinds = [e.type for e in stream]
        final = stream.get_final_response()
    assert "response.refusal.delta" in kinds and final.output[0].content[0].type == "refusal"  # type: ignore[union-attr]


# -- Gemini --------------------------------------------------------------------------------------
def gemini(server: ServerProcess) -> genai.Client:
    return genai.Client(api_key="k", http_options=gt.HttpOptions(base_url=server.url))


def test_gemini_response_schema_gives_parsed(server: ServerProcess) -> None:
    config = gt.GenerateContentConfig(response_mime_type="application/json", response_schema=Order,
                                      max_output_tokens=300, seed=3)
    client = gemini(server)  # kept: a dropped client closes its connection pool
    r = client.models.generate_content(model="gemini-2.5-flash", contents=ASK[0]["content"], config=config)
    assert isinstance(r.parsed, Order)
    valid(Order, r.text or "")


def test_gemini_response_json_schema_streamed(server: ServerProcess) -> None:
    config = gt.GenerateContentConfig(response_mime_type="application/json", max_output_tokens=300, seed=3,
                                      response_json_schema=Order.model_json_schema())
    client = gemini(server)
    chunks = list(client.models.generate_content_stream(
        model="gemini-2.5-flash", contents=ASK[0]["content"], config=config))
    assert len(chunks) > 1
    valid(Order, "".join(c.text or "" for c in chunks))


def test_gemini_schema_needs_json_mime_type(server: ServerProcess) -> None:
    from google.genai import errors

    client = gemini(server)
    with pytest.raises(errors.ClientError) as e:
        client.models.generate_content(model="gemini-2.5-flash", contents="hi",
                                               config=gt.GenerateContentConfig(response_schema=Order))
    assert e.value.code == 400 and "responseMimeType" in (e.value.message or "")


# -- LiteLLM ---------------------------------------------------------------------------------------
def test_litellm_router_response_format(server: ServerProcess) -> None:
    router = litellm.Router(model_list=[{"model_name": "orders", "litellm_params": {
        "model": "openai/gpt-4o-mini", "api_base": server.url + "/v1", "api_key": "sk-test"}}])
    r = router.completion(model="orders", messages=ASK, response_format=Order, max_tokens=300, seed=6)
    assert isinstance(Order.model_validate_json(r.choices[0].message.content), Order)  # type: ignore[union-attr]
