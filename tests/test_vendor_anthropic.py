"""The Anthropic-compatible Messages API in-process, on the real embedded model."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from mockvendor.errors import Overloaded, RateLimited
from mockvendor.vendors.anthropic import AnthropicVendor

from .conftest import asgi_client, make_settings
from .helpers import assert_vendor_error
from .sse import events

MESSAGES = "/v1/messages"
HELLO = [{"role": "user", "content": "Write one short sentence about the sea."}]
EVENT_ORDER = ["message_start", "content_block_start", "ping"]
EVENT_TAIL = ["content_block_stop", "message_delta", "message_stop"]


def msg(**kw: Any) -> dict[str, Any]:
    return {"model": "claude-3-5-haiku-latest", "max_tokens": 8, "messages": HELLO, "seed": 5, **kw}


async def test_message_shape(client: httpx.AsyncClient) -> None:
    r = await client.post(MESSAGES, json=msg(), headers={"anthropic-version": "2023-06-01"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"id", "type", "role", "model", "content", "stop_reason", "stop_sequence", "usage"}
    assert body["id"].startswith("msg_") and body["type"] == "message" and body["role"] == "assistant"
    assert body["model"] == "claude-3-5-haiku-latest"
    (block,) = body["content"]
    assert block["type"] == "text" and block["text"]
    assert body["stop_reason"] in ("end_turn", "max_tokens") and body["stop_sequence"] is None
    assert body["usage"]["input_tokens"] > 5 and 0 < body["usage"]["output_tokens"] <= 8
    assert r.headers["request-id"] == r.headers["x-request-id"] and r.headers["request-id"].startswith("req_")


async def test_max_tokens_and_stop_sequence(client: httpx.AsyncClient) -> None:
    short = (await client.post(MESSAGES, json=msg(max_tokens=3))).json()
    assert short["stop_reason"] == "max_tokens" and short["usage"]["output_tokens"] == 3
    plain = (await client.post(MESSAGES, json=msg(max_tokens=12))).json()
    stop = plain["content"][0]["text"].split()[1]
    cut = (await client.post(MESSAGES, json=msg(max_tokens=12, stop_sequences=[stop]))).json()
    assert cut["stop_reason"] == "stop_sequence" and cut["stop_sequence"] == stop
    assert stop not in cut["content"][0]["text"]


async def test_stream_event_sequence_matches_non_stream(client: httpx.AsyncClient) -> None:
    plain = (await client.post(MESSAGES, json=msg())).json()
    r = await client.post(MESSAGES, json=msg(stream=True))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["request-id"].startswith("req_")
    evs = [(name, json.loads(data)) for name, data in events(r.text)]
    names = [name for name, _ in evs]
    assert names[:3] == EVENT_ORDER and names[-3:] == EVENT_TAIL
    assert set(names[3:-3]) == {"content_block_delta"}
    assert all(data["type"] == name for name, data in evs), "event name and data type must agree"
    start = evs[0][1]["message"]
    assert start["content"] == [] and start["stop_reason"] is None
    assert start["usage"]["input_tokens"] == plain["usage"]["input_tokens"]
    text = "".join(d["delta"]["text"] for n, d in evs if n == "content_block_delta")
    assert text == plain["content"][0]["text"]
    delta = evs[-2][1]
    assert delta["delta"] == {"stop_reason": plain["stop_reason"], "stop_sequence": None}
    assert delta["usage"]["output_tokens"] == plain["usage"]["output_tokens"]


async def test_system_prompt_and_text_blocks(client: httpx.AsyncClient) -> None:
    plain = await client.post(MESSAGES, json=msg(system="Be brief.", messages=[{"role": "user", "content": "Hi"}]))
    blocks = await client.post(
        MESSAGES,
        json=msg(
            system=[{"type": "text", "text": "Be brief."}],
            messages=[{"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
        ),
    )
    longer = await client.post(
        MESSAGES, json=msg(system="Be brief, and rhyme like a pirate.", messages=[{"role": "user", "content": "Hi"}])
    )
    assert plain.json()["usage"] == blocks.json()["usage"]
    assert plain.json()["content"] == blocks.json()["content"]
    assert longer.json()["usage"]["input_tokens"] > plain.json()["usage"]["input_tokens"]


LONG = "word " * 5000


@pytest.mark.parametrize(
    ("body", "status", "mentions"),
    [
        ({"model": "claude-3-5-haiku-latest", "messages": HELLO}, 400, "max_tokens"),
        ({"max_tokens": 8, "messages": HELLO}, 400, "model"),
        ({"model": "claude-3-5-haiku-latest", "max_tokens": 8}, 400, "messages"),
        (msg(messages=[]), 400, "messages"),
        (msg(messages=[{"role": "system", "content": "x"}]), 400, "messages.0.role"),
        (msg(messages=[{"role": "user", "content": [{"type": "image"}]}]), 400, "messages.0.content.0.image.source"),
        (msg(messages=[{"role": "user", "content": [{"type": "server_tool_use"}]}]), 400,
         "messages.0.content.0: Input tag 'server_tool_use'"),
        (msg(messages=[{"role": "user"}]), 400, "messages.0.content"),
        (msg(temperature=1.5), 400, "temperature"),
        (msg(max_tokens=0), 400, "max_tokens"),
        (msg(model="no-such-claude"), 404, "no-such-claude"),
        (msg(model="smollm2", messages=[{"role": "user", "content": LONG}]), 400, "context length"),
    ],
)
async def test_bad_requests(client: httpx.AsyncClient, body: dict[str, Any], status: int, mentions: str) -> None:
    r = await client.post(MESSAGES, json=body)
    err = assert_vendor_error("anthropic", r, status, mentions=mentions)
    assert err["error"]["type"] == ("not_found_error" if status == 404 else "invalid_request_error")
    assert err["request_id"] == r.headers["request-id"]


@pytest.mark.parametrize(
    ("status", "type_"),
    [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (403, "permission_error"),
        (404, "not_found_error"),
        (413, "request_too_large"),
        (429, "rate_limit_error"),
        (500, "api_error"),
        (503, "api_error"),
        (529, "overloaded_error"),
    ],
)
async def test_forced_faults(client: httpx.AsyncClient, status: int, type_: str) -> None:
    r = await client.post(MESSAGES, json=msg(), headers={"x-mockvendor-fault": f"error-{status}"})
    body = assert_vendor_error("anthropic", r, status, fault=f"error-{status}")
    assert body["error"]["type"] == type_


async def test_rate_limit_headers(client: httpx.AsyncClient) -> None:
    r = await client.post(
        MESSAGES, json=msg(), headers={"x-mockvendor-fault": "rate-limit", "x-mockvendor-retry-after-ms": "2500"}
    )
    assert_vendor_error("anthropic", r, 429, fault="rate-limit")
    assert r.headers["retry-after"] == "3" and r.headers["retry-after-ms"] == "2500"
    assert r.headers["anthropic-ratelimit-requests-remaining"] == "0"
    assert r.headers["anthropic-ratelimit-requests-reset"].endswith("Z")


async def test_api_keys(app_factory: Any) -> None:
    app = app_factory(api_keys=["sk-ant-good-0001"])
    body = msg(model="echo")
    async with asgi_client(app) as c:
        none = await c.post(MESSAGES, json=body)
        err = assert_vendor_error("anthropic", none, 401)["error"]  # Anthropic's own words
        assert err == {"type": "authentication_error", "message": "x-api-key header is required"}
        wrong = await c.post(MESSAGES, json=body, headers={"x-api-key": "sk-ant-wrong-9876"})
        assert assert_vendor_error("anthropic", wrong, 401)["error"]["message"] == "invalid x-api-key"
        assert "sk-ant-wrong-9876" not in wrong.text
        ok = await c.post(MESSAGES, json=body, headers={"x-api-key": "sk-ant-good-0001"})
        assert ok.status_code == 200 and ok.json()["content"][0]["text"] == HELLO[0]["content"]
        bearer = await c.post(MESSAGES, json=body, headers={"authorization": "Bearer sk-ant-good-0001"})
        assert bearer.status_code == 200


async def test_wrong_method_answers_in_anthropic_shape(client: httpx.AsyncClient) -> None:
    assert_vendor_error("anthropic", await client.get(MESSAGES), 405, mentions="POST")


def _as_httpx(resp: Any) -> httpx.Response:
    return httpx.Response(resp.status_code, headers=dict(resp.headers), content=resp.body)


def test_engine_overload_is_529_and_stream_error_event() -> None:
    vendor = AnthropicVendor(make_settings())
    queue_full = Overloaded("The engine queue is full.", status=503, kind="overloaded")
    body = assert_vendor_error("anthropic", _as_httpx(vendor.error_response(queue_full)), 529)
    assert body["error"]["type"] == "overloaded_error"
    event = vendor.stream_error(RateLimited("slow down"))
    assert event is not None
    ((name, data),) = events(event.decode())
    assert name == "error"
    assert json.loads(data) == {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}
