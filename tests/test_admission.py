"""Past MOCKVENDOR_MAX_REQUESTS in flight, every further request gets its vendor's own
overload error (marked, with a retry hint), never uvicorn's plain-text 503, and every
answer, served or refused, is in the request log exactly once."""

from __future__ import annotations

import asyncio
import time

import httpx

from tests.helpers import assert_vendor_error, serving

LIMIT = 4
FLOOD = 24


def _logged(url: str, ids: list[str]) -> list[dict[str, object]]:
    """The request log's records of ``ids`` (the writer is a thread: waited for, 10 s at most)."""
    deadline = time.monotonic() + 10
    while True:
        page = httpx.get(url + "/admin/requests", params={"limit": 1000}, timeout=10).json()
        logged = [rec for rec in page["data"] if rec["id"] in ids]
        if len(logged) >= len(ids) or time.monotonic() > deadline:
            return logged
        time.sleep(0.2)


async def _flood(url: str) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=FLOOD, max_keepalive_connections=FLOOD)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as c:
        return await asyncio.gather(*(
            c.post("/vendor-e/messages", json={"prompt": f"flood {i}"}, headers={"x-mockvendor-delay-ms": "1500"})
            for i in range(FLOOD)
        ))


def test_a_flood_past_the_request_limit_is_answered_in_the_vendors_shape_and_logged_once() -> None:
    with serving(MOCKVENDOR_FAULTS="on", MOCKVENDOR_MAX_REQUESTS=str(LIMIT)) as srv:
        answers = asyncio.run(_flood(srv.url))
        served = [r for r in answers if r.status_code == 200]
        refused = [r for r in answers if r.status_code != 200]
        assert len(served) == LIMIT, [r.status_code for r in answers]
        assert len(refused) == FLOOD - LIMIT
        for r in served:
            assert r.json()["response"].startswith("You entered flood"), r.text
        for r in refused:
            assert_vendor_error("e", r, 503, fault="request-limit", mentions="MOCKVENDOR_MAX_REQUESTS")
            assert r.headers["retry-after"] == "1", r.headers
        ids = [r.headers["x-request-id"] for r in answers]
        assert len(set(ids)) == FLOOD
        logged = _logged(srv.url, ids)
        assert sorted(rec["id"] for rec in logged) == sorted(ids)  # each answer once
        by_id = {rec["id"]: rec for rec in logged}
        for r in answers:
            rec = by_id[r.headers["x-request-id"]]
            assert rec["status"] == r.status_code and rec["vendor"] == "e", rec
            # Served ones carry the asked-for delay's label ("slow"); refused ones the limit's.
            assert (rec["fault"] == "request-limit") == (r.status_code != 200), rec
        # The limit is given back: the server answers normally once the flood is over.
        ok = httpx.post(srv.url + "/vendor-e/messages", json={"prompt": "after"}, timeout=10)
        assert ok.status_code == 200 and ok.json() == {"response": "You entered after"}


async def _past_every_limit(url: str) -> list[tuple[str, int, httpx.Response]]:
    """Three limits at once: streams open (MOCKVENDOR_MAX_STREAMS=2, OpenAI streams held
    open by a slow first token), a rate limit (3 requests a minute on Anthropic's route) and
    the body size (MOCKVENDOR_MAX_BODY_BYTES=4096 on vendor E). Returns (vendor, expected
    status, answer) for each request."""
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as c:
        r = await c.patch("/admin/faults", json={"vendors": {"anthropic": {"rate_limit_rpm": 3}}})
        assert r.status_code == 200, r.text

        async def stream(i: int) -> httpx.Response:
            body = {"model": "echo", "stream": True, "messages": [{"role": "user", "content": f"stream {i}"}]}
            async with c.stream("POST", "/v1/chat/completions", json=body,
                                headers={"x-mockvendor-ttft-ms": "1500"}) as resp:
                await resp.aread()
                return resp

        async def message(i: int) -> httpx.Response:
            return await c.post("/v1/messages", headers={"anthropic-version": "2023-06-01"}, json={
                "model": "echo", "max_tokens": 16, "messages": [{"role": "user", "content": f"message {i}"}]})

        async def oversized(i: int) -> httpx.Response:
            return await c.post("/vendor-e/messages", json={"prompt": "x" * 5000 + str(i)})

        streams = [asyncio.ensure_future(stream(i)) for i in range(6)]
        await asyncio.sleep(0.5)  # the first two streams hold their slots
        others = await asyncio.gather(*(message(i) for i in range(6)), *(oversized(i) for i in range(3)))
        done = await asyncio.gather(*streams)
    return ([("openai", 0, resp) for resp in done] + [("anthropic", 0, resp) for resp in others[:6]]
            + [("e", 413, resp) for resp in others[6:]])


def test_every_limit_answers_in_the_vendors_shape_and_every_answer_is_logged_once() -> None:
    with serving(MOCKVENDOR_FAULTS="on", MOCKVENDOR_MAX_STREAMS="2", MOCKVENDOR_MAX_BODY_BYTES="4096") as srv:
        answers = asyncio.run(_past_every_limit(srv.url))
        by_vendor: dict[str, list[int]] = {}
        for vendor, _, resp in answers:
            by_vendor.setdefault(vendor, []).append(resp.status_code)
        assert sorted(by_vendor["openai"]) == [200, 200, 429, 429, 429, 429], by_vendor
        assert sorted(by_vendor["anthropic"]) == [200, 200, 200, 429, 429, 429], by_vendor
        assert by_vendor["e"] == [413, 413, 413], by_vendor
        for vendor, _, resp in answers:
            if resp.status_code == 200:
                continue
            if vendor == "openai":  # a real limit of this server, not a simulated fault: no marker
                assert_vendor_error("openai", resp, 429, mentions="MOCKVENDOR_MAX_STREAMS")
            elif vendor == "anthropic":  # the fault lab's rate limit: marked, with its hint
                assert_vendor_error("anthropic", resp, 429, fault="rate-limit-rpm")
                assert int(resp.headers["retry-after"]) >= 1, resp.headers
            else:
                assert_vendor_error("e", resp, 413, mentions="4096")
        ids = [resp.headers["x-request-id"] for _, _, resp in answers]
        assert len(set(ids)) == len(answers)
        logged = _logged(srv.url, ids)
        assert sorted(rec["id"] for rec in logged) == sorted(ids)  # each answer once
        by_id = {rec["id"]: rec for rec in logged}
        for vendor, _, resp in answers:
            rec = by_id[resp.headers["x-request-id"]]
            assert rec["status"] == resp.status_code and rec["vendor"] == vendor, rec


async def _held(url: str) -> list[tuple[str, float, httpx.Response]]:
    """Held requests sent together (what bench/held_requests.py sends by the thousand): vendor
    E and the OpenAI route (both answered whole, by the echo engine), a stream, and a body
    that is not JSON. Returns (what, seconds from sending to the answer, answer)."""
    held = {"x-mockvendor-delay-ms": "600"}
    async with httpx.AsyncClient(base_url=url, timeout=30) as c:
        async def timed(what: str, **kw: object) -> tuple[str, float, httpx.Response]:
            t0 = time.perf_counter()
            path = str(kw.pop("path", "/vendor-e/messages"))
            extra: dict[str, str] = kw.pop("headers", {})  # type: ignore[assignment]
            r = await c.post(path, headers={**held, "content-type": "application/json", **extra},
                             **kw)  # type: ignore[arg-type]
            return what, time.perf_counter() - t0, r

        chat = {"model": "echo", "messages": [{"role": "user", "content": "held chat"}]}
        return await asyncio.gather(
            *(timed("e", json={"prompt": f"held {i}"}) for i in range(6)),
            timed("chat", path="/v1/chat/completions", json=chat),
            timed("stream", path="/v1/chat/completions", json={**chat, "stream": True}),
            timed("bad", content=b'{"prompt": '),
            timed("error", json={"prompt": "held error"}, headers={"x-mockvendor-fault": "503"}),
        )


def test_held_answers_leave_after_their_delay_and_are_logged_once_with_it() -> None:
    """A held whole answer's record and retry telemetry are made while it waits
    (mockvendor.front), its work halfway through the delay (mockvendor.pipeline): what the
    client sees and what the log says are as for any answer: each one after its delay,
    recorded once with a latency of at least that delay, its attempt counted once; a held
    error too, its delay counted from arrival like an answer's (not after the work, which
    comes 250 ms in)."""
    with serving(MOCKVENDOR_FAULTS="on") as srv:
        answers = asyncio.run(_held(srv.url))
        for what, elapsed, r in answers:
            if what == "bad":
                assert_vendor_error("e", r, 400)
                continue
            if what == "error":
                assert_vendor_error("e", r, 503, fault="error-503")
                assert elapsed >= 0.6, elapsed
                continue
            assert r.status_code == 200, (what, r.text)
            assert r.headers["x-mockvendor-fault"] == "slow", r.headers
            assert elapsed >= 0.6, (what, elapsed)
        assert answers[0][2].json() == {"response": "You entered held 0"}
        assert "held chat" in answers[6][2].json()["choices"][0]["message"]["content"]
        assert answers[7][2].text.rstrip().endswith("data: [DONE]")
        ids = [r.headers["x-request-id"] for _, _, r in answers]
        logged = _logged(srv.url, ids)
        assert sorted(rec["id"] for rec in logged) == sorted(ids)  # each once
        by_id = {rec["id"]: rec for rec in logged}
        for what, _, r in answers:
            rec = by_id[r.headers["x-request-id"]]
            assert rec["status"] == r.status_code, rec
            if what == "error":
                # uvloop's timers count whole milliseconds (one may end half of one early);
                # 850 would be the delay counted after the work's 250 ms.
                assert 599 <= rec["latency_ms"] < 850, rec
            elif what != "bad":
                assert rec["latency_ms"] >= 600 and rec["fault"] == "slow", rec
        callers = httpx.get(srv.url + "/admin/retries", timeout=10).json()["callers"]
        attempts = [a["id"] for c in callers.values() for a in c["attempts"]]
        assert sorted(attempts) == sorted(ids), callers  # every attempt once, the 400 included
