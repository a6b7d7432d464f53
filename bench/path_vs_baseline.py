"""This checkout's request path against an earlier commit's, measured in the same run.

    python bench/path_vs_baseline.py [--baseline REF] [--seconds 6] [--rounds 3] [--close]

The baseline (default: 64b3aaa, the last commit with the hand-written parsers, before the
wire-format declarations) is checked out into a scratch git worktree and served by the
same Python; both servers run alone, one uvicorn worker each (httptools + uvloop, access
log off), the same settings (faults on, the SQLite request log in a scratch dir), while
``wrk -t1 -c64`` posts to vendor E (``{"prompt": "Hello world"}``) and to
``/v1/chat/completions`` with the echo model. Rounds alternate between the two and the
best round of each is compared: a ratio above 1 means this checkout is faster. With
``--close`` every request asks ``Connection: close``, so each one comes on a new connection
(clients without a connection pool).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, free_port, server, uvicorn_cmd, wrk  # noqa: E402

DEFAULT_BASELINE = "64b3aaa"
ROUTES = {
    "vendor E": ("/vendor-e/messages", '{"prompt": "Hello world"}'),
    "chat (echo model)": (
        "/v1/chat/completions",
        json.dumps({"model": "echo", "messages": [{"role": "system", "content": "Be brief."},
                                                  {"role": "user", "content": "Hello world"}],
                    "max_tokens": 16, "temperature": 0.5}),
    ),
}


def measure(src: Path, path: str, body: str, data_dir: str, seconds: int, close: bool = False) -> float:
    port = free_port()
    env = {"PYTHONPATH": f"{src}:{ROOT}", "MOCKVENDOR_SEED": "1", "MOCKVENDOR_VENDOR_A_MODEL": "echo",
           "MOCKVENDOR_VENDOR_B_MODEL": "echo", "MOCKVENDOR_DATA_DIR": data_dir}
    with server(uvicorn_cmd("bench.mock_app:app", port, factory=True, tree=src.parent), port, env=env) as url:
        return wrk(url + path, body, seconds=seconds, headers={"Connection": "close"} if close else None)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--baseline", default=DEFAULT_BASELINE)
    ap.add_argument("--seconds", type=int, default=6)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--close", action="store_true", help="a new connection for every request")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="mockvendor-baseline-") as tree, \
            tempfile.TemporaryDirectory(prefix="mockvendor-bench-") as data_dir:
        subprocess.run(["git", "worktree", "add", "--detach", "-q", tree, args.baseline], cwd=ROOT, check=True)
        try:
            sources = {"baseline": Path(tree) / "src", "this": ROOT / "src"}
            print(f"baseline {args.baseline} vs this checkout; wrk -t1 -c64 -d{args.seconds}s, best of {args.rounds}"
                  + ("; Connection: close" if args.close else ""))
            for name, (path, body) in ROUTES.items():
                runs: dict[str, list[float]] = {"baseline": [], "this": []}
                for _ in range(args.rounds):
                    for which, src in sources.items():
                        runs[which].append(measure(src, path, body, data_dir, args.seconds, args.close))
                b, t = max(runs["baseline"]), max(runs["this"])
                rounds = "; ".join(f"{w}: {', '.join(f'{x:.0f}' for x in r)}" for w, r in runs.items())
                print(f"{name:18s} baseline {b:8.0f} req/s  this {t:8.0f} req/s  ratio {t / b:.2f}  ({rounds})")
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", tree], cwd=ROOT, check=False)


if __name__ == "__main__":
    main()
