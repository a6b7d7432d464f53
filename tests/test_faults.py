"""Fault simulation: seeded statistics within binomial bounds, reproducibility, headers."""

from __future__ import annotations

import math
from typing import Any

import pytest

from mockvendor.faults.policy import FaultPolicy, RequestInfo
from mockvendor.settings import Settings

from .conftest import asgi_client, make_settings
from .fault_helpers import binomial_interval
from .helpers import assert_vendor_error


async def _outcomes(app: Any, vendor: str, n: int) -> list[str]:
    out = []
    async with asgi_client(app) as c:
        for _ in range(n):
            r = await c.post(f"/vendor-{vendor}/messages", json={"prompt": "hi"})
            out.append(r.headers.get("x-mockvendor-fault", "ok") + f":{r.status_code}")
    return out


async def test_seed_rates_within_binomial_bounds(app_factory: Any) -> None:
    n = 2000
    app = app_factory(seed=20261129, faults_enabled=True)
    a = await _outcomes(app, "a", n)
    b = await _outcomes(app, "b", n)
    lo, hi = binomial_interval(n, 0.10)
    assert lo <= a.count("error-500:500") <= hi, (lo, hi, a.count("error-500:500"))
    assert lo <= a.count("slow:200") <= hi, (lo, hi, a.count("slow:200"))
    assert lo <= b.count("rate-limit:429") <= hi, (lo, hi, b.count("rate-limit:429"))
    assert set(a) <= {"error-500:500", "slow:200", "ok:200"}
    assert set(b) <= {"rate-limit:429", "ok:200"}
    # Slow answers waited 2-5 s (on the injected clock, so the test does not).
    delays = app.fake_sleep.calls
    assert len(delays) == a.count("slow:200") and all(2.0 <= d <= 5.0 for d in delays)


async def test_same_seed_same_sequence(app_factory: Any) -> None:
    first = await _outcomes(app_factory(seed=99, faults_enabled=True), "a", 300)
    second = await _outcomes(app_factory(seed=99, faults_enabled=True), "a", 300)
    other = await _outcomes(app_factory(seed=100, faults_enabled=True), "a", 300)
    assert first == second
    assert first != other


async def test_vendor_e_and_o_have_no_default_faults(app_factory: Any) -> None:
    app = app_factory(seed=1, faults_enabled=True)
    assert set(await _outcomes(app, "e", 300)) == {"ok:200"}


async def test_faults_off(app_factory: Any) -> None:
    app = app_factory(seed=1, faults_enabled=False)
    assert set(await _outcomes(app, "a", 200)) == {"ok:200"}


async def test_rate_limit_body_and_headers(app_factory: Any) -> None:
    app = app_factory(seed=5, faults_enabled=True)
    seen = 0
    async with asgi_client(app) as c:
        for _ in range(200):
            r = await c.post("/vendor-b/messages", json={"prompt": "hi"})
            if r.status_code == 429:
                body = assert_vendor_error("b", r, 429, fault="rate-limit")
                ms = body["retryAfterMs"]
                assert 5000 <= ms <= 10000
                assert r.headers["retry-after-ms"] == str(ms)
                assert r.headers["retry-after"] == str(math.ceil(ms / 1000))
                seen += 1
    assert seen > 0


async def test_test_ids_are_independent_streams() -> None:
    policy = FaultPolicy(make_settings(seed=3, faults_enabled=True))

    async def outcome(test_id: str) -> Any:
        d = await policy.decide(RequestInfo("a", test_id=test_id))
        return d.label, d.delay_ms

    alone = [await outcome("t1") for _ in range(100)]
    await policy.reset()
    mixed = []
    for _ in range(100):
        await outcome("t2")
        mixed.append(await outcome("t1"))
    assert alone == mixed
    assert len(set(alone)) > 1  # the stream does vary: the equality above is not vacuous


def test_env_knobs_per_vendor_override_global() -> None:
    s = Settings.from_env(
        env={
            "MOCKVENDOR_A_ERROR_RATE": "0.3",
            "MOCKVENDOR_ERROR_RATE": "0.05",
            "MOCKVENDOR_B_RETRY_AFTER_MIN_MS": "100",
            "MOCKVENDOR_SEED": "12",
            "MOCKVENDOR_FAULTS": "off",
        },
        dotenv=None,
    )
    assert s.faults["a"].error_rate == 0.3
    assert s.faults["e"].error_rate == 0.05
    assert s.faults["b"].retry_after_min_ms == 100
    assert s.seed == 12 and s.faults_enabled is False


@pytest.mark.parametrize("value", ["abc", "99", "700"])
async def test_bad_fault_header_is_400(app_factory: Any, value: str) -> None:
    async with asgi_client(app_factory()) as c:
        r = await c.post("/vendor-e/messages", json={"prompt": "x"}, headers={"x-mockvendor-fault": value})
    assert_vendor_error("e", r, 400, mentions="x-mockvendor-fault")


async def test_fault_headers_can_be_switched_off(app_factory: Any) -> None:
    async with asgi_client(app_factory(allow_fault_headers=False)) as c:
        r = await c.post("/vendor-e/messages", json={"prompt": "x"}, headers={"x-mockvendor-fault": "500"})
    assert r.status_code == 200 and "x-mockvendor-fault" not in r.headers


def test_header_controls_are_read_once_per_distinct_headers() -> None:
    """forced() remembers what a set of headers means (a test holding 2,000 requests sends
    the same few): the same answer as reading them afresh, and a bad header raises every time."""
    from mockvendor.errors import InvalidRequest
    from mockvendor.faults.headers import forced, read_forced

    held = {"x-mockvendor-delay-ms": "1000"}
    first = forced(dict(held))
    assert first == read_forced(held) and first[0] is not None and first[0].kind == "slow"
    assert forced(dict(held)) is first  # remembered
    other = forced({"x-mockvendor-fault": "429", "x-mockvendor-retry-after-ms": "5"})
    assert other[0] is not None and other[0].status == 429 and other[0].retry_after_ms == 5
    for _ in range(2):
        with pytest.raises(InvalidRequest, match="x-mockvendor-delay-ms"):
            forced({"x-mockvendor-delay-ms": "soon"})
