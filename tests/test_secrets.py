"""Canary secrets: a real server holds an OpenAI key (for vendor O, pointed at a loopback
stand-in), client API keys and an admin token, each a unique string. Every surface is
exercised, successes and failures, then every output is searched for every canary: each
response's status line, headers and body, the server's stdout and stderr (JSON request
log and uvicorn's access log on), and the request log's files on disk."""

from __future__ import annotations

import json
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from .helpers import ServerProcess
from .standins import StandInOpenAI

RUN = uuid.uuid4().hex[:12]
OPENAI_KEY = f"sk-canaryupstream{RUN}"
CLIENT_KEY = f"canary-client-{RUN}"
OTHER_CLIENT_KEY = f"canary-second-{RUN}"
ADMIN_TOKEN = f"canary-admin-{RUN}"
CANARIES = {"OPENAI_API_KEY": OPENAI_KEY, "client key": CLIENT_KEY, "second client key": OTHER_CLIENT_KEY,
            "admin token": ADMIN_TOKEN}
TEST_ID = f"canary-{RUN}"

SEED_BODY = {"prompt": "Say hi", "max_tokens": 4}
# The echo engine answers most calls (the canaries do not care which engine answers);
# vendor A and one chat stream still run the real model.
CHAT = {"model": "echo", "messages": [{"role": "user", "content": "Say hi"}], "max_tokens": 4}
ANTHROPIC = {"model": "echo", "max_tokens": 4, "messages": [{"role": "user", "content": "Say hi"}]}
GEMINI = {"contents": [{"parts": [{"text": "Say hi"}]}], "generationConfig": {"maxOutputTokens": 4}}


class Transcript:
    """Every exchange of the test, as text, to search for canaries afterwards."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.parts: list[str] = []
        self.statuses: list[tuple[str, int]] = []

    def __call__(self, method: str, url: str, **kw: object) -> httpx.Response:
        resp = self.client.request(method, url, **kw)  # type: ignore[arg-type]
        self.keep(f"{method} {url.partition('?')[0]}", resp)  # what we sent is not searched, only answers
        return resp

    def keep(self, what: str, resp: httpx.Response) -> None:
        head = "\n".join(f"{k}: {v}" for k, v in resp.headers.items())
        self.parts.append(f"== {what}\nHTTP {resp.status_code} {resp.reason_phrase}\n{head}\n\n{resp.text}")
        self.statuses.append((what, resp.status_code))

    def text(self) -> str:
        return "\n".join(self.parts)


def leaks(text: str) -> list[str]:
    """The canaries found in ``text`` (as they are or URL-encoded), each with where it was."""
    found = []
    for name, value in CANARIES.items():
        for form in (value, quote(value, safe="")):
            at = text.find(form)
            if at >= 0:
                section = text.rfind("\n== ", 0, at)
                found.append(f"{name} in {text[section + 1:text.find(chr(10), section + 1)]!r}: "
                             f"...{text[max(0, at - 150):at + len(form) + 50]}...")
                break
    return found


@pytest.fixture(scope="module")
def standin() -> Iterator[StandInOpenAI]:
    with StandInOpenAI() as s:
        yield s


@pytest.fixture(scope="module")
def data_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="mockvendor-canary-") as d:
        yield Path(d)


@pytest.fixture(scope="module")
def server(standin: StandInOpenAI, data_dir: Path) -> Iterator[ServerProcess]:
    srv = ServerProcess(
        env={
            "OPENAI_API_KEY": OPENAI_KEY,
            "OPENAI_BASE_URL": standin.base_url,
            "MOCKVENDOR_API_KEYS": f"{CLIENT_KEY},{OTHER_CLIENT_KEY}",
            "MOCKVENDOR_ADMIN_TOKEN": ADMIN_TOKEN,
            "MOCKVENDOR_LOG_FORMAT": "json",
            "MOCKVENDOR_LOG_REQUESTS": "1",
            "MOCKVENDOR_FAULTS": "off",
            "MOCKVENDOR_VENDOR_B_MODEL": "echo",
            "MOCKVENDOR_SEED": "3",
            "MOCKVENDOR_DATA_DIR": str(data_dir),
        }
    ).wait_ready()
    yield srv
    srv.stop()


def exercise(call: Transcript) -> None:
    """Every surface, with the right key, a wrong one and none."""
    key = {"authorization": f"Bearer {CLIENT_KEY}", "x-mockvendor-test-id": TEST_ID}
    other = {"authorization": f"Bearer {OTHER_CLIENT_KEY}", "x-mockvendor-test-id": TEST_ID}
    # Wrong keys that contain a canary: an error message repeating the key would leak it.
    wrong = {"authorization": f"Bearer {CLIENT_KEY}-wrong", "x-mockvendor-test-id": TEST_ID}
    for vendor in ("a", "b", "e"):
        url = f"/vendor-{vendor}/messages"
        call("POST", url, json=SEED_BODY, headers=key)
        call("POST", url, json={**SEED_BODY, "stream": vendor != "e"}, headers=other)
        call("POST", url, json=SEED_BODY)
        call("POST", url, json=SEED_BODY, headers=wrong)
        call("POST", url, json={"prompt": ""}, headers=key)
        call("POST", url, content=b"{not json", headers={**key, "content-type": "application/json"})
        call("POST", url, json=SEED_BODY, headers={**key, "x-mockvendor-fault": "500"})
        call("POST", url, json=SEED_BODY, headers={**key, "x-mockvendor-fault": "rate-limit"})
    # Vendor O: through to the stand-in with OUR key; its echoing 401 must come back scrubbed.
    call("POST", "/vendor-o/messages", json=SEED_BODY, headers=key)
    call("POST", "/vendor-o/messages", json={**SEED_BODY, "stream": True}, headers=key)
    call("POST", "/vendor-o/messages", json={**SEED_BODY, "model": "standin-echo-key"}, headers=key)
    call("POST", "/vendor-o/messages", json={**SEED_BODY, "model": "standin-echo-key", "stream": True}, headers=key)
    call("POST", "/vendor-o/messages", json=SEED_BODY, headers=wrong)
    # OpenAI-compatible.
    call("POST", "/v1/chat/completions", json=CHAT, headers=key)
    call("POST", "/v1/chat/completions", json={**CHAT, "model": "smollm2", "stream": True}, headers=key)
    call("POST", "/v1/completions", json={"model": "smollm2", "prompt": "Hi", "max_tokens": 3}, headers=key)
    call("POST", "/v1/chat/completions", json=CHAT, headers=wrong)
    call("POST", "/v1/chat/completions", json=CHAT)
    call("POST", "/v1/chat/completions", json={**CHAT, "model": "nope"}, headers=key)
    call("POST", "/v1/chat/completions", json={**CHAT, "max_tokens": -1}, headers=key)
    call("GET", "/v1/models", headers=key)
    call("GET", "/v1/models/smollm2", headers=wrong)
    # Anthropic: x-api-key.
    akey = {"x-api-key": CLIENT_KEY, "anthropic-version": "2023-06-01"}
    call("POST", "/v1/messages", json=ANTHROPIC, headers=akey)
    call("POST", "/v1/messages", json={**ANTHROPIC, "stream": True}, headers=akey)
    call("POST", "/v1/messages", json=ANTHROPIC, headers={"x-api-key": f"{CLIENT_KEY}-wrong"})
    call("POST", "/v1/messages", json={**ANTHROPIC, "max_tokens": 0}, headers=akey)
    # Gemini: the key in x-goog-api-key, and in the URL (?key=), which access logs print.
    g = "/v1beta/models/echo:generateContent"
    call("POST", g, json=GEMINI, headers={"x-goog-api-key": CLIENT_KEY})
    call("POST", f"{g}?key={CLIENT_KEY}", json=GEMINI)
    call("POST", f"/v1beta/models/echo:streamGenerateContent?alt=sse&key={CLIENT_KEY}", json=GEMINI)
    call("POST", f"{g}?key={CLIENT_KEY}-wrong", json=GEMINI)
    call("POST", f"/v1beta/models/nope:generateContent?key={CLIENT_KEY}", json=GEMINI)
    # Unknown routes and methods, with keys and tokens attached.
    call("GET", f"/nowhere?key={CLIENT_KEY}&token={ADMIN_TOKEN}", headers=key)
    call("DELETE", "/v1/chat/completions", headers=key)


def exercise_admin(call: Transcript, server: ServerProcess) -> None:
    bearer = {"authorization": f"Bearer {ADMIN_TOKEN}"}
    header = {"x-mockvendor-admin-token": ADMIN_TOKEN}
    wrong = {"authorization": f"Bearer {ADMIN_TOKEN}-wrong"}
    listing = call("GET", f"/admin/requests?test_id={TEST_ID}&limit=1000", headers=bearer)
    assert listing.status_code == 200, listing.text
    ids = [r["id"] for r in listing.json()["data"]]
    assert len(ids) >= 30, "the exercise should be in the request log"
    for rid in ids:
        call("GET", f"/admin/requests/{rid}", headers=header)
    for path in (f"/admin/requests.jsonl?test_id={TEST_ID}", f"/admin/requests.csv?test_id={TEST_ID}",
                 f"/admin/requests?format=jsonl&test_id={TEST_ID}", "/admin/stats", "/admin/vendors",
                 "/admin/faults", "/admin/scenarios", "/admin/retries", f"/admin/retries?test_id={TEST_ID}"):
        assert call("GET", path, headers=bearer).status_code == 200, path
        assert call("GET", path).status_code == 401, path
        assert call("GET", path, headers=wrong).status_code == 401, path
    for path in ("/metrics", "/openapi.json", "/healthz", "/readyz", "/", "/request-viewer", "/requests",
                 "/static/js/requests.js", "/static/js/admin-token.js"):
        assert call("GET", path, headers=bearer).status_code == 200, path
    # The live feed: a few records arrive while it is open.
    with httpx.Client(base_url=server.url, timeout=30) as c:
        assert c.get("/admin/requests/stream", headers=wrong).status_code == 401
        with c.stream("GET", "/admin/requests/stream", headers=bearer) as feed:
            assert feed.status_code == 200
            c.post("/vendor-e/messages", json={"prompt": "live"}, headers={"authorization": f"Bearer {CLIENT_KEY}"})
            c.post("/v1/chat/completions", json=CHAT, headers={"authorization": f"Bearer {CLIENT_KEY}-x"})
            got = ""
            for line in feed.iter_lines():
                got += line + "\n"
                if got.count("event: request") >= 2:
                    break
        call.parts.append("== live feed\n" + got)


def test_no_canary_reaches_any_output(server: ServerProcess, standin: StandInOpenAI, data_dir: Path) -> None:
    with httpx.Client(base_url=server.url, timeout=120) as client:
        call = Transcript(client)
        exercise(call)
        exercise_admin(call, server)
    # The canaries were live: the right key was accepted, the wrong ones refused, and our
    # OpenAI key really went to the stand-in (so a leak had something to leak).
    assert any(s == 200 for w, s in call.statuses if w == "POST /vendor-e/messages")
    assert any(s == 200 for w, s in call.statuses if w == "POST /v1/chat/completions")
    assert any(s == 401 for w, s in call.statuses if w == "POST /v1/chat/completions")
    assert any(r["headers"].get("authorization") == f"Bearer {OPENAI_KEY}" for r in standin.requests)
    transcript = call.text()
    assert "sk-canaryupstream" not in transcript, "even a prefix of our OpenAI key reached a client"
    assert leaks(transcript) == [], f"canaries in responses: {leaks(transcript)}"

    server.stop()  # flushes the request log and closes stdout/stderr
    log = server.log_text()
    assert '"msg":"request"' in log, "the JSON request log was on"
    assert "generateContent?key=[REDACTED] HTTP/1.1" in log, "the access log was on, with the key redacted"
    assert leaks(log) == [], f"canaries in the server's stdout/stderr: {leaks(log)}"
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    assert files, "the request log wrote its store"
    for path in files:
        assert leaks(path.read_bytes().decode("utf-8", "replace")) == [], f"canaries in {path}"


def test_redacted_access_line_keeps_the_rest() -> None:
    from mockvendor.serving import redact_url

    assert redact_url("/v1beta/models/m:generateContent?alt=sse&key=abc123") == (
        "/v1beta/models/m:generateContent?alt=sse&key=[REDACTED]"
    )
    assert redact_url("/x?api_key=1&token=2&limit=5") == "/x?api_key=[REDACTED]&token=[REDACTED]&limit=5"
    assert redact_url("/x/sk-abcdefghijkl/y") == "/x/[REDACTED]/y"
    assert redact_url("/admin/requests?limit=5") == "/admin/requests?limit=5"


def test_upstream_echo_is_scrubbed_in_every_shape() -> None:
    from mockvendor.engines.upstream import UpstreamHTTPError

    err = UpstreamHTTPError(401, {"error": {"message": f"bad key {OPENAI_KEY}", "list": [OPENAI_KEY]}}, "u")
    err.scrubbed(OPENAI_KEY)
    assert OPENAI_KEY not in json.dumps(err.body) and OPENAI_KEY not in err.message and OPENAI_KEY not in str(err)
