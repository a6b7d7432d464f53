"""The OpenAI-compatible API in-process, on the real embedded model."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from mockvendor.errors import ContextLengthExceeded, QuotaExceeded
from mockvendor.vendors.openai import OpenAIVendor, go_duration

from .conftest import asgi_client, make_settings
from .helpers import assert_vendor_error
from .sse import data_json, events

CHAT = "/v1/chat/completions"
HELLO = [{"role": "user", "content": "Write one short sentence about the sea."}]


def chat(**kw: Any) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "messages": HELLO, "max_tokens": 8, "seed": 5, **kw}


async def test_chat_completion_shape(client: httpx.AsyncClient) -> None:
    r = await client.post(CHAT, json=chat())
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    assert body["model"] == "gpt-4o-mini" and isinstance(body["created"], int)
    (choice,) = body["choices"]
    assert choice["index"] == 0 and choice["message"]["role"] == "assistant"
    assert isinstance(choice["message"]["content"], str) and choice["message"]["content"]
    assert choice["finish_reason"] in ("stop", "length")
    usage = body["usage"]
    assert usage["prompt_tokens"] > 5 and 0 < usage["completion_tokens"] <= 8
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert r.headers["x-request-id"].startswith("req_")
    assert r.headers["openai-processing-ms"].isdigit()
    assert "x-mockvendor-fault" not in r.headers


@pytest.mark.parametrize("key", ["max_tokens", "max_completion_tokens"])
async def test_max_tokens_gives_length(client: httpx.AsyncClient, key: str) -> None:
    body = {"model": "gpt-4o-mini", "messages": HELLO, key: 3, "seed": 1}
    r = await client.post(CHAT, json=body)
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["finish_reason"] == "length"
    assert r.json()["usage"]["completion_tokens"] == 3


async def test_stop_sequence_finishes_with_stop(client: httpx.AsyncClient) -> None:
    plain = (await client.post(CHAT, json=chat(max_tokens=12))).json()
    text = plain["choices"][0]["message"]["content"]
    stop = text.split()[1]  # a word the same seeded answer is known to contain
    r = await client.post(CHAT, json=chat(max_tokens=12, stop=[stop]))
    choice = r.json()["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert stop not in choice["message"]["content"]


async def test_stream_matches_non_stream(client: httpx.AsyncClient) -> None:
    plain = (await client.post(CHAT, json=chat())).json()
    r = await client.post(CHAT, json=chat(stream=True, stream_options={"include_usage": True}))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    assert all(name is None for name, _ in events(r.text)), "OpenAI streams carry no event names"
    assert events(r.text)[-1] == (None, "[DONE]")
    chunks = data_json(r.text)
    assert {c["id"] for c in chunks} == {chunks[0]["id"]} and chunks[0]["id"].startswith("chatcmpl-")
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": "", "refusal": None}
    *body, finish, usage = chunks
    assert all(c["usage"] is None for c in body + [finish])
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in body)
    assert text == plain["choices"][0]["message"]["content"]
    assert finish["choices"][0]["delta"] == {}
    assert finish["choices"][0]["finish_reason"] == plain["choices"][0]["finish_reason"]
    assert usage["choices"] == [] and usage["usage"] == plain["usage"]


async def test_stream_without_include_usage_has_no_usage(client: httpx.AsyncClient) -> None:
    r = await client.post(CHAT, json=chat(stream=True))
    chunks = data_json(r.text)
    assert all("usage" not in c for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] in ("stop", "length")


async def test_text_parts_and_developer_role_equal_plain_strings(client: httpx.AsyncClient) -> None:
    plain = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    parts = [
        {"role": "developer", "content": [{"type": "text", "text": "Be brief."}]},
        {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
    ]
    a = (await client.post(CHAT, json=chat(messages=plain))).json()
    b = (await client.post(CHAT, json=chat(messages=parts))).json()
    assert a["usage"] == b["usage"] and a["choices"] == b["choices"]


async def test_legacy_completion_and_its_stream(client: httpx.AsyncClient) -> None:
    req = {"model": "gpt-3.5-turbo", "prompt": "Once upon a time", "seed": 2}
    r = await client.post("/v1/completions", json=req)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "text_completion" and body["id"].startswith("cmpl-")
    (choice,) = body["choices"]
    assert set(choice) == {"text", "index", "logprobs", "finish_reason"}
    assert body["usage"]["completion_tokens"] <= 16  # the documented default max_tokens
    s = await client.post(
        "/v1/completions", json={**req, "stream": True, "stream_options": {"include_usage": True}}
    )
    chunks = data_json(s.text)
    assert "".join(c["choices"][0]["text"] for c in chunks[:-1]) == choice["text"]
    assert chunks[-1]["usage"] == body["usage"]


async def test_models_list_and_get(client: httpx.AsyncClient, model_app: Any) -> None:
    r = await client.get("/v1/models")
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "list"
    assert [m["id"] for m in body["data"]] == model_app.ctx.models.names("openai")
    assert body["data"][0]["id"] == "smollm2" and "gpt-4o-mini" in [m["id"] for m in body["data"]]
    one = (await client.get("/v1/models/gpt-4o-mini")).json()
    assert one == {"id": "gpt-4o-mini", "object": "model", "created": one["created"], "owned_by": "system"}
    missing = await client.get("/v1/models/no-such-gpt")
    err = assert_vendor_error("openai", missing, 404, mentions="no-such-gpt")
    assert err["error"]["code"] == "model_not_found"


LONG = "word " * 5000


@pytest.mark.parametrize(
    ("body", "status", "param", "code"),
    [
        ({"messages": HELLO}, 400, "model", None),
        ({"model": "gpt-4o-mini"}, 400, "messages", None),
        ({"model": "gpt-4o-mini", "messages": []}, 400, "messages", None),
        ({"model": "gpt-4o-mini", "messages": [{"role": "wizard", "content": "x"}]}, 400, "messages[0].role", None),
        (
            {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": [{"type": "video_url"}]}]},
            400, "messages[0].content[0].type", None,
        ),
        (chat(temperature=3), 400, "temperature", None),
        (chat(n=129), 400, "n", None),
        (chat(max_tokens=0), 400, "max_tokens", None),
        (chat(stop=["a", "b", "c", "d", "e"]), 400, "stop", None),
        (chat(stream_options={"include_usage": True}), 400, "stream_options", None),
        (chat(model="no-such-gpt"), 404, "model", "model_not_found"),
        (chat(model="smollm2", messages=[{"role": "user", "content": LONG}]), 400, "messages",
         "context_length_exceeded"),
    ],
)
async def test_bad_requests(
    client: httpx.AsyncClient, body: dict[str, Any], status: int, param: str, code: str | None
) -> None:
    r = await client.post(CHAT, json=body)
    err = assert_vendor_error("openai", r, status)["error"]
    assert err["param"] == param and err["code"] == code
    assert err["type"] == "invalid_request_error"


async def test_invalid_json_and_legacy_prompt_errors(client: httpx.AsyncClient) -> None:
    r = await client.post(CHAT, content=b"{nope", headers={"content-type": "application/json"})
    assert_vendor_error("openai", r, 400, mentions="JSON")
    r = await client.post("/v1/completions", json={"model": "gpt-4o-mini", "prompt": ["a", "b"]})
    assert assert_vendor_error("openai", r, 400)["error"]["param"] == "prompt"
    r = await client.post("/v1/completions", json={"model": "gpt-4o-mini", "prompt": "a", "suffix": "b"})
    assert assert_vendor_error("openai", r, 400)["error"]["param"] == "suffix"


@pytest.mark.parametrize(
    ("status", "type_", "code"),
    [
        (400, "invalid_request_error", None),
        (401, "invalid_request_error", "invalid_api_key"),
        (403, "invalid_request_error", None),
        (404, "invalid_request_error", None),
        (409, "invalid_request_error", None),
        (429, "requests", "rate_limit_exceeded"),
        (500, "server_error", None),
        (503, "server_error", None),
    ],
)
async def test_forced_faults(client: httpx.AsyncClient, status: int, type_: str, code: str | None) -> None:
    r = await client.post(CHAT, json=chat(), headers={"x-mockvendor-fault": f"error-{status}"})
    err = assert_vendor_error("openai", r, status, fault=f"error-{status}")["error"]
    assert (err["type"], err["code"]) == (type_, code)


async def test_rate_limit_headers(client: httpx.AsyncClient) -> None:
    r = await client.post(
        CHAT, json=chat(),
        headers={"x-mockvendor-fault": "rate-limit", "x-mockvendor-retry-after-ms": "1500"},
    )
    assert_vendor_error("openai", r, 429, fault="rate-limit")
    assert r.headers["retry-after-ms"] == "1500" and r.headers["retry-after"] == "2"
    assert r.headers["x-ratelimit-remaining-requests"] == "0"
    assert r.headers["x-ratelimit-reset-requests"] == "1.5s"


def test_go_duration() -> None:
    assert [go_duration(ms) for ms in (12, 1000, 1500, 60_000, 361_000)] == ["12ms", "1s", "1.5s", "1m0s", "6m1s"]


async def test_api_keys(app_factory: Any) -> None:
    app = app_factory(api_keys=["sk-good-key-0001"])
    body = chat(model="echo")
    async with asgi_client(app) as c:
        none = await c.post(CHAT, json=body)
        assert assert_vendor_error("openai", none, 401)["error"]["code"] == "invalid_api_key"
        wrong = await c.post(CHAT, json=body, headers={"authorization": "Bearer sk-wrong-key-9876"})
        assert_vendor_error("openai", wrong, 401, mentions="Incorrect API key")
        assert "sk-wrong-key-9876" not in wrong.text
        models = await c.get("/v1/models", headers={"authorization": "Bearer sk-wrong-key-9876"})
        assert_vendor_error("openai", models, 401)
        ok = await c.post(CHAT, json=body, headers={"authorization": "Bearer sk-good-key-0001"})
        assert ok.status_code == 200 and ok.json()["choices"][0]["message"]["content"] == HELLO[0]["content"]
        log = (await c.get("/admin/requests")).json()["data"]
        assert "sk-wrong-key-9876" not in json.dumps(log) and "sk-good-key-0001" not in json.dumps(log)


async def test_unknown_routes_answer_in_openai_shape(client: httpx.AsyncClient) -> None:
    assert_vendor_error("openai", await client.get("/v1/nope"), 404, mentions="/v1/nope")
    r = await client.get(CHAT)
    assert_vendor_error("openai", r, 405, mentions="POST")
    assert "POST" in r.headers["allow"]


def _as_httpx(resp: Any) -> httpx.Response:
    return httpx.Response(resp.status_code, headers=dict(resp.headers), content=resp.body)


def test_renderer_quota_context_and_stream_error() -> None:
    vendor = OpenAIVendor(make_settings())
    quota = _as_httpx(vendor.error_response(QuotaExceeded("You exceeded your current quota.")))
    err = assert_vendor_error("openai", quota, 429)["error"]
    assert (err["type"], err["code"]) == ("insufficient_quota", "insufficient_quota")
    assert "x-ratelimit-remaining-requests" not in quota.headers
    ctx = _as_httpx(vendor.error_response(ContextLengthExceeded("too long", param="messages")))
    assert assert_vendor_error("openai", ctx, 400)["error"]["code"] == "context_length_exceeded"
    event = vendor.stream_error(QuotaExceeded("gone"))
    assert event is not None
    ((name, data),) = events(event.decode())
    assert name is None and json.loads(data) == vendor.error_body(QuotaExceeded("gone"))


# ---- the declarations (vendors/openai/wire.py): parsing words and the documented schemas ------

@pytest.mark.parametrize(
    ("parse", "body", "param", "words"),
    [
        ("chat", {"model": "m", "messages": [{"role": "user", "content": [{"type": "video_url"}]}]},
         "messages[0].content[0].type", "Invalid value: 'video_url'. Supported values are: 'text', 'image_url', "
         "'input_audio', 'refusal', and 'file'."),
        ("chat", {"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]},
         "messages[0].content[0].image_url", "Missing required field 'messages[0].content[0].image_url'."),
        ("chat", {"model": "m", "messages": [{"role": "wizard"}]}, "messages[0].role",
         "expected one of 'system', 'developer', 'user', 'assistant', 'tool', 'function'."),
        ("chat", {"model": "m", "messages": HELLO, "n": 0}, "n", "n"),
        ("chat", {"model": " ", "messages": HELLO}, "model", "Field 'model' must not be empty."),
        ("chat", {"model": "m", "messages": [{"role": "assistant", "tool_calls": [
            {"id": "", "function": {"name": "f", "arguments": "{}"}}]}]}, "messages[0].tool_calls[0].id", "empty"),
        ("completions", {"model": "m", "prompt": ["a", "b"]}, "prompt", "an array of one string"),
        ("completions", {"model": "m", "prompt": "a", "best_of": 2}, "best_of", "not supported"),
        ("responses", {"model": "m", "input": [{"role": "user", "content": "a"}, {"content": "b"}]},
         "input[1].role", "Missing required parameter: 'input[1].role'."),
        ("responses", {"model": "m", "input": "a", "metadata": {"k": 1}}, "metadata.k", "expected a string"),
        ("embeddings", {"model": "m", "input": [None]}, "input[0]", "Invalid type for 'input[0]': expected a string."),
    ],
)
def test_error_words_and_params(parse: str, body: Any, param: str, words: str) -> None:
    from mockvendor.errors import InvalidRequest
    from mockvendor.vendors.openai import chat, completions, embeddings, responses

    with pytest.raises(InvalidRequest) as e:
        {"chat": chat, "completions": completions, "responses": responses, "embeddings": embeddings}[parse].parse(body)
    assert e.value.param == param and words in e.value.message, (e.value.param, e.value.message)


def test_an_input_item_without_type_is_a_message() -> None:
    from mockvendor.vendors.openai import responses

    req = responses.parse({"model": "m", "input": [{"role": "developer", "content": "Be brief."},
                                                    {"type": "message", "role": "user", "content": "Hi"}]})
    assert [(m.role, m.content) for m in req.messages] == [("system", "Be brief."), ("user", "Hi")]


async def test_documented_schemas_are_the_declared_ones(client: httpx.AsyncClient) -> None:
    from mockvendor.vendors.openai import wire as openai_wire
    from mockvendor.vendors.openapi import TOOLS_DOC
    from mockvendor.wire import schema

    doc = (await client.get("/openapi.json")).json()
    for path, request, answer in [
        ("/v1/chat/completions", openai_wire.ChatRequest, openai_wire.ChatCompletion),
        ("/v1/completions", openai_wire.CompletionRequest, openai_wire.TextCompletion),
        ("/v1/embeddings", openai_wire.EmbeddingRequest, openai_wire.EmbeddingList),
        ("/v1/responses", None, openai_wire.Response),
    ]:
        op = doc["paths"][path]["post"]
        if request is not None:
            assert op["requestBody"]["content"]["application/json"]["schema"] == schema(request)
        assert op["responses"]["200"]["content"]["application/json"]["schema"] == schema(answer)
        assert op["responses"]["429"]["content"]["application/json"]["schema"] == schema(openai_wire.ErrorBody)
    for path in ("/v1/chat/completions", "/v1/responses"):
        props = doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]
        assert props["tools"]["description"] == TOOLS_DOC
