"""OpenAI's Responses API (``POST /v1/responses``) through the official openai SDK against a
real server process on the embedded model: answers parse into the SDK's own types (strictly,
on the wire too), streamed events come in the order its stream helper needs and add up to the
plain answer, function tools give schema-valid calls and an agent loop ends in text, bad
requests get OpenAI's 400s naming the field, and simulated faults raise the SDK's exceptions."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema
import openai
import pytest
from openai.types.responses import Response, ResponseErrorEvent, ResponseStreamEvent
from pydantic import TypeAdapter

from mockvendor.vendors.openai import OpenAIVendor
from mockvendor.vendors.openai.responses import responses_path_item
from mockvendor.vendors.openapi import SSE_EVENT

from .helpers import ServerProcess, assert_vendor_error, serving
from .sse import events as sse_events

MODEL = "gpt-4o-mini"
PROMPT = "Write one short sentence about the sea."
LONG = "Write a long story about a dragon and a knight."
SEED = {"seed": 3}  # a mockvendor extension, sent the way the SDK sends extras
QUESTION = "What is the weather in Paris this week?"
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the current weather for a city",
    "parameters": {
        "type": "object",
        "properties": {
            "city": {"type": "string", "minLength": 2},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "days": {"type": "integer", "minimum": 1, "maximum": 7},
        },
        "required": ["city", "unit", "days"],
        "additionalProperties": False,
    },
    "strict": True,
}
SEARCH = {"type": "function", "name": "search_docs", "description": "Search the product documentation",
          "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}}
EVENTS = TypeAdapter(ResponseStreamEvent)


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with serving() as s:
        yield s


@pytest.fixture
def client(server: ServerProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)


def ask(client: openai.OpenAI, **kw: Any) -> Any:
    kw = {"model": MODEL, "input": PROMPT, "max_output_tokens": 64, "extra_body": SEED, **kw}
    return client.responses.create(**kw)


def call(client: openai.OpenAI, **kw: Any) -> Any:
    return ask(client, **{"input": QUESTION, "tools": [SEARCH, WEATHER], **kw})


def post(server: ServerProcess, body: dict[str, Any], **kw: Any) -> httpx.Response:
    return httpx.post(server.url + "/v1/responses", json=body, timeout=60, **kw)


def wire_events(text: str) -> list[dict[str, Any]]:
    """Each event of a raw stream, checked: its name is its type, it validates strictly against
    the SDK's own event models, and sequence numbers count up from 0."""
    out = []
    for name, data in sse_events(text):
        event = json.loads(data)
        assert name == event["type"], (name, event)
        EVENTS.validate_python(event)
        out.append(event)
    assert [e["sequence_number"] for e in out] == list(range(len(out)))
    return out


TEXT_EVENTS = ["response.created", "response.in_progress", "response.output_item.added",
               "response.content_part.added"]
TEXT_DONE = ["response.output_text.done", "response.content_part.done", "response.output_item.done"]


# -- text --------------------------------------------------------------------------------
def test_create_answers_with_the_sdks_response(client: openai.OpenAI, server: ServerProcess) -> None:
    done = ask(client, instructions="Be brief.", metadata={"run": "1"})
    assert isinstance(done, Response) and done.id.startswith("resp_") and done.object == "response"
    assert done.status == "completed" and done.incomplete_details is None and done.error is None
    (message,) = done.output
    assert message.type == "message" and message.id.startswith("msg_") and message.role == "assistant"
    assert message.status == "completed" and message.content[0].type == "output_text"
    assert done.output_text.strip() and done.output_text == message.content[0].text
    usage = done.usage
    assert usage and usage.input_tokens > 5 and usage.output_tokens > 0
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    assert usage.input_tokens_details.cached_tokens == 0 and usage.output_tokens_details.reasoning_tokens == 0
    assert done.model == MODEL and done.instructions == "Be brief." and done.metadata == {"run": "1"}
    assert done.tools == [] and done.tool_choice == "auto" and done.parallel_tool_calls is True
    # The instructions reached the model as a system turn: the same prompt and text as on chat.
    chat = client.chat.completions.create(
        model=MODEL, max_tokens=64, seed=3,
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": PROMPT}],
    )
    assert chat.usage and usage.input_tokens == chat.usage.prompt_tokens
    assert done.output_text == chat.choices[0].message.content
    # On the wire: the body validates strictly against the SDK's model, with OpenAI's headers.
    r = post(server, {"model": MODEL, "input": PROMPT, "max_output_tokens": 64, **SEED})
    assert r.status_code == 200 and r.headers["x-request-id"].startswith("req_"), r.text
    assert "openai-processing-ms" in r.headers
    assert Response.model_validate(r.json()).output_text == ask(client).output_text


def test_the_stream_adds_up_to_the_plain_answer(client: openai.OpenAI) -> None:
    plain = ask(client)
    events = list(ask(client, stream=True))
    deltas = [e for e in events if e.type == "response.output_text.delta"]
    assert [e.type for e in events] == [*TEXT_EVENTS, *["response.output_text.delta"] * len(deltas), *TEXT_DONE,
                                        "response.completed"]
    assert len(deltas) > 3 and [e.sequence_number for e in events] == list(range(len(events)))
    item_id = events[2].item.id
    assert item_id.startswith("msg_") and all(e.item_id == item_id and e.output_index == 0 for e in deltas)
    text = "".join(e.delta for e in deltas)
    assert text == plain.output_text == events[-4].text
    final = events[-1].response
    assert final.id == events[0].response.id and final.id.startswith("resp_") and final.id != plain.id
    assert events[0].response.status == "in_progress" and events[0].response.output == []
    assert final.status == "completed" and final.output_text == text and final.output[0].id == item_id
    assert final.usage == plain.usage


def test_the_stream_helper_gives_the_final_response(client: openai.OpenAI) -> None:
    plain = ask(client)
    with client.responses.stream(model=MODEL, input=PROMPT, max_output_tokens=64, extra_body=SEED) as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == final.output_text == plain.output_text
    assert final.status == "completed" and final.usage == plain.usage


def test_max_output_tokens_makes_an_incomplete_response(client: openai.OpenAI) -> None:
    short = ask(client, input=LONG, max_output_tokens=16)
    assert short.status == "incomplete" and short.incomplete_details
    assert short.incomplete_details.reason == "max_output_tokens"
    assert short.usage.output_tokens == 16 and short.output[0].status == "incomplete" and short.output_text
    events = list(ask(client, input=LONG, max_output_tokens=16, stream=True))
    assert events[-1].type == "response.incomplete" and events[-1].response.usage == short.usage
    assert events[-2].type == "response.output_item.done" and events[-2].item.status == "incomplete"
    # As against OpenAI, the stream helper finds no response.completed to finish with.
    with pytest.raises(RuntimeError, match="response.completed"):
        with client.responses.stream(model=MODEL, input=LONG, max_output_tokens=16, extra_body=SEED) as stream:
            stream.get_final_response()


def test_message_items_and_text_parts_equal_a_plain_string(client: openai.OpenAI) -> None:
    items = [{"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "Be brief."}]},
             {"role": "user", "content": [{"type": "input_text", "text": PROMPT}]}]
    assert ask(client, input=items).output_text == ask(client, instructions="Be brief.").output_text


def test_wire_events_validate_against_the_sdks_models(server: ServerProcess) -> None:
    body = {"model": MODEL, "input": PROMPT, "max_output_tokens": 64, "stream": True, **SEED}
    r = post(server, body)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream"), r.text
    events = wire_events(r.text)
    assert all(e["obfuscation"] for e in events if e["type"].endswith(".delta"))
    quiet = wire_events(post(server, {**body, "stream_options": {"include_obfuscation": False}}).text)
    assert not any("obfuscation" in e for e in quiet)
    assert [e["delta"] for e in quiet if "delta" in e] == [e["delta"] for e in events if "delta" in e]
    tool = wire_events(post(server, {**body, "input": QUESTION, "tools": [WEATHER]}).text)
    assert tool[-1]["response"]["output"][0]["type"] == "function_call"


# -- function tools ------------------------------------------------------------------------
def test_a_question_gets_a_call_whose_arguments_fit_the_schema(client: openai.OpenAI) -> None:
    done = call(client)
    assert done.status == "completed" and done.output_text == ""
    (item,) = done.output
    assert item.type == "function_call" and item.status == "completed" and item.id.startswith("fc_")
    assert item.call_id.startswith("call_") and len(item.call_id) > 20
    assert item.name == "get_weather"  # the tool whose words match the question
    args = json.loads(item.arguments)
    jsonschema.validate(args, WEATHER["parameters"])  # type: ignore[arg-type]
    assert args["city"] == "Paris"
    usage = done.usage
    assert usage.output_tokens > 3 and usage.total_tokens == usage.input_tokens + usage.output_tokens
    assert [t.name for t in done.tools] == ["search_docs", "get_weather"] and done.tools[1].strict is True


def test_the_streamed_call_is_the_same_call(client: openai.OpenAI) -> None:
    plain = call(client)
    expected = plain.output[0]
    events = list(call(client, stream=True))
    pieces = [e.delta for e in events if e.type == "response.function_call_arguments.delta"]
    assert [e.type for e in events] == [
        "response.created", "response.in_progress", "response.output_item.added",
        *["response.function_call_arguments.delta"] * len(pieces),
        "response.function_call_arguments.done", "response.output_item.done", "response.completed",
    ]
    added = events[2].item
    assert added.type == "function_call" and added.arguments == "" and added.status == "in_progress"
    assert (added.call_id, added.name) == (expected.call_id, expected.name) and added.id.startswith("fc_")
    assert len(pieces) > 3 and "".join(pieces) == events[-3].arguments == expected.arguments
    final = events[-1].response
    assert final.output[0].call_id == expected.call_id and final.output[0].id == added.id
    assert final.usage == plain.usage
    with client.responses.stream(model=MODEL, input=QUESTION, tools=[SEARCH, WEATHER], extra_body=SEED) as stream:
        helper = stream.get_final_response().output[0]
    assert helper.arguments == expected.arguments
    assert helper.parsed_arguments == json.loads(expected.arguments)  # a strict tool: the SDK parses it


def test_an_agent_loop_ends_with_the_models_text(client: openai.OpenAI) -> None:
    first = call(client)
    result = {"type": "function_call_output", "call_id": first.output[0].call_id,
              "output": '{"forecast": "sunny", "high_c": 24}'}
    answer = call(client, input=[{"role": "user", "content": QUESTION}, *first.output, result])
    assert answer.status in ("completed", "incomplete") and answer.output_text.strip()
    assert [o.type for o in answer.output] == ["message"]
    # The tool's result reached the model: the prompt is longer than the question alone.
    assert answer.usage.input_tokens > first.usage.input_tokens + 10


def test_tool_choice_decides(client: openai.OpenAI) -> None:
    assert call(client, tool_choice="none").output[0].type == "message"
    named = call(client, tool_choice={"type": "function", "name": "search_docs"})
    assert named.output[0].name == "search_docs" and json.loads(named.output[0].arguments)["query"]
    assert named.tool_choice.type == "function" and named.tool_choice.name == "search_docs"
    first = call(client).output[0]
    loop = [{"role": "user", "content": QUESTION}, first, {"type": "function_call_output", "call_id": first.call_id,
                                                           "output": "sunny"}]
    assert call(client, input=loop, tool_choice="required").output[0].type == "function_call"
    assert call(client, input=loop, tool_choice="auto").output[0].type == "message"


# -- errors --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "param", "words"),
    [
        ({"input": "hi"}, "model", "model"),
        ({"model": MODEL, "input": 5}, "input", "expected a string or a non-empty array"),
        ({"model": MODEL}, "input", "Missing required parameter"),
        ({"model": MODEL, "input": "hi", "tools": [{"type": "web_search"}]}, "tools[0].type", "'function' tools only"),
        ({"model": MODEL, "input": "hi", "tools": [{"type": "function", "name": "bad name!"}]}, "tools[0].name",
         "pattern"),
        ({"model": MODEL, "input": "hi", "previous_response_id": "resp_123"}, "previous_response_id",
         "Previous response with id 'resp_123' not found."),
        ({"model": MODEL, "input": [{"role": "user", "content": [
            {"type": "input_text", "text": "What is this?"},
            {"type": "input_video", "video_url": "https://example.com/cat.mp4"}]}]},
         "input[0].content[1].type", "'input_video'"),
        ({"model": MODEL, "input": "hi", "max_output_tokens": 15}, "max_output_tokens",
         "integer below minimum value. Expected a value >= 16, but got 15"),
        ({"model": MODEL, "input": [{"type": "function_call_output", "call_id": "call_9", "output": "x"}]},
         "input[0].call_id", "No tool call found"),
        ({"model": MODEL, "input": [{"role": "user", "content": QUESTION},
                                    {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"}]},
         "input", "No tool output found for function call call_1"),
        ({"model": MODEL, "input": [{"type": "computer_call", "call_id": "c"}]}, "input[0].type", "'computer_call'"),
        ({"model": MODEL, "input": "hi", "tool_choice": "required"}, "tool_choice", "needs 'tools'"),
        ({"model": MODEL, "input": "hi", "text": {"format": {"type": "json_object"}}}, "input",
         "must contain the word 'json'"),
        ({"model": MODEL, "input": "hi", "text": {"format": {"type": "xml"}}}, "text.format.type",
         "'text', 'json_object' and 'json_schema'"),
        ({"model": MODEL, "input": "hi", "stream_options": {"include_obfuscation": False}}, "stream_options",
         "only allowed when 'stream' is enabled"),
        ({"model": MODEL, "input": "hi", "background": True}, "background", "runs no background jobs"),
    ],
)
def test_bad_requests_are_openai_400s(server: ServerProcess, body: dict[str, Any], param: str, words: str) -> None:
    err = assert_vendor_error("openai", post(server, body), 400, mentions=words)["error"]
    assert err["type"] == "invalid_request_error" and err["param"] == param, err


def test_the_sdk_raises_its_own_exceptions(client: openai.OpenAI, server: ServerProcess) -> None:
    with pytest.raises(openai.BadRequestError) as bad:
        ask(client, max_output_tokens=15)
    assert bad.value.param == "max_output_tokens" and bad.value.status_code == 400
    with pytest.raises(openai.NotFoundError) as missing:
        ask(client, model="no-such-gpt")
    assert missing.value.code == "model_not_found"
    assert_vendor_error("openai", post(server, {"model": "no-such-gpt", "input": "hi"}), 404, mentions="no-such-gpt")


@pytest.mark.parametrize("stream", [False, True])
def test_a_simulated_fault_raises_the_sdks_server_error(client: openai.OpenAI, server: ServerProcess,
                                                        stream: bool) -> None:
    test_id = "responses-fault-" + uuid.uuid4().hex[:8]
    with pytest.raises(openai.InternalServerError) as e:
        ask(client, stream=stream, extra_headers={"x-mockvendor-fault": "503", "x-mockvendor-test-id": test_id})
    assert e.value.status_code == 503 and e.value.response.headers["x-mockvendor-fault"] == "error-503"
    assert e.value.request_id and e.value.request_id.startswith("req_")
    (rec,) = httpx.get(server.url + "/admin/requests", params={"test_id": test_id}).json()["data"]
    assert (rec["vendor"], rec["route"], rec["status"], rec["stream"]) == ("openai", "/v1/responses", 503, stream)


def test_a_fault_mid_stream_is_an_in_band_error(client: openai.OpenAI, server: ServerProcess) -> None:
    headers = {"x-mockvendor-fault": "503", "x-mockvendor-fault-after-chunks": "2"}
    words = "one two three four five six"
    text = []
    with pytest.raises(openai.APIError) as caught:
        for event in client.responses.create(model="echo", input=words, stream=True, extra_headers=headers):
            if event.type == "response.output_text.delta":
                text.append(event.delta)
    assert "".join(text).split() == ["one", "two"]  # after the first two chunks
    assert not isinstance(caught.value, openai.APIStatusError) and "Simulated" in caught.value.message
    # On the wire: a 200 marked as a fault, then an `error` event next in sequence, in the SDK's shape.
    r = post(server, {"model": "echo", "input": words, "stream": True}, headers=headers)
    assert r.status_code == 200 and r.headers["x-mockvendor-fault"].startswith("stream-error")
    events = wire_events(r.text)
    error = ResponseErrorEvent.model_validate(events[-1])
    assert error.type == "error" and error.code == "server_error" and "Simulated" in error.message
    assert events[-1]["error"]["message"] == error.message  # also nested, as the live service sends it
    assert [e["type"] for e in events[:-1]][-2:] == ["response.output_text.delta"] * 2


# -- the OpenAPI path item -------------------------------------------------------------------
def test_the_openapi_path_item_tells_the_truth(server: ServerProcess) -> None:
    op = responses_path_item(OpenAIVendor)["post"]
    media = op["requestBody"]["content"]["application/json"]
    ok = op["responses"]["200"]["content"]
    for schema in (media["schema"], ok["application/json"]["schema"]):
        jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(media["example"], media["schema"])
    r = post(server, media["example"])
    assert r.status_code == 200, r.text
    jsonschema.validate(r.json(), ok["application/json"]["schema"])
    tool = post(server, {**media["example"], "input": QUESTION, "tools": [WEATHER]})
    jsonschema.validate(tool.json(), ok["application/json"]["schema"])
    assert ok["text/event-stream"]["schema"] == SSE_EVENT
    for name, data in sse_events(post(server, {**media["example"], "stream": True}).text):
        jsonschema.validate({"event": name, "data": data}, SSE_EVENT)
    limited = post(server, media["example"], headers={"x-mockvendor-fault": "rate-limit"})
    assert limited.status_code == 429
    jsonschema.validate(limited.json(), op["responses"]["429"]["content"]["application/json"]["schema"])
