"""Benchmark plumbing: start servers on loopback, run wrk, parse its figures."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server_process(cmd: list[str], port: int, env: dict[str, str] | None = None, ready_path: str = "/healthz",
                   method: str = "GET", timeout: float = 120) -> Iterator[tuple[str, int]]:
    """Run ``cmd`` (which must listen on ``port``) until the block ends; yield (base URL, pid)."""
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        cmd, env={**os.environ, **(env or {})}, cwd=str(ROOT),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{cmd} exited with {proc.returncode}")
            try:
                r = httpx.request(method, url + ready_path, timeout=2,
                                  json={"prompt": "x"} if method == "POST" else None)
                if r.status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{cmd} not ready")
            time.sleep(0.1)
        yield url, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def server(cmd: list[str], port: int, env: dict[str, str] | None = None,
           ready_path: str = "/healthz", method: str = "GET") -> Iterator[str]:
    """Run ``cmd`` (which must listen on ``port``) until the block ends; yield its base URL."""
    with server_process(cmd, port, env, ready_path, method) as (url, _pid):
        yield url


def uvicorn_cmd(app: str, port: int, factory: bool = False, tree: Path = ROOT) -> list[str]:
    """uvicorn serving ``app``; a factory is a mockvendor app (of the source ``tree``), served
    as ``mockvendor serve`` serves it: mockvendor's HTTP protocol, and no X-Forwarded-* layer
    of uvicorn's where the app does that itself."""
    cmd = [sys.executable, "-m", "uvicorn", app, "--port", str(port), "--no-access-log",
           "--log-level", "warning", "--loop", "uvloop", "--http", "httptools"]
    if factory:
        cmd.append("--factory")
        src = tree / "src" / "mockvendor"
        if '"proxy_headers": False' in (src / "serving.py").read_text():
            cmd.append("--no-proxy-headers")
        if "TimedProtocol" in (src / "workers.py").read_text():  # mockvendor's own HTTP protocol
            cmd[cmd.index("httptools")] = "mockvendor.workers:TimedProtocol"
    return cmd


def wrk(url: str, body: str, *, connections: int = 64, seconds: int = 6,
        headers: dict[str, str] | None = None) -> float:
    """Requests per second from ``wrk -t1`` posting ``body`` to ``url``; non-2xx fail."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: run `make system-deps` (apt-get install wrk)")
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    lua = "wrk.method = 'POST'\nwrk.body = [[" + body + "]]\n" + "".join(
        f"wrk.headers['{k}'] = '{v}'\n" for k, v in hdrs.items()
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(lua)
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", f.name, url],
            capture_output=True, text=True, check=True,
        ).stdout
    finally:
        os.unlink(f.name)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if bad:
        raise RuntimeError(f"{bad.group(1)} failed responses from {url}:\n{out}")
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not m:
        raise RuntimeError(out)
    return float(m.group(1))
