"""The official OpenAI and Anthropic SDKs against a real server process: a stream cut by
the vendor's in-band error raises the SDK's own error mid-stream, and a scripted "fail
twice then succeed" is survived by the SDK's default retries, with the retry telemetry
showing that both waits honoured the hints given."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import openai
import pytest

from .helpers import ServerProcess, running

PROMPT = "one two three four five six"


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    yield from running({"MOCKVENDOR_FAULTS": "off", "MOCKVENDOR_SEED": "3", "OPENAI_API_KEY": ""}, 180)


def openai_client(server: ServerProcess, test_id: str, **kw: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test-key",
                         default_headers={"x-mockvendor-test-id": test_id}, **kw)


def anthropic_client(server: ServerProcess, test_id: str, **kw: Any) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=server.url, api_key="sk-ant-test-key",
                               default_headers={"x-mockvendor-test-id": test_id}, **kw)


def script(server: ServerProcess, test_id: str, steps: list[Any]) -> None:
    r = httpx.put(f"{server.url}/admin/scenarios/{test_id}", json={"steps": steps})
    assert r.status_code == 201, r.text


def retries(server: ServerProcess, test_id: str) -> dict[str, Any]:
    r = httpx.get(server.url + "/admin/retries", params={"test_id": test_id})
    return r.json()["callers"][f"test:{test_id}"]  # type: ignore[no-any-return]


def test_openai_stream_cut_by_in_band_error(server: ServerProcess) -> None:
    client = openai_client(server, "oa-cut-" + uuid.uuid4().hex[:6])
    stream = client.chat.completions.create(
        model="echo", messages=[{"role": "user", "content": PROMPT}], stream=True,
        extra_headers={"x-mockvendor-fault": "503", "x-mockvendor-fault-after-chunks": "2"},
    )
    text = []
    with pytest.raises(openai.APIError) as caught:
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                text.append(chunk.choices[0].delta.content)
    assert "".join(text).split() == ["one", "two"]  # mid-stream: after the first two chunks
    assert not isinstance(caught.value, openai.APIStatusError)  # in-band, on an HTTP 200
    assert "Simulated" in caught.value.message


def test_anthropic_stream_cut_by_in_band_error(server: ServerProcess) -> None:
    client = anthropic_client(server, "an-cut-" + uuid.uuid4().hex[:6])
    text = []
    with pytest.raises(anthropic.APIStatusError) as caught:
        with client.messages.stream(
            model="echo", max_tokens=64, messages=[{"role": "user", "content": PROMPT}],
            extra_headers={"x-mockvendor-fault-after-chunks": "3"},
        ) as stream:
            for piece in stream.text_stream:
                text.append(piece)
    assert "".join(text).split() == ["one", "two", "three"]
    body = caught.value.body
    assert isinstance(body, dict) and body["error"]["type"] == "overloaded_error"


def test_openai_default_retries_survive_fail_twice_then_succeed(server: ServerProcess) -> None:
    test_id = "oa-retry-" + uuid.uuid4().hex[:6]
    script(server, test_id, [{"fault": "503", "retry_after_ms": 300},
                             {"fault": "rate-limit", "retry_after_ms": 600}, "ok"])
    answer = openai_client(server, test_id).chat.completions.create(
        model="echo", messages=[{"role": "user", "content": PROMPT}]
    )
    assert answer.choices[0].message.content == PROMPT
    assert_two_honoured_waits(retries(server, test_id), [300.0, 600.0], [503, 429])


def test_anthropic_default_retries_survive_fail_twice_then_succeed(server: ServerProcess) -> None:
    test_id = "an-retry-" + uuid.uuid4().hex[:6]
    script(server, test_id, [{"fault": "529", "retry_after_ms": 400},
                             {"fault": "500", "retry_after_ms": 200}, "ok"])
    answer = anthropic_client(server, test_id).messages.create(
        model="echo", max_tokens=64, messages=[{"role": "user", "content": PROMPT}]
    )
    assert answer.content[0].text == PROMPT  # type: ignore[union-attr]
    assert_two_honoured_waits(retries(server, test_id), [400.0, 200.0], [529, 500])


def assert_two_honoured_waits(report: dict[str, Any], hints: list[float], statuses: list[int]) -> None:
    first, second, third = report["attempts"]
    assert [a["status"] for a in report["attempts"]] == [*statuses, 200]
    assert [a["hint_given_ms"] for a in (first, second)] == hints
    for retry, retried, hint in ((second, first, hints[0]), (third, second, hints[1])):
        assert retry["retry_of"] == retried["id"] and retry["hint_ms"] == hint
        # A lower bound only: the SDK slept at least the hint before retrying.
        assert retry["waited_ms"] >= hint and retry["honoured"] and retry["violations"] == []
    assert report["summary"]["retries"] == 2 and report["summary"]["honoured"] == 2


def test_openai_does_not_retry_exhausted_quota(server: ServerProcess) -> None:
    test_id = "oa-quota-" + uuid.uuid4().hex[:6]
    script(server, test_id, ["quota", "ok"])
    with pytest.raises(openai.RateLimitError) as caught:
        openai_client(server, test_id).chat.completions.create(
            model="echo", messages=[{"role": "user", "content": PROMPT}]
        )
    assert caught.value.code == "insufficient_quota"
    report = retries(server, test_id)
    assert report["summary"]["attempts"] == 1 and report["summary"]["retried_not_retryable"] == 0
