"""``mockvendor serve --workers 2``: two processes on one port, one SQLite request log."""

from __future__ import annotations

import time

import httpx

from tests.helpers import QUIET_ENV, ServerProcess


def test_two_workers_answer_on_one_port_and_log_into_one_file() -> None:
    srv = ServerProcess(env=QUIET_ENV, args=["--workers", "2"]).wait_ready(180)
    try:
        ids = []
        for i in range(40):  # a fresh connection each: the kernel spreads them over the workers
            r = httpx.post(srv.url + "/vendor-e/messages", json={"prompt": f"w{i}"}, timeout=10)
            assert r.status_code == 200 and r.json() == {"response": f"You entered w{i}"}, r.text
            ids.append(r.headers["x-request-id"])
        deadline = time.monotonic() + 15
        while True:
            page = httpx.get(srv.url + "/admin/requests", params={"limit": 1000}, timeout=10).json()
            logged = {rec["id"] for rec in page["data"]}
            if set(ids) <= logged or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert set(ids) <= logged, len(set(ids) - logged)  # every worker's records, in the one file
        started = srv.log_path.read_text().count("Started server process")
        assert started == 2, srv.log_path.read_text()[-2000:]  # two workers behind the one port
    finally:
        srv.stop()
