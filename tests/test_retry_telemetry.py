"""Retry telemetry on an injected clock: the client under test 'waits' by moving the clock."""

from __future__ import annotations

from typing import Any

import httpx

from .conftest import asgi_client
from .fault_helpers import lab_app

E = "/vendor-e/messages"


async def post(c: httpx.AsyncClient, test_id: str, body: Any = None, **headers: str) -> httpx.Response:
    h = {"x-mockvendor-test-id": test_id, **{k.replace("_", "-"): v for k, v in headers.items()}}
    if isinstance(body, bytes):
        return await c.post(E, content=body, headers={**h, "content-type": "application/json"})
    return await c.post(E, json=body or {"prompt": "same"}, headers=h)


async def report(c: httpx.AsyncClient, test_id: str) -> dict[str, Any]:
    r = await c.get("/admin/retries", params={"test_id": test_id})
    return r.json()["callers"][f"test:{test_id}"]  # type: ignore[no-any-return]


async def test_a_client_that_honours_the_hints() -> None:
    app = lab_app()
    async with asgi_client(app) as c:
        await c.put("/admin/scenarios/good", json={"steps": [
            {"fault": "503", "retry_after_ms": 250}, {"fault": "rate-limit", "retry_after_ms": 1500}, "ok"]})
        statuses = []
        for _ in range(3):
            r = await post(c, "good")
            statuses.append(r.status_code)
            if r.status_code != 200:
                app.fake_clock.advance(float(r.headers["retry-after-ms"]) / 1000)  # wait exactly the hint
        assert statuses == [503, 429, 200]
        rep = await report(c, "good")
        a1, a2, a3 = rep["attempts"]
        assert (a1["attempt"], a1["retry_of"], a1["hint_given_ms"]) == (1, None, 250.0)
        assert (a2["attempt"], a2["retry_of"], a2["waited_ms"], a2["hint_ms"]) == (2, a1["id"], 250.0, 250.0)
        assert (a3["attempt"], a3["retry_of"], a3["waited_ms"], a3["hint_ms"]) == (3, a2["id"], 1500.0, 1500.0)
        assert a2["honoured"] and a3["honoured"] and a2["violations"] == a3["violations"] == []
        assert rep["summary"] == {"attempts": 3, "requests": 1, "retries": 2, "honoured": 2, "too_early": 0,
                                  "retried_not_retryable": 0, "over_budget": 0, "max_attempt": 3}
        # The request log carries the same judgement.
        recs = (await c.get("/admin/requests", params={"test_id": "good"})).json()["data"]
        assert [r["retry"] for r in reversed(recs)][1:] == [
            {"attempt": 2, "retry_of": a1["id"], "waited_ms": 250.0, "hint_ms": 250.0, "violations": []},
            {"attempt": 3, "retry_of": a2["id"], "waited_ms": 1500.0, "hint_ms": 1500.0, "violations": []},
        ]


async def test_a_client_that_does_not() -> None:
    app = lab_app(retry_budget=2)
    clock = app.fake_clock
    async with asgi_client(app) as c:
        # Too early: retried after 100 ms when told 1000 ms.
        await post(c, "early", x_mockvendor_fault="rate-limit", x_mockvendor_retry_after_ms="1000")
        clock.advance(0.1)
        await post(c, "early")
        (_, retry) = (await report(c, "early"))["attempts"]
        assert retry["violations"] == ["too-early"] and retry["waited_ms"] == 100.0 and not retry["honoured"]
        # Not retryable: quota, x-should-retry: false, and a 400.
        for test_id, first in [
            ("quota", {"x_mockvendor_fault": "quota"}),
            ("told", {"x_mockvendor_fault": "503", "x_mockvendor_should_retry": "false"}),
            ("bad", {"x_mockvendor_fault": "400"}),
        ]:
            await post(c, test_id, **first)
            clock.advance(5)
            await post(c, test_id)
            rep = await report(c, test_id)
            assert rep["attempts"][1]["violations"] == ["not-retryable"], rep
            assert rep["summary"]["retried_not_retryable"] == 1
        # A bad body retried as is is still a retry (same bytes) of an answer that said no.
        await post(c, "badjson", b"{nope")
        await post(c, "badjson", b"{nope")
        assert (await report(c, "badjson"))["attempts"][1]["violations"] == ["not-retryable"]
        # Over budget: a fourth attempt when the budget is two retries.
        await c.put("/admin/scenarios/budget", json={"steps": [{"fault": "500", "times": 5}]})
        for _ in range(4):
            await post(c, "budget")
            clock.advance(1)
        rep = await report(c, "budget")
        assert [a["attempt"] for a in rep["attempts"]] == [1, 2, 3, 4]
        assert [a.get("violations") for a in rep["attempts"]] == [None, [], [], ["over-budget"]]
        assert rep["summary"]["over_budget"] == 1


async def test_what_counts_as_a_retry() -> None:
    app = lab_app()
    async with asgi_client(app) as c:
        await post(c, "what", x_mockvendor_fault="503")
        await post(c, "what", {"prompt": "something else"})  # a different request, not a retry
        await post(c, "what", x_mockvendor_fault="503")
        await post(c, "what", x_stainless_retry_count="0")  # the client says: a new request
        await post(c, "what", x_mockvendor_fault="503")
        await post(c, "what", {"prompt": "changed"}, x_stainless_retry_count="1")  # the client says: a retry
        await post(c, "what")
        await post(c, "what")  # after a success: never a retry
        attempts = (await report(c, "what"))["attempts"]
        assert [a["attempt"] for a in attempts] == [1, 1, 1, 1, 1, 2, 1, 1]


async def test_callers_are_separate_and_reset_clears() -> None:
    app = lab_app()
    async with asgi_client(app) as c:
        await post(c, "one", x_mockvendor_fault="503")
        await post(c, "two")  # another caller in between does not break one's chain
        await post(c, "one")
        await c.post(E, json={"prompt": "x"}, headers={"authorization": "Bearer sk-abc"})
        everyone = (await c.get("/admin/retries")).json()
        callers = everyone["callers"]
        assert set(callers) == {"test:one", "test:two", next(k for k in callers if k.startswith("key:key_"))}
        assert callers["test:one"]["summary"]["retries"] == 1 and "sk-abc" not in str(everyone)
        assert everyone["retry_budget"] == 2
        await c.delete("/admin/retries")
        assert (await c.get("/admin/retries")).json()["callers"] == {}


async def test_telemetry_can_be_switched_off() -> None:
    app = lab_app(retry_telemetry=False)
    async with asgi_client(app) as c:
        await post(c, "off", x_mockvendor_fault="503")
        await post(c, "off")
        assert (await c.get("/admin/retries")).json()["callers"] == {}
        recs = (await c.get("/admin/requests", params={"test_id": "off"})).json()["data"]
        assert [r["retry"] for r in recs] == [None, None]
    assert app.ctx.faults.inflight == 0


def test_the_persisted_log_keeps_the_judgement(tmp_path: Any) -> None:
    """The SQLite request log stores ``retry``; a log written before it gains the column."""
    import sqlite3

    from mockvendor.tracking.record import Record
    from mockvendor.tracking.store import RequestStore

    path = str(tmp_path / "old.sqlite3")
    with sqlite3.connect(path) as db:  # the schema before the fault lab's retry telemetry
        db.execute(
            "CREATE TABLE requests (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, time REAL NOT NULL, "
            "method TEXT, route TEXT, vendor TEXT, model TEXT, key_fingerprint TEXT, test_id TEXT, status INTEGER, "
            "fault TEXT, stream INTEGER, tokens_in INTEGER, tokens_out INTEGER, latency_ms REAL, ttft_ms REAL, "
            "retry_count INTEGER, error TEXT, request_body TEXT, response_body TEXT)"
        )
        db.execute("INSERT INTO requests (id, time, status) VALUES ('req_old', 1.0, 200)")
    store = RequestStore(path, max_age_s=0)
    judged = {"attempt": 2, "retry_of": "req_a", "waited_ms": 250.0, "hint_ms": 250.0, "violations": []}
    store.write([Record(id="req_new", status=200, retry=judged)])
    assert store.get("req_new").retry == judged  # type: ignore[union-attr]
    assert store.get("req_old").retry is None  # type: ignore[union-attr]
    store.close()
