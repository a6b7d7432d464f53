"""Prometheus metrics: counts that agree with the request log, histograms, tokens,
in-flight and engine gauges, one registry per app."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from .conftest import asgi_client
from .helpers import ServerProcess


def samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    """Every sample of a Prometheus text exposition, parsed by prometheus-client's own parser."""
    return [(s.name, s.labels, s.value) for fam in text_string_to_metric_families(text) for s in fam.samples]


def total(text: str, name: str, **labels: str) -> float:
    return sum(v for n, lab, v in samples(text) if n == name and all(lab.get(k) == x for k, x in labels.items()))


# (vendor, forced fault header or None, expected status)
MIX = [("e", None, 200), ("a", None, 200), ("b", None, 200), ("a", "503", 503), ("b", "rate-limit", 429),
       ("e", "500", 500), ("a", "none", 200)]


async def _burst(c: httpx.AsyncClient, n: int) -> Counter[tuple[str, int]]:
    """``n`` concurrent requests cycling through MIX; the (vendor, status) counts seen."""

    async def one(i: int) -> tuple[str, int]:
        vendor, fault, _ = MIX[i % len(MIX)]
        headers = {"x-mockvendor-fault": fault} if fault else {}
        r = await c.post(f"/vendor-{vendor}/messages", json={"prompt": f"burst {i}"}, headers=headers)
        return vendor, r.status_code

    return Counter(await asyncio.gather(*(one(i) for i in range(n))))


async def test_burst_counted_exactly_n_by_log_stats_and_metrics(app_factory: Any) -> None:
    n = 140
    app = app_factory()
    async with asgi_client(app) as c:
        seen = await _burst(c, n)
        assert seen == Counter((MIX[i % len(MIX)][0], MIX[i % len(MIX)][2]) for i in range(n))
        await c.get("/healthz")  # not vendor requests: counted nowhere
        await c.get("/admin/requests")
        log = (await c.get("/admin/requests?limit=1")).json()
        stats = (await c.get("/admin/stats")).json()
        metrics = (await c.get("/metrics")).text
    assert log["total"] == n and stats["total"] == n
    assert total(metrics, "mockvendor_requests_total") == n
    assert total(metrics, "mockvendor_request_duration_seconds_count") == n
    for (vendor, status), count in seen.items():
        assert total(metrics, "mockvendor_requests_total", vendor=vendor, status=str(status)) == count
        group = next(g for g in stats["groups"] if g["vendor"] == vendor)
        assert group["by_status"][str(status)] == count
    for vendor, fault, _ in MIX:
        if fault and fault != "none":
            label = "rate-limit" if fault == "rate-limit" else f"error-{fault}"
            assert total(metrics, "mockvendor_requests_total", vendor=vendor, fault=label) == n // len(MIX)
    assert total(metrics, "mockvendor_requests_total", fault="none") == n - 3 * n // len(MIX)
    # Tokens agree with the log's sums, per vendor.
    for g in stats["groups"]:
        assert total(metrics, "mockvendor_input_tokens_total", vendor=g["vendor"]) == g["tokens_in"]
        assert total(metrics, "mockvendor_output_tokens_total", vendor=g["vendor"]) == g["tokens_out"]


def test_burst_over_real_sockets(tmp_path: Any) -> None:
    """The same agreement on a real server process, concurrently over loopback."""
    n = 210
    env = {"MOCKVENDOR_DATA_DIR": str(tmp_path), "MOCKVENDOR_FAULTS": "off", "OPENAI_API_KEY": "",
           "MOCKVENDOR_VENDOR_A_MODEL": "echo", "MOCKVENDOR_VENDOR_B_MODEL": "echo"}
    server = ServerProcess(env=env).wait_ready()

    async def run() -> tuple[dict[str, Any], dict[str, Any], str]:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as c:
            await _burst(c, n)
            return ((await c.get("/admin/requests")).json(), (await c.get("/admin/stats")).json(),
                    (await c.get("/metrics")).text)

    try:
        log, stats, metrics = asyncio.run(run())
    finally:
        server.stop()
    assert log["total"] == stats["total"] == total(metrics, "mockvendor_requests_total") == n


async def test_histograms_and_ttft(app_factory: Any) -> None:
    app = app_factory()
    async with asgi_client(app) as c:
        for _ in range(3):
            await c.post("/vendor-e/messages", json={"prompt": "plain"})
        for _ in range(2):
            async with c.stream("POST", "/vendor-b/messages", json={"prompt": "streamed", "stream": True}) as r:
                assert r.status_code == 200
                _ = [line async for line in r.aiter_lines()]
        metrics = (await c.get("/metrics")).text
    e = {"vendor": "e", "route": "/vendor-e/messages"}
    assert total(metrics, "mockvendor_request_duration_seconds_count", **e) == 3
    assert total(metrics, "mockvendor_request_duration_seconds_bucket", le="+Inf", **e) == 3
    assert total(metrics, "mockvendor_request_duration_seconds_sum", **e) > 0
    buckets = [(float(lab["le"]), v) for n, lab, v in samples(metrics)
               if n == "mockvendor_request_duration_seconds_bucket" and lab["vendor"] == "e"]
    assert [v for _, v in sorted(buckets)] == sorted(v for _, v in buckets)  # cumulative
    assert total(metrics, "mockvendor_time_to_first_token_seconds_count", vendor="b") == 2
    assert total(metrics, "mockvendor_time_to_first_token_seconds_count", vendor="e") == 0


async def test_openmetrics_when_asked(app_factory: Any) -> None:
    app = app_factory()
    async with asgi_client(app) as c:
        await c.post("/vendor-e/messages", json={"prompt": "x"})
        plain = await c.get("/metrics")
        om = await c.get("/metrics", headers={"accept": "application/openmetrics-text; version=1.0.0"})
    assert plain.headers["content-type"].startswith("text/plain")
    assert om.headers["content-type"].startswith("application/openmetrics-text")
    assert om.text.rstrip().endswith("# EOF")


async def test_two_apps_in_one_process_keep_their_own_metrics(app_factory: Any) -> None:
    one, two = app_factory(), app_factory()
    async with asgi_client(one) as c1, asgi_client(two) as c2:
        for _ in range(4):
            await c1.post("/vendor-e/messages", json={"prompt": "one"})
        await c2.post("/vendor-e/messages", json={"prompt": "two"})
        m1, m2 = (await c1.get("/metrics")).text, (await c2.get("/metrics")).text
    assert total(m1, "mockvendor_requests_total") == 4 and total(m2, "mockvendor_requests_total") == 1
    assert one.ctx.metrics.registry is not two.ctx.metrics.registry


async def test_request_log_writer_metrics(app_factory: Any) -> None:
    app = app_factory()
    async with asgi_client(app) as c:
        for _ in range(5):
            await c.post("/vendor-e/messages", json={"prompt": "x"})
        await c.get("/admin/stats")  # after the pending batch
        metrics = (await c.get("/metrics")).text
    assert total(metrics, "mockvendor_request_log_written_total") == 5
    assert total(metrics, "mockvendor_request_log_dropped_total") == 0


def test_in_flight_and_engine_occupancy_during_a_stream(tmp_path: Any) -> None:
    """While the real model streams an answer over a real socket, the request is in flight
    and holds an engine slot."""
    server = ServerProcess(env={"MOCKVENDOR_DATA_DIR": str(tmp_path), "MOCKVENDOR_FAULTS": "off",
                                "OPENAI_API_KEY": ""}).wait_ready()
    try:
        with httpx.Client(base_url=server.url, timeout=120) as c:
            before = c.get("/metrics").text
            body = {"prompt": "Count from one to one hundred, one number per line.", "stream": True,
                    "max_tokens": 128, "seed": 1}
            with c.stream("POST", "/vendor-a/messages", json=body) as r:
                lines = r.iter_lines()
                while not next(lines).startswith("data:"):
                    pass  # the first text is out: the engine is generating the rest
                during = c.get("/metrics").text
            # Leaving the block hangs up mid-stream; the server stops generating.
    finally:
        server.stop()
    assert total(before, "mockvendor_requests_in_flight") == 0
    slots = {lab["models"]: v for n, lab, v in samples(before) if n == "mockvendor_engine_slots"}
    assert any("smollm2" in models.split(",") and n >= 1 for models, n in slots.items()), slots
    assert total(during, "mockvendor_requests_in_flight", vendor="a") == 1
    local = {"engine": "llamacpp"}
    assert total(during, "mockvendor_engine_active", **local) >= 1
    assert 0 < total(during, "mockvendor_engine_batch_occupancy", **local) <= 1
    assert total(during, "mockvendor_engine_queue_depth", **local) >= 0
