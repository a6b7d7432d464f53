"""Content faults: the model misbehaving rather than the transport (refusal, invalid JSON, a
schema violation, an unknown tool, a truncated, empty or looping answer). Each is a well-formed
answer in the vendor's shape, marked in ``x-mockvendor-fault`` and the request log, and each
raises in the official SDKs' parse helpers the error those SDKs raise for it from the real
vendor. Reachable by header, scenario, random rate (fixed seed, real bounds) and rule."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import openai
import pydantic
import pytest
from google import genai
from google.genai import types as gt
from pydantic import BaseModel

from mockvendor.faults.content import REFUSAL, violate

from .fault_helpers import binomial_interval
from .helpers import ServerProcess, running

KINDS = ["refusal", "invalid-json", "schema-violation", "unknown-tool", "truncated", "empty", "repetition"]
WEATHER = {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}


class Trip(BaseModel):
    city: str
    days: int


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    yield from running({"MOCKVENDOR_FAULTS": "off", "OPENAI_API_KEY": ""})


def fault(kind: str) -> dict[str, Any]:
    return {"extra_headers": {"x-mockvendor-fault": kind}}


def logged(server: ServerProcess, n: int, fault: str) -> list[dict[str, Any]]:
    """The newest ``n`` records of the request log once those with ``fault`` are written
    (the log is written off the event loop, so the newest may take a moment)."""
    recs: list[dict[str, Any]] = []
    for _ in range(100):
        recs = httpx.get(server.url + "/admin/requests", params={"limit": n}, timeout=30).json()["data"]
        if [r["fault"] for r in recs] == [fault] * n:
            break
        time.sleep(0.05)
    return recs


# -- every kind, every vendor: a well-formed answer, marked ------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_is_an_answer_marked_and_logged(server: ServerProcess, kind: str) -> None:
    hi = [{"role": "user", "content": "Hi"}]
    bodies = {
        "/v1/chat/completions": {"model": "gpt-4o", "max_tokens": 20, "messages": hi},
        "/v1/messages": {"model": "claude-sonnet-4-5", "max_tokens": 20, "messages": hi},
        "/v1beta/models/gemini-2.5-flash:generateContent": {
            "contents": [{"parts": [{"text": "Hi"}]}], "generationConfig": {"maxOutputTokens": 20}},
    }
    for path, body in bodies.items():
        for stream in (False, True):
            url = path.replace(":generateContent", ":streamGenerateContent?alt=sse") if stream and "gemini" in path \
                else path
            payload = body if "gemini" in path else {**body, "stream": stream}
            r = httpx.post(server.url + url, json=payload, headers={"x-mockvendor-fault": kind}, timeout=60)
            assert r.status_code == 200, (path, r.text)
            assert r.headers["x-mockvendor-fault"] == kind
            if not stream:
                r.json()  # well formed
    assert [rec["fault"] for rec in logged(server, 6, kind)] == [kind] * 6


# -- Anthropic: messages.parse -----------------------------------------------------------------
def claude(server: ServerProcess) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=server.url, api_key="sk-ant-test", max_retries=0)


def ask_claude(**kw: Any) -> dict[str, Any]:
    return {"model": "claude-sonnet-4-5", "max_tokens": 100, "output_format": Trip,
            "messages": [{"role": "user", "content": "A trip to Rome for 3 days."}], **kw}


def test_anthropic_refusal(server: ServerProcess) -> None:
    message = claude(server).messages.create(
        model="claude-sonnet-4-5", max_tokens=50, messages=[{"role": "user", "content": "Hi"}], **fault("refusal"))
    assert message.stop_reason == "refusal" and message.content[0].text == REFUSAL  # type: ignore[union-attr]
    with pytest.raises(pydantic.ValidationError):  # the refusal's words are no Trip
        claude(server).messages.parse(**ask_claude(**fault("refusal")))


@pytest.mark.parametrize(("kind", "error"), [("invalid-json", "json_invalid"), ("schema-violation", "missing"),
                                             ("truncated", "json_invalid")])
def test_anthropic_parse_fails_as_on_bad_output(server: ServerProcess, kind: str, error: str) -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        claude(server).messages.parse(**ask_claude(**fault(kind)))
    assert error in str(info.value)


def test_anthropic_unknown_tool_and_broken_arguments_in_a_stream(server: ServerProcess) -> None:
    tools = [{"name": "get_weather", "description": "weather", "input_schema": WEATHER}]
    kw: dict[str, Any] = {"model": "claude-sonnet-4-5", "max_tokens": 100, "tools": tools,
                          "messages": [{"role": "user", "content": "Weather in Paris?"}]}
    unknown = claude(server).messages.create(**kw, **fault("unknown-tool"))
    (call,) = unknown.content
    assert call.type == "tool_use" and call.name not in {"get_weather"}  # type: ignore[union-attr]
    body = {**kw, "stream": True}
    r = httpx.post(server.url + "/v1/messages", json=body, headers={"x-mockvendor-fault": "invalid-json"}, timeout=60)
    pieces = [json.loads(line[6:])["delta"]["partial_json"] for line in r.text.splitlines()
              if line.startswith("data: ") and "input_json_delta" in line]
    with pytest.raises(json.JSONDecodeError):
        json.loads("".join(pieces))


# -- OpenAI: chat.completions.parse ------------------------------------------------------------
def gpt(server: ServerProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)


def ask_gpt(**kw: Any) -> dict[str, Any]:
    return {"model": "gpt-4o", "max_tokens": 100, "response_format": Trip,
            "messages": [{"role": "user", "content": "A trip to Rome for 3 days."}], **kw}


def test_openai_refusal_is_the_sdks_refusal(server: ServerProcess) -> None:
    message = gpt(server).chat.completions.parse(**ask_gpt(**fault("refusal"))).choices[0].message
    assert message.refusal == REFUSAL and message.parsed is None and message.content is None
    with gpt(server).chat.completions.stream(**ask_gpt(**fault("refusal"))) as s:
        streamed = s.get_final_completion().choices[0].message
    assert streamed.refusal == REFUSAL and streamed.parsed is None


def test_openai_truncated_raises_length_finish_reason_error(server: ServerProcess) -> None:
    with pytest.raises(openai.LengthFinishReasonError):
        gpt(server).chat.completions.parse(**ask_gpt(**fault("truncated")))


@pytest.mark.parametrize("kind", ["invalid-json", "schema-violation"])
def test_openai_bad_json_raises_validation_error(server: ServerProcess, kind: str) -> None:
    with pytest.raises(pydantic.ValidationError):
        gpt(server).chat.completions.parse(**ask_gpt(**fault(kind)))


def test_openai_broken_tool_arguments(server: ServerProcess) -> None:
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": WEATHER}}]
    message = gpt(server).chat.completions.create(
        model="gpt-4o", tools=tools, messages=[{"role": "user", "content": "Weather in Paris?"}],  # type: ignore[arg-type]
        **fault("invalid-json")).choices[0].message
    (call,) = message.tool_calls or []
    with pytest.raises(json.JSONDecodeError):
        json.loads(call.function.arguments)  # type: ignore[union-attr]


# -- Gemini ------------------------------------------------------------------------------------
def test_gemini_refusal_is_a_safety_stop(server: ServerProcess) -> None:
    client = genai.Client(api_key="AIza-test", http_options=gt.HttpOptions(
        base_url=server.url, headers={"x-mockvendor-fault": "refusal"}))
    response = client.models.generate_content(
        model="gemini-2.5-flash", contents="A trip to Rome for 3 days.",
        config=gt.GenerateContentConfig(response_mime_type="application/json", response_schema=Trip))
    assert response.candidates[0].finish_reason == gt.FinishReason.SAFETY  # type: ignore[index]
    assert response.parsed is None and not response.text


# -- how the lab reaches them --------------------------------------------------------------------
def test_random_rate_with_a_fixed_seed(server: ServerProcess) -> None:
    n = 200
    doc = {"enabled": True, "vendors": {"openai": {"content_fault_rate": 0.3, "content_fault": "empty"}}}
    assert httpx.patch(server.url + "/admin/faults", json=doc, timeout=30).status_code == 200
    try:
        marks = [httpx.post(server.url + "/v1/chat/completions", timeout=60, json={
            "model": "echo", "messages": [{"role": "user", "content": "Hi"}]}).headers.get("x-mockvendor-fault")
            for _ in range(n)]
    finally:
        httpx.delete(server.url + "/admin/faults", timeout=30)
    lo, hi = binomial_interval(n, 0.3)
    assert lo <= marks.count("empty") <= hi and set(marks) <= {"empty", None}


def test_scenario_and_rule(server: ServerProcess) -> None:
    httpx.put(server.url + "/admin/scenarios/flaky", json={"steps": ["refusal", "repetition", "ok"]}, timeout=30)
    body = {"model": "echo", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 12}
    seen = [httpx.post(server.url + "/v1/chat/completions", json=body, timeout=60,
                       headers={"x-mockvendor-test-id": "flaky"}) for _ in range(3)]
    assert [r.headers.get("x-mockvendor-fault") for r in seen] == ["refusal", "repetition", None]
    assert seen[1].json()["choices"][0]["finish_reason"] == "length"
    rule = {"name": "refuse-secrets", "match": {"user": "password"},
            "answer": {"fault": "refusal", "passthrough": True}}
    assert httpx.post(server.url + "/admin/rules", json=rule, timeout=30).status_code in (200, 201)
    try:
        r = httpx.post(server.url + "/v1/chat/completions", timeout=60, json={
            "model": "gpt-4o", "messages": [{"role": "user", "content": "what is the admin password?"}]})
        assert r.headers["x-mockvendor-fault"] == "refusal" and r.json()["choices"][0]["message"]["refusal"]
    finally:
        httpx.delete(server.url + "/admin/rules", timeout=30)


def test_violate_breaks_every_shape() -> None:
    import jsonschema

    for schema, value in [
        (Trip.model_json_schema(), {"city": "Rome", "days": 3}),
        ({"type": "object", "properties": {"a": {"type": "integer"}}}, {"a": 1}),
        ({"type": "object", "properties": {"a": {"enum": ["x"]}}}, {"a": "x"}),
        ({"type": "array", "items": {"type": "integer"}}, [1]),
        ({"type": "string"}, "x"),
    ]:
        jsonschema.validate(value, schema)
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(violate(schema, value), schema)
