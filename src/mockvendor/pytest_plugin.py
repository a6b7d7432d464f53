"""The pytest plugin: a ``mockvendor`` fixture for testing an application that calls LLM vendors.

The server starts in-process once per session (uvicorn in a thread, on a free loopback
port; the echo model answers unless ``--mockvendor-model`` names another; faults are off
unless ``MOCKVENDOR_FAULTS`` turns them on), or ``--mockvendor-url`` names a running one.
Each test gets its own test id and base URLs under ``/t/<test id>/``, so everything the
application sends is bound to the test without a header::

    def test_refund(mockvendor):
        mockvendor.rule(user="refund", tool_calls=[{"name": "issue_refund", "arguments": {"order": "42"}}])
        app = MyApp(base_url=mockvendor.base_url("openai"))
        ...
        assert [r["rule"] for r in mockvendor.requests()] == ["rule-1"]

``@pytest.mark.mockvendor_cassette("name")`` records the test's requests to the real vendor
(``--mockvendor-record=once|new_episodes|all``) into ``cassettes/<name>.yaml`` next to the
test file, and replays them offline otherwise (mode ``none``, the default).
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

MODES = ("none", "once", "new_episodes", "all")
_MATCH_KEYS = {"vendor", "route", "model", "user", "message", "system", "tools", "tool_result", "structured",
               "headers", "nth", "seq"}
_ANSWER_KEYS = {"text", "tool_calls", "json", "fault", "retry_after_ms", "should_retry", "after_chunks", "delay_ms",
                "stall_ms", "status", "stream", "passthrough"}
# Where each vendor's SDK wants its base URL (the SDK adds the rest of the path).
_BASE_PATHS = {"openai": "/v1", "o": "", "anthropic": "", "gemini": "", "bedrock": "", "a": "", "b": "", "e": "",
               "cohere": "", "mistral": "/mistral", "azure": "", "ollama": ""}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockvendor", "mockvendor: LLM vendors on a real model, with rules and faults")
    group.addoption("--mockvendor-url", default=None, help="use this running mockvendor instead of starting one")
    group.addoption("--mockvendor-record", nargs="?", const="once", default="none", choices=MODES,
                    help="cassette record mode (none: replay only; once: record a missing cassette; "
                         "new_episodes: record what is not in it; all: record everything again)")
    group.addoption("--mockvendor-upstream", default=None,
                    help="record from this server (default: each vendor's own API, keys from the environment)")
    group.addoption("--mockvendor-model", default=None,
                    help="the model answering the vendors' model names (default: echo, the fastest)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "mockvendor_cassette(name, timing='recorded'): record and replay this test's vendor requests")


class Server:
    """A mockvendor the session talks to: started here, or running elsewhere."""

    def __init__(self, url: str, stop: Any = None) -> None:
        self.url = url.rstrip("/")
        self._stop = stop
        self.http = httpx.Client(base_url=self.url, timeout=60, headers=_admin_headers())

    def close(self) -> None:
        self.http.close()
        if self._stop is not None:
            self._stop()


def _admin_headers() -> dict[str, str]:
    token = os.environ.get("MOCKVENDOR_ADMIN_TOKEN")
    return {"authorization": f"Bearer {token}"} if token else {}


def start_server(model: str | None = None) -> Server:
    """mockvendor in this process: uvicorn in a daemon thread on a free loopback port."""
    import uvicorn

    from .app import create_app
    from .settings import Settings

    settings = Settings.from_env()
    chosen = model or os.environ.get("MOCKVENDOR_CATALOG_MODEL") or "echo"
    settings.catalog_model = chosen
    for key in ("vendor_a_model", "vendor_b_model"):
        if f"MOCKVENDOR_{key.upper()}" not in os.environ:
            setattr(settings, key, chosen)
    used = {settings.catalog_model, settings.vendor_a_model, settings.vendor_b_model}
    # The embedded model loads only if something uses it: the echo model starts at once.
    settings.models = {k: v for k, v in settings.models.items() if v.engine != "llamacpp" or k in used}
    if "MOCKVENDOR_FAULTS" not in os.environ:
        settings.faults_enabled = False
    if "MOCKVENDOR_DATA_DIR" not in os.environ:
        settings.request_log = "memory"
        settings.data_dir = tempfile.mkdtemp(prefix="mockvendor-pytest-")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    # X-Forwarded-* are handled by the app (create_app), not by uvicorn's layer.
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning", proxy_headers=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="mockvendor", daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("mockvendor did not start (see the log above)")
        time.sleep(0.01)

    def stop() -> None:
        server.should_exit = True
        thread.join(10)

    return Server(f"http://127.0.0.1:{port}", stop)


@pytest.fixture(scope="session")
def mockvendor_server(pytestconfig: pytest.Config) -> Iterator[Server]:
    """The session's mockvendor (one per session)."""
    url = pytestconfig.getoption("mockvendor_url")
    server = Server(url) if url else start_server(pytestconfig.getoption("mockvendor_model"))
    try:
        yield server
    finally:
        server.close()


def node_test_id(nodeid: str) -> str:
    """A test id for a pytest node: readable, URL-safe and unique."""
    tail = re.sub(r"[^A-Za-z0-9_.-]+", "-", nodeid.split("::", 1)[-1]).strip("-")[-60:]
    return f"{tail}-{hashlib.sha1(nodeid.encode()).hexdigest()[:8]}"


class MockVendor:
    """One test's view of the server: its base URLs, rules, faults and request log."""

    def __init__(self, server: Server, test_id: str) -> None:
        self.server = server
        self.url = server.url
        self.test_id = test_id
        self.http = server.http

    def base_url(self, vendor: str = "openai") -> str:
        """The base URL an SDK takes for ``vendor`` (openai, anthropic, gemini, bedrock, cohere, mistral, azure,
        ollama, a, b, e, o), bound to this test (boto3: its ``endpoint_url``; ``AzureOpenAI``: its
        ``azure_endpoint``; ``ollama.Client``: its ``host``)."""
        if vendor not in _BASE_PATHS:
            raise ValueError(f"unknown vendor {vendor!r}; valid: {sorted(_BASE_PATHS)}")
        return f"{self.url}/t/{self.test_id}{_BASE_PATHS[vendor]}"

    @property
    def headers(self) -> dict[str, str]:
        """The header binding a request to this test (for clients whose base URL is fixed)."""
        return {"x-mockvendor-test-id": self.test_id}

    def rule(self, match: dict[str, Any] | None = None, answer: dict[str, Any] | str | None = None, *,
             times: int | None = None, name: str | None = None, **fields: Any) -> dict[str, Any]:
        """Add a rule for this test: ``match``/``answer`` documents, or their fields as keywords
        (``rule(user="refund", text="Done.")``). Returns the rule as installed."""
        m = dict(match or {})
        a: dict[str, Any] = {"text": answer} if isinstance(answer, str) else dict(answer or {})
        for key, value in fields.items():
            if key in _MATCH_KEYS:
                m[key] = value
            elif key in _ANSWER_KEYS:
                a[key] = value
            else:
                raise TypeError(f"rule() got an unknown field {key!r}; match: {sorted(_MATCH_KEYS)}, "
                                f"answer: {sorted(_ANSWER_KEYS)}")
        doc: dict[str, Any] = {"match": m, "answer": a or {"passthrough": True}}
        if times is not None:
            doc["times"] = times
        if name is not None:
            doc["name"] = name
        return self._ok(self.http.post("/admin/rules", params={"test_id": self.test_id}, json=doc))["rules"][0]

    def rules(self) -> list[dict[str, Any]]:
        """This test's rules with their use counts."""
        return self._ok(self.http.get("/admin/rules", params={"test_id": self.test_id}))["rules"]  # type: ignore

    def fail(self, *steps: Any, then: str = "pass", **where: Any) -> dict[str, Any]:
        """Fail this test's next requests in order: ``fail("503", "rate-limit")`` then answer
        normally (``then``: pass, repeat or loop); ``where``: vendor or route."""
        return self.scenario(steps=list(steps), then=then, **where)

    def scenario(self, **spec: Any) -> dict[str, Any]:
        """Install a fault-lab scenario for this test (steps and/or a timeline)."""
        spec.setdefault("test_id", self.test_id)
        return self._ok(self.http.put(f"/admin/scenarios/{self.test_id}", json=spec))

    def requests(self) -> list[dict[str, Any]]:
        """This test's request-log records, oldest first."""
        seen: list[dict[str, Any]] | None = None
        deadline = time.monotonic() + 1.0
        while True:  # a record is logged as its answer ends: let the last one land
            got = self._ok(self.http.get("/admin/requests", params={"test_id": self.test_id, "limit": 1000}))["data"]
            if seen is not None and len(got) == len(seen) or time.monotonic() > deadline:
                return sorted(got, key=lambda r: (r["time"], r["id"]))
            seen = got
            time.sleep(0.02)

    def retries(self) -> dict[str, Any]:
        """This test's retry telemetry (every attempt, the hint given, the wait taken, violations)."""
        return self._ok(self.http.get("/admin/retries", params={"test_id": self.test_id}))  # type: ignore

    def _ok(self, r: httpx.Response) -> Any:
        if r.status_code >= 400:
            raise AssertionError(f"mockvendor admin {r.request.method} {r.request.url.path}: {r.status_code} {r.text}")
        return r.json()

    def cleanup(self) -> None:
        for path in (f"/admin/rules?test_id={self.test_id}", f"/admin/scenarios/{self.test_id}",
                     f"/admin/cassettes/{self.test_id}"):
            self.http.delete(path)


def _cassette(request: pytest.FixtureRequest, mv: MockVendor) -> Path | None:
    marker = request.node.get_closest_marker("mockvendor_cassette")
    if marker is None:
        return None
    name = marker.args[0] if marker.args else request.node.name
    path = Path(str(request.node.fspath)).parent / "cassettes" / f"{name}.yaml"
    mode = request.config.getoption("mockvendor_record")
    from .rules.imports import read_document, rule_docs

    fixtures = rule_docs(read_document(str(path)), path.name) if path.is_file() else []
    body: dict[str, Any] = {"mode": mode, "timing": marker.kwargs.get("timing", "recorded"), "rules": fixtures,
                            "name": name}
    upstream = request.config.getoption("mockvendor_upstream")
    if upstream:
        body["upstream"] = upstream
    mv._ok(mv.http.put(f"/admin/cassettes/{mv.test_id}", json=body))
    return path


@pytest.fixture
def mockvendor(request: pytest.FixtureRequest, mockvendor_server: Server) -> Iterator[MockVendor]:
    """This test's mockvendor: ``base_url(vendor)``, ``rule(...)``, ``fail(...)``, ``scenario(...)``,
    ``requests()``, ``retries()``."""
    mv = MockVendor(mockvendor_server, node_test_id(request.node.nodeid))
    mv.cleanup()  # a test run again against the same server starts clean
    cassette = _cassette(request, mv)
    try:
        yield mv
    finally:
        if cassette is not None:
            r = mv.http.get(f"/admin/cassettes/{mv.test_id}")
            if r.status_code == 200 and r.json().get("recorded"):
                from .rules.cassette import write_rules_file

                write_rules_file(str(cassette), {"rules": r.json()["rules"]})
        mv.cleanup()
