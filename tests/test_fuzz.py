"""Property-based fuzzing of the whole HTTP API from the server's own /openapi.json
(schemathesis), against a real server with simulated faults off: valid and invalid
requests alike must never get a 5xx, and every answer must match what the document
says (status, content type, headers, body schema, each streamed event).

Bounded for ``make test`` (FUZZ_EXAMPLES examples per operation, default 12, about a
minute on two cores); the long mode is ``FUZZ_EXAMPLES=500 FUZZ_RANDOM=1 pytest tests/test_fuzz.py``
(README, "Fuzzing"). Every model name is answered by the echo engine so examples cost
microseconds; the real model's request path is fuzzed by tests/test_bad_input.py's table.
What the fuzzer found is kept as regression tests at the end of this file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from mockvendor.app import openapi_document

from .conftest import asgi_client, make_settings
from .helpers import ServerProcess, assert_vendor_error
from .sse import events
from .standins import StandInOpenAI

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
# The same examples every run (reproducible in `make test`), unless FUZZ_RANDOM=1 explores anew.
DERANDOMIZE = os.environ.get("FUZZ_RANDOM", "") not in {"1", "true", "yes"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
MODELS = ("smollm2", "gpt-4o-mini", "gpt-3.5-turbo", "claude-3-5-haiku-latest", "gemini-2.0-flash",
          "text-embedding-3-small", "text-embedding-004")

pytestmark = pytest.mark.slow


def echo_config(directory: Path) -> Path:
    """A config answering every model name with the echo engine."""
    lines = ['vendor_a_model = "echo"', 'vendor_b_model = "echo"', 'catalog_model = "echo"']
    lines += [f'[models."{name}"]\nengine = "echo"' for name in MODELS]
    path = directory / "fuzz.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def fuzz_server() -> Iterator[ServerProcess]:
    with StandInOpenAI() as upstream, tempfile.TemporaryDirectory(prefix="mockvendor-fuzz-") as d:
        srv = ServerProcess(
            env={
                "MOCKVENDOR_CONFIG": str(echo_config(Path(d))),
                "MOCKVENDOR_FAULTS": "off",
                "MOCKVENDOR_ALLOW_FAULT_HEADERS": "0",  # the fuzzer sends every documented header
                "OPENAI_API_KEY": "sk-fuzz-0000",
                "OPENAI_BASE_URL": upstream.base_url,
            }
        ).wait_ready()
        yield srv
        srv.stop()


def _document() -> dict[str, Any]:
    """The server's OpenAPI document, built in-process at collection time (no model load),
    so each operation is its own test; requests go to the real server."""
    from mockvendor.app import create_app

    return openapi_document(create_app(make_settings()).ctx)


SCHEMA = schemathesis.openapi.from_dict(_document())
OPERATIONS = [(path, method) for path, item in SCHEMA.raw_schema["paths"].items() for method in item
              if method in {"get", "post", "put", "patch", "delete"}]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m.upper()} {p}" for p, m in OPERATIONS])
def test_api_keeps_its_contract(fuzz_server: ServerProcess, path: str, method: str, mode: GenerationMode) -> None:
    operation = SCHEMA[path][method.upper()]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=DERANDOMIZE, database=None,
              suppress_health_check=list(HealthCheck))
    def fuzz(case: Any) -> None:
        case.call_and_validate(base_url=fuzz_server.url, checks=CHECKS, timeout=30)

    fuzz()


def test_server_healthy_after_fuzzing(fuzz_server: ServerProcess) -> None:
    assert httpx.get(fuzz_server.url + "/readyz").json()["status"] == "ready"
    assert "Exception in ASGI application" not in fuzz_server.log_text()
    assert "Traceback" not in fuzz_server.log_text()


# ---- what the fuzzer found, kept as regression tests ------------------------------------

STREAMS = [
    ("/vendor-a/messages", {"prompt": "one two three", "stream": True}),
    ("/vendor-b/messages", {"prompt": "one two three", "stream": True}),
    ("/v1/chat/completions", {"model": "echo", "messages": [{"role": "user", "content": "one two"}], "stream": True}),
    ("/v1/completions", {"model": "echo", "prompt": "one two", "stream": True}),
    ("/v1/responses", {"model": "echo", "input": "one two", "stream": True}),
    ("/v1/messages", {"model": "echo", "max_tokens": 8, "messages": [{"role": "user", "content": "one two"}],
                      "stream": True}),
    ("/v1beta/models/{model}:streamGenerateContent", {"contents": [{"parts": [{"text": "one two"}]}]}),
]


@pytest.mark.parametrize(("path", "body"), STREAMS, ids=[p for p, _ in STREAMS])
async def test_streamed_events_match_the_documented_event_schema(app_factory: Any, path: str, body: Any) -> None:
    """Found: streams were documented as one string, so every event "violated" it
    (OpenAPI 3.1 reads a text/event-stream schema as the schema of each event)."""
    app = app_factory()
    doc = openapi_document(app.ctx)
    schema = doc["paths"][path]["post"]["responses"]["200"]["content"]["text/event-stream"]["schema"]
    url = path.replace("{model}", "echo") + ("?alt=sse" if "{model}" in path else "")
    async with asgi_client(app) as c:
        r = await c.post(url, json=body)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream"), r.text
    parsed = events(r.text)
    assert parsed
    for name, data in parsed:
        event = {"data": data} if name is None else {"event": name, "data": data}
        jsonschema.validate(event, schema)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/messages", {"model": "echo", "max_tokens": 10**11, "messages": [{"role": "user", "content": "x"}]},
         "max_tokens"),
        ("/v1beta/models/echo:generateContent",
         {"contents": [{"parts": [{"text": "x"}]}], "generationConfig": {"maxOutputTokens": 10**13}},
         "maxOutputTokens"),
    ],
)
async def test_documented_limits_are_the_enforced_ones(app_factory: Any, path: str, body: Any, field: str) -> None:
    """Found: `max_tokens` past 1,000,000 was refused but documented without a maximum."""
    app = app_factory()
    vendor = "anthropic" if path == "/v1/messages" else "gemini"
    async with asgi_client(app) as c:
        assert_vendor_error(vendor, await c.post(path, json=body), 400, mentions=field)
    doc = json.dumps(openapi_document(app.ctx))
    assert f'"{field}": {{"type": "integer", "minimum": 1, "maximum": 1000000' in doc


@pytest.mark.parametrize("prefix", ["/v1beta", "/v1"])
@pytest.mark.parametrize("method", ["generateContent", "streamGenerateContent"])
async def test_a_model_name_with_a_line_break_is_a_gemini_404(app_factory: Any, prefix: str, method: str) -> None:
    """Found: `/v1/models/a%0Ab:generateContent` matched no route (a path parameter stopped
    at the newline) and got the unknown-route 404 in OpenAI's shape instead of Gemini's."""
    async with asgi_client(app_factory()) as c:
        r = await c.post(f"{prefix}/models/bad%0Amodel:{method}?alt=sse",
                         json={"contents": [{"parts": [{"text": "hi"}]}]})
    assert_vendor_error("gemini", r, 404, mentions="bad")
