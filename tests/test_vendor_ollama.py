"""The Ollama-compatible API through the official ``ollama`` client (and LiteLLM's
``ollama_chat`` provider) against a real server over loopback, on the embedded model."""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import jsonschema
import ollama
import pytest
from pydantic import BaseModel

from mockvendor import Settings, create_app

from .conftest import asgi_client
from .helpers import ServerProcess, assert_vendor_error, serving

# LiteLLM fetches its model price list from the internet at import unless told not to.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
import litellm  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:pydantic._internal._generate_schema")

HELLO = [{"role": "user", "content": "Write one short sentence about the sea."}]
FIGURES = ("total_duration", "load_duration", "prompt_eval_count", "prompt_eval_duration", "eval_count",
           "eval_duration")


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with serving() as s:
        yield s


@pytest.fixture
def client(server: ServerProcess) -> ollama.Client:
    return ollama.Client(host=server.url)


def get_weather(city: str) -> str:
    """Get the current weather in a city.

    Args:
      city: The city's name
    """
    return f"Sunny in {city}"


def _last_line_figures(r: Any) -> None:
    assert r.done is True and r.done_reason in ("stop", "length")
    assert all(isinstance(r[k], int) for k in FIGURES), r
    assert r.prompt_eval_count > 5 and r.eval_count > 0
    assert r.total_duration >= r.prompt_eval_duration + r.eval_duration - 1 > 0
    datetime.fromisoformat(r.created_at.replace("Z", "+00:00"))


# -- chat and generate on the real model -----------------------------------------------------
def test_chat_plain(client: ollama.Client) -> None:
    r = client.chat(model="llama3.2", messages=HELLO, options={"num_predict": 12, "seed": 3})
    assert r.model == "llama3.2" and r.message.role == "assistant" and r.message.content.strip()
    assert not r.message.tool_calls
    _last_line_figures(r)
    assert r.eval_count <= 12


def test_chat_streamed_is_the_same_answer(client: ollama.Client) -> None:
    opts = {"num_predict": 12, "seed": 3}
    plain = client.chat(model="llama3.2:latest", messages=HELLO, options=opts)
    parts = list(client.chat(model="llama3.2:latest", messages=HELLO, options=opts, stream=True))
    assert len(parts) > 2
    assert all(p.done is False and p.done_reason is None and p.eval_count is None for p in parts[:-1])
    assert all(p.message.role == "assistant" for p in parts)
    _last_line_figures(parts[-1])
    assert "".join(p.message.content or "" for p in parts) == plain.message.content
    assert (parts[-1].eval_count, parts[-1].done_reason) == (plain.eval_count, plain.done_reason)


def test_ndjson_is_the_default(server: ServerProcess) -> None:
    body = {"model": "qwen2.5:7b", "messages": HELLO, "options": {"num_predict": 4}}
    r = httpx.post(server.url + "/api/chat", json=body, timeout=60)
    assert r.status_code == 200 and r.headers["content-type"] == "application/x-ndjson"
    lines = r.text.splitlines()
    assert len(lines) > 1 and all(lines) and r.text.endswith("\n")
    objs = [json.loads(line) for line in lines]
    assert [o["done"] for o in objs] == [False] * (len(objs) - 1) + [True]
    assert objs[-1]["done_reason"] == "length" and objs[-1]["eval_count"] == 4
    one = httpx.post(server.url + "/api/chat", json={**body, "stream": False}, timeout=60)
    assert one.headers["content-type"] == "application/json" and one.json()["done"] is True


def test_generate(client: ollama.Client) -> None:
    r = client.generate(model="llama3.2", prompt="The capital of France is", options={"num_predict": 6, "seed": 1})
    assert r.response.strip() and r.model == "llama3.2"
    _last_line_figures(r)
    parts = list(client.generate(model="llama3.2", prompt="The capital of France is",
                                 options={"num_predict": 6, "seed": 1}, stream=True))
    assert "".join(p.response for p in parts) == r.response
    assert parts[-1].done is True and parts[-1].eval_count == r.eval_count


def test_stop_is_honoured(client: ollama.Client) -> None:
    opts = {"num_predict": 12, "seed": 3}
    whole = client.chat(model="llama3.2", messages=HELLO, options=opts).message.content
    word = whole.split()[2]
    cut = client.chat(model="llama3.2", messages=HELLO, options={**opts, "stop": [word]})
    assert cut.message.content == whole[: whole.index(word)] and cut.done_reason == "stop"


def test_num_predict_is_honoured(client: ollama.Client) -> None:
    r = client.chat(model="llama3.2", messages=HELLO, options={"num_predict": 3})
    assert r.done_reason == "length" and r.eval_count == 3
    # Any num_predict is taken, as on Ollama (the answer ends by itself or at the context's end).
    big = client.chat(model="smollm2:135m", messages=HELLO, options={"num_predict": 10**9, "seed": 3})
    assert big.done_reason == "stop" and big.message.content.strip()


async def test_async_client_streams(server: ServerProcess) -> None:
    aclient = ollama.AsyncClient(host=server.url)
    parts = [p async for p in await aclient.chat(model="llama3.2", messages=HELLO, stream=True,
                                                 options={"num_predict": 8, "seed": 2})]
    assert parts[-1].done is True and parts[-1].eval_count == 8
    assert "".join(p.message.content for p in parts).strip()


# -- tools and structured output -----------------------------------------------------------
def test_tool_call_and_its_result(client: ollama.Client) -> None:
    ask = [{"role": "user", "content": "What is the weather in Paris?"}]
    r = client.chat(model="llama3.2", messages=ask, tools=[get_weather], options={"num_predict": 16})
    (call,) = r.message.tool_calls
    assert call.function.name == "get_weather"
    assert isinstance(call.function.arguments, dict) and isinstance(call.function.arguments["city"], str)
    assert r.done_reason == "stop"
    # The result goes back as a tool turn: the model answers in words.
    turns = [*ask, r.message, {"role": "tool", "content": get_weather(**call.function.arguments),
                               "tool_name": "get_weather"}]
    after = client.chat(model="llama3.2", messages=turns, tools=[get_weather], options={"num_predict": 8})
    assert not after.message.tool_calls and after.message.content.strip()


def test_tool_call_streamed(client: ollama.Client) -> None:
    ask = [{"role": "user", "content": "What is the weather in Oslo?"}]
    parts = list(client.chat(model="llama3.2", messages=ask, tools=[get_weather], stream=True))
    calls = [c for p in parts for c in (p.message.tool_calls or [])]
    assert [c.function.name for c in calls] == ["get_weather"] and "city" in calls[0].function.arguments
    assert parts[-1].done is True and not parts[-1].message.tool_calls


class City(BaseModel):
    name: str
    country: str
    population: int


def test_format_json_schema(client: ollama.Client) -> None:
    schema = City.model_json_schema()
    ask = [{"role": "user", "content": "Describe Paris as JSON."}]
    r = client.chat(model="llama3.2", messages=ask, format=schema, options={"num_predict": 96, "seed": 4})
    data = json.loads(r.message.content)
    jsonschema.validate(data, schema)
    City.model_validate_json(r.message.content)


def test_format_json(client: ollama.Client) -> None:
    r = client.generate(model="llama3.2", prompt="Give me a JSON object about a cat.", format="json",
                        options={"num_predict": 200, "seed": 3})
    assert r.done_reason == "stop", r.response
    assert isinstance(json.loads(r.response), dict)


# -- embeddings ------------------------------------------------------------------------------
def test_embed(client: ollama.Client) -> None:
    r = client.embed(model="nomic-embed-text", input=["the sea", "the mountains", "the sea"])
    a, b, c = r.embeddings
    assert len(a) == len(b) > 8 and a == c and a != b
    assert all(math.isclose(sum(x * x for x in v), 1.0, rel_tol=1e-6) for v in r.embeddings)
    assert r.model == "nomic-embed-text" and r.prompt_eval_count > 0 and r.total_duration > 0
    short = client.embed(model="nomic-embed-text", input="the sea", dimensions=8).embeddings[0]
    assert len(short) == 8 and math.isclose(sum(x * x for x in short), 1.0, rel_tol=1e-6)
    legacy = client.embeddings(model="nomic-embed-text", prompt="the sea")
    assert list(legacy.embedding) == a


# -- model routes ----------------------------------------------------------------------------
def test_tags_show_ps_version(client: ollama.Client, server: ServerProcess) -> None:
    listed = [m.model for m in client.list().models]
    assert {"llama3.2:latest", "qwen2.5:latest", "nomic-embed-text:latest", "smollm2:latest"} <= set(listed)
    assert "llama3.2" not in listed and len(listed) == len(set(listed))
    shown = client.show("llama3.2")
    assert "tools" in shown.capabilities and shown.details.family == "llama"
    assert shown.modelinfo["llama.context_length"] == 131072
    assert client.show("nomic-embed-text").capabilities == ["embedding"]
    assert client.show("smollm2:latest").modelinfo["smollm.context_length"] > 0  # a configured name, tagged
    assert "smollm2:latest" in [m.model for m in client.ps().models]
    v = httpx.get(server.url + "/api/version").json()["version"]
    assert [int(x) for x in v.split(".")] >= [0, 5, 0]
    with pytest.raises(ollama.ResponseError) as e:
        client.show("no-such-model")
    assert e.value.status_code == 404 and "no-such-model" in e.value.error


def test_pull_a_model_already_here(client: ollama.Client) -> None:
    assert client.pull("llama3.2").status == "success"
    steps = [p.status for p in client.pull("qwen2.5:7b", stream=True)]
    assert steps[0] == "pulling manifest" and steps[-1] == "success"
    with pytest.raises(ollama.ResponseError) as e:
        client.pull("no-such-model")
    assert e.value.status_code == 404 and "file does not exist" in e.value.error


def test_think_gives_the_models_thinking_first(client: ollama.Client) -> None:
    args: dict[str, Any] = {"model": "deepseek-r1:8b", "messages": HELLO, "think": "low",
                            "options": {"num_predict": 24, "seed": 4}}
    r = client.chat(**args)
    assert r.message.thinking and r.message.content and r.eval_count <= 24
    pieces = list(client.chat(stream=True, **args))
    thought = "".join(p.message.thinking or "" for p in pieces)
    said = "".join(p.message.content or "" for p in pieces)
    assert thought.strip() == r.message.thinking.strip() and said == r.message.content  # same seed, same words
    first_said = next(i for i, p in enumerate(pieces) if p.message.content)
    assert all(not p.message.thinking for p in pieces[first_said:])  # the thinking comes first
    g = client.generate(model="deepseek-r1:8b", prompt="Why is the sky blue?", think=True,
                        options={"num_predict": 24, "seed": 4})
    assert g.thinking and g.response
    plain = client.chat(model="llama3.2", messages=HELLO, options={"num_predict": 4})
    assert plain.message.thinking is None


# -- errors ----------------------------------------------------------------------------------
def test_unknown_model_is_404(client: ollama.Client) -> None:
    with pytest.raises(ollama.ResponseError) as e:
        client.chat(model="no-such-model:7b", messages=HELLO)
    assert e.value.status_code == 404
    assert e.value.error == 'model "no-such-model:7b" not found, try pulling it first'
    with pytest.raises(ollama.ResponseError) as e:  # the streamed call fails before its first line
        list(client.chat(model="no-such-model", messages=HELLO, stream=True))
    assert e.value.status_code == 404


@pytest.mark.parametrize(("body", "names"), [
    ({"model": "llama3.2", "messages": "hello"}, "ChatRequest.messages"),
    ({"model": "llama3.2", "messages": HELLO, "options": {"temperature": "hot"}}, "options.temperature"),
    ({"model": "llama3.2", "messages": HELLO, "format": "yaml"}, "format"),
    ({"model": "", "messages": HELLO}, "model is required"),
    ({"messages": HELLO}, "model is required"),
    ({"model": "llama3.2", "messages": [{"role": "wizard", "content": "hi"}]}, "messages.role"),
    ({"model": "llama3.2", "messages": [{"role": "user", "content": " "}]}, "empty"),
])
def test_bad_input_is_400_naming_it(server: ServerProcess, body: dict[str, Any], names: str) -> None:
    r = httpx.post(server.url + "/api/chat", json=body)
    assert_vendor_error("ollama", r, 400, mentions=names)


def test_bad_option_raises_response_error_400(client: ollama.Client) -> None:
    with pytest.raises(ollama.ResponseError) as e:
        client.chat(model="llama3.2", messages=HELLO, options={"num_predict": "many"})
    assert e.value.status_code == 400
    assert e.value.error == ("json: cannot unmarshal string into Go struct field ChatRequest.options.num_predict "
                             "of type int")


@pytest.mark.parametrize("status", [500, 503, 429])
def test_simulated_fault_raises_response_error(server: ServerProcess, status: int) -> None:
    faulty = ollama.Client(host=server.url, headers={"x-mockvendor-fault": str(status)})
    with pytest.raises(ollama.ResponseError) as e:
        faulty.chat(model="llama3.2", messages=HELLO, stream=False)
    assert e.value.status_code == status and e.value.error.startswith("Simulated")
    r = httpx.post(server.url + "/api/generate", json={"model": "llama3.2", "prompt": "hi"},
                   headers={"x-mockvendor-fault": str(status)})
    assert_vendor_error("ollama", r, status, fault="rate-limit" if status == 429 else f"error-{status}")


def test_mid_stream_fault_is_an_error_line(server: ServerProcess) -> None:
    faulty = ollama.Client(host=server.url, headers={"x-mockvendor-fault": "503",
                                                     "x-mockvendor-fault-after-chunks": "2"})
    got: list[str] = []
    with pytest.raises(ollama.ResponseError) as e:
        for part in faulty.chat(model="llama3.2", messages=HELLO, stream=True, options={"num_predict": 16}):
            got.append(part.message.content)
    assert len(got) == 2 and all(got)
    assert "Simulated" in e.value.error and e.value.status_code == -1  # in-band: the client has no status
    raw = httpx.post(server.url + "/api/chat", json={"model": "llama3.2", "messages": HELLO},
                     headers={"x-mockvendor-fault-after-chunks": "1"}, timeout=60)
    assert raw.status_code == 200 and raw.headers["x-mockvendor-fault"] == "stream-error-529"
    last = json.loads(raw.text.splitlines()[-1])
    assert set(last) == {"error"} and last["error"]


async def test_keys_are_bearer_tokens_when_configured(app_factory: Any) -> None:
    app = app_factory(api_keys=["sk-local-1"], catalog_model="echo")
    async with asgi_client(app) as c:
        r = await c.post("/api/chat", json={"model": "llama3.2", "messages": HELLO, "stream": False})
        assert assert_vendor_error("ollama", r, 401)["error"] == "unauthorized"
        assert_vendor_error("ollama", await c.get("/api/tags"), 401)
        ok = await c.post("/api/chat", json={"model": "llama3.2", "messages": HELLO, "stream": False},
                          headers={"authorization": "Bearer sk-local-1"})
        assert ok.status_code == 200 and ok.json()["message"]["content"] == HELLO[0]["content"]
        assert "sk-local-1" not in r.text


async def test_env_error_rate_strikes_ollama_alone() -> None:
    env = {"MOCKVENDOR_OLLAMA_ERROR_RATE": "1", "MOCKVENDOR_OLLAMA_ERROR_STATUS": "503", "MOCKVENDOR_SEED": "1",
           "MOCKVENDOR_CATALOG_MODEL": "echo", "MOCKVENDOR_DATA_DIR": tempfile.mkdtemp(prefix="mockvendor-ollama-")}
    app = create_app(Settings.from_env(env=env, dotenv=None))
    chat = {"model": "llama3.2", "messages": HELLO, "stream": False}
    async with asgi_client(app) as c:
        for _ in range(3):
            assert_vendor_error("ollama", await c.post("/api/chat", json=chat), 503, fault="error-503")
        other = await c.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": HELLO})
        assert other.status_code == 200


# -- LiteLLM's ollama_chat provider ----------------------------------------------------------
def test_litellm_ollama_chat(server: ServerProcess) -> None:
    r = litellm.completion(model="ollama_chat/llama3.2", api_base=server.url, messages=HELLO, max_tokens=8,
                           seed=5)
    assert r.choices[0].message.content.strip() and r.choices[0].finish_reason in ("stop", "length")
    assert r.usage.completion_tokens <= 8 and r.usage.prompt_tokens > 5
    chunks = list(litellm.completion(model="ollama_chat/llama3.2", api_base=server.url, messages=HELLO,
                                     max_tokens=8, seed=5, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == r.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == r.choices[0].finish_reason


def test_the_pytest_plugin_binds_ollama_to_a_test(mockvendor: Any) -> None:
    mockvendor.rule(vendor="ollama", user="capital", text="Paris.")
    out = ollama.Client(host=mockvendor.base_url("ollama")).chat(
        model="llama3.2", messages=[{"role": "user", "content": "The capital of France?"}])
    assert out.message.content == "Paris." and out.done_reason == "stop"
    (rec,) = mockvendor.requests()
    assert rec["vendor"] == "ollama" and rec["rule"]
