"""Two real server processes sharing one real Redis behave as one vendor: one rate limit,
one scenario, one retry history, one fault configuration. And when Redis goes away they
say so and keep serving."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from .fault_helpers import RedisServer
from .helpers import ServerProcess

E = "/vendor-e/messages"


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def replicas(redis_server: RedisServer) -> Iterator[list[ServerProcess]]:
    env = {
        "MOCKVENDOR_REDIS_URL": redis_server.url,
        "MOCKVENDOR_REDIS_RETRY_S": "0.3",
        # Above the default 500 ms so a loaded machine does not fake an outage; a stopped Redis
        # refuses connections at once whatever this is (the outage test below relies on that).
        "MOCKVENDOR_REDIS_TIMEOUT_MS": "2000",
        "MOCKVENDOR_FAULTS": "off",
        "MOCKVENDOR_SEED": "5",
        "MOCKVENDOR_VENDOR_A_MODEL": "echo",
        "OPENAI_API_KEY": "",
    }
    servers = [ServerProcess(env=env), ServerProcess(env=env)]
    try:
        yield [s.wait_ready(180) for s in servers]
    finally:
        for s in servers:
            s.stop()


@pytest.fixture
def fresh(replicas: list[ServerProcess]) -> list[ServerProcess]:
    """Shared state wiped through one replica (the other sees it gone)."""
    one = replicas[0].url
    for path in ("/admin/faults", "/admin/scenarios", "/admin/retries"):
        assert httpx.delete(one + path).status_code == 200
    return replicas


def post(server: ServerProcess, **headers: str) -> httpx.Response:
    return httpx.post(server.url + E, json={"prompt": "hi"}, headers=headers, timeout=10)


def store_metrics(server: ServerProcess) -> tuple[float, float]:
    """(mockvendor_state_store_healthy, mockvendor_state_store_outages_total) from /metrics."""
    got = {}
    for line in httpx.get(server.url + "/metrics", timeout=10).text.splitlines():
        name, _, value = line.partition('{backend="redis"} ')
        if value and name in ("mockvendor_state_store_healthy", "mockvendor_state_store_outages_total"):
            got[name] = float(value)
    return got["mockvendor_state_store_healthy"], got["mockvendor_state_store_outages_total"]


def test_one_configuration(fresh: list[ServerProcess]) -> None:
    one, two = fresh
    r = httpx.patch(one.url + "/admin/faults", json={"vendors": {"e": {"error_rate": 1.0, "error_status": 502}},
                                                    "enabled": True})
    assert r.status_code == 200
    seen = httpx.get(two.url + "/admin/faults").json()
    assert seen["vendors"]["e"]["error_status"] == 502 and seen["status"]["store"]["backend"] == "redis"
    assert post(two).status_code == 502


def test_one_rate_limit_across_replicas(fresh: list[ServerProcess]) -> None:
    one, two = fresh
    httpx.patch(one.url + "/admin/faults", json={"vendors": {"e": {"rate_limit_rpm": 5}}})
    rs = [post(s, authorization="Bearer team-key") for s in [one, two] * 5]
    assert [r.status_code for r in rs] == [200] * 5 + [429] * 5  # N in total, not 2N
    assert [r.headers["x-ratelimit-remaining-requests"] for r in rs[:5]] == ["4", "3", "2", "1", "0"]
    assert {r.headers["x-mockvendor-fault"] for r in rs[5:]} == {"rate-limit-rpm"}
    # Another key has a bucket of its own, on either replica.
    assert post(two, authorization="Bearer other-key").status_code == 200


def test_one_scenario_across_replicas(fresh: list[ServerProcess]) -> None:
    one, two = fresh
    r = httpx.put(two.url + "/admin/scenarios/replicated", json={"steps": ["503", "503", "ok"]})
    assert r.status_code == 201
    got = [post(s, **{"x-mockvendor-test-id": "replicated"}).status_code for s in (one, two, one, two)]
    assert got == [503, 503, 200, 200]
    for s in (one, two):
        (scn,) = httpx.get(s.url + "/admin/scenarios").json()["scenarios"]
        assert scn["position"] == 4


def test_one_retry_history_across_replicas(fresh: list[ServerProcess]) -> None:
    one, two = fresh
    httpx.put(one.url + "/admin/scenarios/hist", json={"steps": [{"fault": "503", "retry_after_ms": 150}] * 2})
    for server in (one, two, one):  # a load balancer sends each retry elsewhere
        r = post(server, **{"x-mockvendor-test-id": "hist"})
        if r.status_code != 200:
            time.sleep(float(r.headers["retry-after-ms"]) / 1000)
    assert r.status_code == 200
    reports = [httpx.get(s.url + "/admin/retries", params={"test_id": "hist"}).json() for s in (one, two)]
    assert reports[0] == reports[1]
    attempts = reports[0]["callers"]["test:hist"]["attempts"]
    assert [a["attempt"] for a in attempts] == [1, 2, 3]
    assert [a["retry_of"] for a in attempts[1:]] == [attempts[0]["id"], attempts[1]["id"]]
    # A lower bound only: the client slept at least the hint before each retry.
    assert all(a["honoured"] and a["waited_ms"] >= a["hint_ms"] == 150 for a in attempts[1:])


def test_redis_going_away_is_reported_and_serving_goes_on(
    fresh: list[ServerProcess], redis_server: RedisServer
) -> None:
    one, two = fresh
    httpx.patch(one.url + "/admin/faults", json={"enabled": True, "vendors": {"a": {"error_rate": 1.0}}})
    for s in (one, two):  # both replicas have read the shared configuration
        assert httpx.post(s.url + "/vendor-a/messages", json={"prompt": "x"}).status_code == 500
    redis_server.stop()
    try:
        for s in (one, two):
            # Still serving (the client timeout only turns a hang into a failure), with the
            # last configuration read from Redis still in force.
            assert post(s).status_code == 200
            assert httpx.post(s.url + "/vendor-a/messages", json={"prompt": "x"}, timeout=10).status_code == 500
            store = httpx.get(s.url + "/admin/faults", timeout=10).json()["status"]["store"]
            assert store["healthy"] is False and store["fallback"] == "memory" and store["last_error"]
            ready = httpx.get(s.url + "/readyz", timeout=10)  # still ready: serving from memory
            assert ready.status_code == 200
            assert ready.json()["store"] == {"backend": "redis", "healthy": False, "fallback": "memory"}
            assert store_metrics(s) == (0.0, 1.0)
            log = s.log_text()
            assert f"Redis at {redis_server.url} is unreachable" in log and "Falling back" in log
            assert log.count("is unreachable") == 1  # reported once per outage, not per request
    finally:
        redis_server.start()  # same port, empty: it lost everything
    for s in (one, two):
        deadline = time.monotonic() + 30
        while not httpx.get(s.url + "/admin/faults").json()["status"]["store"]["healthy"]:
            assert time.monotonic() < deadline, "replica did not reconnect to Redis"
            post(s)
            time.sleep(0.1)
        assert "is reachable again" in s.log_text()
        assert store_metrics(s) == (1.0, 1.0)  # healthy again, one outage counted
        assert httpx.get(s.url + "/readyz").json()["store"] == {"backend": "redis", "healthy": True}
        # Shared again: the restarted Redis holds no configuration, so the defaults apply.
        assert httpx.post(s.url + "/vendor-a/messages", json={"prompt": "x"}).status_code == 200


def test_previous_response_id_across_replicas(replicas: list[ServerProcess]) -> None:
    """A response stored through one replica is read, continued and deleted through the other."""
    import openai

    one, two = (openai.OpenAI(base_url=s.url + "/v1", api_key="sk-test", max_retries=0) for s in replicas)
    first = one.responses.create(model="gpt-4o", input="My name is Ada.", max_output_tokens=16)
    assert two.responses.retrieve(first.id).output_text == first.output_text
    second = two.responses.create(model="gpt-4o", input="What is my name?", previous_response_id=first.id,
                                  max_output_tokens=16)
    alone = two.responses.input_tokens.count(model="gpt-4o", input="What is my name?").input_tokens
    assert second.usage is not None and second.usage.input_tokens > alone
    one.responses.delete(second.id)
    with pytest.raises(openai.NotFoundError):
        two.responses.retrieve(second.id)
