"""2,000 held requests: each connection asks vendor E for ``x-mockvendor-delay-ms: 1000``.

    python bench/held_requests.py [--connections 2000] [--delay-ms 1000] [--seconds 12]
                                  [--bursts 3] [--conditions idle,busy]

Two measurements, each for mockvendor (``mockvendor serve``, defaults) and for a bare
Starlette route that holds the same echo with ``asyncio.sleep`` (``bench/bare_echo.py``,
the baseline), on a quiet machine and beside a process keeping one core busy:

- **held**: ``wrk -t1 -c2000 --latency`` for ``--seconds``: 2,000 requests in flight at
  all times, each connection sending its next request when its answer comes. The added
  latency is wrk's latency percentile minus the delay asked for (wrk prints seconds with
  two decimals: 10 ms steps). The first wave, 2,000 connections opened and their requests
  sent at once, is in the figures (at 15 s, one answer in 14).
- **burst**: all 2,000 connections opened first, then every request sent at once, one
  request per connection, ``--bursts`` times on the same server (a second apart). The
  client is raw non-blocking sockets and one selector (epoll): it stamps each request as it
  sends it and each answer when its last byte is in, with little else in between (an
  asyncio client, which this replaces, put its own reading of 2,000 answers at once in
  the figure, for both servers alike). Added latency at p50/p99/max
  for each burst, the median of the bursts' p99, and how the answers split by status:
  past MOCKVENDOR_MAX_REQUESTS they are vendor E's own overload error
  (``x-mockvendor-fault: request-limit``), never uvicorn's plain-text 503.
"""

from __future__ import annotations

import argparse
import collections
import re
import resource
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import free_port, server, uvicorn_cmd  # noqa: E402
from echo_throughput import busy_core  # noqa: E402

BODY = b'{"prompt": "Hello world"}'


def burst(port: int, path: bytes, n: int, delay_ms: int) -> list[tuple[float, int, bool]]:
    """(seconds from sending to the whole answer, status, JSON answer?) for each of ``n``
    connections, their requests sent at once."""
    req = (b"POST " + path + b" HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
           b"x-mockvendor-delay-ms: " + str(delay_ms).encode() + b"\r\ncontent-length: "
           + str(len(BODY)).encode() + b"\r\nconnection: close\r\n\r\n" + BODY)
    socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
    time.sleep(1)  # every connection accepted
    sel = selectors.DefaultSelector()
    for i, sock in enumerate(socks):
        sock.setblocking(False)
        sel.register(sock, selectors.EVENT_READ, i)
    sent, done, got = [0.0] * n, [0.0] * n, [b""] * n
    now = time.perf_counter
    for i, sock in enumerate(socks):
        sent[i] = now()
        sock.sendall(req)
    left = n
    while left:
        for key, _ in sel.select(timeout=60):
            i = key.data
            data = socks[i].recv(65536)
            if data:
                got[i] += data
                if not done[i] and _whole(got[i]):
                    done[i] = now()
                continue
            done[i] = done[i] or now()  # closed: whatever came is the answer
            sel.unregister(socks[i])
            socks[i].close()
            left -= 1
    sel.close()
    results = []
    for i in range(n):
        head = got[i].split(b"\r\n\r\n", 1)[0]
        status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1") else 0
        results.append((done[i] - sent[i], status, b"application/json" in head.lower()))
    return results


def _whole(raw: bytes) -> bool:
    """Whether ``raw`` holds a whole answer (its head and ``content-length`` bytes of body)."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        return False
    m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    return m is not None and len(body) >= int(m.group(1))


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def held(url: str, connections: int, delay_ms: int, seconds: int) -> dict[str, float]:
    """wrk's latency percentiles (ms) with ``connections`` held requests at all times."""
    lua = ("wrk.method = 'POST'\nwrk.body = '" + BODY.decode() + "'\n"
           "wrk.headers['Content-Type'] = 'application/json'\n"
           f"wrk.headers['x-mockvendor-delay-ms'] = '{delay_ms}'\n")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(lua)
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "30s",
                          "-s", f.name, url], capture_output=True, text=True, check=True).stdout
    figures: dict[str, float] = {}
    if "50%" not in out:
        raise RuntimeError(f"wrk gave no latency distribution:\n{out}")
    for q, value, unit in re.findall(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M):
        figures[f"p{q}"] = float(value) * _UNITS[unit] - delay_ms
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    figures["requests"] = float(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    figures["non_2xx"] = float(bad.group(1)) if bad else 0.0
    if errors:
        print(f"  (wrk socket errors: {errors.group(1)})")
    return figures


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--connections", type=int, default=2000)
    ap.add_argument("--delay-ms", type=int, default=1000)
    ap.add_argument("--max-requests", type=int, default=None, help="MOCKVENDOR_MAX_REQUESTS for the server")
    ap.add_argument("--seconds", type=int, default=12)
    ap.add_argument("--bursts", type=int, default=3, help="bursts in a row on one server")
    ap.add_argument("--conditions", default="idle,busy")
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, args.connections + 1024)), hard))
    for condition in args.conditions.split(","):
        print(f"-- {condition}: {'nothing else running' if condition == 'idle' else 'beside one busy process'}")
        with busy_core(condition == "busy"):
            measure(args)


def measure(args: argparse.Namespace) -> None:
    env = {"MOCKVENDOR_DATA_DIR": tempfile.mkdtemp(prefix="mockvendor-held-")}
    if args.max_requests is not None:
        env["MOCKVENDOR_MAX_REQUESTS"] = str(args.max_requests)
    systems = [
        ("bare starlette", lambda port: uvicorn_cmd("bench.bare_echo:app", port), "/held", {}),
        ("mockvendor", lambda port: [sys.executable, "-m", "mockvendor", "serve", "--port", str(port)],
         "/vendor-e/messages", env),
    ]
    for name, cmd, path, environ in systems:
        port = free_port()
        with server(cmd(port), port, env=environ, ready_path=path, method="POST") as url:
            f = held(url + path, args.connections, args.delay_ms, args.seconds)
            print(f"held  {name:15}: added ms p50 {f['p50']:7.1f}  p90 {f['p90']:7.1f}  p99 {f['p99']:7.1f}"
                  f"  ({f['requests']:.0f} answers, {f['non_2xx']:.0f} not 2xx)")
        port = free_port()
        with server(cmd(port), port, env=environ, ready_path=path, method="POST"):
            bursts = []
            for i in range(args.bursts):
                if i:
                    time.sleep(1)
                bursts.append(burst(port, path.encode(), args.connections, args.delay_ms))
        p99s = []
        for i, results in enumerate(bursts):
            added = [(e * 1000 - args.delay_ms) for e, s, _ in results if s == 200]
            statuses = collections.Counter(s for _, s, _ in results)
            plain = sum(1 for _, s, js in results if s != 200 and not js)
            line = f"burst {name:15}: {i + 1}/{len(bursts)} statuses {dict(statuses)}, plain-text errors {plain}"
            if added:
                p99s.append(pct(added, 0.99))
                line += f"; added ms p50 {pct(added, 0.5):7.1f}  p99 {p99s[-1]:7.1f}  max {max(added):7.1f}"
            print(line)
        if p99s:
            print(f"burst {name:15}: median of the bursts' p99 {statistics.median(p99s):7.1f} ms")

if __name__ == "__main__":
    main()
