"""The cost of rules on the echo path: vendor E with 1,000 rules loaded (none matching)
against the same server without rules, measured in the same run.

    python bench/rules_overhead.py [--seconds 6] [--rounds 3] [--rules 1000]

Both servers run alone (one uvicorn worker, httptools + uvloop, access log off) while
``wrk -t1 -c64`` posts ``{"prompt": "Hello world"}``; rounds alternate between them and
the best round of each is compared. The rules are what a suite accumulates: half match a
whole last user message (mockllm-style), half a phrase in it (aimock-style), some with a
vendor or model; the whole request path runs (request log to SQLite in a scratch dir).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import free_port, server, uvicorn_cmd, wrk  # noqa: E402

BODY = '{"prompt": "Hello world"}'


def rules(n: int) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for i in range(n):
        if i % 2:
            match: dict[str, object] = {"user": {"equals": f"customer question {i}: where is my parcel?"}}
        else:
            match = {"user": f"order {i} refund status", "model": "gpt-4o*"}
        if i % 5 == 0:
            match["vendor"] = ["openai", "anthropic"]
        out.append({"name": f"r{i}", "match": match, "answer": {"text": f"answer {i}"}})
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=6)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--rules", type=int, default=1000)
    args = ap.parse_args()
    scratch = tempfile.TemporaryDirectory(prefix="mockvendor-bench-")
    path = Path(scratch.name) / "rules.json"
    path.write_text(json.dumps({"rules": rules(args.rules)}))
    base = {"MOCKVENDOR_SEED": "1", "MOCKVENDOR_VENDOR_A_MODEL": "echo", "MOCKVENDOR_VENDOR_B_MODEL": "echo",
            "MOCKVENDOR_DATA_DIR": scratch.name}
    off, on = [], []
    for _ in range(args.rounds):
        for env, results in ((base, off), ({**base, "MOCKVENDOR_RULES": str(path)}, on)):
            port = free_port()
            with server(uvicorn_cmd("bench.mock_app:app", port, factory=True), port, env=env) as url:
                results.append(wrk(url + "/vendor-e/messages", BODY, connections=args.connections,
                                   seconds=args.seconds))
    a, b = max(off), max(on)
    print(f"echo path, no rules      : {a:10.0f} req/s  (rounds: {', '.join(f'{x:.0f}' for x in off)})")
    print(f"echo path, {args.rules:>5} rules: {b:10.0f} req/s  (rounds: {', '.join(f'{x:.0f}' for x in on)})")
    print(f"ratio rules/no rules: {b / a:.3f}  ({(1 - b / a) * 100:+.1f}% slower)")


if __name__ == "__main__":
    main()
