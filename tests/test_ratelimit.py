"""Rate limiting that really counts: token buckets per caller, on an injected clock."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mockvendor.faults.ratelimit import go_duration, reset_at

from .conftest import asgi_client
from .fault_helpers import lab_app, registered_vendors, request_for
from .helpers import assert_vendor_error

VENDORS = registered_vendors()


async def limited(app: Any, **knobs: Any) -> None:
    async with asgi_client(app) as c:
        r = await c.patch("/admin/faults", json={"vendors": {"*": knobs}})
    assert r.status_code == 200, r.text


def rl(r: httpx.Response, what: str = "requests") -> tuple[str | None, str | None, str | None]:
    h = r.headers
    return (h.get(f"x-ratelimit-limit-{what}"), h.get(f"x-ratelimit-remaining-{what}"),
            h.get(f"x-ratelimit-reset-{what}"))


# O answers from a real upstream only (without one: a 401 after admission, with these headers).
# Bedrock's (no headers, like Gemini's): tests/test_vendor_bedrock.py.
# Vertex answers as Google does: its 429 says when to retry in the body, no rate-limit headers.
OWN_HEADERS = ("anthropic", "gemini", "cohere", "o", "bedrock", "ollama", "vertex", "vertex-anthropic")  # tested below


@pytest.mark.parametrize("vendor", [v for v in VENDORS if v not in OWN_HEADERS])
async def test_n_plus_one_requests_give_exactly_one_429(vendor: str) -> None:
    app = lab_app()
    await limited(app, rate_limit_rpm=3)
    route, body = request_for(vendor)
    async with asgi_client(app) as c:
        rs = [await c.post(route, json=body, headers={"authorization": "Bearer k1"}) for _ in range(4)]
        assert [r.status_code for r in rs] == [200, 200, 200, 429]
        # A bucket of 3 refills one request every 20 s: the headers count down exactly.
        assert [rl(r) for r in rs] == [("3", "2", "20s"), ("3", "1", "40s"), ("3", "0", "1m0s"), ("3", "0", "1m0s")]
        assert all("x-mockvendor-fault" not in r.headers for r in rs[:3])
        assert_vendor_error(vendor, rs[3], 429, fault="rate-limit-rpm", mentions="Limit 3")
        assert rs[3].headers["retry-after-ms"] == "20000" and rs[3].headers["retry-after"] == "20"
        # 20 s later exactly one more fits; a minute later the bucket is full again.
        app.fake_clock.advance(20)
        r = await c.post(route, json=body, headers={"authorization": "Bearer k1"})
        assert r.status_code == 200 and rl(r) == ("3", "0", "1m0s")
        r = await c.post(route, json=body, headers={"authorization": "Bearer k1"})
        assert r.status_code == 429
        app.fake_clock.advance(60)
        r = await c.post(route, json=body, headers={"authorization": "Bearer k1"})
        assert r.status_code == 200 and rl(r) == ("3", "2", "20s")


async def test_tokens_per_minute() -> None:
    app = lab_app()
    await limited(app, rate_limit_tpm=300)
    async with asgi_client(app) as c:
        # Vendor E costs its prompt (1 token) plus the most it may generate (default_max_tokens 128).
        rs = [await c.post("/vendor-e/messages", json={"prompt": "x"}) for _ in range(3)]
        assert [r.status_code for r in rs] == [200, 200, 429]
        assert [rl(r, "tokens")[:2] for r in rs] == [("300", "171"), ("300", "42"), ("300", "42")]
        assert rl(rs[0], "requests") == (None, None, None)  # the request limit is off
        assert_vendor_error("e", rs[2], 429, fault="rate-limit-tpm", mentions="TPM")
        assert rs[2].headers["retry-after-ms"] == "17400"  # (129 - 42) tokens at 5 per second
        # A request larger than the whole bucket can never pass: do not retry it.
        await c.patch("/admin/faults", json={"vendors": {"e": {"rate_limit_tpm": 100}}})
        r = await c.post("/vendor-e/messages", json={"prompt": "x"})
        assert_vendor_error("e", r, 429, fault="rate-limit-tpm", mentions="retrying will not help")
        assert r.headers["x-should-retry"] == "false" and "retry-after" not in r.headers


async def test_buckets_are_per_key_by_default() -> None:
    app = lab_app()
    await limited(app, rate_limit_rpm=1)
    async with asgi_client(app) as c:
        def post(key: str) -> Any:
            return c.post("/vendor-e/messages", json={"prompt": "x"}, headers={"authorization": f"Bearer {key}"})

        assert [(await post(k)).status_code for k in ("k1", "k2", "k1", "k2")] == [200, 200, 429, 429]


@pytest.mark.parametrize(("by", "expected"), [("global", [200, 429, 429]), ("test-id", [200, 200, 429])])
async def test_rate_limit_by(by: str, expected: list[int]) -> None:
    app = lab_app(rate_limit_by=by)
    await limited(app, rate_limit_rpm=1)
    async with asgi_client(app) as c:
        got = []
        for key, test_id in (("k1", "t1"), ("k2", "t2"), ("k1", "t1")):
            r = await c.post("/vendor-e/messages", json={"prompt": "x"},
                             headers={"authorization": f"Bearer {key}", "x-mockvendor-test-id": test_id})
            got.append(r.status_code)
    assert got == expected


async def test_rate_limit_headers_ride_on_other_errors_and_streams() -> None:
    app = lab_app()
    await limited(app, rate_limit_rpm=10)
    async with asgi_client(app) as c:
        r = await c.post("/vendor-a/messages", json={"prompt": "x"}, headers={"x-mockvendor-fault": "503"})
        assert_vendor_error("a", r, 503, fault="error-503")
        assert rl(r) == ("10", "9", "6s")
        r = await c.post("/vendor-a/messages", json={"prompt": "x", "stream": True})
        assert r.status_code == 200 and rl(r) == ("10", "8", "12s")


async def test_errors_after_admission_keep_the_headers() -> None:
    app = lab_app()
    await limited(app, rate_limit_rpm=2)
    async with asgi_client(app) as c:
        r = await c.post("/vendor-o/messages", json={"prompt": "x"})  # no upstream key: a real 401
    assert_vendor_error("o", r, 401, mentions="OPENAI_API_KEY")
    assert rl(r) == ("2", "1", "30s")


async def test_no_limits_no_headers() -> None:
    async with asgi_client(lab_app()) as c:
        r = await c.post("/vendor-e/messages", json={"prompt": "x"})
    assert not [h for h in r.headers if h.startswith("x-ratelimit")]


async def test_vendor_b_429_body_carries_the_wait() -> None:
    app = lab_app()
    await limited(app, rate_limit_rpm=1)
    async with asgi_client(app) as c:
        await c.post("/vendor-b/messages", json={"prompt": "x"})
        r = await c.post("/vendor-b/messages", json={"prompt": "x"})
    body = assert_vendor_error("b", r, 429, fault="rate-limit-rpm")
    assert body["retryAfterMs"] == 60000


def test_go_durations() -> None:
    assert [go_duration(s) for s in (0, 0.012, 1, 1.5, 59.9, 59.9999, 60, 61.25, 3600, 3725)] == [
        "0ms", "12ms", "1s", "1.5s", "59.9s", "1m0s", "1m0s", "1m1.25s", "1h0m0s", "1h2m5s",
    ]


def test_rfc3339_resets() -> None:
    assert reset_at(1_767_225_600.0, 0) == "2026-01-01T00:00:00Z"
    assert reset_at(1_767_225_600.0, 20) == "2026-01-01T00:00:20Z"
    assert reset_at(1_767_225_600.25, 20) == "2026-01-01T00:00:21Z"  # never earlier than the truth


async def test_anthropic_counts_down_in_its_own_headers() -> None:
    app = lab_app()
    await limited(app, rate_limit_rpm=3, rate_limit_tpm=1000)
    route, body = request_for("anthropic")
    async with asgi_client(app) as c:
        rs = [await c.post(route, json=body, headers={"x-api-key": "k1"}) for _ in range(4)]
    assert [r.status_code for r in rs] == [200, 200, 200, 429]
    h = [r.headers for r in rs]
    assert [x["anthropic-ratelimit-requests-remaining"] for x in h] == ["2", "1", "0", "0"]
    assert {x["anthropic-ratelimit-requests-limit"] for x in h} == {"3"}
    assert [x["anthropic-ratelimit-requests-reset"] for x in h] == [
        "2026-01-01T00:00:20Z", "2026-01-01T00:00:40Z", "2026-01-01T00:01:00Z", "2026-01-01T00:01:00Z"]
    assert h[0]["anthropic-ratelimit-tokens-limit"] == "1000" and "x-ratelimit-limit-requests" not in h[0]
    assert_vendor_error("anthropic", rs[3], 429, fault="rate-limit-rpm", mentions="Limit 3")
    assert h[3]["retry-after"] == "20"


async def test_gemini_limits_without_headers_as_gemini_does() -> None:
    app = lab_app()
    await limited(app, rate_limit_rpm=3)
    route, body = request_for("gemini")
    async with asgi_client(app) as c:
        rs = [await c.post(route, json=body, headers={"x-goog-api-key": "k1"}) for _ in range(4)]
    assert [r.status_code for r in rs] == [200, 200, 200, 429]
    assert not [h for r in rs for h in r.headers if "ratelimit" in h]
    err = assert_vendor_error("gemini", rs[3], 429, fault="rate-limit-rpm", mentions="Limit 3")["error"]
    assert err["status"] == "RESOURCE_EXHAUSTED" and err["details"][0]["retryDelay"] == "20s"
    assert rs[3].headers["retry-after"] == "20"


async def test_cohere_counts_down_in_its_trial_key_headers() -> None:
    app = lab_app()
    await limited(app, rate_limit_rpm=3)
    route, body = request_for("cohere")
    async with asgi_client(app) as c:
        rs = [await c.post(route, json=body, headers={"authorization": "Bearer k1"}) for _ in range(4)]
    assert [r.status_code for r in rs] == [200, 200, 200, 429]
    assert [r.headers["x-trial-endpoint-call-remaining"] for r in rs] == ["2", "1", "0", "0"]
    assert {r.headers["x-trial-endpoint-call-limit"] for r in rs} == {"3"}
    assert "x-ratelimit-limit-requests" not in rs[0].headers
    assert_vendor_error("cohere", rs[3], 429, fault="rate-limit-rpm", mentions="Limit 3")


async def test_ollama_limits_without_headers_as_ollama_does() -> None:
    app = lab_app()
    await limited(app, rate_limit_rpm=3)
    route, body = request_for("ollama")
    async with asgi_client(app) as c:
        rs = [await c.post(route, json=body, headers={"authorization": "Bearer k1"}) for _ in range(4)]
    assert [r.status_code for r in rs] == [200, 200, 200, 429]
    assert not [h for r in rs for h in r.headers if "ratelimit" in h]
    assert "Limit 3" in assert_vendor_error("ollama", rs[3], 429, fault="rate-limit-rpm")["error"]
    assert rs[3].headers["retry-after"] == "20"
