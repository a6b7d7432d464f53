"""Token counting routes (Anthropic's count_tokens, Gemini's countTokens) through the official
SDKs against a real server on the embedded model: the count is the model's own, the same as the
input tokens of the same request answered, and bad requests get the vendor's own errors."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types

from .helpers import ServerProcess, serving

QUESTION = "What is the weather in Paris this week?"
WEATHER = {"name": "get_weather", "description": "Weather for a city",
           "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with serving(MOCKVENDOR_N_CTX="512") as s:
        yield s


def test_anthropic_count_is_the_input_of_the_answer(server: ServerProcess) -> None:
    client = anthropic.Anthropic(base_url=server.url, api_key="sk-ant-test", max_retries=0)
    for extra in ({}, {"system": "You are terse."}, {"tools": [WEATHER]}):
        args: dict[str, Any] = {"model": "claude-3-5-haiku-latest",
                                "messages": [{"role": "user", "content": QUESTION}], **extra}
        counted = client.messages.count_tokens(**args)
        assert isinstance(counted, anthropic.types.MessageTokensCount) and counted.input_tokens > 8
        answered = client.messages.create(max_tokens=4, **args)
        assert counted.input_tokens == answered.usage.input_tokens, extra
    longer = client.messages.count_tokens(model="claude-3-5-haiku-latest",
                                          messages=[{"role": "user", "content": QUESTION + " And in Rome?"}])
    assert longer.input_tokens > counted.input_tokens - 5  # more words, more tokens (system/tools aside)


def test_gemini_count_is_the_prompt_of_the_answer(server: ServerProcess) -> None:
    client = genai.Client(api_key="g-test", http_options=genai_types.HttpOptions(base_url=server.url))
    counted = client.models.count_tokens(model="gemini-2.0-flash", contents=QUESTION)
    answered = client.models.generate_content(model="gemini-2.0-flash", contents=QUESTION,
                                              config={"max_output_tokens": 4})
    assert counted.total_tokens and counted.total_tokens == answered.usage_metadata.prompt_token_count  # type: ignore[union-attr]
    # The full-request form counts the same request the same way.
    full = httpx.post(server.url + "/v1beta/models/gemini-2.0-flash:countTokens", timeout=30, json={
        "generateContentRequest": {"model": "models/gemini-2.0-flash",
                                   "contents": [{"role": "user", "parts": [{"text": QUESTION}]}]}})
    assert full.status_code == 200 and full.json()["totalTokens"] == counted.total_tokens
    assert full.json()["promptTokensDetails"] == [{"modality": "TEXT", "tokenCount": counted.total_tokens}]


def test_counting_is_logged_once_and_never_generates(server: ServerProcess) -> None:
    test_id = "count-" + uuid.uuid4().hex
    r = httpx.post(server.url + "/v1/messages/count_tokens", headers={"x-mockvendor-test-id": test_id}, timeout=30,
                   json={"model": "claude-3-5-haiku-latest", "messages": [{"role": "user", "content": QUESTION}]})
    assert r.status_code == 200 and set(r.json()) == {"input_tokens"} and r.headers["request-id"]
    (rec,) = httpx.get(server.url + "/admin/requests", params={"test_id": test_id}).json()["data"]
    assert rec["route"] == "/v1/messages/count_tokens" and rec["status"] == 200
    assert rec["tokens_in"] == r.json()["input_tokens"] and not rec["tokens_out"]


def test_bad_counts_get_each_vendors_error(server: ServerProcess) -> None:
    client = anthropic.Anthropic(base_url=server.url, api_key="sk-ant-test", max_retries=0)
    with pytest.raises(anthropic.NotFoundError):
        client.messages.count_tokens(model="no-such-model", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(anthropic.BadRequestError, match="messages"):
        client.messages.count_tokens(model="claude-3-5-haiku-latest", messages=[])
    with pytest.raises(anthropic.BadRequestError, match="context length"):  # beyond MOCKVENDOR_N_CTX=512
        client.messages.count_tokens(model="smollm2",
                                     messages=[{"role": "user", "content": "word " * 2000}])
    gclient = genai.Client(api_key="g-test", http_options=genai_types.HttpOptions(base_url=server.url))
    with pytest.raises(genai_errors.ClientError) as err:
        gclient.models.count_tokens(model="no-such-model", contents="hi")
    assert err.value.code == 404
    r = httpx.post(server.url + "/v1beta/models/gemini-2.0-flash:countTokens", json={"contents": "x"}, timeout=30)
    assert r.status_code == 400 and r.json()["error"]["status"] == "INVALID_ARGUMENT"
