"""Vendor E throughput against a bare Starlette echo, measured in the same run.

    python bench/echo_throughput.py [--seconds 6] [--rounds 3]

Both servers run alone (one uvicorn worker, httptools + uvloop, access log off) while
``wrk -t1 -c64`` posts ``{"prompt": "Hello world"}``; rounds alternate between them and
the best round of each is compared. mockvendor runs its whole request path (fault
policy with faults on, token counting, latency tracking, metrics, the request log
written to SQLite in a scratch data dir).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import free_port, server, uvicorn_cmd, wrk  # noqa: E402

BODY = '{"prompt": "Hello world"}'


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=6)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--connections", type=int, default=64)
    args = ap.parse_args()
    bare, mock = [], []
    data_dir = tempfile.TemporaryDirectory(prefix="mockvendor-bench-")
    for _ in range(args.rounds):
        port = free_port()
        bare_cmd = uvicorn_cmd("bench.bare_echo:app", port)
        with server(bare_cmd, port, ready_path="/vendor-e/messages", method="POST") as url:
            bare.append(wrk(url + "/vendor-e/messages", BODY, connections=args.connections, seconds=args.seconds))
        port = free_port()
        env = {"MOCKVENDOR_SEED": "1", "MOCKVENDOR_VENDOR_A_MODEL": "echo", "MOCKVENDOR_VENDOR_B_MODEL": "echo",
               "MOCKVENDOR_DATA_DIR": data_dir.name}  # the SQLite request log is on, in a scratch dir
        with server(uvicorn_cmd("bench.mock_app:app", port, factory=True), port, env=env) as url:
            mock.append(wrk(url + "/vendor-e/messages", BODY, connections=args.connections, seconds=args.seconds))
    b, m = max(bare), max(mock)
    print(f"bare starlette echo : {b:10.0f} req/s  (rounds: {', '.join(f'{x:.0f}' for x in bare)})")
    print(f"mockvendor vendor E : {m:10.0f} req/s  (rounds: {', '.join(f'{x:.0f}' for x in mock)})")
    print(f"ratio mockvendor/bare: {m / b:.2f}")


if __name__ == "__main__":
    main()
