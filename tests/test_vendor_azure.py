"""Azure OpenAI over real sockets: ``openai.AzureOpenAI`` (deployments style, ``api-version``),
``openai.OpenAI`` on ``/openai/v1`` and LiteLLM's ``azure/`` provider against a real server."""

from __future__ import annotations

import json
import math
import os
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from .helpers import ServerProcess, assert_vendor_error, serving

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no price list from the internet

VERSION = "2024-10-21"
PROMPT = "one two three four five"
WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:pydantic._internal._generate_schema")


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with serving() as s:
        yield s


def azure(server: ServerProcess, **kw: Any) -> openai.AzureOpenAI:
    kw.setdefault("api_key", "azure-test-key")
    return openai.AzureOpenAI(azure_endpoint=server.url, api_version=kw.pop("api_version", VERSION), **kw)


def v1(server: ServerProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/openai/v1", api_key="azure-test-key")


def chat_url(server: ServerProcess, deployment: str, query: str = f"?api-version={VERSION}") -> str:
    return f"{server.url}/openai/deployments/{deployment}/chat/completions{query}"


SAFE = {name: {"filtered": False, "severity": "safe"} for name in ("hate", "self_harm", "sexual", "violence")}


# -- the real model ---------------------------------------------------------------------------------
def test_chat_plain_and_streamed_on_the_real_model(server: ServerProcess) -> None:
    client = azure(server)
    args: dict[str, Any] = {"messages": [{"role": "user", "content": "Write one short sentence about the sea."}],
                            "max_tokens": 12, "seed": 5}
    plain = client.chat.completions.create(model="my-prod-chat", **args)  # any deployment name: gpt-4o
    text = plain.choices[0].message.content
    assert text and plain.choices[0].finish_reason in ("stop", "length")
    assert plain.model == "gpt-4o-2024-08-06"  # Azure names the deployment's model snapshot
    assert 0 < plain.usage.completion_tokens <= 12  # type: ignore[union-attr]
    assert plain.model_extra["prompt_filter_results"] == [{"prompt_index": 0, "content_filter_results": SAFE}]
    assert plain.choices[0].model_extra["content_filter_results"] == SAFE

    chunks = list(client.chat.completions.create(model="my-prod-chat", stream=True, **args))
    first = chunks[0]  # Azure's prompt-filter chunk: no choices
    assert first.choices == [] and first.model_extra["prompt_filter_results"][0]["content_filter_results"] == SAFE
    pieces = [c.choices[0].delta.content or "" for c in chunks[1:]]
    assert "".join(pieces) == text  # same seed, same words
    content = [c for c in chunks[1:] if c.choices[0].delta.content]
    assert len(content) > 1 and all(c.choices[0].model_extra["content_filter_results"] == SAFE for c in content)
    assert chunks[-1].choices[0].finish_reason == plain.choices[0].finish_reason


def test_embeddings_deployment_and_v1(server: ServerProcess) -> None:
    texts = ["The cat sat on the mat.", "Stock prices fell sharply."]
    for client in (azure(server), v1(server)):
        out = client.embeddings.create(model="text-embedding-3-small", input=texts)
        assert [d.index for d in out.data] == [0, 1] and out.model == "text-embedding-3-small"
        for d in out.data:
            assert math.isclose(math.sqrt(sum(x * x for x in d.embedding)), 1.0, rel_tol=1e-3)
        assert out.data[0].embedding != out.data[1].embedding and out.usage.prompt_tokens > 4
    short = azure(server).embeddings.create(model="search-embeddings", input="hello", dimensions=8)
    assert len(short.data[0].embedding) == 8


# -- the echo model: the wire ---------------------------------------------------------------------
def test_v1_style_plain_and_streamed(server: ServerProcess) -> None:
    client = v1(server)
    plain = client.chat.completions.create(model="echo", messages=[{"role": "user", "content": PROMPT}])
    assert plain.choices[0].message.content == PROMPT
    assert plain.choices[0].model_extra["content_filter_results"] == SAFE
    stream = client.chat.completions.create(model="echo", messages=[{"role": "user", "content": PROMPT}],
                                            stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == PROMPT
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 5
    legacy = client.completions.create(model="echo", prompt=PROMPT, max_tokens=8)
    assert legacy.choices[0].text == PROMPT and legacy.choices[0].model_extra["content_filter_results"] == SAFE
    answer = client.responses.create(model="echo", input=PROMPT)
    assert answer.output_text == PROMPT and answer.status == "completed"
    with client.responses.stream(model="echo", input=PROMPT) as events:
        assert events.get_final_response().output_text == PROMPT


def test_tool_calls_plain_and_streamed(server: ServerProcess) -> None:
    client = azure(server)
    messages: list[Any] = [{"role": "user", "content": "What is the weather in Paris?"}]
    out = client.chat.completions.create(model="echo", messages=messages, tools=[WEATHER])
    (call,) = out.choices[0].message.tool_calls  # type: ignore[misc]
    assert out.choices[0].finish_reason == "tool_calls" and call.function.name == "get_weather"  # type: ignore[union-attr]
    assert json.loads(call.function.arguments)["city"]  # type: ignore[union-attr]
    with client.chat.completions.stream(model="echo", messages=messages, tools=[WEATHER]) as stream:
        final = stream.get_final_completion()
    (streamed,) = final.choices[0].message.tool_calls  # type: ignore[misc]
    assert streamed.function.name == "get_weather"  # type: ignore[union-attr]
    assert json.loads(streamed.function.arguments) == json.loads(call.function.arguments)  # type: ignore[union-attr]
    # The call answered: text again.
    messages += [out.choices[0].message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": call.id, "content": "Sunny, 21 C"}]
    after = client.chat.completions.create(model="echo", messages=messages, tools=[WEATHER])
    assert after.choices[0].finish_reason == "stop" and after.choices[0].message.content


def test_api_version_missing_or_unsupported(server: ServerProcess) -> None:
    body = {"messages": [{"role": "user", "content": PROMPT}]}
    r = httpx.post(chat_url(server, "echo", ""), json=body, headers={"api-key": "k"})
    err = assert_vendor_error("azure", r, 404)["error"]
    assert (err["code"], err["message"]) == ("404", "Resource not found")
    for bad in ("2019-01-01", "2024-13-01", "latest", "2999-01-01"):
        r = httpx.post(chat_url(server, "echo", f"?api-version={bad}"), json=body, headers={"api-key": "k"})
        err = assert_vendor_error("azure", r, 400, mentions="API version not supported")["error"]
        assert err["code"] == "BadRequest"
    with pytest.raises(openai.BadRequestError) as caught:
        azure(server, api_version="2020-01-01").chat.completions.create(
            model="echo", messages=[{"role": "user", "content": PROMPT}])
    assert caught.value.code == "BadRequest"
    # v1 needs none, and takes `preview`; a dated one is refused there.
    r = httpx.post(server.url + "/openai/v1/chat/completions?api-version=preview", json={**body, "model": "echo"})
    assert r.status_code == 200, r.text
    r = httpx.post(server.url + f"/openai/v1/chat/completions?api-version={VERSION}", json={**body, "model": "echo"})
    assert_vendor_error("azure", r, 400, mentions="API version not supported")


def test_refusal_fault_is_azures_content_filter(server: ServerProcess) -> None:
    client = azure(server)
    messages = [{"role": "user", "content": PROMPT}]
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="echo", messages=messages,  # type: ignore[arg-type]
                                       extra_headers={"x-mockvendor-fault": "refusal"})
    err = caught.value
    assert err.code == "content_filter" and err.param == "prompt"
    assert err.response.headers["x-mockvendor-fault"] == "refusal"
    inner = err.body["innererror"]  # type: ignore[index]
    assert inner["code"] == "ResponsibleAIPolicyViolation"
    assert inner["content_filter_result"]["violence"] == {"filtered": True, "severity": "high"}
    assert_vendor_error("azure", err.response, 400, fault="refusal")
    # Streamed: the answer is cut by the filter.
    chunks = list(client.chat.completions.create(model="echo", messages=messages, stream=True,  # type: ignore[arg-type]
                                                 extra_headers={"x-mockvendor-fault": "refusal"}))
    last = chunks[-1].choices[0]
    assert last.finish_reason == "content_filter"
    assert last.model_extra["content_filter_results"]["violence"]["filtered"] is True
    assert not "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def test_429_retry_hint_honoured_by_the_sdk(server: ServerProcess) -> None:
    test_id = "az-retry-" + uuid.uuid4().hex[:6]
    r = httpx.put(f"{server.url}/admin/scenarios/{test_id}",
                  json={"steps": [{"fault": "rate-limit", "retry_after_ms": 400}, "ok"]})
    assert r.status_code == 201, r.text
    client = azure(server, default_headers={"x-mockvendor-test-id": test_id})
    answer = client.chat.completions.create(model="echo", messages=[{"role": "user", "content": PROMPT}])
    assert answer.choices[0].message.content == PROMPT
    report = httpx.get(server.url + "/admin/retries", params={"test_id": test_id}).json()["callers"][f"test:{test_id}"]
    first, second = report["attempts"]
    assert [a["status"] for a in report["attempts"]] == [429, 200] and first["hint_given_ms"] == 400.0
    assert second["retry_of"] == first["id"] and second["waited_ms"] >= 400 and second["honoured"]
    # The 429 itself: Azure's code and every retry header.
    r = httpx.post(chat_url(server, "echo"), json={"messages": [{"role": "user", "content": PROMPT}]},
                   headers={"api-key": "k", "x-mockvendor-fault": "rate-limit", "x-mockvendor-retry-after-ms": "1500"})
    assert assert_vendor_error("azure", r, 429, fault="rate-limit")["error"]["code"] == "429"
    assert (r.headers["retry-after-ms"], r.headers["retry-after"]) == ("1500", "2")
    assert r.headers["x-ratelimit-remaining-requests"] == "0" and "x-ratelimit-remaining-tokens" in r.headers


# -- configured deployments and keys --------------------------------------------------------------
def test_configured_deployments_and_keys() -> None:
    env = {"MOCKVENDOR_AZURE_DEPLOYMENTS": "prod=gpt-4o-mini,echo", "MOCKVENDOR_API_KEYS": "azure-key"}
    with serving(**env) as s:
        messages: Any = [{"role": "user", "content": PROMPT}]
        with pytest.raises(openai.NotFoundError) as caught:
            azure(s, api_key="azure-key").chat.completions.create(model="gpt-4o", messages=messages)
        assert caught.value.code == "DeploymentNotFound"
        assert_vendor_error("azure", caught.value.response, 404, mentions="deployment for this resource does not")
        out = azure(s, api_key="azure-key").chat.completions.create(model="prod", messages=messages, max_tokens=4)
        assert out.model == "gpt-4o-mini-2024-07-18"
        # The key as an api-key header or as a Bearer token (Entra ID style); a wrong one is a 401.
        assert azure(s, api_key=None, azure_ad_token="azure-key").chat.completions.create(
            model="echo", messages=messages).choices[0].message.content == PROMPT
        with pytest.raises(openai.AuthenticationError) as denied:
            azure(s, api_key="wrong-key-123456").chat.completions.create(model="echo", messages=messages)
        assert denied.value.code == "401" and "wrong-key" not in denied.value.response.text
        assert_vendor_error("azure", denied.value.response, 401, mentions="Access denied")


# -- LiteLLM ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("stream", [False, True])
def test_litellm_azure_provider(server: ServerProcess, stream: bool) -> None:
    import litellm

    args: dict[str, Any] = {"model": "azure/echo", "api_base": server.url, "api_version": VERSION,
                            "api_key": "azure-test-key", "messages": [{"role": "user", "content": PROMPT}]}
    if not stream:
        out = litellm.completion(**args)
        assert out.choices[0].message.content == PROMPT  # type: ignore[union-attr]
        return
    pieces = [c.choices[0].delta.content or "" for c in litellm.completion(stream=True, **args) if c.choices]
    assert "".join(pieces) == PROMPT


def test_models_list_and_get_both_styles(server: ServerProcess) -> None:
    """Azure's "Models - List" / "Models - Get": the resource's base models with capabilities and
    lifecycle; the deployments style wants an api-version, the v1 style does not."""
    for client in (azure(server), v1(server)):
        listed = {m.id: m for m in client.models.list()}
        assert "gpt-4o" in listed and "text-embedding-3-small" in listed
        chat_caps = listed["gpt-4o"].model_extra["capabilities"]  # type: ignore[index]
        assert chat_caps["chat_completion"] and not chat_caps["embeddings"]
        assert listed["text-embedding-3-small"].model_extra["capabilities"]["embeddings"]  # type: ignore[index]
        one = client.models.retrieve("gpt-4o-mini")
        assert one.id == "gpt-4o-mini" and one.object == "model"
        assert one.model_extra["lifecycle_status"] == "generally-available"  # type: ignore[index]
    headers = {"api-key": "azure-test-key"}
    assert_vendor_error("azure", httpx.get(server.url + "/openai/models", headers=headers), 404)
    r = httpx.get(server.url + "/openai/models?api-version=2020-01-01", headers=headers)
    assert_vendor_error("azure", r, 400, mentions="API version not supported")
    r = httpx.get(server.url + f"/openai/models/no-such-model-xyz?api-version={VERSION}", headers=headers)
    assert_vendor_error("azure", r, 404)


def test_the_pytest_plugin_binds_azure_to_a_test(mockvendor: Any) -> None:
    mockvendor.rule(vendor="azure", user="status", text="All systems nominal.")
    client = openai.AzureOpenAI(azure_endpoint=mockvendor.base_url("azure"), api_version=VERSION, api_key="k",
                                max_retries=0)
    out = client.chat.completions.create(model="prod-chat", messages=[{"role": "user", "content": "status?"}])
    assert out.choices[0].message.content == "All systems nominal."
    (rec,) = mockvendor.requests()
    assert rec["vendor"] == "azure" and rec["rule"] and rec["route"] == "/openai/deployments/prod-chat/chat/completions"
