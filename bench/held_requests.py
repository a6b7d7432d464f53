"""2,000 held requests: each connection asks vendor E for ``x-mockvendor-delay-ms: 1000``.

    python bench/held_requests.py [--connections 2000] [--delay-ms 1000]

All connections are opened first, then every request is sent at once (raw asyncio
sockets, one request per connection, so the client costs little). Prints the added
latency (answer time minus the asked-for delay) at p50/p99/max, and how the answers
split by status: past MOCKVENDOR_MAX_REQUESTS they are vendor E's own overload error
(``x-mockvendor-fault: request-limit``), never uvicorn's plain-text 503.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import free_port, server  # noqa: E402

BODY = b'{"prompt": "Hello world"}'


async def one(port: int, delay_ms: int, go: asyncio.Event) -> tuple[float, int, bool]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    req = (b"POST /vendor-e/messages HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
           b"x-mockvendor-delay-ms: " + str(delay_ms).encode() + b"\r\ncontent-length: "
           + str(len(BODY)).encode() + b"\r\nconnection: close\r\n\r\n" + BODY)
    await go.wait()
    t0 = time.perf_counter()
    writer.write(req)
    raw = await reader.read(-1)
    elapsed = time.perf_counter() - t0
    writer.close()
    status = int(raw.split(b" ", 2)[1]) if raw.startswith(b"HTTP/1.1") else 0
    return elapsed, status, b"application/json" in raw.split(b"\r\n\r\n", 1)[0]


async def run(port: int, n: int, delay_ms: int) -> list[tuple[float, int, bool]]:
    go = asyncio.Event()
    tasks = [asyncio.ensure_future(one(port, delay_ms, go)) for _ in range(n)]
    await asyncio.sleep(2)  # every connection open
    go.set()
    return await asyncio.gather(*tasks)


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--connections", type=int, default=2000)
    ap.add_argument("--delay-ms", type=int, default=1000)
    ap.add_argument("--max-requests", type=int, default=None, help="MOCKVENDOR_MAX_REQUESTS for the server")
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, args.connections + 1024)), hard))
    port = free_port()
    env = {"MOCKVENDOR_SEED": "1", "MOCKVENDOR_DATA_DIR": tempfile.mkdtemp(prefix="mockvendor-held-"),
           "MOCKVENDOR_LOG_REQUESTS": "0"}
    if args.max_requests is not None:
        env["MOCKVENDOR_MAX_REQUESTS"] = str(args.max_requests)
    cmd = [sys.executable, "-m", "mockvendor", "serve", "--port", str(port)]
    with server(cmd, port, env=env):
        results = asyncio.run(run(port, args.connections, args.delay_ms))
    added = [(e * 1000 - args.delay_ms) for e, s, _ in results if s == 200]
    statuses = collections.Counter(s for _, s, _ in results)
    plain = sum(1 for _, s, js in results if s != 200 and not js)
    print(f"{args.connections} connections, x-mockvendor-delay-ms: {args.delay_ms}")
    print(f"statuses: {dict(statuses)}; non-JSON (plain) error answers: {plain}")
    if added:
        print(f"added latency ms: p50 {pct(added, 0.5):.1f}  p99 {pct(added, 0.99):.1f}  max {max(added):.1f}")


if __name__ == "__main__":
    main()
