"""Instructions per echo request, bare Starlette vs mockvendor, counted by valgrind.

    python bench/echo_instructions.py [--seconds 5 20] [--tree DIR ...]

Wall-clock throughput on a shared machine swings with whatever else runs; instruction
counts do not. Each server (uvicorn + httptools, as in echo_throughput.py) runs under
``valgrind --tool=callgrind`` twice while ``wrk -c8`` posts ``{"prompt": "Hello world"}``
for a short and a long time; (instructions_long - instructions_short) / (requests_long -
requests_short) is the cost of one request, start-up excluded. ``--tree`` adds other
source trees (e.g. an older checkout) measured the same way. Two figures each: the whole
process, and its main thread alone (the event loop's, which bounds the request rate; the
request log's writer thread runs beside it). The request log batches fewer rows under
valgrind's slowdown, so its share comes out somewhat higher than at full speed.
mockvendor runs with every model on the echo engine (``bench.mock_app:echo_app``):
valgrind cannot run llama.cpp's CPU code on machines with AMX or AVX-512.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, free_port, uvicorn_cmd  # noqa: E402

BODY = '{"prompt": "Hello world"}'


def count(root: Path, app: str, factory: bool, seconds: int, lua: str) -> tuple[int, int, int]:
    """(instructions, of them the main thread's, requests) of one server run under callgrind."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": f"{root / 'src'}:{root}", "MOCKVENDOR_SEED": "1",
           "MOCKVENDOR_VENDOR_A_MODEL": "echo", "MOCKVENDOR_VENDOR_B_MODEL": "echo"}
    with tempfile.TemporaryDirectory(prefix="mockvendor-bench-") as data, \
            tempfile.NamedTemporaryFile(suffix=".callgrind") as out:
        env["MOCKVENDOR_DATA_DIR"] = data
        cmd = ["valgrind", "--tool=callgrind", "--separate-threads=yes", f"--callgrind-out-file={out.name}",
               *uvicorn_cmd(app, port, factory, root)]
        proc = subprocess.Popen(cmd, env=env, cwd=str(root), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True)
        deadline = time.monotonic() + 300
        while True:
            try:
                r = httpx.post(f"http://127.0.0.1:{port}/vendor-e/messages", json={"prompt": "x"}, timeout=30)
                if r.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"{cmd} did not start: {proc.communicate()[1][-2000:]}")
            time.sleep(1)
        w = subprocess.run(["wrk", "-t1", "-c8", f"-d{seconds}s", "--timeout", "30s", "-s", lua,
                            f"http://127.0.0.1:{port}/vendor-e/messages"], capture_output=True, text=True).stdout
        proc.send_signal(signal.SIGTERM)
        err = proc.communicate()[1]
        main_file = Path(out.name + "-01")  # thread 1: the event loop's
        main = int(re.search(r"^totals: (\d+)", main_file.read_text(), re.M).group(1))
        for extra in Path(out.name).parent.glob(Path(out.name).name + "-*"):
            extra.unlink()
    if "Non-2xx" in w:
        raise RuntimeError(f"failed responses:\n{w}")
    requests = int(re.search(r"(\d+) requests in", w).group(1)) + 1  # + the readiness probe
    instructions = int(re.search(r"refs:\s+([\d,]+)", err).group(1).replace(",", ""))
    return instructions, main, requests


def per_request(root: Path, app: str, factory: bool, short: int, long: int, lua: str
                ) -> tuple[float, float, int, int]:
    """Instructions per request: the whole process's, its main thread's; and the two runs' requests."""
    (i1, m1, n1), (i2, m2, n2) = count(root, app, factory, short, lua), count(root, app, factory, long, lua)
    return (i2 - i1) / (n2 - n1), (m2 - m1) / (n2 - n1), n1, n2


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, nargs=2, default=[5, 20], metavar=("SHORT", "LONG"))
    ap.add_argument("--tree", type=Path, action="append", default=[], help="another source tree to measure")
    args = ap.parse_args()
    for tool in ("valgrind", "wrk"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (apt-get install {tool})")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(f"wrk.method = 'POST'\nwrk.body = [[{BODY}]]\nwrk.headers['Content-Type'] = 'application/json'\n")
    try:
        bare, bare_main, n1, n2 = per_request(ROOT, "bench.bare_echo:app", False, *args.seconds, f.name)
        print(f"bare starlette echo : {bare / 1000:7.1f}k instructions/request, main thread {bare_main / 1000:7.1f}k"
              f"  ({n1} and {n2} requests)")
        for name, root in [("mockvendor vendor E", ROOT)] + [(str(t), t.resolve()) for t in args.tree]:
            mock, main, n1, n2 = per_request(root, "bench.mock_app:echo_app", True, *args.seconds, f.name)
            print(f"{name} : {mock / 1000:7.1f}k instructions/request, main thread {main / 1000:7.1f}k"
                  f"  ({n1} and {n2} requests)  ratio bare/this: {bare / mock:.2f}, "
                  f"main threads {bare_main / main:.2f}")
    finally:
        os.unlink(f.name)


if __name__ == "__main__":
    main()
