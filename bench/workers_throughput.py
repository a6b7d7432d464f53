"""Vendor E echo req/s with ``mockvendor serve --workers 2`` against one worker, same run.

    python bench/workers_throughput.py [--seconds 5] [--rounds 2] [--workers 2]

Both run the whole default path (faults on, the SQLite request log in a scratch dir);
``wrk -t1 -c64`` shares the machine's cores with the server. Best round of each.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import free_port, server, wrk  # noqa: E402

BODY = '{"prompt": "Hello world"}'


def measure(workers: int, seconds: int) -> float:
    port = free_port()
    env = {"MOCKVENDOR_SEED": "1", "MOCKVENDOR_DATA_DIR": tempfile.mkdtemp(prefix="mockvendor-workers-")}
    cmd = [sys.executable, "-m", "mockvendor", "serve", "--port", str(port), "--workers", str(workers)]
    with server(cmd, port, env=env, ready_path="/readyz") as url:
        wrk(url + "/vendor-e/messages", BODY, seconds=2)  # every worker warm
        return wrk(url + "/vendor-e/messages", BODY, seconds=seconds)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    one, many = [], []
    for _ in range(args.rounds):
        one.append(measure(1, args.seconds))
        many.append(measure(args.workers, args.seconds))
    print(f"1 worker  : {max(one):8.0f} req/s  (rounds: {', '.join(f'{x:.0f}' for x in one)})")
    print(f"{args.workers} workers : {max(many):8.0f} req/s  (rounds: {', '.join(f'{x:.0f}' for x in many)})")
    print(f"ratio {args.workers} workers / 1: {max(many) / max(one):.2f}")


if __name__ == "__main__":
    main()
