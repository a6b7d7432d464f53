"""The upstream engine against a real OpenAI-compatible server on loopback: a second
mockvendor process. The front server is configured by a TOML file, as a user would:
model names map to engines, and vendors A and B map to model names."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockvendor.models import ModelRegistry
from mockvendor.settings import Settings

from .helpers import ServerProcess, assert_vendor_error, free_port

COMMON_ENV = {"MOCKVENDOR_FAULTS": "off", "MOCKVENDOR_SEED": "7", "MOCKVENDOR_N_THREADS": "1", "OPENAI_API_KEY": ""}


def front_config(upstream_url: str, dead_url: str) -> str:
    return f"""
vendor_a_model = "big"
vendor_b_model = "big"

[models.big]
engine = "upstream"
base_url = "{upstream_url}/v1"
model = "smollm2"

[models.ghost]
engine = "upstream"
base_url = "{upstream_url}/v1"
model = "no-such-model"

[models.down]
engine = "upstream"
base_url = "{dead_url}/v1"
"""


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(upstream URL, front URL): two real server processes."""
    upstream = ServerProcess(env=COMMON_ENV).wait_ready()
    config = tmp_path_factory.mktemp("front") / "mockvendor.toml"
    config.write_text(front_config(upstream.url, f"http://127.0.0.1:{free_port()}"))
    try:
        front = ServerProcess(env={**COMMON_ENV, "MOCKVENDOR_CONFIG": str(config)}).wait_ready()
    except BaseException:
        upstream.stop()
        raise
    yield upstream.url, front.url
    front.stop()
    upstream.stop()


def sse_events(resp: httpx.Response) -> list[Any]:
    return [json.loads(line[6:]) for line in resp.iter_lines() if line.startswith("data: {")]


def test_the_config_file_maps_models_to_engines_and_vendors_to_models(tmp_path: Path) -> None:
    config = tmp_path / "mockvendor.toml"
    config.write_text(front_config("http://127.0.0.1:1", "http://127.0.0.1:2"))
    settings = Settings.from_env(env={"MOCKVENDOR_CONFIG": str(config)}, dotenv=None)
    assert (settings.vendor_a_model, settings.vendor_b_model) == ("big", "big")
    registry = ModelRegistry(settings)
    big = registry.resolve("big")
    assert (big.name, big.base_url, big.model) == ("upstream", "http://127.0.0.1:1/v1", "smollm2")
    assert registry.resolve("smollm2").name == "llamacpp"  # the defaults stay
    assert registry.resolve("ghost") is not big  # other options, another engine


def test_vendor_a_through_the_upstream_answers_as_the_upstream_does(servers: tuple[str, str]) -> None:
    upstream, front = servers
    body = {"prompt": "Name a colour.", "system_prompt": "Be brief.", "seed": 3, "temperature": 0.8,
            "max_tokens": 20}
    direct = httpx.post(upstream + "/vendor-a/messages", json=body, timeout=120).json()
    via = httpx.post(front + "/vendor-a/messages", json=body, timeout=120)
    assert via.status_code == 200, via.text
    got = via.json()
    assert got["outputText"] == direct["outputText"] and got["outputText"]
    assert (got["tokensIn"], got["tokensOut"]) == (direct["tokensIn"], direct["tokensOut"])
    with httpx.stream("POST", front + "/vendor-a/messages", json={**body, "stream": True}, timeout=120) as r:
        assert r.status_code == 200
        events = sse_events(r)
    assert "".join(e.get("delta", "") for e in events[:-1]) == direct["outputText"]
    assert events[-1]["done"] is True and events[-1]["tokensOut"] == direct["tokensOut"]


def test_openai_and_anthropic_formats_through_the_upstream(servers: tuple[str, str]) -> None:
    upstream, front = servers
    chat = {"messages": [{"role": "user", "content": "Say something about rivers."}], "seed": 9,
            "temperature": 0.7, "max_tokens": 16}
    direct = httpx.post(upstream + "/v1/chat/completions", json={**chat, "model": "smollm2"}, timeout=120).json()
    text = direct["choices"][0]["message"]["content"]
    via = httpx.post(front + "/v1/chat/completions", json={**chat, "model": "big"}, timeout=120).json()
    assert via["choices"][0]["message"]["content"] == text
    assert via["usage"]["completion_tokens"] == direct["usage"]["completion_tokens"]
    with httpx.stream("POST", front + "/v1/chat/completions", json={**chat, "model": "big", "stream": True,
                                                                   "stream_options": {"include_usage": True}},
                      timeout=120) as r:
        events = sse_events(r)
    streamed = "".join(c["delta"].get("content") or "" for e in events for c in e["choices"])
    assert streamed == text
    assert events[-1]["usage"]["completion_tokens"] == direct["usage"]["completion_tokens"]
    anthropic = httpx.post(front + "/v1/messages", json={**chat, "model": "big"},
                           headers={"anthropic-version": "2023-06-01"}, timeout=120)
    assert anthropic.status_code == 200, anthropic.text
    assert "".join(b["text"] for b in anthropic.json()["content"]) == text


def test_vendor_b_raw_prompt_through_the_upstream(servers: tuple[str, str]) -> None:
    _, front = servers
    r = httpx.post(front + "/vendor-b/messages", json={"prompt": "Once upon a time", "max_tokens": 8, "seed": 1},
                   timeout=120)
    assert r.status_code == 200, r.text
    assert 1 <= r.json()["usage"]["output_tokens"] <= 8


def test_upstream_errors_keep_their_status_in_the_callers_format(servers: tuple[str, str]) -> None:
    _, front = servers
    chat = {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4}
    r = httpx.post(front + "/v1/chat/completions", json={**chat, "model": "ghost"}, timeout=120)
    assert_vendor_error("openai", r, 404, mentions="no-such-model")
    r = httpx.post(front + "/v1/chat/completions", json={**chat, "model": "down"}, timeout=120)
    assert_vendor_error("openai", r, 502, mentions="127.0.0.1")
    r = httpx.post(front + "/v1/messages", json={**chat, "model": "down"},
                   headers={"anthropic-version": "2023-06-01"}, timeout=120)
    assert_vendor_error("anthropic", r, 502, mentions="could not reach")


WEATHER = {"name": "get_weather", "description": "Current weather for a city",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
QUESTION = "What is the weather in Paris?"


def test_tools_go_to_the_upstream_and_its_calls_come_back_in_every_format(servers: tuple[str, str]) -> None:
    """The upstream decides (here a second mockvendor, by its rule); the front only translates:
    the same call in OpenAI, Anthropic and Gemini shapes, streamed or not, and the results go
    back up so the upstream answers in text."""
    upstream, front = servers
    oa_tools = [{"type": "function", "function": WEATHER}]
    ask = {"messages": [{"role": "user", "content": QUESTION}], "tools": oa_tools, "seed": 4, "max_tokens": 16}
    direct = httpx.post(upstream + "/v1/chat/completions", json={**ask, "model": "smollm2"}, timeout=120).json()
    (want,) = direct["choices"][0]["message"]["tool_calls"]
    via = httpx.post(front + "/v1/chat/completions", json={**ask, "model": "big"}, timeout=120).json()
    (got,) = via["choices"][0]["message"]["tool_calls"]
    assert via["choices"][0]["finish_reason"] == "tool_calls" and got == want  # the id too
    with httpx.stream("POST", front + "/v1/chat/completions", json={**ask, "model": "big", "stream": True},
                      timeout=120) as r:
        deltas = [tc for e in sse_events(r) for c in e["choices"] for tc in c["delta"].get("tool_calls") or []]
    assert deltas[0]["id"] == want["id"] and deltas[0]["function"]["name"] == "get_weather"
    assert "".join(d["function"].get("arguments") or "" for d in deltas) == want["function"]["arguments"]

    # Anthropic in front: a tool_use block, streamed as input_json_delta.
    an = {"model": "big", "max_tokens": 16, "messages": [{"role": "user", "content": QUESTION}],
          "tools": [{"name": WEATHER["name"], "description": WEATHER["description"],
                     "input_schema": WEATHER["parameters"]}], "seed": 4}
    r = httpx.post(front + "/v1/messages", json=an, timeout=120)
    (block,) = r.json()["content"]
    assert r.json()["stop_reason"] == "tool_use" and block["type"] == "tool_use"
    assert block["input"] == json.loads(want["function"]["arguments"]) and block["id"].startswith("toolu_")
    with httpx.stream("POST", front + "/v1/messages", json={**an, "stream": True}, timeout=120) as s:
        partial = "".join(e["delta"]["partial_json"] for e in sse_events(s)
                          if e.get("type") == "content_block_delta" and e["delta"]["type"] == "input_json_delta")
    assert json.loads(partial) == block["input"]
    # The result goes up as an OpenAI tool message; the upstream then answers in text.
    loop = {**an, "messages": [*an["messages"], {"role": "assistant", "content": [block]},
                               {"role": "user", "content": [{"type": "tool_result", "tool_use_id": block["id"],
                                                             "content": "sunny, 24C"}]}]}
    answer = httpx.post(front + "/v1/messages", json=loop, timeout=120).json()
    assert answer["stop_reason"] in ("end_turn", "max_tokens") and answer["content"][0]["text"]

    # Gemini before 3 sends no call ids: the front makes them up so the upstream can pair them.
    gem = {"contents": [{"role": "user", "parts": [{"text": QUESTION}]}],
           "tools": [{"functionDeclarations": [WEATHER]}], "generationConfig": {"seed": 4, "maxOutputTokens": 16}}
    g = httpx.post(front + "/v1beta/models/big:generateContent", json=gem, timeout=120).json()
    (part,) = g["candidates"][0]["content"]["parts"]
    assert part["functionCall"] == {"name": "get_weather", "args": json.loads(want["function"]["arguments"])}
    gem["contents"] += [{"role": "model", "parts": [part]},
                        {"role": "user", "parts": [{"functionResponse": {"name": "get_weather",
                                                                         "response": {"sky": "sunny"}}}]}]
    g2 = httpx.post(front + "/v1beta/models/big:generateContent", json=gem, timeout=120)
    assert g2.status_code == 200, g2.text
    assert g2.json()["candidates"][0]["content"]["parts"][0]["text"]


def test_embeddings_are_not_forwarded(servers: tuple[str, str]) -> None:
    _, front = servers
    r = httpx.post(front + "/v1/embeddings", json={"model": "big", "input": "x"}, timeout=60)
    err = assert_vendor_error("openai", r, 400, mentions="does not support embeddings")["error"]
    assert err["param"] == "model"
    assert httpx.post(front + "/v1/embeddings", json={"model": "text-embedding-3-small", "input": "x"},
                      timeout=60).status_code == 200
