"""Rules over real sockets (the pytest plugin's server): every match kind, every answer kind,
one rule answered alike in every wire format, streamed or not, the admin API, rules files."""

from __future__ import annotations

import json
import time
from typing import Any

import anthropic
import httpx
import openai
import pytest
from google import genai
from google.genai import types as genai_types

from mockvendor.pytest_plugin import MockVendor

from .helpers import assert_vendor_error


def sse_events(text: str) -> list[Any]:
    """The JSON of every ``data:`` line of a stream (``[DONE]`` and the like skipped)."""
    out = []
    for line in text.splitlines():
        if line.startswith("data:"):
            try:
                out.append(json.loads(line[5:]))
            except ValueError:
                pass
    return out


def chat(mv: MockVendor, content: str, *, model: str = "gpt-4o-mini", headers: dict[str, str] | None = None,
         **body: Any) -> httpx.Response:
    messages = body.pop("messages", None) or [{"role": "user", "content": content}]
    return httpx.post(mv.base_url("openai") + "/chat/completions", json={"model": model, "messages": messages, **body},
                      headers=headers or {}, timeout=30)


def text_of(r: httpx.Response) -> str:
    assert r.status_code == 200, r.text
    return str(r.json()["choices"][0]["message"]["content"])


WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


# -- match kinds: (match, a request that matches, one that does not) ----------------------------
def _req(content: str = "hello there", **kw: Any) -> dict[str, Any]:
    return {"content": content, **kw}


MATCHES: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    ("vendor", {"vendor": "openai"}, _req(), _req(via="anthropic")),
    ("route", {"route": "/v1/chat/*"}, _req(), _req(via="anthropic")),
    ("model exact", {"model": "gpt-4o-mini"}, _req(), _req(model="gpt-4o")),
    ("model glob", {"model": "gpt-4o*"}, _req(model="gpt-4o-2024-08-06"), _req(model="gpt-4.1")),
    ("user contains", {"user": "refund"}, _req("a refund please"), _req("a return please")),
    ("user regex", {"user": {"regex": r"^order \d+$"}}, _req("order 42"), _req("order forty")),
    ("user equals", {"user": {"equals": "hi"}}, _req("hi"), _req("hi there")),
    ("user ignore case", {"user": {"contains": "REFUND", "ignore_case": True}}, _req("Refund!"), _req("no")),
    ("any message", {"message": "secret word"},
     _req(messages=[{"role": "user", "content": "the secret word"}, {"role": "assistant", "content": "ok"},
                    {"role": "user", "content": "go"}]), _req("go")),
    ("system", {"system": {"regex": "support agent"}},
     _req(messages=[{"role": "system", "content": "You are a support agent."}, {"role": "user", "content": "hi"}]),
     _req("hi")),
    ("tools offered", {"tools": ["get_weather"]}, _req(tools=[WEATHER]), _req()),
    ("no tools", {"tools": False}, _req(), _req(tools=[WEATHER])),
    ("tool result", {"tool_result": "sunny"},
     _req(tools=[WEATHER], messages=[
         {"role": "user", "content": "weather?"},
         {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function", "function": {
             "name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
         {"role": "tool", "tool_call_id": "call_1", "content": "sunny, 21C"}]),
     _req("weather?", tools=[WEATHER])),
    ("header", {"headers": {"x-tenant": "acme"}}, _req(headers={"x-tenant": "acme"}), _req(headers={"x-tenant": "b"})),
]


def _send(mv: MockVendor, spec: dict[str, Any]) -> str:
    spec = dict(spec)
    content = spec.pop("content")
    via = spec.pop("via", "openai")
    if via == "anthropic":
        r = httpx.post(mv.base_url("anthropic") + "/v1/messages", json={
            "model": "claude-sonnet-4-5", "max_tokens": 50, "messages": [{"role": "user", "content": content}]})
        assert r.status_code == 200, r.text
        return str(r.json()["content"][0]["text"])
    return text_of(chat(mv, content, **spec))


@pytest.mark.parametrize(("kind", "match", "hit", "miss"), MATCHES, ids=[m[0] for m in MATCHES])
def test_match_kinds(mockvendor: MockVendor, kind: str, match: dict[str, Any], hit: dict[str, Any],
                     miss: dict[str, Any]) -> None:
    mockvendor.rule(match, {"text": "RULE ANSWERED"})
    assert _send(mockvendor, hit) == "RULE ANSWERED"
    assert _send(mockvendor, miss) != "RULE ANSWERED"


def test_structured_output_asked() -> None:
    """``structured`` reads the request's ``response_format`` (set by the vendors that parse it)."""
    from dataclasses import dataclass

    from mockvendor.rules import RuleBook
    from mockvendor.tracking.record import Record
    from mockvendor.types import GenerateRequest, Message

    @dataclass
    class WithFormat(GenerateRequest):
        response_format: Any = None

    book = RuleBook()
    book.add([{"name": "json", "match": {"structured": True}, "answer": "{}"},
              {"name": "plain", "match": {"structured": False}, "answer": "text"}])
    asked = WithFormat("gpt-4o", [Message("user", "hi")], response_format={"type": "json_object"})
    plain = GenerateRequest("gpt-4o", [Message("user", "hi")])
    assert book.pick("openai", None, asked, Record(route="/v1/chat/completions")).name == "json"  # type: ignore
    assert book.pick("openai", None, plain, Record(route="/v1/chat/completions")).name == "plain"  # type: ignore


def test_nth_request_and_times(mockvendor: MockVendor) -> None:
    mockvendor.rule(nth=[2, 4], text="even")
    mockvendor.rule(user="again", text="limited", times=2)
    answers = [text_of(chat(mockvendor, "again")) for _ in range(5)]
    assert answers == ["limited", "even", "limited", "even", "again"]  # echo answers once both are spent
    used = {r["name"]: r["used"] for r in mockvendor.rules()}
    assert list(used.values()) == [2, 2]


def test_seq_occurrences(mockvendor: MockVendor) -> None:
    mockvendor.rule(user="step", seq=0, text="first")
    mockvendor.rule(user="step", seq=1, text="second")
    assert [text_of(chat(mockvendor, "step")) for _ in range(3)] == ["first", "second", "step"]


# -- answer kinds ------------------------------------------------------------------------------
def test_text_templated_from_captures_and_request(mockvendor: MockVendor) -> None:
    mockvendor.rule(user={"regex": r"order (\d+) for (?P<who>\w+)"},
                    text="Order {{1}} refunded to {{who}} by {{model}}.")
    assert text_of(chat(mockvendor, "refund order 42 for Alice")) == "Order 42 refunded to Alice by gpt-4o-mini."


def test_tool_calls_answer_parsed_by_the_sdk(mockvendor: MockVendor) -> None:
    mockvendor.rule(user={"regex": r"weather in (\w+)"},
                    tool_calls=[{"name": "get_weather", "arguments": {"city": "{{1}}", "days": 3}}])
    client = openai.OpenAI(base_url=mockvendor.base_url("openai"), api_key="sk-test", max_retries=0)
    out = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "weather in Lyon"}],
                                         tools=[WEATHER])  # type: ignore[list-item]
    call = out.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert out.choices[0].finish_reason == "tool_calls"
    assert (call.function.name, json.loads(call.function.arguments)) == ("get_weather", {"city": "Lyon", "days": 3})


def test_structured_object_answer(mockvendor: MockVendor) -> None:
    mockvendor.rule(user="classify", json={"label": "refund", "confidence": 0.9})
    assert json.loads(text_of(chat(mockvendor, "classify this"))) == {"label": "refund", "confidence": 0.9}


@pytest.mark.parametrize("vendor", ["openai", "anthropic", "gemini", "a", "b"])
def test_fault_answer_in_each_vendors_shape(mockvendor: MockVendor, vendor: str) -> None:
    mockvendor.rule(user="boom", fault="rate-limit", retry_after_ms=1500)
    r = _post(mockvendor, vendor, "boom")
    assert_vendor_error(vendor, r, 429, fault="rate-limit")
    assert mockvendor.requests()[-1]["rule"] == "rule-1"


def test_stream_fault_from_a_rule(mockvendor: MockVendor) -> None:
    mockvendor.rule(user="cut", text="one two three four five", fault="stream-error", after_chunks=2)
    r = chat(mockvendor, "cut", stream=True)
    events = sse_events(r.text)
    texts = [e["choices"][0]["delta"].get("content") for e in events if isinstance(e, dict) and e.get("choices")]
    assert "".join(t for t in texts if t) == "one two "
    assert any(isinstance(e, dict) and "error" in e for e in events)


def test_stream_chunking_and_timing(mockvendor: MockVendor) -> None:
    mockvendor.rule(user="slowly", text="abcdefgh", stream={"chunk_size": 3, "ttft_ms": 300, "delay_ms": 100})
    t0 = time.perf_counter()
    with httpx.stream("POST", mockvendor.base_url("openai") + "/chat/completions", json={
            "model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "slowly"}]}) as r:
        arrivals, pieces = [], []
        for line in r.iter_lines():
            if line.startswith("data: {"):
                delta = json.loads(line[6:])["choices"]
                if delta and delta[0]["delta"].get("content"):
                    pieces.append(delta[0]["delta"]["content"])
                    arrivals.append(time.perf_counter() - t0)
    assert pieces == ["abc", "def", "gh"]
    assert arrivals[0] >= 0.28 and arrivals[2] - arrivals[0] >= 0.18, arrivals


def test_passthrough_with_timing_and_explicit_chunks(mockvendor: MockVendor) -> None:
    mockvendor.rule(user="model please", passthrough=True)
    assert text_of(chat(mockvendor, "model please")) == "model please"  # the echo model answered
    mockvendor.rule(user="pieces", text="ignored", stream={"chunks": ["Hel", "lo ", "world"]})
    events = sse_events(chat(mockvendor, "pieces", stream=True).text)
    assert [e["choices"][0]["delta"]["content"] for e in events
            if isinstance(e, dict) and e.get("choices") and e["choices"][0]["delta"].get("content")] == [
        "Hel", "lo ", "world"]
    assert [r["rule"] for r in mockvendor.requests()] == ["rule-1", "rule-2"]


# -- one rule, every wire format ------------------------------------------------------------------
def _post(mv: MockVendor, vendor: str, text: str, stream: bool = False, tools: bool = False) -> httpx.Response:
    base = mv.base_url("openai" if vendor == "responses" else vendor)
    if vendor == "openai":
        body: dict[str, Any] = {"model": "gpt-4o", "messages": [{"role": "user", "content": text}], "stream": stream}
        if stream:
            body["stream_options"] = {"include_usage": True}
        if tools:
            body["tools"] = [WEATHER]
        return httpx.post(base + "/chat/completions", json=body)
    if vendor == "responses":
        body = {"model": "gpt-4o", "input": text, "stream": stream}
        if tools:
            body["tools"] = [{"type": "function", **WEATHER["function"]}]
        return httpx.post(mv.base_url("openai") + "/responses", json=body)
    if vendor == "anthropic":
        body = {"model": "claude-sonnet-4-5", "max_tokens": 100, "messages": [{"role": "user", "content": text}],
                "stream": stream}
        if tools:
            body["tools"] = [{"name": "get_weather", "input_schema": WEATHER["function"]["parameters"]}]
        return httpx.post(base + "/v1/messages", json=body)
    if vendor == "gemini":
        body = {"contents": [{"role": "user", "parts": [{"text": text}]}]}
        if tools:
            body["tools"] = [{"functionDeclarations": [{"name": "get_weather", **{
                "parameters": WEATHER["function"]["parameters"]}}]}]
        method = "streamGenerateContent?alt=sse" if stream else "generateContent"
        return httpx.post(base + f"/v1beta/models/gemini-2.5-flash:{method}", json=body)
    path = {"a": "/vendor-a/messages", "b": "/vendor-b/messages", "e": "/vendor-e/messages"}[vendor]
    return httpx.post(base + path, json={"prompt": text, **({"stream": True} if stream else {})})


def test_one_rule_answers_alike_in_every_wire_format_through_the_sdks(mockvendor: MockVendor) -> None:
    answer = "The refund for order 42 is on its way."
    mockvendor.rule(user="refund", text=answer)
    prompt = "Where is my refund?"
    oa = openai.OpenAI(base_url=mockvendor.base_url("openai"), api_key="sk-test", max_retries=0)
    got = oa.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": prompt}])
    assert got.choices[0].message.content == answer
    usage = (got.usage.prompt_tokens, got.usage.completion_tokens)  # type: ignore[union-attr]
    chunks = list(oa.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": prompt}],
                                             stream=True, stream_options={"include_usage": True}))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == answer
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == usage  # type: ignore[union-attr]
    resp = oa.responses.create(model="gpt-4o", input=prompt)
    assert resp.output_text == answer and (resp.usage.input_tokens, resp.usage.output_tokens) == usage  # type: ignore

    an = anthropic.Anthropic(base_url=mockvendor.base_url("anthropic"), api_key="sk-ant-test", max_retries=0)
    msg = an.messages.create(model="claude-sonnet-4-5", max_tokens=100, messages=[{"role": "user", "content": prompt}])
    assert msg.content[0].text == answer and (msg.usage.input_tokens, msg.usage.output_tokens) == usage  # type: ignore
    with an.messages.stream(model="claude-sonnet-4-5", max_tokens=100,
                            messages=[{"role": "user", "content": prompt}]) as s:
        assert "".join(s.text_stream) == answer
        assert s.get_final_message().usage.output_tokens == usage[1]

    gg = genai.Client(api_key="AIza-test", http_options=genai_types.HttpOptions(base_url=mockvendor.base_url("gemini")))
    g = gg.models.generate_content(model="gemini-2.5-flash", contents=prompt)
    assert g.text == answer
    assert (g.usage_metadata.prompt_token_count, g.usage_metadata.candidates_token_count) == usage  # type: ignore
    assert "".join(c.text or "" for c in gg.models.generate_content_stream(model="gemini-2.5-flash",
                                                                           contents=prompt)) == answer

    for vendor in ("a", "b"):
        for stream in (False, True):
            r = _post(mockvendor, vendor, prompt, stream)
            assert r.status_code == 200, r.text
            if not stream:
                body = r.json()
                assert body.get("outputText", answer) == answer
                if vendor == "b":
                    assert body["choices"][0]["message"]["content"] == answer
            else:
                pieces = [e.get("delta") or (e.get("choices") or [{}])[0].get("delta", {}).get("content")
                          for e in sse_events(r.text) if isinstance(e, dict)]
                assert "".join(p for p in pieces if isinstance(p, str)) == answer
    assert _post(mockvendor, "e", prompt).json()["response"] == "You entered " + answer
    recs = mockvendor.requests()
    assert {r["rule"] for r in recs} == {"rule-1"} and len(recs) == 12
    assert {(r["tokens_in"], r["tokens_out"]) for r in recs if r["vendor"] in ("openai", "anthropic", "gemini")} == {
        usage}


@pytest.mark.parametrize("vendor", ["openai", "responses", "anthropic", "gemini"])
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_one_tool_call_rule_in_every_tool_format(mockvendor: MockVendor, vendor: str, stream: bool) -> None:
    mockvendor.rule(user="weather", tool_calls=[{"name": "get_weather", "arguments": {"city": "Oslo"}}])
    r = _post(mockvendor, vendor, "weather please", stream, tools=True)
    assert r.status_code == 200, r.text
    text = r.text
    # Every format carries the call's name and its arguments (whole, or in pieces when streamed).
    assert "get_weather" in text
    joined = "".join(json.dumps(e) for e in sse_events(text)) if stream else text
    assert "Oslo" in joined.replace('\\"', '"')


# -- the admin API, files, imports ------------------------------------------------------------
def test_global_rules_and_test_rules(mockvendor: MockVendor) -> None:
    http = mockvendor.http
    r = http.post("/admin/rules", json={"rules": [{"name": "g1", "match": {"user": "global thing"}, "answer": "G"}]})
    try:
        assert r.status_code == 201, r.text
        mockvendor.rule(user="global thing", text="T")  # the test's own rules come first
        assert text_of(chat(mockvendor, "a global thing")) == "T"
        other = httpx.post(mockvendor.url + "/v1/chat/completions", json={
            "model": "gpt-4o", "messages": [{"role": "user", "content": "a global thing"}]})
        assert text_of(other) == "G"
        listing = http.get("/admin/rules").json()
        assert listing["rules"][0]["name"] == "g1" and listing["rules"][0]["used"] == 1
        assert http.delete("/admin/rules/g1").status_code == 200
        assert http.delete("/admin/rules/g1").status_code == 404
    finally:
        http.delete("/admin/rules")


def test_bad_rule_is_a_400_naming_the_field(mockvendor: MockVendor) -> None:
    r = mockvendor.http.post("/admin/rules", params={"test_id": mockvendor.test_id},
                             json={"match": {"usr": "x"}, "answer": "y"})
    assert r.status_code == 400 and "usr" in r.json()["error"]["message"]
    r = mockvendor.http.post("/admin/rules", params={"test_id": mockvendor.test_id},
                             json={"match": {"user": {"regex": "("}}, "answer": "y"})
    assert r.status_code == 400 and "regex" in r.json()["error"]["message"]


def test_answer_this_the_same_way_next_time(mockvendor: MockVendor) -> None:
    first = text_of(chat(mockvendor, "what is the plan?"))
    rec = mockvendor.requests()[-1]
    r = mockvendor.http.post(f"/admin/rules/from-request/{rec['id']}", params={"test_id": mockvendor.test_id})
    assert r.status_code == 201, r.text
    assert r.json()["rules"][0]["answer"] == {"text": first}
    assert text_of(chat(mockvendor, "what is the plan?")) == first
    assert mockvendor.requests()[-1]["rule"] == r.json()["rules"][0]["name"]


async def test_admin_token_guards_rules(app_factory: Any, tmp_path: Any) -> None:
    app = app_factory(admin_token="s3cret", catalog_model="echo")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.post("/admin/rules", json={"match": {}, "answer": "x"})
        assert r.status_code == 401
        r = await c.post("/admin/rules", json={"match": {}, "answer": "x"}, headers={"authorization": "Bearer s3cret"})
        assert r.status_code == 201


async def test_rules_file_from_the_settings(app_factory: Any, tmp_path: Any) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  - match: {user: ping, model: 'gpt-*'}\n    answer: pong\n    times: 1\n")
    app = app_factory(rules=str(path), catalog_model="echo")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "ping"}]}
        first = await c.post("/v1/chat/completions", json=body)
        second = await c.post("/v1/chat/completions", json=body)
        assert text_of(first) == "pong" and text_of(second) == "ping"


def test_a_rule_for_a_model_no_vendor_has(mockvendor: MockVendor) -> None:
    assert chat(mockvendor, "hi", model="my-finetune").status_code == 404
    mockvendor.rule(model="my-finetune", text="tuned")
    assert text_of(chat(mockvendor, "hi", model="my-finetune")) == "tuned"
