"""Scenarios (exact sequences), timelines on an injected clock, and the admin API."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mockvendor.settings import Settings

from .conftest import asgi_client
from .fault_helpers import lab_app

E = "/vendor-e/messages"


async def outcomes(c: httpx.AsyncClient, n: int, test_id: str | None = None, route: str = E,
                   body: dict[str, Any] | None = None) -> list[str]:
    out = []
    headers = {"x-mockvendor-test-id": test_id} if test_id else {}
    for _ in range(n):
        r = await c.post(route, json=body or {"prompt": "x"}, headers=headers)
        out.append(f"{r.status_code}:{r.headers.get('x-mockvendor-fault', '-')}")
    return out


async def test_fail_twice_then_succeed() -> None:
    async with asgi_client(lab_app()) as c:
        r = await c.put("/admin/scenarios/checkout", json={"steps": ["503", "503", "ok"]})
        assert r.status_code == 201 and r.json()["test_id"] == "checkout"
        assert await outcomes(c, 5, "checkout") == ["503:error-503", "503:error-503", "200:-", "200:-", "200:-"]
        # Other test ids and untagged requests never see it.
        assert await outcomes(c, 2, "other") + await outcomes(c, 2) == ["200:-"] * 4
        listed = (await c.get("/admin/scenarios")).json()["scenarios"]
        assert [(s["name"], s["position"], s["steps_total"]) for s in listed] == [("checkout", 5, 3)]


async def test_steps_with_times_hints_and_then_modes() -> None:
    async with asgi_client(lab_app()) as c:
        spec = {"steps": [{"fault": "rate-limit", "retry_after_ms": 250, "times": 2}, "quota", "ok"], "then": "loop"}
        await c.put("/admin/scenarios/loop", json=spec)
        r1 = await c.post(E, json={"prompt": "x"}, headers={"x-mockvendor-test-id": "loop"})
        assert r1.status_code == 429 and r1.headers["retry-after-ms"] == "250"
        seq = await outcomes(c, 7, "loop")
        assert seq == ["429:rate-limit", "429:quota", "200:-", "429:rate-limit", "429:rate-limit", "429:quota", "200:-"]


async def test_repeat_keeps_the_last_step_and_reset_rewinds() -> None:
    async with asgi_client(lab_app()) as c:
        await c.put("/admin/scenarios/rep", json={"steps": ["ok", "504"], "then": "repeat"})
        assert await outcomes(c, 4, "rep") == ["200:-", "504:error-504", "504:error-504", "504:error-504"]
        r = await c.post("/admin/scenarios/rep/reset")
        assert r.status_code == 200 and r.json()["position"] == 0
        assert await outcomes(c, 2, "rep") == ["200:-", "504:error-504"]
        assert (await c.get("/admin/scenarios/rep")).json()["position"] == 2
        assert (await c.delete("/admin/scenarios/rep")).status_code == 200
        assert await outcomes(c, 2, "rep") == ["200:-", "200:-"]
        assert (await c.get("/admin/scenarios/rep")).status_code == 404


async def test_route_bound_scenario_and_test_id_precedence() -> None:
    async with asgi_client(lab_app()) as c:
        await c.put("/admin/scenarios/route", json={"route": "/vendor-a/messages", "steps": ["502"], "then": "repeat"})
        await c.put("/admin/scenarios/t1", json={"steps": ["409"], "then": "repeat"})
        assert await outcomes(c, 2, route="/vendor-a/messages") == ["502:error-502"] * 2
        assert await outcomes(c, 1, "t1", route="/vendor-a/messages") == ["409:error-409"]
        assert await outcomes(c, 1, "t2", route="/vendor-a/messages") == ["502:error-502"]
        assert await outcomes(c, 1) == ["200:-"]  # vendor E's route is not bound


async def test_parallel_test_ids_are_independent() -> None:
    async with asgi_client(lab_app()) as c:
        for t in ("p1", "p2"):
            await c.put(f"/admin/scenarios/{t}", json={"steps": ["500", "ok"]})
        mixed = []
        for _ in range(2):
            mixed += await outcomes(c, 1, "p1") + await outcomes(c, 1, "p2")
        assert mixed == ["500:error-500", "500:error-500", "200:-", "200:-"]


async def test_stream_steps_in_a_script() -> None:
    async with asgi_client(lab_app()) as c:
        await c.put("/admin/scenarios/s", json={"steps": [{"fault": "stream-error", "after_chunks": 1}, "ok"]})
        r = await c.post("/vendor-a/messages", json={"prompt": "a b c", "stream": True},
                         headers={"x-mockvendor-test-id": "s"})
        assert r.headers["x-mockvendor-fault"] == "stream-error-529"
        assert r.text.count("delta") == 1 and '"error"' in r.text


async def test_timeline_on_an_injected_clock() -> None:
    """503 from t+10 s to t+40 s, then latency ramps from 0 to 3 s until t+100 s."""
    app = lab_app()
    clock = app.fake_clock
    timeline = [{"from_s": 10, "to_s": 40, "fault": "503"}, {"from_s": 40, "to_s": 100, "ramp_ms": [0, 3000]}]
    async with asgi_client(app) as c:
        r = await c.put("/admin/scenarios/tl", json={"timeline": timeline})
        assert r.json()["installed_at"] == clock.now
        seen = []
        for t in (0, 9.99, 10, 25, 39.99, 40, 70, 99, 100, 1000):
            clock.now = r.json()["installed_at"] + t
            app.fake_sleep.calls.clear()
            (o,) = await outcomes(c, 1, "tl")
            seen.append((t, o, [round(s, 3) for s in app.fake_sleep.calls]))
    assert seen == [
        (0, "200:-", []), (9.99, "200:-", []), (10, "503:error-503", []), (25, "503:error-503", []),
        (39.99, "503:error-503", []), (40, "200:-", []), (70, "200:-", [1.5]), (99, "200:-", [2.95]),
        (100, "200:-", []), (1000, "200:-", []),
    ]


async def test_timeline_rate_is_a_probability() -> None:
    app = lab_app(seed=4)
    async with asgi_client(app) as c:
        await c.put("/admin/scenarios/half", json={"timeline": [{"from_s": 0, "fault": "503", "rate": 0.5}]})
        seq = await outcomes(c, 400, "half")
    from .fault_helpers import binomial_interval

    lo, hi = binomial_interval(400, 0.5)
    assert lo <= seq.count("503:error-503") <= hi and set(seq) == {"503:error-503", "200:-"}


@pytest.mark.parametrize(
    ("spec", "mentions"),
    [
        ({}, "steps or a timeline"),
        ({"steps": "503"}, "list"),
        ({"steps": ["teapot"]}, "steps[0]"),
        ({"steps": [{"fault": "503", "times": 0}]}, "times"),
        ({"steps": [{"fault": "503", "colour": 1}]}, "colour"),
        ({"steps": ["503"], "then": "again"}, "then"),
        ({"timeline": [{"from_s": 5, "to_s": 1, "fault": "503"}]}, "to_s"),
        ({"timeline": [{"from_s": 0, "fault": "503", "rate": 2}]}, "rate"),
        ({"steps": ["503"], "route": "v1/x"}, "route"),
        ({"steps": ["503"], "when": "now"}, "when"),
    ],
)
async def test_bad_scenarios_are_400_naming_the_field(spec: dict[str, Any], mentions: str) -> None:
    async with asgi_client(lab_app()) as c:
        r = await c.put("/admin/scenarios/bad", json=spec)
    assert r.status_code == 400 and mentions in r.json()["error"]["message"], r.text


# -- /admin/faults ------------------------------------------------------------------------------


async def test_admin_faults_read_patch_replace_reset() -> None:
    app = lab_app(seed=3)
    async with asgi_client(app) as c:
        cfg = (await c.get("/admin/faults")).json()
        assert cfg["enabled"] is False and cfg["vendors"]["a"]["error_rate"] == 0.10
        assert cfg["status"]["store"] == {"backend": "memory", "healthy": True} and cfg["status"]["seed"] == 3
        r = await c.patch("/admin/faults", json={"enabled": True, "vendors": {"*": {"rate_limit_rpm": 7},
                                                                             "b": {"error_rate": 1.0}}})
        cfg = r.json()
        assert cfg["enabled"] is True and cfg["vendors"]["b"]["error_rate"] == 1.0
        assert {v["rate_limit_rpm"] for v in cfg["vendors"].values()} == {7}
        assert cfg["vendors"]["a"]["error_rate"] == 0.10  # PATCH keeps what it does not name
        assert (await outcomes(c, 1, route="/vendor-b/messages")) == ["500:error-500"]
        # PUT replaces: what it does not name is off.
        r = await c.put("/admin/faults", json={"vendors": {"e": {"error_rate": 1.0, "error_status": 503}}})
        cfg = r.json()
        assert cfg["enabled"] is True and cfg["vendors"]["a"]["error_rate"] == 0.0
        assert cfg["vendors"]["b"]["rate_limit_rpm"] == 0
        assert await outcomes(c, 1) == ["503:error-503"]
        # A GET body can be PUT back as is.
        again = await c.put("/admin/faults", json=cfg)
        assert again.json()["vendors"] == cfg["vendors"]
        # Per-route overrides merge over the vendor's knobs.
        await c.patch("/admin/faults", json={"routes": {"/vendor-e/messages": {"error_status": 502}}})
        assert await outcomes(c, 1) == ["502:error-502"]
        await c.patch("/admin/faults", json={"routes": {"/vendor-e/messages": None}})
        assert await outcomes(c, 1) == ["503:error-503"]
        # DELETE is reset: the startup settings again.
        cfg = (await c.delete("/admin/faults")).json()
        assert cfg["enabled"] is False and cfg["vendors"]["a"]["error_rate"] == 0.10
        assert await outcomes(c, 1) == ["200:-"]


@pytest.mark.parametrize(
    ("doc", "mentions"),
    [
        ({"vendors": {"zz": {"error_rate": 0.1}}}, "Unknown vendor 'zz'"),
        ({"vendors": {"a": {"eror_rate": 0.1}}}, "unknown knob 'eror_rate'"),
        ({"vendors": {"a": {"error_rate": 2}}}, "probability"),
        ({"vendors": {"a": {"error_status": 200}}}, "between 400 and 599"),
        ({"vendors": {"a": {"latency": "soon"}}}, "vendors.a.latency"),
        ({"vendors": {"a": {"stream_fault": "boom"}}}, "stream_fault"),
        ({"vendors": {"a": {"rate_limit_rpm": -1}}}, "non-negative"),
        ({"enabled": "yes"}, "enabled"),
        ({"routes": {"v1": {}}}, "route path"),
        ({"colour": 1}, "colour"),
        ([1], "JSON object"),
    ],
)
async def test_bad_fault_config_is_400(doc: Any, mentions: str) -> None:
    async with asgi_client(lab_app()) as c:
        r = await c.patch("/admin/faults", json=doc)
        assert r.status_code == 400 and mentions in r.json()["error"]["message"], r.text
        assert (await c.get("/admin/faults")).json()["vendors"]["a"]["error_rate"] == 0.10  # unchanged


async def test_admin_token_protects_the_fault_lab() -> None:
    async with asgi_client(lab_app(admin_token="s3cret")) as c:
        # Reads too: with a token, every /admin route is closed (mockvendor.security).
        assert (await c.get("/admin/faults")).status_code == 401
        assert (await c.get("/admin/faults", headers={"x-admin-token": "s3cret"})).status_code == 200
        for method, path in [("PATCH", "/admin/faults"), ("PUT", "/admin/faults"), ("DELETE", "/admin/faults"),
                             ("PUT", "/admin/scenarios/x"), ("DELETE", "/admin/retries")]:
            r = await c.request(method, path, json={"enabled": True, "steps": ["503"]})
            assert r.status_code == 401 and "MOCKVENDOR_ADMIN_TOKEN" in r.text and "s3cret" not in r.text
            r = await c.request(method, path, json={"enabled": True, "steps": ["503"]},
                                headers={"authorization": "Bearer wrong"})
            assert r.status_code == 401
        ok = await c.patch("/admin/faults", json={"enabled": True}, headers={"authorization": "Bearer s3cret"})
        assert ok.status_code == 200
        ok = await c.put("/admin/scenarios/x", json={"steps": ["503"]}, headers={"x-admin-token": "s3cret"})
        assert ok.status_code == 201


def test_fault_lab_knobs_from_the_environment() -> None:
    s = Settings.from_env(
        env={
            "MOCKVENDOR_RATE_LIMIT_RPM": "60",
            "MOCKVENDOR_A_RATE_LIMIT_RPM": "5",
            "MOCKVENDOR_RATE_LIMIT_TPM": "10000",
            "MOCKVENDOR_OPENAI_LATENCY": "lognormal:300,0.5",
            "MOCKVENDOR_OVERLOAD_THRESHOLD": "8",
            "MOCKVENDOR_STREAM_FAULT": "disconnect",
            "MOCKVENDOR_RATE_LIMIT_BY": "global",
            "MOCKVENDOR_RETRY_BUDGET": "3",
        },
        dotenv=None,
    )
    assert s.faults["a"].rate_limit_rpm == 5
    assert {fc.rate_limit_rpm for v, fc in s.faults.items() if v != "a"} == {60}
    assert {fc.rate_limit_tpm for fc in s.faults.values()} == {10000}
    assert s.faults["openai"].latency == "lognormal:300,0.5" and s.faults["b"].latency == ""
    assert s.faults["e"].overload_threshold == 8 and s.faults["anthropic"].overload_status == 529
    assert s.faults["b"].stream_fault == "disconnect"
    assert s.rate_limit_by == "global" and s.retry_budget == 3


def test_fault_lab_knobs_from_a_config_file(tmp_path: Any) -> None:
    cfg = tmp_path / "mv.toml"
    cfg.write_text('[faults.b]\nrate_limit_tpm = 500\nttft = "uniform:100,200"\n')
    s = Settings.from_env(env={"MOCKVENDOR_CONFIG": str(cfg)}, dotenv=None)
    assert s.faults["b"].rate_limit_tpm == 500 and s.faults["b"].ttft == "uniform:100,200"


async def test_every_knob_is_documented_on_the_api_docs_page_and_in_the_readme() -> None:
    from dataclasses import fields

    from mockvendor.faults.config import KNOB_HELP
    from mockvendor.settings import FaultConfig

    from .fault_helpers import ROOT

    knobs = [f.name for f in fields(FaultConfig)]
    assert list(KNOB_HELP) == knobs
    async with asgi_client(lab_app()) as c:
        doc = (await c.get("/openapi.json")).json()
    text = doc["info"]["description"]
    readme = (ROOT / "README.md").read_text()
    for knob in knobs:
        assert f"`{knob}`" in text and f"`{knob}`" in readme, knob
    for endpoint in ("/admin/faults", "/admin/scenarios", "/admin/retries"):
        assert endpoint in text and endpoint in readme
    params = {p["name"] for p in doc["paths"]["/vendor-a/messages"]["post"]["parameters"]}
    assert {"x-mockvendor-fault-after-chunks", "x-mockvendor-should-retry", "x-mockvendor-latency"} <= params
    assert all(f"`{p}" in readme for p in params)
