"""The perimeter: the admin token, CORS, the warning on public binds, switching off fault
headers, and the passthrough's reach (no SSRF)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from starlette.routing import Mount, Route

from mockvendor import Settings

from .conftest import asgi_client
from .helpers import ServerProcess, assert_vendor_error
from .standins import StandInOpenAI

TOKEN = "admin-secret-for-tests"


def starlette_routes(app: Any) -> list[Route]:
    """The routes of the Starlette app under the middleware stack."""
    while not hasattr(app, "routes"):
        app = app.app
    return [r for r in app.routes if isinstance(r, Route) and not isinstance(r, Mount)]


def admin_calls(app: Any) -> list[tuple[str, str]]:
    """(method, path) for every /admin route the app serves, path parameters filled in."""
    calls = []
    for route in starlette_routes(app):
        if not route.path.startswith("/admin"):
            continue
        path = route.path.replace("{format}", "jsonl").replace("{id}", "req_x").replace("{name}", "x")
        for method in sorted(route.methods or {"GET"}):
            if method != "HEAD":
                calls.append((method, path))
    return calls


def assert_admin_401(resp: httpx.Response, mentions: str) -> None:
    assert resp.status_code == 401, (resp.status_code, resp.text)
    assert resp.headers["content-type"] == "application/json"
    assert resp.headers["www-authenticate"].startswith("Bearer")
    err = resp.json()["error"]
    assert err["type"] == "authentication" and mentions in err["message"], err


async def test_every_admin_route_is_closed_without_the_token(app_factory: Callable[..., Any]) -> None:
    app = app_factory(admin_token=TOKEN)
    calls = admin_calls(app)
    assert {("GET", "/admin/requests"), ("GET", "/admin/requests/stream"), ("GET", "/admin/stats"),
            ("GET", "/admin/vendors"), ("GET", "/admin/requests/req_x"), ("GET", "/admin/requests.jsonl")} <= set(calls)
    async with asgi_client(app) as c:
        for method, path in calls:
            assert_admin_401(await c.request(method, path), "MOCKVENDOR_ADMIN_TOKEN")
            assert_admin_401(await c.request(method, path, headers={"authorization": "Bearer nope"}), "wrong")
            assert_admin_401(await c.request(method, path, headers={"x-mockvendor-admin-token": "nope"}), "wrong")
            # A vendor key header is not an admin token, even holding the right value.
            assert_admin_401(await c.request(method, path, headers={"x-api-key": TOKEN}), "MOCKVENDOR_ADMIN_TOKEN")
        # Prefix tricks do not open it either.
        for path in ("/admin", "/admin/", "/admin//requests", "/admin/requests/../stats", "/%61dmin/requests"):
            assert_admin_401(await c.get(path), "MOCKVENDOR_ADMIN_TOKEN")
        assert (await c.get("/ADMIN/requests")).status_code == 404  # routes are case-sensitive: nothing there


async def test_the_token_opens_every_admin_route(app_factory: Callable[..., Any]) -> None:
    app = app_factory(admin_token=TOKEN)
    async with asgi_client(app) as c:
        await c.post("/vendor-e/messages", json={"prompt": "hello"})
        for headers in ({"authorization": f"Bearer {TOKEN}"}, {"x-mockvendor-admin-token": TOKEN}):
            listing = await c.get("/admin/requests", headers=headers)
            assert listing.status_code == 200 and listing.json()["total"] >= 1
            rid = listing.json()["data"][0]["id"]
            assert (await c.get(f"/admin/requests/{rid}", headers=headers)).status_code == 200
            for path in ("/admin/stats", "/admin/vendors", "/admin/requests.jsonl", "/admin/requests.csv"):
                assert (await c.get(path, headers=headers)).status_code == 200, path


async def test_open_surfaces_stay_open_with_a_token(app_factory: Callable[..., Any]) -> None:
    async with asgi_client(app_factory(admin_token=TOKEN)) as c:
        for path in ("/healthz", "/openapi.json", "/metrics", "/", "/requests", "/request-viewer",
                     "/static/js/admin-token.js"):
            assert (await c.get(path)).status_code == 200, path
        assert (await c.post("/vendor-e/messages", json={"prompt": "hi"})).status_code == 200


async def test_metrics_can_be_closed_too(app_factory: Callable[..., Any]) -> None:
    async with asgi_client(app_factory(admin_token=TOKEN, protect_metrics=True)) as c:
        assert_admin_401(await c.get("/metrics"), "MOCKVENDOR_ADMIN_TOKEN")
        assert (await c.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})).status_code == 200


async def test_without_a_token_admin_is_open(app_factory: Callable[..., Any]) -> None:
    async with asgi_client(app_factory()) as c:
        assert (await c.get("/admin/requests")).status_code == 200
        assert (await c.get("/admin/vendors")).status_code == 200


# ---- CORS ---------------------------------------------------------------------------

PREFLIGHT = {"origin": "https://elsewhere.example", "access-control-request-method": "POST",
             "access-control-request-headers": "content-type,authorization"}


async def test_cors_is_off_by_default(app_factory: Callable[..., Any]) -> None:
    async with asgi_client(app_factory()) as c:
        r = await c.post("/vendor-e/messages", json={"prompt": "x"}, headers={"origin": "https://elsewhere.example"})
        assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
        pre = await c.options("/v1/chat/completions", headers=PREFLIGHT)
        assert "access-control-allow-origin" not in pre.headers
        assert_vendor_error("openai", pre, 405)


async def test_cors_allows_only_configured_origins(app_factory: Callable[..., Any]) -> None:
    app = app_factory(cors_origins="https://app.example, http://localhost:3000", admin_token=TOKEN)
    async with asgi_client(app) as c:
        ok = {**PREFLIGHT, "origin": "https://app.example"}
        pre = await c.options("/v1/chat/completions", headers=ok)
        assert pre.status_code == 200 and pre.headers["access-control-allow-origin"] == "https://app.example"
        assert "authorization" in pre.headers["access-control-allow-headers"].lower()
        r = await c.post("/vendor-e/messages", json={"prompt": "x"}, headers={"origin": "http://localhost:3000"})
        assert r.headers["access-control-allow-origin"] == "http://localhost:3000"
        # A 401 from the admin guard is readable by an allowed page (it can tell why).
        r = await c.get("/admin/requests", headers={"origin": "https://app.example"})
        assert r.status_code == 401 and r.headers["access-control-allow-origin"] == "https://app.example"
        bad = await c.options("/v1/chat/completions", headers=PREFLIGHT)
        assert bad.status_code == 400 and "access-control-allow-origin" not in bad.headers
        r = await c.post("/vendor-e/messages", json={"prompt": "x"}, headers={"origin": "https://elsewhere.example"})
        assert "access-control-allow-origin" not in r.headers


def test_security_settings_from_the_environment() -> None:
    s = Settings.from_env(
        env={"MOCKVENDOR_CORS_ORIGINS": "https://a.example", "MOCKVENDOR_ADMIN_TOKEN": "t",
             "MOCKVENDOR_PROTECT_METRICS": "1", "MOCKVENDOR_ALLOW_FAULT_HEADERS": "false",
             "MOCKVENDOR_MAX_STREAMS": "3", "MOCKVENDOR_HEADER_TIMEOUT_S": "2.5", "MOCKVENDOR_KEEP_ALIVE_S": "9"},
        dotenv=None,
    )
    assert (s.cors_origins, s.admin_token, s.protect_metrics, s.allow_fault_headers) == ("https://a.example", "t",
                                                                                          True, False)
    assert (s.max_streams, s.header_timeout_s, s.keep_alive_s) == (3, 2.5, 9)


# ---- the bind warning and fault headers, on real processes ---------------------------

WARNING = "without MOCKVENDOR_ADMIN_TOKEN"


@pytest.mark.parametrize(
    ("host", "token", "warned"),
    [("0.0.0.0", "", True), ("0.0.0.0", TOKEN, False), ("127.0.0.1", "", False)],
)
def test_public_bind_without_token_warns(host: str, token: str, warned: bool) -> None:
    env = {"MOCKVENDOR_ADMIN_TOKEN": token} if token else {}
    srv = ServerProcess(env={**env, "MOCKVENDOR_FAULTS": "off"}, args=["--host", host]).wait_ready()
    try:
        assert httpx.get(srv.url + "/healthz").status_code == 200
    finally:
        srv.stop()
    log = srv.log_text()
    assert (WARNING in log) is warned, log[-2000:]
    if warned:
        assert "WARNING" in log and host in log


def test_fault_headers_switched_off_in_a_real_server() -> None:
    srv = ServerProcess(env={"MOCKVENDOR_ALLOW_FAULT_HEADERS": "0", "MOCKVENDOR_FAULTS": "off"}).wait_ready()
    try:
        for spec in ("500", "rate-limit", "slow"):
            r = httpx.post(srv.url + "/vendor-e/messages", json={"prompt": "x"},
                           headers={"x-mockvendor-fault": spec, "x-mockvendor-delay-ms": "600000"}, timeout=30)
            assert r.status_code == 200 and "x-mockvendor-fault" not in r.headers, (spec, r.text)
    finally:
        srv.stop()


# ---- the passthrough reaches only its configured upstream (no SSRF) ------------------


@pytest.fixture(scope="module")
def upstream() -> Iterator[StandInOpenAI]:
    with StandInOpenAI() as s:
        yield s


@pytest.fixture(scope="module")
def elsewhere() -> Iterator[StandInOpenAI]:
    """Somewhere a request must never be able to send the server (records every hit)."""
    with StandInOpenAI() as s:
        yield s


@pytest.fixture(scope="module")
def ssrf_server(upstream: StandInOpenAI) -> Iterator[ServerProcess]:
    srv = ServerProcess(env={"OPENAI_API_KEY": "sk-ssrf-test-key-0000", "OPENAI_BASE_URL": upstream.base_url,
                             "MOCKVENDOR_FAULTS": "off"}).wait_ready()
    yield srv
    srv.stop()


def test_no_request_chooses_where_the_passthrough_goes(
    ssrf_server: ServerProcess, upstream: StandInOpenAI, elsewhere: StandInOpenAI
) -> None:
    there = elsewhere.url
    upstream.redirect_to = there + "/v1/chat/completions"
    body = {"prompt": "hi", "max_tokens": 3}
    hostile_models = [there, there + "/v1", f"{there}/v1/chat/completions", "../../../admin", "//127.0.0.1:1/x",
                      f"@127.0.0.1:{elsewhere.port}", "http://169.254.169.254/latest/meta-data/"]
    hostile_headers = {
        "host": f"127.0.0.1:{elsewhere.port}", "x-forwarded-host": f"127.0.0.1:{elsewhere.port}",
        "x-forwarded-proto": "http", "forwarded": f"host=127.0.0.1:{elsewhere.port}",
        "x-original-url": there, "x-rewrite-url": there, "openai-base-url": there, "x-mockvendor-upstream": there,
        "x-upstream": there, "referer": there,
    }
    sent = []
    with httpx.Client(base_url=ssrf_server.url, timeout=30) as c:
        for model in hostile_models:
            for stream in (False, True):
                r = c.post("/vendor-o/messages", json={**body, "model": model, "stream": stream})
                assert r.status_code == 200, r.text  # the stand-in answers any model name: it is data
                sent.append(model)
        r = c.post("/vendor-o/messages", json=body, headers=hostile_headers)
        assert r.status_code == 200
        sent.append("gpt-3.5-turbo")
        # Paths: only the exact routes exist; the rest are 404s in the vendor's shape.
        for path in ("/vendor-o/messages/..%2f..%2fv1", f"/vendor-o/messages/{there}", "/vendor-o/../v1/x",
                     f"//127.0.0.1:{elsewhere.port}/v1/chat/completions"):
            r = c.post(ssrf_server.url + path, json=body)  # a full URL: "//host" is not read as a host
            assert r.status_code == 404, (path, r.status_code, r.text)
        # A redirect from the upstream is not followed.
        r = c.post("/vendor-o/messages", json={**body, "model": "standin-redirect"})
        assert r.status_code >= 400 and there not in r.text
        sent.append("standin-redirect")
        # The other vendors' model names select configured models only.
        for model in (there, f"{there}/v1"):
            assert_vendor_error("openai", c.post("/v1/chat/completions", json={
                "model": model, "messages": [{"role": "user", "content": "hi"}]}), 404)
            assert_vendor_error("anthropic", c.post("/v1/messages", json={
                "model": model, "max_tokens": 3, "messages": [{"role": "user", "content": "hi"}]}), 404)
        r = c.post(f"/v1beta/models/{there}:generateContent", json={"contents": [{"parts": [{"text": "hi"}]}]})
        assert_vendor_error("gemini", r, 404)
    assert elsewhere.requests == [], elsewhere.requests
    assert {(r["method"], r["path"]) for r in upstream.requests} == {("POST", "/v1/chat/completions")}
    assert [r["body"]["model"] for r in upstream.requests] == sent  # the model went as data, verbatim
    assert all(r["headers"]["host"] == f"127.0.0.1:{upstream.port}" for r in upstream.requests)
    assert not any("forwarded" in k or k.startswith("x-") for r in upstream.requests for k in r["headers"]), (
        "client headers must not be relayed upstream"
    )


def test_the_client_address_over_ipv6() -> None:
    """The scope's client is the peer's address as uvicorn gives it, on IPv6 too (the
    transport's 4-tuple cut to host and port): retry telemetry names the caller by it."""
    srv = ServerProcess(env={"MOCKVENDOR_FAULTS": "off"}, args=["--host", "::1"])
    srv.url = f"http://[::1]:{srv.port}"
    try:
        srv.wait_ready()
        r = httpx.post(srv.url + "/vendor-e/messages", json={"prompt": "x"}, timeout=30)
        assert r.status_code == 200, r.text
        callers = httpx.get(srv.url + "/admin/retries", timeout=30).json()["callers"]
        assert list(callers) == ["ip:::1"], callers
    finally:
        srv.stop()


@pytest.mark.parametrize("env, trusted", [
    ({}, True),  # the app's outermost layer does X-Forwarded-* itself
    ({"MOCKVENDOR_ADMIN_TOKEN": TOKEN}, True),  # behind the admin guard: uvicorn's middleware, outside it
    ({"FORWARDED_ALLOW_IPS": "10.9.8.7"}, False),  # loopback is not a trusted proxy here
])
def test_a_trusted_proxy_names_the_client(env: dict[str, str], trusted: bool) -> None:
    """X-Forwarded-For from a trusted proxy (loopback by default, as in uvicorn) becomes the
    request's client (retry telemetry and per-address rate limits see it); from anyone
    else it is ignored. With and without the /t/<test id>/ prefix."""
    srv = ServerProcess(env={"MOCKVENDOR_FAULTS": "off", **env}).wait_ready()
    admin = {"authorization": f"Bearer {TOKEN}"} if "MOCKVENDOR_ADMIN_TOKEN" in env else {}
    try:
        for path in ("/vendor-e/messages", "/t/proxied/vendor-e/messages"):
            r = httpx.post(srv.url + path, json={"prompt": "x"}, timeout=30,
                           headers={"x-forwarded-for": "203.0.113.7", "x-forwarded-proto": "https"})
            assert r.status_code == 200, r.text
        callers = httpx.get(srv.url + "/admin/retries", headers=admin, timeout=30).json()["callers"]
        assert ("ip:203.0.113.7" in callers) is trusted and ("ip:127.0.0.1" in callers) is not trusted, callers
        assert callers["test:proxied"]["summary"]["attempts"] == 1, callers
    finally:
        srv.stop()
