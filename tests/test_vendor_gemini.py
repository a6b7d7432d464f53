"""The Gemini-compatible API in-process, on the real embedded model."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from mockvendor.errors import Unavailable
from mockvendor.vendors.gemini import GeminiVendor, proto_duration

from .conftest import asgi_client, make_settings
from .helpers import assert_vendor_error
from .sse import data_json

GEN = "/v1beta/models/gemini-2.0-flash:generateContent"
STREAM = "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse"
HELLO = [{"role": "user", "parts": [{"text": "Write one short sentence about the sea."}]}]


def gen(**config: Any) -> dict[str, Any]:
    return {"contents": HELLO, "generationConfig": {"maxOutputTokens": 8, "seed": 5, **config}}


@pytest.mark.parametrize("version", ["v1beta", "v1"])
async def test_generate_content_shape(client: httpx.AsyncClient, version: str) -> None:
    r = await client.post(f"/{version}/models/gemini-2.0-flash:generateContent", json=gen())
    assert r.status_code == 200, r.text
    body = r.json()
    (cand,) = body["candidates"]
    assert cand["content"]["role"] == "model" and cand["content"]["parts"][0]["text"]
    assert cand["finishReason"] in ("STOP", "MAX_TOKENS") and cand["index"] == 0
    usage = body["usageMetadata"]
    assert usage["promptTokenCount"] > 5 and 0 < usage["candidatesTokenCount"] <= 8
    assert usage["totalTokenCount"] == usage["promptTokenCount"] + usage["candidatesTokenCount"]
    assert body["modelVersion"] == "gemini-2.0-flash" and body["responseId"]


async def test_max_tokens_and_snake_case_config(client: httpx.AsyncClient) -> None:
    body = {"contents": HELLO, "generation_config": {"max_output_tokens": 3, "seed": 1}}
    r = (await client.post(GEN, json=body)).json()
    assert r["candidates"][0]["finishReason"] == "MAX_TOKENS"
    assert r["usageMetadata"]["candidatesTokenCount"] == 3


async def test_stream_matches_non_stream(client: httpx.AsyncClient) -> None:
    plain = (await client.post(GEN, json=gen())).json()
    r = await client.post(STREAM, json=gen())
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    assert "[DONE]" not in r.text
    chunks = data_json(r.text)
    assert len(chunks) > 1
    assert {c["responseId"] for c in chunks} == {chunks[0]["responseId"]}
    assert all("finishReason" not in c["candidates"][0] and "usageMetadata" not in c for c in chunks[:-1])
    text = "".join(c["candidates"][0]["content"]["parts"][0]["text"] for c in chunks)
    assert text == plain["candidates"][0]["content"]["parts"][0]["text"]
    last = chunks[-1]
    assert last["candidates"][0]["finishReason"] == plain["candidates"][0]["finishReason"]
    assert last["usageMetadata"] == plain["usageMetadata"]


async def test_stream_without_alt_sse_is_a_json_array(client: httpx.AsyncClient) -> None:
    plain = (await client.post(GEN, json=gen())).json()
    r = await client.post("/v1beta/models/gemini-2.0-flash:streamGenerateContent", json=gen())
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    (only,) = r.json()
    assert only["candidates"] == plain["candidates"] and only["usageMetadata"] == plain["usageMetadata"]


async def test_system_instruction_and_model_turns(client: httpx.AsyncClient) -> None:
    short = {"parts": [{"text": "Be brief."}]}
    longer = {"parts": [{"text": "Be brief, and rhyme like a pirate."}]}
    a = (await client.post(GEN, json={**gen(), "systemInstruction": short})).json()
    b = (await client.post(GEN, json={**gen(), "system_instruction": longer})).json()
    assert b["usageMetadata"]["promptTokenCount"] > a["usageMetadata"]["promptTokenCount"]
    turns = [*HELLO, {"role": "model", "parts": [{"text": "The sea is wide."}]}, {"parts": [{"text": "More."}]}]
    c = await client.post(GEN, json={**gen(), "contents": turns})
    assert c.status_code == 200, c.text
    assert c.json()["usageMetadata"]["promptTokenCount"] > a["usageMetadata"]["promptTokenCount"]


LONG = "word " * 5000


@pytest.mark.parametrize(
    ("path", "body", "status", "mentions"),
    [
        (GEN, {}, 400, "contents"),
        (GEN, {"contents": []}, 400, "contents"),
        (GEN, {"contents": [{"role": "system", "parts": [{"text": "x"}]}]}, 400, "contents[0].role"),
        (GEN, {"contents": [{"parts": [{"inlineData": {}}]}]}, 400, "contents[0].parts[0]"),
        (GEN, {"contents": [{"parts": []}]}, 400, "contents[0].parts"),
        (GEN, gen(temperature=5), 400, "temperature"),
        (GEN, gen(candidateCount=9), 400, "candidateCount"),
        # The embedded model's own name has its own window (a published name advertises Google's: test_catalog.py).
        ("/v1beta/models/smollm2:generateContent", {"contents": [{"parts": [{"text": LONG}]}]}, 400,
         "context length"),
        ("/v1beta/models/no-such-gemini:generateContent", gen(), 404, "no-such-gemini"),
        ("/v1beta/models/gemini-2.0-flash:predict", gen(), 404, "predict"),
        ("/v1/models/gemini-2.0-flash", gen(), 404, "generateContent"),
    ],
)
async def test_bad_requests(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], status: int, mentions: str
) -> None:
    r = await client.post(path, json=body)
    err = assert_vendor_error("gemini", r, status, mentions=mentions)["error"]
    assert err["code"] == status
    assert err["status"] == {400: "INVALID_ARGUMENT", 404: "NOT_FOUND"}[status]


@pytest.mark.parametrize(
    ("status", "name"),
    [
        (400, "INVALID_ARGUMENT"),
        (401, "UNAUTHENTICATED"),
        (403, "PERMISSION_DENIED"),
        (404, "NOT_FOUND"),
        (429, "RESOURCE_EXHAUSTED"),
        (500, "INTERNAL"),
        (503, "UNAVAILABLE"),
        (504, "DEADLINE_EXCEEDED"),
    ],
)
async def test_forced_faults(client: httpx.AsyncClient, status: int, name: str) -> None:
    r = await client.post(GEN, json=gen(), headers={"x-mockvendor-fault": f"error-{status}"})
    err = assert_vendor_error("gemini", r, status, fault=f"error-{status}")["error"]
    assert err["status"] == name and err["code"] == status


async def test_rate_limit_carries_retry_info(client: httpx.AsyncClient) -> None:
    r = await client.post(
        STREAM, json=gen(), headers={"x-mockvendor-fault": "rate-limit", "x-mockvendor-retry-after-ms": "41000"}
    )
    err = assert_vendor_error("gemini", r, 429, fault="rate-limit")["error"]
    assert err["details"] == [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "41s"}]


def test_proto_duration() -> None:
    assert [proto_duration(ms) for ms in (0, 1500, 41000, 5)] == ["0s", "1.500s", "41s", "0.005s"]


async def test_api_keys(app_factory: Any) -> None:
    app = app_factory(api_keys=["AIza-good-0001"])
    path = "/v1beta/models/echo:generateContent"
    async with asgi_client(app) as c:
        # Google's own answers: no key is a 403, a wrong one a 400 with reason API_KEY_INVALID.
        none = await c.post(path, json=gen())
        err = assert_vendor_error("gemini", none, 403)["error"]
        assert err["status"] == "PERMISSION_DENIED" and "unregistered callers" in err["message"]
        wrong = await c.post(path, json=gen(), headers={"x-goog-api-key": "AIza-wrong-9876"})
        err = assert_vendor_error("gemini", wrong, 400)["error"]
        assert (err["status"], err["message"]) == ("INVALID_ARGUMENT",
                                                   "API key not valid. Please pass a valid API key.")
        info = err["details"][0]
        assert info["@type"] == "type.googleapis.com/google.rpc.ErrorInfo" and info["reason"] == "API_KEY_INVALID"
        assert err["details"][1] == {"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US",
                                     "message": err["message"]}
        assert "AIza-wrong-9876" not in wrong.text
        by_header = await c.post(path, json=gen(), headers={"x-goog-api-key": "AIza-good-0001"})
        by_query = await c.post(path + "?key=AIza-good-0001", json=gen())
        assert by_header.status_code == by_query.status_code == 200
        assert by_header.json()["candidates"][0]["content"]["parts"][0]["text"] == HELLO[0]["parts"][0]["text"]
        log = json.dumps((await c.get("/admin/requests")).json())
        assert "AIza-good-0001" not in log and "AIza-wrong-9876" not in log


async def test_unknown_v1beta_route_answers_in_google_shape(client: httpx.AsyncClient) -> None:
    err = assert_vendor_error("gemini", await client.get("/v1beta/files"), 404)["error"]
    assert err["status"] == "NOT_FOUND"


def test_stream_error_event() -> None:
    vendor = GeminiVendor(make_settings())
    event = vendor.stream_error(Unavailable("The model is overloaded."))
    assert event is not None
    (body,) = data_json(event.decode())
    assert body == {"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}


# -- the declarations (vendors/gemini/wire.py): Gemini's words, snake_case and nulls --------
def parse(body: Any, method: str = "generateContent") -> Any:
    from types import SimpleNamespace

    vendor = GeminiVendor(make_settings())
    return vendor.parse(body, SimpleNamespace(path_params={"target": f"gemini-2.0-flash:{method}"},  # type: ignore[arg-type]
                                              query_params={}))


def test_snake_case_and_nulls_read_as_google_reads_them() -> None:
    body = {"contents": [{"role": None, "parts": [{"text": "hi", "function_call": None}]}],
            "system_instruction": {"parts": [{"text": "Be brief."}]}, "toolConfig": None,
            "generation_config": {"max_output_tokens": 3, "stop_sequences": "x", "top_k": None}}
    req = parse(body)
    assert [(m.role, m.content) for m in req.messages] == [("system", "Be brief."), ("user", "hi")]
    assert (req.max_tokens, req.stop, req.top_k) == (3, ["x"], None)
    # A function's own arguments are the caller's: never respelled.
    turns = [{"parts": [{"text": "hi"}]},
             {"role": "model", "parts": [{"function_call": {"name": "f", "args": {"a_b": None}}}]}]
    assert parse({"contents": turns}).messages[1].tool_calls[0].arguments == {"a_b": None}


@pytest.mark.parametrize(
    ("body", "method", "param", "words"),
    [
        ({"contents": HELLO, "tools": [{"url_context": {}}]}, "generateContent", "tools[0].urlContext",
         "'tools[0].urlContext' is not supported: mockvendor does not run Gemini's built-in tools"),
        ({"contents": HELLO, "tools": [{"functionDeclarations": [{"name": "1st"}]}]}, "generateContent",
         "tools[0].functionDeclarations[0].name", "Invalid function name at 'tools[0].functionDeclarations[0].name'"),
        ({"contents": [*HELLO, {"role": "model", "parts": [{"functionCall": {"name": "f", "id": "a\x00"}}]}]},
         "generateContent", "contents[1].parts[0].functionCall.id",
         "Field 'contents[1].parts[0].functionCall.id' must not contain NUL characters."),
        ({"contents": [{"parts": [{"executable_code": {}}]}]}, "generateContent", "contents[0].parts[0]",
         "must hold 'text', 'inlineData', 'fileData', 'functionCall' or 'functionResponse' (got executable_code)"),
        ({"contents": [{"parts": [{"inline_data": {"mime_type": "image/png", "data": "%%%"}}]}]}, "generateContent",
         "contents[0].parts[0].inlineData.data", "Base64 decoding failed"),
        ({"contents": [{"parts": [{"inline_data": {"mime_type": "image/png", "data": "AAAA"}}]}]}, "generateContent",
         "contents[0].parts[0].inlineData.data", "Unable to process input image"),
        ({"contents": HELLO, "generationConfig": {"stopSequences": list("abcdef")}}, "generateContent",
         "generationConfig.stopSequences", "Field 'generationConfig.stopSequences' may hold at most 5 items."),
        ({"contents": HELLO, "generationConfig": {"candidateCount": 9}}, "generateContent",
         "generationConfig.candidateCount", "generationConfig.candidateCount"),
        ({"generateContentRequest": {"contents": [{"parts": []}]}}, "countTokens",
         "generateContentRequest.contents[0].parts", "must be a non-empty array"),
        ({}, "countTokens", "contents", "Missing required field 'contents'."),
        ({"requests": [{"content": {"parts": [{"text": "x"}]}}] * 101}, "batchEmbedContents", "requests",
         "may hold at most 100 items"),
    ],
)
def test_error_words_and_params(body: Any, method: str, param: str, words: str) -> None:
    from mockvendor.errors import InvalidRequest

    with pytest.raises(InvalidRequest) as e:
        parse(body, method)
    assert e.value.param == param and words in e.value.message, (e.value.param, e.value.message)


def test_nested_fields_are_documented_as_objects() -> None:
    """Optional objects are declared unset-by-default (not nullable), so the docs page can list
    their fields (it reads `properties`, not the members of an `anyOf`)."""
    from mockvendor.vendors.gemini import wire
    from mockvendor.wire import schema

    props = schema(wire.GenerateContentRequest)["properties"]
    assert props["generationConfig"]["properties"]["maxOutputTokens"] == {"type": "integer", "minimum": 1,
                                                                          "maximum": 1000000}
    assert "Built-in tools" in props["tools"]["description"]
    assert props["toolConfig"]["properties"]["functionCallingConfig"]["properties"]["mode"]["enum"]
