"""aimock fixture files and mockllm response files, read as rules, answer as they do in those tools."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import openai

from mockvendor.pytest_plugin import MockVendor
from mockvendor.rules.imports import read_document

from .helpers import assert_vendor_error

DATA = Path(__file__).parent / "data"
TOOLS = [{"type": "function", "function": {"name": n, "parameters": {"type": "object", "properties": {}}}}
         for n in ("everything_echo", "get_weather")]


def load(mv: MockVendor, name: str) -> None:
    r = mv.http.post("/admin/rules", params={"test_id": mv.test_id}, json=read_document(str(DATA / name)))
    assert r.status_code == 201, r.text


def ask(mv: MockVendor, content: str | list[dict[str, Any]], **kw: Any) -> Any:
    client = openai.OpenAI(base_url=mv.base_url("openai"), api_key="sk-test", max_retries=0)
    messages = [{"role": "user", "content": content}] if isinstance(content, str) else content
    return client.chat.completions.create(model=kw.pop("model", "gpt-4o-mini"), messages=messages, **kw)


def test_aimock_fixtures(mockvendor: MockVendor) -> None:
    load(mockvendor, "aimock_fixtures.json")
    first = ask(mockvendor, "please use the echo tool", tools=TOOLS)
    call = first.choices[0].message.tool_calls[0]
    assert (call.function.name, json.loads(call.function.arguments)) == ("everything_echo", {"message": "hi"})
    second = ask(mockvendor, [
        {"role": "user", "content": "please use the echo tool"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": call.id, "type": "function", "function": {"name": "everything_echo", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": call.id, "content": "Echo: hi"},
    ], tools=TOOLS)
    assert second.choices[0].message.content == "The echo tool answered: Echo: hi"
    nyc = ask(mockvendor, "what's the weather in NYC?", tools=TOOLS).choices[0].message.tool_calls[0]
    assert (nyc.function.name, json.loads(nyc.function.arguments)) == ("get_weather", {"city": "NYC"})
    assert [ask(mockvendor, "count").choices[0].message.content for _ in range(2)] == ["one", "two"]
    r = httpx.post(mockvendor.base_url("openai") + "/chat/completions",
                   json={"model": "gpt-4o", "messages": [{"role": "user", "content": "explode"}]})
    assert_vendor_error("openai", r, 503, fault="error-503")
    chunks = ask(mockvendor, "stream me", model="gpt-4o", stream=True)
    assert [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content] == [
        "abcd", "efgh", "ij"]


def test_mockllm_responses(mockvendor: MockVendor) -> None:
    load(mockvendor, "mockllm_responses.yml")
    # mockllm looks the prompt up lower-cased and stripped; anything else gets the default.
    assert ask(mockvendor, "  What colour is the sky?  ").choices[0].message.content.startswith("The sky is blue")
    assert ask(mockvendor, "tell me a joke").choices[0].message.content.startswith("Why don't programmers")
    assert ask(mockvendor, "who are you").choices[0].message.content == (
        "I don't know the answer to that. This is a mock response.")
    r = httpx.post(mockvendor.base_url("anthropic") + "/v1/messages", json={
        "model": "claude-sonnet-4-5", "max_tokens": 64, "messages": [{"role": "user", "content": "Tell me a joke"}]})
    assert r.json()["content"][0]["text"].startswith("Why don't programmers")


async def test_imported_files_as_the_rules_setting(app_factory: Any) -> None:
    app = app_factory(rules=str(DATA / "mockllm_responses.yml"), catalog_model="echo")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.post("/vendor-a/messages", json={"prompt": "tell me a joke"})
        assert r.json()["outputText"].startswith("Why don't programmers")
