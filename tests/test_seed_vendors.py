"""The seed vendors on the real embedded model, in process."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mockvendor.engines.llamacpp import bundled_model_path


@pytest.fixture(scope="module")
def reference_llama() -> Any:
    """llama-cpp-python's own high-level API on the same GGUF: an independent reference."""
    from llama_cpp import Llama

    llm = Llama(str(bundled_model_path()), n_ctx=2048, n_threads=2, verbose=False)
    yield llm
    llm.close()


async def test_vendor_a_answers_sensibly(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/vendor-a/messages",
        json={"prompt": "What is the capital of France? Answer in one word.", "temperature": 0, "max_tokens": 16},
    )
    assert r.status_code == 200, r.text
    assert "paris" in r.json()["outputText"].lower()


async def test_token_counts_match_the_models_tokenizer(client: httpx.AsyncClient, reference_llama: Any) -> None:
    messages = [
        {"role": "system", "content": "You are a helpful assistant"},
        {"role": "user", "content": "Name three colours."},
    ]
    r = await client.post(
        "/vendor-a/messages",
        json={"prompt": messages[1]["content"], "system_prompt": messages[0]["content"], "temperature": 0,
              "max_tokens": 24},
    )
    ours = r.json()
    ref = reference_llama.create_chat_completion(messages=messages, temperature=0, max_tokens=24)
    assert ours["tokensIn"] == ref["usage"]["prompt_tokens"]
    assert ours["tokensOut"] == ref["usage"]["completion_tokens"]
    assert ours["outputText"] == ref["choices"][0]["message"]["content"]


async def test_same_seed_same_text(client: httpx.AsyncClient) -> None:
    body = {"prompt": "Once upon a time", "seed": 1234, "temperature": 1.0}
    first = (await client.post("/vendor-b/messages", json=body)).json()
    second = (await client.post("/vendor-b/messages", json=body)).json()
    other = (await client.post("/vendor-b/messages", json={**body, "seed": 4321})).json()
    assert first == second
    assert first["choices"][0]["message"]["content"] != other["choices"][0]["message"]["content"]


async def test_max_tokens_bounds_output(client: httpx.AsyncClient) -> None:
    r = await client.post("/vendor-b/messages", json={"prompt": "The history of Rome", "max_tokens": 5, "seed": 2})
    assert r.json()["usage"]["output_tokens"] <= 5


async def test_prompt_beyond_context_window_is_400(client: httpx.AsyncClient) -> None:
    from .helpers import assert_vendor_error

    r = await client.post("/vendor-a/messages", json={"prompt": "word " * 5000})
    assert_vendor_error("a", r, 400, mentions="context length")


async def test_vendor_b_stream_matches_plain(client: httpx.AsyncClient) -> None:
    import json

    body = {"prompt": "The sea was", "seed": 77, "max_tokens": 20}
    plain = (await client.post("/vendor-b/messages", json=body)).json()
    async with client.stream("POST", "/vendor-b/messages", json={**body, "stream": True}) as r:
        lines = [ln async for ln in r.aiter_lines() if ln.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    events = [json.loads(ln[6:]) for ln in lines[:-1]]
    text = "".join(e["choices"][0]["delta"].get("content", "") for e in events)
    assert text == plain["choices"][0]["message"]["content"]
    assert events[-1]["usage"] == plain["usage"]


async def test_request_log_records_each_request_once(client: httpx.AsyncClient) -> None:
    r = await client.post("/vendor-e/messages", json={"prompt": "log me"}, headers={"x-mockvendor-test-id": "once"})
    rid = r.headers["x-request-id"]
    listed = (await client.get("/admin/requests", params={"test_id": "once"})).json()["data"]
    assert [rec["id"] for rec in listed] == [rid]
    rec = (await client.get(f"/admin/requests/{rid}")).json()
    assert rec["vendor"] == "e" and rec["status"] == 200 and rec["tokens_in"] == 2
