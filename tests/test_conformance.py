"""Conformance corpus: the vendors' own published request examples, sent unchanged to a real server.

OpenAI: every ``x-oaiMeta`` example (chat completions, completions, Responses, embeddings, models) of
OpenAI's published OpenAPI document (extract in tests/conformance/openai_examples.json, regenerate
with tests/conformance/extract_openai.py) goes to ``mockvendor serve`` with only the host replaced
and the document's own ``VAR_*`` model placeholders filled in; each answer (and each streamed event)
is validated against the operation's published 200 response schema with jsonschema.

Examples a mock cannot honour are listed in ``OPENAI_EXPECTED_ERRORS`` with the reason; they must
answer in OpenAI's own error shape. Nothing is skipped silently.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from tests.helpers import assert_vendor_error, serving

CORPUS = json.loads((Path(__file__).parent / "conformance" / "openai_examples.json").read_text())


def _nullable(node: Any) -> Any:
    """OpenAPI 3.0's ``nullable: true`` (the document mixes it with 3.1) as JSON Schema's null."""
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: _nullable(v) for k, v in node.items()}
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


# Where OpenAI's own published example answers contradict its schema, the examples win:
# (path to a properties map inside components.schemas, property) -> the example that shows it.
SPEC_ALLOWANCES: dict[tuple[tuple[Any, ...], str], str] = {
    (("ModelResponseProperties",), "user"): 'the createResponse examples answer "user": null',
    (("CreateCompletionResponse", "properties", "choices", "items"), "finish_reason"):
        'the createCompletion Streaming example\'s chunk has "finish_reason": null',
    (("Response", "allOf", 2), "usage"): 'the createResponse Streaming example\'s response.created has "usage": null',
}
COMPONENTS = _nullable(CORPUS["components"])
for (_where, _prop) in SPEC_ALLOWANCES:
    _node = COMPONENTS["schemas"]
    for _k in _where:
        _node = _node[_k]
    _node["properties"][_prop] = {"anyOf": [_node["properties"][_prop], {"type": "null"}]}
# The document's placeholders: the model the other examples of the same page name.
PLACEHOLDERS = {"VAR_chat_model_id": "gpt-5.4", "VAR_completion_model_id": "gpt-3.5-turbo-instruct"}

# Examples that need things a mock cannot have: (operationId, title) -> reason.
OPENAI_EXPECTED_ERRORS: dict[tuple[str, str], str] = {
    ("createResponse", "Web search"): "web_search_preview needs a real web search: 400 naming tools[0].type",
    ("createResponse", "File search"): "file_search needs a vector store uploaded earlier (vs_1234567890): 400",
}

RESULTS: dict[str, list[str]] = {"pass": [], "expected_error": []}


def _fill(value: Any) -> Any:
    text = json.dumps(value)
    for k, v in PLACEHOLDERS.items():
        text = text.replace(k, v)
    return json.loads(text)


def _validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator({"components": COMPONENTS, "$ref": f"#/components/schemas/{name}"})


def _errors(validator: jsonschema.Draft202012Validator, instance: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in validator.iter_errors(instance)]


def _sse_events(text: str) -> list[Any]:
    out = []
    for line in text.splitlines():
        if line.startswith("data:"):
            data = line[5:].strip()
            if data != "[DONE]":
                out.append(json.loads(data))
    return out


@pytest.fixture(scope="module")
def echo_server(request):
    # Every catalog model name answered by the echo engine: the wire shape is the point here.
    with serving(MOCKVENDOR_CATALOG_MODEL="echo") as s:
        yield s
    # The summary: how many published examples pass, and which answer the vendor's error on purpose.
    tr = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if tr is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            tr.write_line(f"\nconformance: {len(RESULTS['pass'])} runs pass (echo engine + SmolLM2 sample), "
                          f"{len(RESULTS['expected_error'])} answer the vendor's own error as listed:")
            for line in RESULTS["expected_error"]:
                tr.write_line(f"  {line}")


def _send(server: Any, ex: dict[str, Any]) -> httpx.Response:
    headers = {"Authorization": "Bearer sk-test"}
    path = _fill(ex["path"])
    if ex["method"] == "GET":
        return httpx.get(server.url + path, headers=headers, timeout=120)
    return httpx.post(server.url + path, json=_fill(ex["body"]), headers=headers, timeout=120)


def _check_openai(resp: httpx.Response, ex: dict[str, Any]) -> None:
    key = (ex["operation"], ex["title"])
    if key in OPENAI_EXPECTED_ERRORS:
        assert 400 <= resp.status_code < 500, (key, resp.status_code, resp.text[:500])
        assert_vendor_error("openai", resp, resp.status_code)
        RESULTS["expected_error"].append(f"openai {key}: {OPENAI_EXPECTED_ERRORS[key]}")
        return
    assert resp.status_code == 200, (key, resp.status_code, resp.text[:1000])
    schemas = ex["response_schemas"]
    if resp.headers["content-type"].startswith("text/event-stream"):
        # createCompletion publishes no stream schema: its chunks are CreateCompletionResponse objects.
        validator = _validator(schemas.get("text/event-stream", schemas["application/json"]))
        events = _sse_events(resp.text)
        assert events, resp.text[:500]
        problems = [(i, p) for i, ev in enumerate(events) for p in _errors(validator, ev)]
    else:
        problems = _errors(_validator(schemas["application/json"]), resp.json())
    assert not problems, (key, problems[:10])
    RESULTS["pass"].append(f"openai {key}")


@pytest.mark.parametrize("ex", CORPUS["examples"], ids=lambda e: f"{e['operation']}-{e['title']}")
def test_openai_example(echo_server, ex):
    _check_openai(_send(echo_server, ex), ex)


# Anthropic and Google: their sites are out of reach, so the requests are the official SDKs' README
# examples (anthropic 2.x README "Usage"/"Streaming responses"/tool use; google-genai README
# "Generate content", "System instructions", "Streaming", function declarations) as the SDKs put
# them on the wire; answers are validated with the SDKs' own response types, no unknown fields.
ANTHROPIC_EXAMPLES: dict[str, dict[str, Any]] = {
    "usage": {"max_tokens": 1024, "messages": [{"role": "user", "content": "Hello, Claude"}],
              "model": "claude-opus-5-5"},
    "streaming": {"max_tokens": 1024, "messages": [{"role": "user", "content": "Hello, Claude"}],
                  "model": "claude-opus-5-5", "stream": True},
    "tools": {"model": "claude-opus-5-5", "max_tokens": 1024,
              "tools": [{"name": "get_weather", "description": "Get the current weather in a given location",
                         "input_schema": {"type": "object", "properties": {"location": {
                             "type": "string", "description": "The city and state, e.g. San Francisco, CA"}},
                             "required": ["location"]}}],
              "messages": [{"role": "user", "content": "What's the weather like in San Francisco?"}]},
}
GEMINI_EXAMPLES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "generate content": ("gemini-3.1-pro-preview", "generateContent",
                         {"contents": [{"role": "user", "parts": [{"text": "Why is the sky blue?"}]}]}),
    "system instructions": ("gemini-3.8-flash", "generateContent", {
        "contents": [{"role": "user", "parts": [{"text": "high"}]}],
        "systemInstruction": {"role": "user", "parts": [{"text": "I say high, you say low"}]},
        "generationConfig": {"maxOutputTokens": 3}}),
    "streaming": ("gemini-3.8-flash", "streamGenerateContent?alt=sse",
                  {"contents": [{"role": "user", "parts": [{"text": "Tell me a story in 300 words."}]}]}),
    "function declarations": ("gemini-3.8-flash", "generateContent", {
        "contents": [{"role": "user", "parts": [{"text": "What is the weather like in Boston?"}]}],
        "tools": [{"functionDeclarations": [{"name": "get_current_weather",
                                             "description": "Get the current weather in a given location",
                                             "parameters": {"type": "OBJECT", "properties": {
                                                 "location": {"type": "STRING"}}, "required": ["location"]}}]}]}),
}


def _no_extra(obj: Any, where: str = "") -> list[str]:
    """Fields the SDK type does not declare, anywhere in the parsed answer."""
    from pydantic import BaseModel

    out: list[str] = []
    if isinstance(obj, BaseModel):
        out += [f"{where}.{k}" for k in (obj.__pydantic_extra__ or {})]
        for name in type(obj).model_fields:
            out += _no_extra(getattr(obj, name), f"{where}.{name}")
    elif isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            out += _no_extra(v, f"{where}[{i}]")
    return out


@pytest.mark.parametrize("name", list(ANTHROPIC_EXAMPLES))
def test_anthropic_example(echo_server, name):
    import pydantic
    from anthropic.types import Message, RawMessageStreamEvent

    body = ANTHROPIC_EXAMPLES[name]
    resp = httpx.post(echo_server.url + "/v1/messages", json=body, timeout=120,
                      headers={"x-api-key": "sk-ant-test", "anthropic-version": "2023-06-01"})
    assert resp.status_code == 200, resp.text[:1000]
    if body.get("stream"):
        adapter = pydantic.TypeAdapter(RawMessageStreamEvent)
        events = _sse_events(resp.text)
        assert events and events[-1]["type"] == "message_stop", resp.text[:500]
        # Anthropic's documented keep-alive ``ping`` is outside the union; the SDK skips it.
        assert all(ev == {"type": "ping"} for ev in events if ev["type"] == "ping"), events
        problems = [p for ev in events if ev["type"] != "ping"
                    for p in _no_extra(adapter.validate_python(ev), ev["type"])]
    else:
        problems = _no_extra(Message.model_validate(resp.json()))
    assert not problems, problems
    RESULTS["pass"].append(f"anthropic {name}")


@pytest.mark.parametrize("name", list(GEMINI_EXAMPLES))
def test_gemini_example(echo_server, name):
    from google.genai import types

    model, method, body = GEMINI_EXAMPLES[name]
    resp = httpx.post(f"{echo_server.url}/v1beta/models/{model}:{method}", json=body, timeout=120,
                      headers={"x-goog-api-key": "AIza-test"})
    assert resp.status_code == 200, resp.text[:1000]
    answers = _sse_events(resp.text) if "stream" in method else [resp.json()]
    assert answers
    for a in answers:
        # google-genai's types forbid unknown fields: validation fails on any the mock invents.
        parsed = types.GenerateContentResponse.model_validate(a)
        assert parsed.candidates, a
    RESULTS["pass"].append(f"gemini {name}")


def test_real_model_sample():
    """A sample of the corpus on the embedded model (SmolLM2), plain and streamed."""
    picks = [e for e in CORPUS["examples"] if (e["operation"], e["title"]) in
             {("createChatCompletion", "Default"), ("createChatCompletion", "Streaming"),
              ("createResponse", "Text input")}]
    assert len(picks) == 3
    with serving() as s:
        for ex in picks:
            ex = {**ex, "body": {**ex["body"], "max_tokens" if "messages" in ex["body"] else "max_output_tokens": 16}}
            _check_openai(_send(s, ex), ex)
