"""Record against a second mockvendor process standing in for the vendors (with faults and
paced streams), replay with it stopped: bodies and stream chunks equal byte for byte, the
recorded timing kept, no key in the cassette, and a clear 400 for a request not recorded."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockvendor.pytest_plugin import MockVendor
from mockvendor.rules.cassette import write_rules_file
from mockvendor.rules.imports import read_document, rule_docs

from .helpers import assert_vendor_error, serving

CANARY = {"OPENAI_API_KEY": "sk-canary-openai-0123456789abcdef",
          "ANTHROPIC_API_KEY": "sk-ant-canary-0123456789abcdef",
          "GEMINI_API_KEY": "AIzaCanaryGemini0123456789abcdefghijklmno"}
CLIENT_KEY = "sk-client-canary-9876543210fedcba"


def calls(mv: MockVendor) -> list[tuple[str, str, dict[str, Any], dict[str, str]]]:
    """(name, url, body, headers) of the requests recorded and replayed."""
    oa, an, gm = mv.base_url("openai"), mv.base_url("anthropic"), mv.base_url("gemini")
    msgs = [{"role": "user", "content": "Tell me about the sea."}]
    pace = {"x-mockvendor-ttft-ms": "150", "x-mockvendor-token-ms": "40"}
    auth = {"authorization": f"Bearer {CLIENT_KEY}"}
    return [
        ("openai plain", oa + "/chat/completions", {"model": "gpt-4o", "messages": msgs}, auth),
        ("openai stream", oa + "/chat/completions", {"model": "gpt-4o", "messages": msgs, "stream": True},
         {**auth, **pace}),
        ("anthropic stream", an + "/v1/messages",
         {"model": "claude-sonnet-4-5", "max_tokens": 50, "messages": msgs, "stream": True},
         {"x-api-key": CLIENT_KEY, "anthropic-version": "2023-06-01", **pace}),
        ("gemini plain", gm + "/v1beta/models/gemini-2.5-flash:generateContent",
         {"contents": [{"role": "user", "parts": [{"text": "Tell me about the sea."}]}]}, {"x-goog-api-key": "AIza-c"}),
        ("openai 503", oa + "/chat/completions", {"model": "gpt-4o-mini", "messages": msgs},
         {**auth, "x-mockvendor-fault": "503"}),
        ("openai stream cut", oa + "/chat/completions",
         {"model": "gpt-4o-mini", "messages": msgs, "stream": True},
         {**auth, "x-mockvendor-fault": "stream-error", "x-mockvendor-fault-after-chunks": "2"}),
    ]


def send(url: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, bytes, list[bytes], float]:
    """Status, whole body, the pieces as they arrived, seconds taken."""
    t0 = time.perf_counter()
    pieces = []
    with httpx.stream("POST", url, json=body, headers=headers, timeout=60) as r:
        for piece in r.iter_raw():
            pieces.append(piece)
    return r.status_code, b"".join(pieces), pieces, time.perf_counter() - t0


def events(body: bytes) -> list[bytes]:
    return [e for e in body.replace(b"\r\n", b"\n").split(b"\n\n") if e]


@pytest.fixture(scope="module")
def upstream() -> Any:
    with serving(MOCKVENDOR_CATALOG_MODEL="echo", MOCKVENDOR_API_KEYS=",".join(CANARY.values())) as s:
        yield s


def test_fast_replay_and_new_episodes(mockvendor: MockVendor, upstream: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in CANARY.items():
        monkeypatch.setenv(k, v)
    tid = mockvendor.test_id
    mockvendor.http.put(f"/admin/cassettes/{tid}", json={"mode": "new_episodes", "upstream": upstream.url})
    name, url, body, headers = calls(mockvendor)[1]
    first = send(url, body, headers)
    again = send(url, body, headers)  # replayed from what new_episodes just recorded, at once
    assert mockvendor.http.get(f"/admin/cassettes/{tid}").json()["recorded"] == 1
    fixtures = mockvendor.http.get(f"/admin/cassettes/{tid}").json()["rules"]
    mockvendor.http.put(f"/admin/cassettes/{tid}", json={"mode": "none", "timing": "fast", "rules": fixtures})
    fast = send(url, body, headers)
    assert first[1] == again[1] == fast[1]
    assert fast[3] < first[3] / 2


def test_record_then_replay_offline(mockvendor: MockVendor, upstream: Any, monkeypatch: pytest.MonkeyPatch,
                                    tmp_path: Path) -> None:
    for k, v in CANARY.items():
        monkeypatch.setenv(k, v)  # the recording server's keys for the vendors
    put = mockvendor.http.put(f"/admin/cassettes/{mockvendor.test_id}",
                              json={"mode": "all", "upstream": upstream.url})
    assert put.status_code == 201, put.text
    recorded = {name: send(url, body, headers) for name, url, body, headers in calls(mockvendor)}
    assert recorded["openai plain"][0] == 200 and recorded["openai 503"][0] == 503
    assert b"error" in recorded["openai stream cut"][1]
    assert len(events(recorded["openai stream"][1])) > 3
    doc = mockvendor.http.get(f"/admin/cassettes/{mockvendor.test_id}").json()
    assert doc["recorded"] == 6
    cassette = tmp_path / "cassettes" / "sea.yaml"
    write_rules_file(str(cassette), {"rules": doc["rules"]})
    text = cassette.read_text()
    for secret in [*CANARY.values(), CLIENT_KEY, "AIza-c"]:
        assert secret not in text  # canary: no key in any fixture file
    assert [r["rule"] for r in mockvendor.requests()] == ["record"] * 6

    upstream.stop()  # the vendor is gone: everything comes from the cassette
    with pytest.raises(httpx.HTTPError):
        httpx.get(upstream.url + "/healthz", timeout=1)
    fixtures = rule_docs(read_document(str(cassette)))
    put = mockvendor.http.put(f"/admin/cassettes/{mockvendor.test_id}",
                              json={"mode": "none", "timing": "recorded", "rules": fixtures})
    assert put.status_code == 201 and put.json()["replays"] and not put.json()["records"]
    for name, url, body, headers in calls(mockvendor):
        status, whole, _, took = send(url, body, headers)
        assert status == recorded[name][0], name
        assert whole == recorded[name][1], name  # byte for byte
        assert events(whole) == events(recorded[name][1]), name  # the same chunks
        if name in ("openai stream", "anthropic stream"):
            assert abs(took - recorded[name][3]) <= 0.1 * recorded[name][3] + 0.02, (name, took, recorded[name][3])

    # A request that was not recorded: a 400 in the vendor's shape naming the closest recording.
    r = httpx.post(mockvendor.base_url("openai") + "/chat/completions",
                   json={"model": "gpt-4o", "messages": [{"role": "user", "content": "Tell me about the moon."}]})
    body = assert_vendor_error("openai", r, 400, mentions="no recording matches")
    assert "rec-1-" in body["error"]["message"] and "messages[0].content" in body["error"]["message"]
    assert "the moon" in body["error"]["message"]


async def test_the_session_cassette_from_the_settings(app_factory: Any, tmp_path: Path) -> None:
    from mockvendor.rules.cassette import fingerprint_of
    from mockvendor.types import GenerateRequest, Message

    req = GenerateRequest("gpt-4o", [Message("user", "hi")])
    fp, _ = fingerprint_of("openai", "/v1/chat/completions", req)
    body = '{"recorded": true}'
    path = tmp_path / "session.json"
    write_rules_file(str(path), {"rules": [{"name": "r", "match": {"fingerprint": fp}, "answer": {
        "raw": {"status": 200, "headers": {"content-type": "application/json"}, "ms": 5, "body": body}}}]})
    app = app_factory(cassette=str(path), record_mode="none", replay_timing="fast", catalog_model="echo")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        chat = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
        r = await c.post("/v1/chat/completions", json=chat)
        assert r.content == body.encode()
        miss = await c.post("/v1/messages", json={"model": "claude-sonnet-4-5", "max_tokens": 5,
                                                  "messages": [{"role": "user", "content": "hi"}]})
        assert_vendor_error("anthropic", miss, 400, mentions="vendor")


async def test_a_rule_on_vendor_o(app_factory: Any) -> None:
    app = app_factory(catalog_model="echo")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        await c.post("/admin/rules", json={"match": {"vendor": "o"}, "answer": "from a rule"})
        r = await c.post("/vendor-o/messages", json={"prompt": "hi", "model": "gpt-4o"})
        assert r.json()["choices"][0]["message"]["content"] == "from a rule"
        s = await c.post("/vendor-o/messages", json={"prompt": "hi", "model": "gpt-4o", "stream": True})
        assert "from " in s.text and s.text.rstrip().endswith("[DONE]")
