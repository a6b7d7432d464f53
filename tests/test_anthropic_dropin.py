"""Anthropic as applications use it today, through the official SDK over a real socket:
every documented request field parses (images, documents, cache_control, metadata,
thinking, service_tier...), and structured output (``messages.parse`` /
``output_config.format``) is written by the embedded model under a grammar, streamed and not.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from enum import StrEnum
from typing import Any

import anthropic
import httpx
import jsonschema
import pytest
from pydantic import BaseModel

from .helpers import ServerProcess, assert_vendor_error, running
from .media_samples import b64, png

MODEL = "claude-sonnet-4-5"  # a published name: the catalog serves it with the embedded model
# An image as applications send it (mockvendor does not decode it: the model reads "[image]").
PNG = b64(png(64, 64))


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
    note: str | None = None


class Node(BaseModel):
    label: str
    children: list[Node]


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    """A real server on the embedded model (its published names served by the catalog)."""
    yield from running({"MOCKVENDOR_FAULTS": "off", "OPENAI_API_KEY": ""})


def sdk(server: ServerProcess) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=server.url, api_key="sk-ant-test", max_retries=0)


def ask(**kw: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "model": MODEL, "max_tokens": 200, "extra_body": {"seed": 7},
        "messages": [{"role": "user", "content": "An order for Ada: two red pens and a blue pad."}],
    }
    return {**args, **kw}


def test_every_documented_field_is_accepted(server: ServerProcess) -> None:
    cache = {"type": "ephemeral", "ttl": "5m"}
    message = sdk(server).messages.create(
        model=MODEL, max_tokens=2048, stop_sequences=["\n\n\n"],
        system=[{"type": "text", "text": "You describe pictures.", "cache_control": cache}],
        metadata={"user_id": "user-42"}, service_tier="auto",
        thinking={"type": "enabled", "budget_tokens": 1024},
        output_config={"effort": "low"}, cache_control={"type": "ephemeral"},
        messages=[
            {"role": "user", "content": [
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
                {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
                {"type": "document", "title": "Notes", "source": {"type": "text", "media_type": "text/plain",
                                                                  "data": "The cat is grey."}},
                {"type": "text", "text": "What colour is the cat?", "cache_control": cache},
            ]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "Look at the notes.", "signature": "sig"},
                {"type": "text", "text": "Grey."},
            ]},
            {"role": "user", "content": "And the dog?"},
        ],
        # Older SDKs send the sampling fields too (this one has dropped them from its signature);
        # with thinking, Anthropic takes only temperature 1 and top_p from 0.95 (test_thinking.py).
        extra_body={"seed": 3, "temperature": 1, "top_p": 0.95},
    )
    assert message.type == "message" and message.stop_reason in ("end_turn", "max_tokens")
    assert [b.type for b in message.content] == ["thinking", "text"] and message.content[1].text
    # Request-level cache_control caches the whole prompt: it is written to the cache, not billed as input.
    usage = message.usage
    assert usage.input_tokens + usage.cache_creation_input_tokens + usage.cache_read_input_tokens > 0
    assert usage.cache_creation_input_tokens or usage.cache_read_input_tokens
    assert usage.service_tier == "standard"


@pytest.mark.parametrize(
    ("field", "value", "mentions"),
    [
        ("thinking", {"type": "enabled", "budget_tokens": 512}, "thinking.enabled.budget_tokens"),
        ("thinking", {"type": "enabled", "budget_tokens": 4096}, "greater than `thinking.budget_tokens`"),
        ("service_tier", "premium", "service_tier"),
        ("metadata", {"user_id": 42}, "metadata.user_id"),
        ("output_config", {"format": {"type": "json_object"}}, "output_config.format.type"),
        ("output_config", {"effort": "extreme"}, "output_config.effort"),
        ("cache_control", {"type": "forever"}, "cache_control.type"),
    ],
)
def test_documented_fields_are_checked(server: ServerProcess, field: str, value: Any, mentions: str) -> None:
    body = {"model": MODEL, "max_tokens": 2048, "messages": [{"role": "user", "content": "hi"}], field: value}
    r = httpx.post(server.url + "/v1/messages", json=body, timeout=60)
    assert_vendor_error("anthropic", r, 400, mentions=mentions)


def test_bad_image_is_named(server: ServerProcess) -> None:
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/tiff", "data": PNG}}
    body = {"model": MODEL, "max_tokens": 16, "messages": [{"role": "user", "content": [image]}]}
    r = httpx.post(server.url + "/v1/messages", json=body, timeout=60)
    assert_vendor_error("anthropic", r, 400, mentions="messages.0.content.0.image.source.base64.media_type")


def test_parse_gives_a_valid_object(server: ServerProcess) -> None:
    message = sdk(server).messages.parse(output_format=Order, **ask())
    assert message.stop_reason == "end_turn", message
    order = message.parsed_output
    assert isinstance(order, Order)
    # The text is the JSON the SDK parsed: the model wrote it, under the schema's grammar.
    assert Order.model_validate_json(message.content[0].text) == order


def test_parse_streamed_builds_the_same_object(server: ServerProcess) -> None:
    client = sdk(server)
    plain = client.messages.parse(output_format=Order, **ask())
    with client.messages.stream(output_format=Order, **ask()) as stream:
        deltas = [e.delta.text for e in stream if e.type == "content_block_delta" and e.delta.type == "text_delta"]
        final = stream.get_final_message()
    assert len(deltas) > 1  # the JSON arrives in pieces
    assert final.parsed_output == plain.parsed_output  # same seed: same object
    assert "".join(deltas) == plain.content[0].text


def test_recursive_model(server: ServerProcess) -> None:
    tree = sdk(server).messages.parse(output_format=Node, **ask(max_tokens=1000, messages=[
        {"role": "user", "content": "A tree: root with two leaves."}]))
    assert tree.stop_reason == "end_turn" and isinstance(tree.parsed_output, Node)


def test_raw_schema_in_output_config(server: ServerProcess) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
              "required": ["city", "days"], "additionalProperties": False}
    raw = sdk(server).messages.create(**ask(output_config={"format": {"type": "json_schema", "schema": schema}}))
    jsonschema.validate(json.loads(raw.content[0].text), schema)


def test_same_seed_same_json(server: ServerProcess) -> None:
    client = sdk(server)
    first, again = (client.messages.parse(output_format=Order, **ask()).content[0].text for _ in range(2))
    other = client.messages.parse(output_format=Order, **ask(extra_body={"seed": 8})).content[0].text
    assert first == again
    assert Order.model_validate_json(other)  # another seed: valid too (and usually other words)


def test_max_tokens_cuts_the_json(server: ServerProcess) -> None:
    message = sdk(server).messages.create(**ask(max_tokens=8, output_config={
        "format": {"type": "json_schema", "schema": Order.model_json_schema()}}))
    assert message.stop_reason == "max_tokens"
    with pytest.raises(json.JSONDecodeError):
        json.loads(message.content[0].text)
    # The SDK's parse helper fails the way it does on the real API's cut answer.
    with pytest.raises(Exception) as info:
        sdk(server).messages.parse(output_format=Order, **ask(max_tokens=8))
    assert "json" in str(info.value).lower() or "validation" in type(info.value).__name__.lower()


def test_count_tokens_takes_the_same_fields(server: ServerProcess) -> None:
    counted = sdk(server).messages.count_tokens(
        model=MODEL, system="Be brief.", thinking={"type": "adaptive"},
        messages=[{"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
            {"type": "text", "text": "What is this?"}]}],
    )
    assert counted.input_tokens > 0


# -- message threads and the SDK's tool runner -------------------------------------------------
def test_the_sdk_tool_runner_runs_its_loop(server: ServerProcess) -> None:
    """``client.beta.messages.tool_runner`` holds the conversation on the server (a thread): the
    second turn sends only the tool result, and the tools come from the thread."""
    calls: list[str] = []

    @anthropic.beta_tool
    def get_weather(location: str) -> str:
        """Get the weather for a location."""
        calls.append(location)
        return f"Sunny in {location}"

    runner = sdk(server).beta.messages.tool_runner(
        model=MODEL, max_tokens=60, tools=[get_weather], extra_body={"seed": 2},
        messages=[{"role": "user", "content": "What is the weather in Paris?"}])
    final = runner.until_done()
    assert calls == ["Paris"]
    assert final.stop_reason in ("end_turn", "max_tokens") and final.content[0].type == "text"


def test_thread_continue_and_its_errors(server: ServerProcess) -> None:
    url = server.url + "/v1/messages"
    first = httpx.post(url, timeout=60, json={
        "model": MODEL, "max_tokens": 20, "system": "You are terse.", "thread": {"type": "create"},
        "messages": [{"role": "user", "content": "Remember the word ORANGE."}]}).json()
    nxt = {"model": MODEL, "max_tokens": 20, "messages": [{"role": "user", "content": "Which word?"}]}
    cont = httpx.post(url, timeout=60, json={**nxt, "thread": {"type": "continue", "previous_message_id": first["id"]}})
    assert cont.status_code == 200, cont.text
    # The whole conversation was counted: more input than the new turn alone.
    alone = httpx.post(url, timeout=60, json=nxt).json()
    assert cont.json()["usage"]["input_tokens"] > alone["usage"]["input_tokens"]
    lost = httpx.post(url, timeout=60, json={**nxt, "thread": {"type": "continue", "previous_message_id": "msg_x"}})
    body = assert_vendor_error("anthropic", lost, 404, mentions="msg_x")
    assert body["error"]["details"] == {"error_code": "thread_not_found"}
    repeat = httpx.post(url, timeout=60, json={**nxt, "system": "again", "thread": {
        "type": "continue", "previous_message_id": first["id"]}})
    assert_vendor_error("anthropic", repeat, 400, mentions="system")
