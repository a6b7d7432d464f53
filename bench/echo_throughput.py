"""The echo path: mockvendor as a user runs it against a bare Starlette app and against
aimock (CopilotKit's Node.js mock), all measured in the same run.

    python bench/echo_throughput.py [--seconds 5] [--rounds 3] [--conditions idle,busy]

Two requests, each sent by ``wrk -t1 -c64`` for ``--seconds``:

- **vendor E**: ``POST /vendor-e/messages {"prompt": "Hello world"}`` against a bare
  Starlette route doing the same echo (``bench/bare_echo.py``: one uvicorn worker,
  httptools + uvloop, no access log);
- **chat echo**: ``POST /v1/chat/completions`` with model ``echo`` and one user message,
  against the bare Starlette route answering a minimal chat completion, and against aimock
  (``npx``-free: ``bench/aimock``, installed by ``make bench-deps``) answering the same
  message from its fixture (``bench/aimock/fixture.json``).

mockvendor runs as ``mockvendor serve`` with its defaults (one worker; the fault lab, retry
telemetry, metrics, body capture and the SQLite request log on, in a scratch data dir).
Systems alternate within each round; the best round of each is compared. Each condition
is measured separately: ``idle`` (nothing else running) and ``busy`` (beside a process
that keeps one core busy, ``while True: pass``).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, free_port, server, uvicorn_cmd, wrk  # noqa: E402

E_BODY = '{"prompt": "Hello world"}'
CHAT_BODY = '{"model": "echo", "messages": [{"role": "user", "content": "Hello world"}]}'
AIMOCK = ROOT / "bench" / "aimock"
AIMOCK_CLI = AIMOCK / "node_modules" / "@copilotkit" / "aimock" / "dist" / "cli.js"


def aimock_cmd(port: int) -> list[str]:
    if not AIMOCK_CLI.exists() or shutil.which("node") is None:
        raise SystemExit("aimock is not installed: run `make bench-deps` (npm install in bench/aimock)")
    return ["node", str(AIMOCK_CLI), "-p", str(port), "-f", str(AIMOCK / "fixture.json"), "--log-level", "silent"]


@contextmanager
def busy_core(on: bool):  # type: ignore[no-untyped-def]
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if on else None
    try:
        yield
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()


def run_round(seconds: int, data_dir: str) -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = {}
    port = free_port()
    with server(uvicorn_cmd("bench.bare_echo:app", port), port, ready_path="/vendor-e/messages",
                method="POST") as url:
        out["bare", "e"] = wrk(url + "/vendor-e/messages", E_BODY, seconds=seconds)
        out["bare", "chat"] = wrk(url + "/v1/chat/completions", CHAT_BODY, seconds=seconds)
    port = free_port()
    env = {"MOCKVENDOR_DATA_DIR": data_dir}
    cmd = [sys.executable, "-m", "mockvendor", "serve", "--port", str(port)]
    with server(cmd, port, env=env, ready_path="/readyz") as url:
        wrk(url + "/vendor-e/messages", E_BODY, seconds=1)  # warm
        out["mockvendor", "e"] = wrk(url + "/vendor-e/messages", E_BODY, seconds=seconds)
        out["mockvendor", "chat"] = wrk(url + "/v1/chat/completions", CHAT_BODY, seconds=seconds)
    port = free_port()
    with server(aimock_cmd(port), port, ready_path="/v1/chat/completions", method="POST") as url:
        wrk(url + "/v1/chat/completions", CHAT_BODY, seconds=1)  # warm (V8's JIT)
        out["aimock", "chat"] = wrk(url + "/v1/chat/completions", CHAT_BODY, seconds=seconds)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--conditions", default="idle,busy")
    args = ap.parse_args()
    for condition in args.conditions.split(","):
        rounds: list[dict[tuple[str, str], float]] = []
        with tempfile.TemporaryDirectory(prefix="mockvendor-bench-") as data_dir, busy_core(condition == "busy"):
            for _ in range(args.rounds):
                rounds.append(run_round(args.seconds, data_dir))
        report(condition, rounds)


def report(condition: str, rounds: list[dict[tuple[str, str], float]]) -> None:
    best = {k: max(r[k] for r in rounds) for k in rounds[0]}

    def line(key: tuple[str, str]) -> str:
        return f"{best[key]:8.0f} req/s  (rounds: {', '.join(f'{r[key]:.0f}' for r in rounds)})"

    def ratio(a: tuple[str, str], b: tuple[str, str]) -> str:
        # Best against best, and the median of each round's ratio (a round measures every
        # system within a minute: one lucky round of one system moves it less).
        per_round = statistics.median(r[a] / r[b] for r in rounds)
        return f"{best[a] / best[b]:.2f}  (median of rounds {per_round:.2f})"

    print(f"-- {condition}: {'nothing else running' if condition == 'idle' else 'beside one busy process'}")
    print(f"vendor E    bare starlette : {line(('bare', 'e'))}")
    print(f"vendor E    mockvendor     : {line(('mockvendor', 'e'))}")
    print(f"chat echo   bare starlette : {line(('bare', 'chat'))}")
    print(f"chat echo   aimock         : {line(('aimock', 'chat'))}")
    print(f"chat echo   mockvendor     : {line(('mockvendor', 'chat'))}")
    print(f"ratio vendor E mockvendor / bare starlette : {ratio(('mockvendor', 'e'), ('bare', 'e'))}  (goal >= 0.75)")
    print(f"ratio chat echo mockvendor / aimock        : {ratio(('mockvendor', 'chat'), ('aimock', 'chat'))}"
          "  (goal >= 1.0)")
    print(f"ratio chat echo mockvendor / bare starlette: {ratio(('mockvendor', 'chat'), ('bare', 'chat'))}")
    print(f"ratio chat echo aimock / bare starlette    : {ratio(('aimock', 'chat'), ('bare', 'chat'))}")

if __name__ == "__main__":
    main()
