"""The fault lab in-process: forced faults on every vendor, stream faults, pacing and
latency distributions, overload under load, the request log, reproducibility."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import orjson
import pytest

from mockvendor.errors import InvalidRequest
from mockvendor.faults.latency import parse_latency
from mockvendor.faults.policy import FaultPolicy, RequestInfo
from mockvendor.faults.spec import parse_fault

from .conftest import asgi_client, make_settings
from .fault_helpers import (
    EVENT_STREAMS,
    NO_STREAM,
    GatedSleep,
    binomial_interval,
    lab_app,
    registered_vendors,
    request_for,
    sse_events,
)
from .helpers import assert_vendor_error

VENDORS = registered_vendors()
STREAMING = [v for v in VENDORS if v not in NO_STREAM | EVENT_STREAMS]

# (header value, status, x-mockvendor-fault label)
ERRORS = [(str(s), s, f"error-{s}") for s in (400, 401, 403, 404, 408, 409, 500, 502, 503, 504, 529)] + [
    ("rate-limit", 429, "rate-limit"),
    ("quota", 429, "quota"),
    ("overloaded", 529, "error-529"),
]


@pytest.mark.parametrize("vendor", VENDORS)
async def test_every_forced_error_in_every_vendor_shape(vendor: str) -> None:
    route, body = request_for(vendor)
    async with asgi_client(lab_app()) as c:
        for value, status, label in ERRORS:
            r = await c.post(route, json=body, headers={"x-mockvendor-fault": value})
            assert_vendor_error(vendor, r, status, fault=label)
            if value == "quota":
                assert r.headers["x-should-retry"] == "false"
                assert "quota" in r.text.lower()
            if value == "rate-limit":
                assert r.headers["retry-after-ms"] == "1000" and r.headers["retry-after"] == "1"


@pytest.mark.parametrize("vendor", VENDORS)
async def test_forced_hints_steer_clients(vendor: str) -> None:
    route, body = request_for(vendor)
    hints = {"x-mockvendor-fault": "503", "x-mockvendor-retry-after-ms": "2500", "x-mockvendor-should-retry": "false"}
    async with asgi_client(lab_app()) as c:
        r = await c.post(route, json=body, headers=hints)
    assert_vendor_error(vendor, r, 503, fault="error-503")
    assert r.headers["retry-after-ms"] == "2500" and r.headers["retry-after"] == "3"
    assert r.headers["x-should-retry"] == "false"


@pytest.mark.parametrize(
    ("headers", "mentions"),
    [
        ({"x-mockvendor-fault": "explode"}, "x-mockvendor-fault"),
        ({"x-mockvendor-fault": "503", "x-mockvendor-should-retry": "maybe"}, "x-mockvendor-should-retry"),
        ({"x-mockvendor-fault-after-chunks": "-1"}, "x-mockvendor-fault-after-chunks"),
        ({"x-mockvendor-latency": "gamma:1,2"}, "distribution"),
        ({"x-mockvendor-ttft-ms": "soon"}, "x-mockvendor-ttft-ms"),
    ],
)
@pytest.mark.parametrize("vendor", VENDORS)
async def test_bad_fault_headers_are_400_in_vendor_shape(vendor: str, headers: dict[str, str], mentions: str) -> None:
    route, body = request_for(vendor)
    async with asgi_client(lab_app()) as c:
        r = await c.post(route, json=body, headers=headers)
    assert_vendor_error(vendor, r, 400, mentions=mentions)


# -- stream faults -----------------------------------------------------------------------


def _text_of(vendor: str, data: bytes) -> str:
    """The text a stream event carries, for the echo answers used here."""
    if data == b"[DONE]":
        return ""
    ev = orjson.loads(data)
    if vendor == "a":
        return str(ev.get("delta", ""))
    if vendor in ("b", "openai", "mistral", "azure"):
        choices = ev.get("choices") or [{}]
        return str((choices[0].get("delta") or {}).get("content") or "")
    if vendor in ("anthropic", "vertex-anthropic"):
        return str(ev.get("delta", {}).get("text", "")) if ev.get("type") == "content_block_delta" else ""
    if vendor in ("gemini", "vertex"):
        parts = (ev.get("candidates") or [{}])[0].get("content", {}).get("parts", [])
        return "".join(p.get("text", "") for p in parts)
    if vendor == "cohere":
        return str(ev["delta"]["message"]["content"]["text"]) if ev.get("type") == "content-delta" else ""
    if vendor == "ollama":
        return str(ev.get("message", {}).get("content", ""))
    raise AssertionError(vendor)


def _is_error(vendor: str, name: str | None, data: bytes) -> bool:
    if data in (b"[DONE]", b""):
        return False
    ev = orjson.loads(data)
    # Mistral's in-band error is its error body; Cohere's a message-end whose finish_reason is ERROR.
    return name == "error" or "error" in ev or ev.get("object") == "error" or (
        ev.get("type") == "message-end" and ev["delta"].get("finish_reason") == "ERROR")


async def _stream(app: Any, vendor: str, headers: dict[str, str]) -> tuple[Any, list[tuple[str | None, bytes]]]:
    route, body = request_for(vendor, stream=True)
    async with asgi_client(app) as c:
        r = await c.post(route, json=body, headers=headers)
    return r, sse_events(r.content)


@pytest.mark.parametrize("vendor", STREAMING)
@pytest.mark.parametrize("after", [0, 2, 5])
async def test_in_band_error_after_n_chunks(vendor: str, after: int) -> None:
    r, events = await _stream(lab_app(), vendor, {"x-mockvendor-fault-after-chunks": str(after)})
    assert r.status_code == 200 and r.headers["x-mockvendor-fault"] == "stream-error-529"
    name, data = events[-1]
    assert _is_error(vendor, name, data), events
    assert not any(_is_error(vendor, n, d) for n, d in events[:-1])
    text = "".join(_text_of(vendor, d) for _, d in events[:-1])
    assert text.split() == "one two three four five six".split()[:after]


@pytest.mark.parametrize("vendor", STREAMING)
async def test_in_band_error_carries_the_forced_status(vendor: str) -> None:
    r, events = await _stream(lab_app(), vendor, {"x-mockvendor-fault": "503", "x-mockvendor-fault-after-chunks": "1"})
    assert r.headers["x-mockvendor-fault"] == "stream-error-503"
    name, data = events[-1]
    assert _is_error(vendor, name, data)


@pytest.mark.parametrize("vendor", STREAMING)
async def test_malformed_chunk_keeps_framing_breaks_json(vendor: str) -> None:
    _, clean = await _stream(lab_app(), vendor, {})
    forced = {"x-mockvendor-fault": "malformed", "x-mockvendor-fault-after-chunks": "2"}
    r, events = await _stream(lab_app(), vendor, forced)
    assert r.headers["x-mockvendor-fault"] == "malformed"
    broken = []
    for i, (_, data) in enumerate(events):
        try:
            if data != b"[DONE]":
                orjson.loads(data)
        except orjson.JSONDecodeError:
            broken.append(i)
    assert len(broken) == 1 and len(events) == len(clean) + 1
    i = broken[0]
    # The broken frame comes right after the second text chunk and mimics the one before it.
    assert "".join(_text_of(vendor, d) for _, d in events[:i]).split() == ["one", "two"]
    assert events[i][0] == events[i - 1][0] and events[i - 1][1].startswith(events[i][1])
    # Everything else is the clean stream, terminator included.
    assert [e[0] for e in events[:i] + events[i + 1 :]] == [e[0] for e in clean]
    # those carry ids, times, latency
    assert events[-1][1] == clean[-1][1] or vendor in ("a", "openai", "gemini", "vertex", "ollama")


@pytest.mark.parametrize("vendor", STREAMING)
async def test_missing_terminator(vendor: str) -> None:
    _, clean = await _stream(lab_app(), vendor, {})
    r, events = await _stream(lab_app(), vendor, {"x-mockvendor-fault": "no-terminator"})
    assert r.status_code == 200 and r.headers["x-mockvendor-fault"] == "no-terminator"
    assert [e[0] for e in events] == [e[0] for e in clean[:-1]]
    # Gemini has no terminator of its own: its last event (finishReason, usage) carries the last text.
    words = "one two three four five six".split()
    expected = words[:-1] if vendor in ("gemini", "vertex") else words
    assert "".join(_text_of(vendor, d) for _, d in events).split() == expected


@pytest.mark.parametrize("vendor", [v for v in VENDORS if v not in ("o",)])
async def test_non_streaming_malformed_is_a_200_with_broken_json(vendor: str) -> None:
    route, body = request_for(vendor)
    async with asgi_client(lab_app()) as c:
        r = await c.post(route, json=body, headers={"x-mockvendor-fault": "malformed"})
    assert r.status_code == 200 and r.headers["x-mockvendor-fault"] == "malformed"
    with pytest.raises(ValueError):
        r.json()


async def test_stream_error_on_non_streaming_request_is_that_error() -> None:
    route, body = request_for("a")
    async with asgi_client(lab_app()) as c:
        r = await c.post(route, json=body, headers={"x-mockvendor-fault": "stream-error"})
    assert_vendor_error("a", r, 529, fault="error-529")


# -- pacing and latency distributions -------------------------------------------------------


@pytest.mark.parametrize("vendor", STREAMING)
async def test_header_ttft_and_token_pacing(vendor: str) -> None:
    app = lab_app()
    r, events = await _stream(app, vendor, {"x-mockvendor-ttft-ms": "700", "x-mockvendor-token-ms": "30"})
    assert r.headers["x-mockvendor-fault"] == "pacing"
    assert app.fake_sleep.calls == [0.7] + [0.03] * 5  # six echo chunks: TTFT, then five gaps


async def configure(app: Any, doc: dict[str, Any]) -> None:
    """Change the runtime configuration the way users do: PATCH /admin/faults."""
    async with asgi_client(app) as c:
        r = await c.patch("/admin/faults", json=doc)
    assert r.status_code == 200, r.text


async def test_pacing_knobs() -> None:
    app = lab_app()
    knobs = {"ttft": "fixed:250", "token_latency": "uniform:10,20", "error_rate": 0, "slow_rate": 0}
    await configure(app, {"enabled": True, "vendors": {"a": knobs}})  # A's random faults off: pacing only
    _, events = await _stream(app, "a", {})
    calls = app.fake_sleep.calls
    assert calls[0] == 0.25 and len(calls) == 6 and all(0.010 <= c <= 0.020 for c in calls[1:])


@pytest.mark.parametrize(
    ("spec", "center"),
    [("uniform:100,300", 200.0), ("normal:500,80", 500.0), ("lognormal:400,0.6", 400.0)],
)
async def test_latency_distributions_have_their_median(spec: str, center: float) -> None:
    """The share of delays below the distribution's median is Binomial(n, 1/2)."""
    n = 600
    app = lab_app(seed=11)
    async with asgi_client(app) as c:
        for _ in range(n):
            r = await c.post("/vendor-e/messages", json={"prompt": "x"}, headers={"x-mockvendor-latency": spec})
            assert r.headers["x-mockvendor-fault"] == "latency"
    delays = [s * 1000 for s in app.fake_sleep.calls]
    assert len(delays) == n and min(delays) >= 0
    lo, hi = binomial_interval(n, 0.5)
    assert lo <= sum(d < center for d in delays) <= hi
    if spec.startswith("uniform"):
        assert all(100 <= d <= 300 for d in delays)
        lo25, hi25 = binomial_interval(n, 0.25)
        assert lo25 <= sum(d < 150 for d in delays) <= hi25
    if spec.startswith("lognormal"):
        # log-delays are normal: about 84% lie below median * e^sigma
        lo84, hi84 = binomial_interval(n, 0.841344746)
        assert lo84 <= sum(d < 400 * math.exp(0.6) for d in delays) <= hi84


def test_latency_spec_errors_name_the_problem() -> None:
    for bad, word in [("gamma:1", "unknown distribution"), ("uniform:5", "takes 2"), ("uniform:9,1", "LO <= HI"),
                      ("normal:a,b", "not a number")]:
        with pytest.raises(InvalidRequest, match=word):
            parse_latency(bad)
    assert str(parse_latency("250")) == "fixed:250"


# -- overload that depends on load ------------------------------------------------------------


async def test_overload_rises_with_requests_in_flight() -> None:
    """Requests held in flight (their delay blocks) push later requests past the threshold."""
    sleep = GatedSleep(hold=42.0)
    app = lab_app(sleep=sleep, seed=5)
    knobs = {"overload_threshold": 2, "overload_error_step": 0.2, "overload_max_error_rate": 0.7,
             "overload_latency_ms": 100}
    await configure(app, {"enabled": True, "vendors": {"e": knobs}})
    n = 400
    results: dict[int, list[str]] = {}
    async with asgi_client(app) as c:

        async def probe(held: int) -> list[str]:
            out = []
            for _ in range(n):
                r = await c.post("/vendor-e/messages", json={"prompt": "x"})
                out.append(f"{r.status_code}:{r.headers.get('x-mockvendor-fault')}")
            return out

        held_tasks: list[asyncio.Task[Any]] = []
        for held in (0, 2, 3, 4, 6):
            while len(held_tasks) < held:
                held_tasks.append(asyncio.create_task(
                    c.post("/vendor-e/messages", json={"prompt": "hold"}, headers={"x-mockvendor-delay-ms": "42000"})
                ))
            await sleep.until_waiting(held)
            sleep.calls.clear()
            results[held] = await probe(held)
            over = max(0, held + 1 - 2)  # the probe itself is in flight too
            p = min(0.7, 0.2 * over)
            errors = results[held].count("503:overload-503+overload-latency") + results[held].count("503:overload-503")
            lo, hi = binomial_interval(n, p)
            assert lo <= errors <= hi, (held, p, errors, (lo, hi))
            # Every answer past the threshold waited 100 ms per excess request (injected sleep).
            assert sleep.calls == ([over * 100 / 1000] * n if over else []), (held, set(sleep.calls))
        sleep.release()
        await asyncio.gather(*held_tasks)
    assert app.ctx.faults.inflight == 0  # every request left, streams and held ones included
    assert results[0].count("200:None") == n


# -- the request log, reproducibility and the policy ---------------------------------------------


async def test_every_injected_fault_is_in_the_request_log() -> None:
    app = lab_app()
    forced = ["503", "quota", "rate-limit", "slow", "malformed"]
    async with asgi_client(app) as c:
        for value in forced:
            await c.post("/vendor-a/messages", json={"prompt": "x"}, headers={"x-mockvendor-fault": value,
                                                                            "x-mockvendor-test-id": "log"})
        await c.post("/vendor-a/messages", json={"prompt": "x", "stream": True},
                     headers={"x-mockvendor-fault-after-chunks": "0", "x-mockvendor-test-id": "log"})
        await c.post("/vendor-a/messages", json={"prompt": "x"}, headers={"x-mockvendor-test-id": "log"})
        recs = (await c.get("/admin/requests", params={"test_id": "log"})).json()["data"]
        assert [r["fault"] for r in reversed(recs)] == [
            "error-503", "quota", "rate-limit", "slow", "malformed", "stream-error-529", None,
        ]
        assert (await c.get("/admin/requests", params={"fault": "quota"})).json()["data"][0]["status"] == 429


async def test_same_seed_same_decisions_latency_included() -> None:
    async def run(seed: int) -> list[Any]:
        app = lab_app(seed=seed, faults_enabled=True)
        await configure(app, {"vendors": {"b": {"latency": "lognormal:300,0.5", "quota_rate": 0.05}}})
        out = []
        async with asgi_client(app) as c:
            for i in range(200):
                r = await c.post("/vendor-b/messages", json={"prompt": "x"},
                                 headers={"x-mockvendor-test-id": f"t{i % 3}"})
                out.append((r.status_code, r.headers.get("x-mockvendor-fault")))
        return out + app.fake_sleep.calls

    first, second, other = await run(8), await run(8), await run(9)
    assert first == second and first != other
    assert any(f and "quota" in f for _, f in first[:200])  # type: ignore[misc]


async def test_policy_layers_headers_win_over_scenarios_and_rates() -> None:
    settings = make_settings(seed=1, faults_enabled=True)
    settings.faults["a"].error_rate = 1.0
    policy = FaultPolicy(settings)
    d = await policy.decide(RequestInfo("a"))
    assert d.label == "error-500"
    d = await policy.decide(RequestInfo("a", headers={"x-mockvendor-fault": "none"}))
    assert d.label is None and d.error is None
    d = await policy.decide(RequestInfo("a", headers={"x-mockvendor-fault": "409"}))
    assert d.error is not None and d.error.status == 409


def test_fault_vocabulary() -> None:
    assert parse_fault("error-502").label == "error-502"
    assert parse_fault("503", {"after_chunks": 3}).label == "stream-error-503"
    assert parse_fault("stream-error-500").status == 500
    assert parse_fault("stall", {"stall_ms": 10}).stall_ms == 10
    assert parse_fault("quota").error().should_retry is False  # type: ignore[union-attr]
    for bad in ("teapot", "399", "600"):
        with pytest.raises(InvalidRequest):
            parse_fault(bad)
