"""What the fault lab costs per request, in process (no sockets, so other processes on
the machine disturb it less than a wrk run), against a baseline in the same run.

    python bench/fault_lab_overhead.py [--requests 3000] [--rounds 5]

CPU time per vendor E request through the whole ASGI app, best of the rounds, for:
the fault lab quiet with retry telemetry off (the baseline), telemetry on (the default),
rate limits on (a token bucket per caller), and a request driven by headers and a scenario.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import orjson

from mockvendor import Settings, create_app

BODY = b'{"prompt": "Hello world"}'


def scope(headers: dict[str, str]) -> dict[str, Any]:
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in headers.items()]
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/vendor-e/messages", "raw_path": b"/vendor-e/messages", "query_string": b"", "headers": raw,
        "client": ("127.0.0.1", 5000), "server": ("bench", 80), "root_path": "",
    }


async def call(app: Any, sc: dict[str, Any], method: str = "POST", path: str | None = None, body: bytes = BODY) -> int:
    sent, status = False, 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    s = dict(sc, state={}, method=method)
    if path:
        s.update(path=path, raw_path=path.encode())
    await app(s, receive, send)
    return status


async def measure(env: dict[str, str], headers: dict[str, str], setup: list[tuple[str, str, dict[str, Any]]],
                  n: int, rounds: int) -> float:
    settings = Settings.from_env(env={"MOCKVENDOR_SEED": "1", "MOCKVENDOR_DATA_DIR": "", **env}, dotenv=None)
    app = create_app(settings)
    for method, path, doc in setup:
        assert await call(app, scope({}), method, path, orjson.dumps(doc)) in (200, 201)
    sc = scope(headers)
    for _ in range(300):
        await call(app, sc)
    best = float("inf")
    for _ in range(rounds):
        t0 = time.process_time()
        for _ in range(n):
            await call(app, sc)
        best = min(best, (time.process_time() - t0) / n * 1e6)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    off = {"MOCKVENDOR_RETRY_TELEMETRY": "false"}
    cases = [
        ("quiet, telemetry off (baseline)", off, {}, []),
        ("quiet, telemetry on (default)", {}, {}, []),
        ("rate limits on", {"MOCKVENDOR_RATE_LIMIT_RPM": "100000000", "MOCKVENDOR_RATE_LIMIT_TPM": "100000000"}, {},
         []),
        ("header fault + scenario", {}, {"x-mockvendor-test-id": "bench", "x-mockvendor-latency": "fixed:0"},
         [("PUT", "/admin/scenarios/bench", {"steps": ["ok"], "then": "repeat"})]),
    ]
    results = []
    for name, env, headers, setup in cases:
        results.append((name, asyncio.run(measure(env, headers, setup, args.requests, args.rounds))))
    base = results[0][1]
    for name, us in results:
        print(f"{name:34s}: {us:7.1f} us/request CPU   ratio to baseline {us / base:.2f}")


if __name__ == "__main__":
    main()
