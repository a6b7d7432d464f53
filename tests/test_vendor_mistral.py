"""Mistral's API under ``/mistral`` through the official ``mistralai`` SDK over real sockets:
chat.complete and chat.stream on the embedded model, tool calls with 9-character ids (streamed
whole), safe_prompt, embeddings, errors as the SDK's own classes (``HTTPValidationError`` for a
body that does not fit, ``SDKError`` otherwise; no retries unless configured), and LiteLLM's
``mistral`` provider."""

from __future__ import annotations

import json
import math
import os
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from mistralai.client import Mistral, errors, models
from mistralai.client.utils import BackoffStrategy, RetryConfig

from .helpers import ServerProcess, assert_vendor_error, serving

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # LiteLLM would fetch its price list

PROMPT = "Write one short sentence about the sea."
MISTRAL_ID = re.compile(r"^[a-zA-Z0-9]{9}$")
WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The current weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
CHAT = "/mistral/v1/chat/completions"


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with serving() as s:
        yield s


def client(server: ServerProcess, **kw: Any) -> Mistral:
    return Mistral(api_key="mistral-test-key", server_url=server.url + "/mistral", **kw)


def attempts(server: ServerProcess, test_id: str) -> list[dict[str, Any]]:
    r = httpx.get(server.url + "/admin/retries", params={"test_id": test_id})
    return r.json()["callers"][f"test:{test_id}"]["attempts"]  # type: ignore[no-any-return]


# ---- chat on the embedded model -----------------------------------------------------------------

def test_complete_and_stream_on_the_real_model(server: ServerProcess) -> None:
    mi = client(server)
    args: dict[str, Any] = {"model": "mistral-small-latest", "messages": [{"role": "user", "content": PROMPT}],
                            "max_tokens": 8, "random_seed": 11}
    answer = mi.chat.complete(**args)
    assert answer.object == "chat.completion" and answer.model == "mistral-small-latest" and answer.id
    (choice,) = answer.choices
    assert choice.finish_reason in ("stop", "length") and choice.message.content.strip()
    assert choice.message.tool_calls is None
    usage = answer.usage
    assert 0 < usage.completion_tokens <= 8 and usage.prompt_tokens > 5
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens

    events = list(mi.chat.stream(**args))
    chunks = [e.data for e in events]
    assert len({c.id for c in chunks}) == 1 and len(chunks) > 2
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == choice.message.content  # same seed, same words
    assert [c.choices[0].finish_reason for c in chunks[:-1]] == [None] * (len(chunks) - 1)
    assert chunks[-1].choices[0].finish_reason == choice.finish_reason
    assert chunks[-1].usage.completion_tokens == usage.completion_tokens
    assert all(c.usage is None for c in chunks[:-1])


def test_open_mistral_nemo_and_max_tokens(server: ServerProcess) -> None:
    mi = client(server)
    short = mi.chat.complete(model="open-mistral-nemo", messages=[{"role": "user", "content": "Count to fifty."}],
                             max_tokens=3, random_seed=1)
    assert short.choices[0].finish_reason == "length" and short.usage.completion_tokens == 3


def test_safe_prompt_is_prepended(server: ServerProcess) -> None:
    mi = client(server)
    hi = [{"role": "user", "content": "hello"}]
    plain = mi.chat.complete(model="echo", messages=hi)
    safe = mi.chat.complete(model="echo", messages=hi, safe_prompt=True)
    assert safe.usage.prompt_tokens > plain.usage.prompt_tokens + 20
    assert safe.choices[0].message.content == plain.choices[0].message.content == "hello"


def test_json_schema_response_format(server: ServerProcess) -> None:
    fmt = {"type": "json_schema", "json_schema": {"name": "person", "strict": True, "schema": {
        "type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"]}}}
    answer = client(server).chat.complete(model="mistral-large-latest", response_format=fmt, max_tokens=60,
                                          messages=[{"role": "user", "content": "A person, as JSON."}], random_seed=3)
    value = json.loads(answer.choices[0].message.content)
    assert isinstance(value["name"], str) and isinstance(value["age"], int)


# ---- tools --------------------------------------------------------------------------------------

def test_tool_calls_have_nine_character_ids_and_the_loop_closes(server: ServerProcess) -> None:
    mi = client(server)
    turns: list[Any] = [{"role": "user", "content": "What is the weather in Paris?"}]
    answer = mi.chat.complete(model="mistral-large-latest", messages=turns, tools=[WEATHER], tool_choice="any")
    choice = answer.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content == ""
    (call,) = choice.message.tool_calls
    assert MISTRAL_ID.match(call.id) and call.function.name == "get_weather" and call.index == 0
    assert json.loads(call.function.arguments) == {"city": "Paris"}

    turns += [choice.message, models.ToolMessage(content='{"temp_c": 21}', tool_call_id=call.id,
                                                 name="get_weather")]
    final = mi.chat.complete(model="mistral-large-latest", messages=turns, tools=[WEATHER], max_tokens=10,
                             random_seed=2)
    assert final.choices[0].finish_reason in ("stop", "length") and final.choices[0].message.content.strip()


def test_streamed_calls_come_whole(server: ServerProcess) -> None:
    chunks = [e.data for e in client(server).chat.stream(
        model="mistral-small-latest", tools=[WEATHER], tool_choice="required",
        messages=[{"role": "user", "content": "What is the weather in Paris and in Rome?"}])]
    calls = [tc for c in chunks for tc in (c.choices[0].delta.tool_calls or [])]
    assert [json.loads(tc.function.arguments) for tc in calls] == [{"city": "Paris"}, {"city": "Rome"}]
    assert [tc.index for tc in calls] == [0, 1] and all(MISTRAL_ID.match(tc.id) for tc in calls)
    assert chunks[-1].choices[0].finish_reason == "tool_calls" and chunks[-1].usage.completion_tokens > 0


def test_a_tool_call_id_mistral_would_refuse(server: ServerProcess) -> None:
    turns = [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "call_abc123", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
        {"role": "tool", "content": "sunny", "tool_call_id": "call_abc123"},
    ]
    with pytest.raises(errors.HTTPValidationError) as caught:
        client(server).chat.complete(model="echo", messages=turns, tools=[WEATHER])
    (item,) = caught.value.data.detail
    assert item.loc == ["body", "messages", 1, "assistant", "tool_calls", 0, "id"]
    assert item.msg == "Tool call id was call_abc123 but must be a-z, A-Z, 0-9, with a length of 9."
    assert item.type == "string_pattern_mismatch" and caught.value.status_code == 422


# ---- embeddings ---------------------------------------------------------------------------------

def test_embeddings(server: ServerProcess) -> None:
    texts = ["A cat sat on the mat.", "Stock markets fell sharply today."]
    r = client(server).embeddings.create(model="mistral-embed", inputs=texts)
    assert r.object == "list" and r.model == "mistral-embed" and [d.index for d in r.data] == [0, 1]
    for d in r.data:
        assert d.object == "embedding" and math.isclose(math.sqrt(sum(x * x for x in d.embedding)), 1.0,
                                                         rel_tol=1e-4)
    assert r.data[0].embedding != r.data[1].embedding and r.usage.prompt_tokens > 5
    cut = client(server).embeddings.create(model="mistral-embed", inputs="hi", output_dimension=64)
    assert len(cut.data[0].embedding) == 64


# ---- errors -------------------------------------------------------------------------------------

def test_errors_are_the_sdks_own_classes(server: ServerProcess) -> None:
    mi = client(server)
    hi = [{"role": "user", "content": "hi"}]
    with pytest.raises(errors.SDKError) as caught:
        mi.chat.complete(model="no-such-model-xyz", messages=hi)
    body = json.loads(caught.value.body)
    assert caught.value.status_code == 400 and body["type"] == "invalid_model" and body["code"] == "1500"
    assert "no-such-model-xyz" in body["message"]
    with pytest.raises(errors.SDKError) as caught:
        mi.embeddings.create(model="mistral-embed", inputs=["x"], output_dtype="int8")
    assert caught.value.status_code == 400 and "int8" in caught.value.body
    with pytest.raises(errors.HTTPValidationError) as invalid:  # a list content part mockvendor does not know
        list(mi.chat.stream(model="echo", messages=[{"role": "user", "content": [
            {"type": "input_audio", "input_audio": "abc"}]}]))
    (item,) = invalid.value.data.detail
    assert item.loc == ["body", "messages", 0, "user", "content", 0, "type"] and item.input == "input_audio"


@pytest.mark.parametrize(("body", "status", "mentions"), [
    ({"model": "echo"}, 422, "messages"),
    ({"model": "echo", "messages": [{"role": "bot", "content": "x"}]}, 422, "'bot'"),
    ({"model": "echo", "messages": [{"role": "user", "content": "x"}], "temperature": "hot"}, 422, "temperature"),
    ({"model": "echo", "messages": [{"role": "user", "content": "x"}], "tool_choice": "any"}, 400, "tool_choice"),
    ({"model": "echo", "messages": [{"role": "user", "content": "x"}], "n": 2}, 400, "n must be 1"),
    ({"model": "echo", "messages": [{"role": "user", "content": "x"}],
      "response_format": {"type": "json_schema"}}, 400, "json_schema"),
])
def test_bad_requests_in_mistrals_shape(server: ServerProcess, body: dict[str, Any], status: int,
                                        mentions: str) -> None:
    err = assert_vendor_error("mistral", httpx.post(server.url + CHAT, json=body), status, mentions=mentions)
    assert ("detail" in err) == (status == 422)
    if status == 422:
        assert err["detail"][0]["loc"][0] == "body" and err["type"] == "invalid_request_message_error"


def test_faults_and_retries(server: ServerProcess) -> None:
    hi = [{"role": "user", "content": "hi"}]
    test_id = "mi-429-" + uuid.uuid4().hex[:6]
    headers = {"x-mockvendor-test-id": test_id, "x-mockvendor-fault": "rate-limit",
               "x-mockvendor-retry-after-ms": "50"}
    with pytest.raises(errors.SDKError) as caught:
        client(server).chat.complete(model="echo", messages=hi, http_headers=headers)
    assert caught.value.status_code == 429 and json.loads(caught.value.body)["type"] == "rate_limited"
    assert len(attempts(server, test_id)) == 1  # the SDK retries only when told to

    test_id = "mi-retry-" + uuid.uuid4().hex[:6]
    r = httpx.put(f"{server.url}/admin/scenarios/{test_id}", json={"steps": [
        {"fault": "503", "retry_after_ms": 50}, "ok"]})
    assert r.status_code == 201, r.text
    retrying = client(server, retry_config=RetryConfig("backoff", BackoffStrategy(10, 100, 1.5, 5000), False))
    answer = retrying.chat.complete(model="echo", messages=[{"role": "user", "content": "one two"}],
                                    http_headers={"x-mockvendor-test-id": test_id})
    assert answer.choices[0].message.content == "one two"
    assert [a["status"] for a in attempts(server, test_id)] == [503, 200]


def test_an_in_band_stream_error_stops_the_sdk(server: ServerProcess) -> None:
    stream = client(server).chat.stream(model="echo", messages=[{"role": "user", "content": "one two three four"}],
                                        http_headers={"x-mockvendor-fault-after-chunks": "2"})
    text = []
    with pytest.raises(errors.MistralError) as caught:
        for event in stream:
            text.append(event.data.choices[0].delta.content or "")
    assert "".join(text).split() == ["one", "two"]
    assert "Simulated" in caught.value.body


def test_keys_are_checked_and_never_shown() -> None:
    secret = "mistral-secret-key-0123456789"
    with serving(MOCKVENDOR_API_KEYS=secret, MOCKVENDOR_CATALOG_MODEL="echo") as s:
        hi = [{"role": "user", "content": "hi"}]
        ok = Mistral(api_key=secret, server_url=s.url + "/mistral").chat.complete(model="mistral-small-latest",
                                                                                messages=hi)
        assert ok.choices[0].message.content == "hi"
        with pytest.raises(errors.SDKError) as caught:
            Mistral(api_key="mistral-wrong-key-98765", server_url=s.url + "/mistral").chat.complete(
                model="mistral-small-latest", messages=hi)
        assert caught.value.status_code == 401 and json.loads(caught.value.body)["message"] == "Unauthorized"
        logged = httpx.get(s.url + "/admin/requests").text + s.log_text()
    assert secret not in logged and "mistral-wrong-key-98765" not in logged


# ---- LiteLLM ------------------------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore::UserWarning:pydantic._internal._generate_schema")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_litellm_mistral_plain_and_streamed(server: ServerProcess) -> None:
    import litellm

    args: dict[str, Any] = {"model": "mistral/mistral-small-latest", "api_base": server.url + "/mistral/v1",
                            "api_key": "mistral-test-key", "messages": [{"role": "user", "content": PROMPT}],
                            "max_tokens": 8, "seed": 5}
    plain = litellm.completion(**args)
    assert plain.choices[0].message.content.strip() and plain.choices[0].finish_reason in ("stop", "length")
    assert 0 < plain.usage.completion_tokens <= 8
    chunks = list(litellm.completion(**args, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == plain.choices[0].message.content
    assert any(c.choices and c.choices[0].finish_reason in ("stop", "length") for c in chunks)


# ---- the pytest plugin ---------------------------------------------------------------------------

def test_the_pytest_plugin_binds_the_mistral_client(mockvendor: Any) -> None:
    mockvendor.rule(vendor="mistral", user="refund", text="Refund issued.")
    mi = Mistral(api_key="mistral-test-key", server_url=mockvendor.base_url("mistral"))
    answer = mi.chat.complete(model="mistral-small-latest", messages=[{"role": "user", "content": "refund please"}])
    assert answer.choices[0].message.content == "Refund issued."
    (record,) = mockvendor.requests()
    assert record["vendor"] == "mistral" and record["rule"]
