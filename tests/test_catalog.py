"""Model names out of the box (mockvendor.catalog): the vendors' published ids and next
month's by family rule are answered by the embedded model with no configuration; each
name advertises its own context window and output limit; names no vendor would use keep
the vendor's 404; the config file can remove names or switch the family rule off."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import openai
import pytest
from google import genai
from google.genai import types as genai_types

from mockvendor.catalog import CARDS, VENDORS, Catalog

from .conftest import asgi_client
from .helpers import ServerProcess, assert_vendor_error, serving

PUBLISHED = ["gpt-5.1", "gpt-4o-2024-08-06", "gpt-3.5-turbo-instruct", "o3-mini", "claude-opus-4-1",
             "claude-3-5-haiku-latest", "gemini-2.5-flash", "gemini-2.0-flash-001", "text-embedding-3-small"]
NEXT_MONTH = ["gpt-5.5", "gpt-5.7", "claude-sonnet-5", "claude-opus-5-1", "gemini-3.5-flash", "o5"]
NOBODYS = ["no-such-model-xyz", "GPT-4o", "gpt", "claude", "llama-3-70b", "gpt-4o\nx"]


def test_the_catalog_is_well_formed() -> None:
    ids = [c.id for c in CARDS]
    assert len(ids) == len(set(ids)), "an id appears twice"
    cat = Catalog()
    for card in CARDS:
        assert card.vendor in VENDORS and card.context_window > 0 and card.max_output > 0
        assert card.alias_of is None or card.alias_of in cat.cards, card
        assert card.max_output <= card.context_window or card.kind == "embedding"


@pytest.mark.parametrize("name", PUBLISHED + NEXT_MONTH)
def test_vendor_names_have_cards(name: str) -> None:
    card = Catalog().get(name)
    assert card is not None and card.id == name
    assert (card.derived_from is None) == (name in PUBLISHED)


@pytest.mark.parametrize("name", NOBODYS)
def test_names_nobody_uses_have_none(name: str) -> None:
    assert Catalog().get(name) is None


def test_a_new_name_takes_its_nearest_relatives_figures() -> None:
    cat = Catalog()
    assert cat.get("claude-sonnet-5").derived_from == "claude-sonnet-4-5-20250929"
    assert cat.get("gpt-4o-mini-2025-01-01").context_window == 128_000
    assert cat.get("text-embedding-3-huge").kind == "embedding"
    assert cat.get("gemini-2.0-flash-exp").max_output == 8_192


def test_strict_mode_and_removed_names() -> None:
    strict = Catalog(families=False, remove=["gpt-4o"])
    assert strict.get("gpt-4o-mini") is not None
    assert strict.get("gpt-5.5") is None and strict.get("gpt-4o") is None
    assert Catalog(remove=["gpt-4o"]).get("gpt-4o") is None  # removed stays removed, family rule or not
    assert Catalog(enabled=False).get("gpt-4o-mini") is None


# ---- in-process, no model loaded: resolution, listing, errors ------------------------------

@pytest.mark.parametrize(("path", "body", "vendor"), [
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}]}, "openai"),
    ("/v1/messages", {"max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}, "anthropic"),
])
async def test_unknown_names_keep_each_vendors_404(app_factory: Any, path: str, body: dict[str, Any],
                                                   vendor: str) -> None:
    async with asgi_client(app_factory()) as c:
        r = await c.post(path, json={**body, "model": "no-such-model-xyz"})
    assert_vendor_error(vendor, r, 404, mentions="no-such-model-xyz")


async def test_gemini_unknown_name_is_not_found(app_factory: Any) -> None:
    async with asgi_client(app_factory()) as c:
        r = await c.post("/v1beta/models/no-such-model-xyz:generateContent", json={"contents": [{"parts": [
            {"text": "hi"}]}]})
    assert assert_vendor_error("gemini", r, 404, mentions="no-such-model-xyz")["error"]["status"] == "NOT_FOUND"


async def test_config_removes_names_and_turns_the_family_rule_off(app_factory: Any) -> None:
    app = app_factory(remove_models=["gpt-4o"], model_families=False, catalog_model="echo")
    chat = {"messages": [{"role": "user", "content": "hi"}]}
    async with asgi_client(app) as c:
        assert (await c.post("/v1/chat/completions", json={**chat, "model": "gpt-4o-mini"})).status_code == 200
        for gone in ("gpt-4o", "gpt-5.5"):
            assert_vendor_error("openai", await c.post("/v1/chat/completions", json={**chat, "model": gone}), 404)
        listed = [m["id"] for m in (await c.get("/v1/models")).json()["data"]]
    assert "gpt-4o-mini" in listed and "gpt-4o" not in listed


async def test_max_tokens_beyond_the_names_limit_is_the_vendors_400(app_factory: Any) -> None:
    app = app_factory(catalog_model="echo")
    async with asgi_client(app) as c:
        r = await c.post("/v1/chat/completions", json={
            "model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "max_completion_tokens": 20_000})
        err = assert_vendor_error("openai", r, 400, mentions="16384")["error"]
        assert err["param"] == "max_tokens" and err["type"] == "invalid_request_error"
        r = await c.post("/v1/messages", json={"model": "claude-3-5-haiku-latest", "max_tokens": 9_000,
                                               "messages": [{"role": "user", "content": "hi"}]})
        assert_vendor_error("anthropic", r, 400, mentions="8192")
        ok = await c.post("/v1/messages", json={"model": "claude-3-5-haiku-latest", "max_tokens": 8_192,
                                                "messages": [{"role": "user", "content": "hi"}]})
        assert ok.status_code == 200, ok.text


# ---- the real model: a name's own window, with a cut the embedded model can read -----------

def _conversation(turns: int, words: int) -> list[dict[str, str]]:
    msgs = [{"role": "system", "content": "You are a terse assistant."}]
    for i in range(turns):
        msgs.append({"role": "user", "content": f"Note {i}: " + "lorem ipsum dolor sit amet " * (words // 5)})
        msgs.append({"role": "assistant", "content": "Noted."})
    msgs.append({"role": "user", "content": "Say hello."})
    return msgs


async def test_a_20000_token_conversation_to_gpt_4o_is_answered(client: httpx.AsyncClient) -> None:
    r = await client.post("/v1/chat/completions", json={
        "model": "gpt-4o", "messages": _conversation(40, 500), "max_tokens": 8, "seed": 1})
    assert r.status_code == 200, r.text
    body = r.json()
    # The whole prompt is counted (the embedded model's own window is 2,048 tokens).
    assert body["usage"]["prompt_tokens"] > 20_000, body["usage"]
    assert body["model"] == "gpt-4o" and body["choices"][0]["message"]["content"]


async def test_a_long_raw_prompt_to_an_instruct_model_is_answered(client: httpx.AsyncClient) -> None:
    r = await client.post("/v1/completions", json={
        "model": "gpt-3.5-turbo-instruct", "prompt": "one two three four " * 800, "max_tokens": 4})
    assert r.status_code == 200, r.text
    assert 3_000 < r.json()["usage"]["prompt_tokens"] < 4_096


async def test_beyond_the_names_window_is_refused_as_openai_refuses(client: httpx.AsyncClient) -> None:
    r = await client.post("/v1/chat/completions", json={
        "model": "gpt-4o", "messages": [{"role": "user", "content": "word " * 200_000}], "max_tokens": 8})
    err = assert_vendor_error("openai", r, 400, mentions="128000")["error"]
    assert err["code"] == "context_length_exceeded" and err["param"] == "messages"


# ---- the official SDKs, over a real socket, with no configuration ---------------------------

@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with serving() as s:
        yield s


def test_current_names_on_the_three_sdks(server: ServerProcess) -> None:
    oa = openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)
    chat = oa.chat.completions.create(model="gpt-5.5", messages=[{"role": "user", "content": "Hi"}],
                                      max_completion_tokens=8, seed=3)
    assert chat.model == "gpt-5.5" and chat.choices[0].message.content and chat.usage.prompt_tokens > 0
    assert oa.models.retrieve("gpt-5.5").owned_by == "system"
    instruct = oa.completions.create(model="gpt-3.5-turbo-instruct", prompt="Once upon a time", max_tokens=6)
    assert instruct.choices[0].text and instruct.model == "gpt-3.5-turbo-instruct"

    an = anthropic.Anthropic(base_url=server.url, api_key="sk-ant-test", max_retries=0)
    msg = an.messages.create(model="claude-sonnet-5", max_tokens=8, messages=[{"role": "user", "content": "Hi"}])
    assert msg.model == "claude-sonnet-5" and msg.content[0].text
    info = an.models.retrieve("claude-opus-4-1")
    assert (info.max_input_tokens, info.max_tokens) == (200_000, 32_000)

    ge = genai.Client(api_key="AIza-test", http_options=genai_types.HttpOptions(base_url=server.url))
    answer = ge.models.generate_content(model="gemini-2.5-flash", contents="Hi",
                                        config=genai_types.GenerateContentConfig(max_output_tokens=8))
    assert answer.text
    model = ge.models.get(model="gemini-2.5-flash")
    assert (model.input_token_limit, model.output_token_limit) == (1_048_576, 65_536)
    with pytest.raises(openai.NotFoundError):
        oa.chat.completions.create(model="no-such-model-xyz", messages=[{"role": "user", "content": "Hi"}])
