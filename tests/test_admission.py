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
        deadline = time.monotonic() + 10
        while True:
            page = httpx.get(srv.url + "/admin/requests", params={"limit": 1000}, timeout=10).json()
            logged = [rec for rec in page["data"] if rec["id"] in ids]
            if len(logged) >= FLOOD or time.monotonic() > deadline:
                break
            time.sleep(0.2)
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
