"""Cohere's v2 API through the official ``cohere`` SDK (``ClientV2``) over real sockets: chat
and its named-event stream on the embedded model, tool calls and a tool loop, embed, errors
raised as the SDK's own classes (with its retries on 429 and 5xx, none on a stream), and
LiteLLM's ``cohere_chat`` provider."""

from __future__ import annotations

import base64
import json
import math
import os
import struct
import uuid
from collections.abc import Iterator
from typing import Any

import cohere
import httpx
import pytest

from .helpers import ServerProcess, assert_vendor_error, serving

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # LiteLLM would fetch its price list
# The cohere SDK reads pydantic's deprecated `__fields__` when it picks a union member: not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:The `__fields__` attribute is deprecated")

PROMPT = "Write one short sentence about the sea."
WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The current weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with serving() as s:
        yield s


def client(server: ServerProcess, test_id: str | None = None, prefix: str = "", **kw: Any) -> cohere.ClientV2:
    headers = {"x-mockvendor-test-id": test_id} if test_id else {}
    return cohere.ClientV2(api_key="co-test-key", base_url=server.url + prefix,
                           httpx_client=httpx.Client(headers=headers, timeout=120), **kw)


def faulted(*pairs: str) -> Any:
    return {"additional_headers": dict(zip(pairs[::2], pairs[1::2], strict=True))}


def attempts(server: ServerProcess, test_id: str) -> list[dict[str, Any]]:
    r = httpx.get(server.url + "/admin/retries", params={"test_id": test_id})
    return r.json()["callers"][f"test:{test_id}"]["attempts"]  # type: ignore[no-any-return]


# ---- chat on the embedded model -----------------------------------------------------------------

def test_chat_and_chat_stream_on_the_real_model(server: ServerProcess) -> None:
    co = client(server)
    args: dict[str, Any] = {"model": "command-r-plus", "messages": [{"role": "user", "content": PROMPT}],
                            "max_tokens": 8, "seed": 11}
    answer = co.chat(**args)
    assert answer.finish_reason in ("COMPLETE", "MAX_TOKENS") and answer.id
    (part,) = answer.message.content
    assert part.type == "text" and part.text.strip()
    assert answer.message.tool_calls is None
    tokens, billed = answer.usage.tokens, answer.usage.billed_units
    assert 0 < tokens.output_tokens <= 8 and tokens.input_tokens > 5
    assert (billed.input_tokens, billed.output_tokens) == (tokens.input_tokens, tokens.output_tokens)

    events = list(co.chat_stream(**args))
    kinds = [e.type for e in events]
    assert kinds[:2] == ["message-start", "content-start"] and kinds[-2:] == ["content-end", "message-end"]
    assert set(kinds[2:-2]) == {"content-delta"} and len(kinds) > 5
    assert events[0].id and events[0].delta.message.role == "assistant"
    text = "".join(e.delta.message.content.text for e in events if e.type == "content-delta")
    assert text == part.text  # same seed, same words
    end = events[-1].delta
    assert end.finish_reason == answer.finish_reason
    assert end.usage.tokens.output_tokens == tokens.output_tokens
    assert end.usage.billed_units.input_tokens == billed.input_tokens
    raw = httpx.post(server.url + "/v2/chat", json={**args, "stream": True},
                     headers={"authorization": "Bearer co-test-key"}, timeout=60)
    *_, last_event, done = raw.text.rstrip("\n").split("\n\n")
    assert last_event.startswith("event: message-end\ndata: ")
    assert done == "data: [DONE]"  # Cohere's last line, on which the SDK stops


def test_max_tokens_finish_and_the_prefixed_route(server: ServerProcess) -> None:
    co = client(server, prefix="/cohere")
    answer = co.chat(model="command-a-03-2025", messages=[
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "Count slowly from one to fifty."}]},
    ], max_tokens=3, seed=2)
    assert answer.finish_reason == "MAX_TOKENS" and answer.usage.tokens.output_tokens == 3
    echoed = co.chat(model="echo", messages=[{"role": "user", "content": "one two three"}])
    assert echoed.message.content[0].text == "one two three"


def test_a_system_turn_and_documents_are_read(server: ServerProcess) -> None:
    co = client(server)
    turns = [{"role": "user", "content": "Hello"}]
    plain = co.chat(model="echo", messages=turns)
    more = co.chat(model="echo", messages=[{"role": "system", "content": "You are a pirate."}, *turns],
                   documents=[{"id": "d1", "data": {"title": "Tides", "text": "The tide turns twice a day."}}])
    assert more.usage.tokens.input_tokens > plain.usage.tokens.input_tokens + 8


def test_structured_output(server: ServerProcess) -> None:
    schema = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
              "required": ["name", "age"]}
    answer = client(server).chat(model="command-r-plus", messages=[{"role": "user", "content": "A person, as JSON."}],
                                 response_format={"type": "json_object", "json_schema": schema}, max_tokens=60,
                                 seed=4)
    value = json.loads(answer.message.content[0].text)
    assert isinstance(value["name"], str) and isinstance(value["age"], int)


# ---- tools --------------------------------------------------------------------------------------

def test_tool_call_and_the_tool_loop(server: ServerProcess) -> None:
    co = client(server)
    turns: list[Any] = [{"role": "user", "content": "What is the weather in Paris?"}]
    answer = co.chat(model="command-a-03-2025", messages=turns, tools=[WEATHER])
    assert answer.finish_reason == "TOOL_CALL" and answer.message.content is None
    (call,) = answer.message.tool_calls
    assert call.type == "function" and call.function.name == "get_weather"
    assert call.id.startswith("get_weather_")
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    assert "get_weather" in answer.message.tool_plan

    turns += [
        {"role": "assistant", "tool_plan": answer.message.tool_plan,
         "tool_calls": [call.model_dump(exclude_none=True)]},
        {"role": "tool", "tool_call_id": call.id, "content": [{"type": "text", "text": '{"temp_c": 21}'}]},
    ]
    final = co.chat(model="command-a-03-2025", messages=turns, tools=[WEATHER], max_tokens=12, seed=1)
    assert final.finish_reason in ("COMPLETE", "MAX_TOKENS") and final.message.content[0].text.strip()
    with pytest.raises(cohere.BadRequestError) as caught:  # a result answering no call
        co.chat(model="echo", messages=[turns[0], {"role": "tool", "tool_call_id": "nope", "content": "x"}])
    assert "tool_call_id" in caught.value.body["message"]


def test_tool_calls_stream(server: ServerProcess) -> None:
    events = list(client(server).chat_stream(
        model="command-r-plus", tools=[WEATHER], tool_choice="REQUIRED",
        messages=[{"role": "user", "content": "What is the weather in Paris and in Rome?"}]))
    kinds = [e.type for e in events]
    assert kinds[0] == "message-start" and kinds[1] == "tool-plan-delta" and kinds[-1] == "message-end"
    assert "content-start" not in kinds and kinds.count("tool-call-start") == kinds.count("tool-call-end") == 2
    calls: dict[int, dict[str, Any]] = {}
    for e in events:
        if e.type == "tool-call-start":
            tc = e.delta.message.tool_calls
            calls[e.index] = {"id": tc.id, "name": tc.function.name, "args": tc.function.arguments}
        elif e.type == "tool-call-delta":
            calls[e.index]["args"] += e.delta.message.tool_calls.function.arguments
    assert [json.loads(c["args"]) for c in calls.values()] == [{"city": "Paris"}, {"city": "Rome"}]
    assert len({c["id"] for c in calls.values()}) == 2
    assert events[-1].delta.finish_reason == "TOOL_CALL" and events[-1].delta.usage.tokens.output_tokens > 0


def test_tool_choice_none_answers_in_text(server: ServerProcess) -> None:
    answer = client(server).chat(model="echo", tools=[WEATHER], tool_choice="NONE",
                                 messages=[{"role": "user", "content": "What is the weather in Paris?"}])
    assert answer.finish_reason == "COMPLETE" and answer.message.tool_calls is None


# ---- embed --------------------------------------------------------------------------------------

def test_embed(server: ServerProcess) -> None:
    texts = ["A cat sat on the mat.", "Stock markets fell sharply today."]
    r = client(server).embed(model="embed-english-v3.0", input_type="search_document", texts=texts,
                             embedding_types=["float", "base64"])
    floats = r.embeddings.float_
    assert len(floats) == 2 and r.texts == texts and r.id
    for v in floats:
        assert math.isclose(math.sqrt(sum(x * x for x in v)), 1.0, rel_tol=1e-4)
    assert floats[0] != floats[1]
    raw = base64.b64decode(r.embeddings.base64[0])
    assert struct.unpack(f"<{len(floats[0])}f", raw) == pytest.approx(floats[0], abs=1e-6)
    assert r.meta.billed_units.input_tokens > 5 and r.meta.api_version.version == "2"
    short = client(server).embed(model="embed-v4.0", input_type="search_query", texts=["hi"], output_dimension=256)
    assert len(short.embeddings.float_[0]) == 256


# ---- errors -------------------------------------------------------------------------------------

def test_errors_are_the_sdks_own_classes(server: ServerProcess) -> None:
    co = client(server)
    hi = [{"role": "user", "content": "hi"}]
    with pytest.raises(cohere.NotFoundError) as nf:
        co.chat(model="no-such-model-xyz", messages=hi)
    assert "no-such-model-xyz" in nf.value.body["message"] and set(nf.value.body) == {"id", "message"}
    with pytest.raises(cohere.BadRequestError) as bad:
        co.chat(model="echo", messages=hi, temperature=-1)
    assert "temperature" in bad.value.body["message"]
    with pytest.raises(cohere.BadRequestError) as bad:
        co.embed(model="embed-english-v3.0", input_type="search_document", texts=["x"], embedding_types=["int8"])
    assert "int8" in bad.value.body["message"]
    with pytest.raises(cohere.BadRequestError):
        co.chat_stream(model="echo", messages=[{"role": "bot", "content": "x"}]).__next__()


@pytest.mark.parametrize(("path", "body", "status", "mentions"), [
    ("/v2/chat", {"model": "echo"}, 400, "messages"),
    ("/v2/chat", {"model": "echo", "messages": []}, 400, "messages"),
    ("/v2/chat", {"model": "echo", "messages": [{"role": "user", "content": "x"}], "tool_choice": "REQUIRED"}, 400,
     "tool_choice"),
    ("/v2/chat", {"model": "echo", "messages": [{"role": "user", "content": "x"}], "stop_sequences": list("abcdef")},
     400, "stop_sequences"),
    ("/cohere/v2/embed", {"model": "embed-english-v3.0", "texts": ["x"]}, 400, "input_type"),
    ("/v2/embed", {"model": "embed-english-v3.0", "input_type": "search_query"}, 400, "texts"),
    ("/v2/embed", {"model": "embed-english-v3.0", "input_type": "image", "images": ["data:x"]}, 400, "images"),
    ("/v2/rerank", {}, 404, "rerank"),
])
def test_bad_requests_in_coheres_shape(server: ServerProcess, path: str, body: dict[str, Any], status: int,
                                       mentions: str) -> None:
    assert_vendor_error("cohere", httpx.post(server.url + path, json=body), status, mentions=mentions)


def test_429_and_500_are_retried_twice_by_the_sdk(server: ServerProcess) -> None:
    hi = [{"role": "user", "content": "hi"}]
    for fault, cls, status in (("rate-limit", cohere.TooManyRequestsError, 429),
                               ("error-500", cohere.InternalServerError, 500)):
        test_id = f"co-{fault}-" + uuid.uuid4().hex[:6]
        with pytest.raises(cls) as caught:
            client(server, test_id).chat(model="echo", messages=hi, request_options=faulted(
                "x-mockvendor-fault", fault, "x-mockvendor-retry-after-ms", "50"))
        assert caught.value.headers["x-mockvendor-fault"] == fault and caught.value.body["message"]
        assert [a["status"] for a in attempts(server, test_id)] == [status] * 3  # two retries


def test_a_scripted_failure_is_survived_and_a_stream_is_not_retried(server: ServerProcess) -> None:
    test_id = "co-script-" + uuid.uuid4().hex[:6]
    r = httpx.put(f"{server.url}/admin/scenarios/{test_id}", json={"steps": [
        {"fault": "rate-limit", "retry_after_ms": 100}, {"fault": "503", "retry_after_ms": 50}, "ok"]})
    assert r.status_code == 201, r.text
    answer = client(server, test_id).chat(model="echo", messages=[{"role": "user", "content": "one two"}])
    assert answer.message.content[0].text == "one two"
    report = attempts(server, test_id)
    assert [a["status"] for a in report] == [429, 503, 200]
    assert [a["hint_given_ms"] for a in report[:2]] == [100.0, 50.0]

    stream_id = "co-stream-" + uuid.uuid4().hex[:6]
    with pytest.raises(cohere.TooManyRequestsError):
        list(client(server, stream_id).chat_stream(model="echo", messages=[{"role": "user", "content": "x"}],
                                                   request_options=faulted("x-mockvendor-fault", "rate-limit")))
    assert len(attempts(server, stream_id)) == 1


def test_an_in_band_stream_error_is_coheres_message_end(server: ServerProcess) -> None:
    events = list(client(server).chat_stream(
        model="echo", messages=[{"role": "user", "content": "one two three four five"}],
        request_options=faulted("x-mockvendor-fault-after-chunks", "2")))
    text = "".join(e.delta.message.content.text for e in events if e.type == "content-delta")
    assert text.split() == ["one", "two"]
    end = events[-1]
    assert end.type == "message-end" and end.delta.finish_reason == "ERROR" and "Simulated" in end.delta.error


def test_keys_are_checked_and_never_shown() -> None:
    secret = "co-secret-key-0123456789"
    with serving(MOCKVENDOR_API_KEYS=secret, MOCKVENDOR_CATALOG_MODEL="echo") as s:
        ok = cohere.ClientV2(api_key=secret, base_url=s.url).chat(model="command-r", messages=[
            {"role": "user", "content": "hi"}])
        assert ok.message.content[0].text == "hi"
        wrong = "co-wrong-key-9876543210"
        with pytest.raises(cohere.UnauthorizedError) as caught:
            cohere.ClientV2(api_key=wrong, base_url=s.url).chat(model="command-r", messages=[
                {"role": "user", "content": "hi"}])
        assert caught.value.body["message"] == "invalid api token"
        r = httpx.post(s.url + "/v2/chat", json={"model": "command-r", "messages": []})
        assert_vendor_error("cohere", r, 401, mentions="no api key")
        logged = httpx.get(s.url + "/admin/requests").text + s.log_text()
    assert secret not in logged and wrong not in logged


# ---- LiteLLM ------------------------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore::UserWarning:pydantic._internal._generate_schema")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_litellm_cohere_chat(server: ServerProcess) -> None:
    """LiteLLM's ``cohere_chat`` provider (Cohere v2, ``api_base`` the whole chat URL), not streamed: its v2
    stream parser decodes each raw line as JSON, so it cannot read the SSE framing Cohere (and the SDK) use."""
    import litellm

    r = litellm.completion(model="cohere_chat/command-r-plus", api_base=server.url + "/v2/chat", api_key="co-test-key",
                           messages=[{"role": "user", "content": PROMPT}], max_tokens=8, seed=5)
    assert r.choices[0].message.content.strip() and r.choices[0].finish_reason in ("stop", "length")
    assert 0 < r.usage.completion_tokens <= 8 and r.usage.prompt_tokens > 5
    calls = litellm.completion(model="cohere_chat/command-r-plus", api_base=server.url + "/cohere/v2/chat",
                               api_key="co-test-key", tools=[WEATHER],
                               messages=[{"role": "user", "content": "What is the weather in Paris?"}])
    (call,) = calls.choices[0].message.tool_calls
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Paris"}


# ---- the pytest plugin ---------------------------------------------------------------------------

def test_the_pytest_plugin_binds_the_cohere_client(mockvendor: Any) -> None:
    mockvendor.rule(vendor="cohere", user={"regex": r"weather in (\w+)"},
                    tool_calls=[{"name": "get_weather", "arguments": {"city": "{{1}}"}}])
    co = cohere.ClientV2(api_key="co-test-key", base_url=mockvendor.base_url("cohere"))
    answer = co.chat(model="command-r-plus", tools=[WEATHER], messages=[{"role": "user", "content": "weather in Lyon"}])
    (call,) = answer.message.tool_calls
    assert answer.finish_reason == "TOOL_CALL" and json.loads(call.function.arguments) == {"city": "Lyon"}
    (record,) = mockvendor.requests()
    assert record["vendor"] == "cohere" and record["rule"]
