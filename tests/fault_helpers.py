"""Helpers for the fault lab's tests: an injected clock, a sleep that can hold requests in
flight, one request per vendor, SSE parsing and exact binomial bounds."""

from __future__ import annotations

import asyncio
import math
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from mockvendor import create_app, vendors

from .conftest import FakeSleep, make_settings
from .helpers import free_port

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z: a fixed start for injected clocks


class FakeClock:
    """An injected wall clock that only moves when told to."""

    def __init__(self, start: float = T0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class GatedSleep(FakeSleep):
    """Records delays like FakeSleep; a delay of ``hold`` seconds or more blocks until
    ``release()``, which keeps those requests in flight (for load-dependent faults)."""

    def __init__(self, hold: float) -> None:
        super().__init__()
        self.hold = hold
        self.gate = asyncio.Event()
        self.waiting = 0

    async def __call__(self, seconds: float) -> None:
        if seconds >= self.hold:
            self.waiting += 1
            await self.gate.wait()
            self.waiting -= 1
            return
        self.calls.append(seconds)

    def release(self) -> None:
        self.gate.set()

    async def until_waiting(self, n: int) -> None:
        """Until ``n`` requests are held (fails rather than hangs if they never are)."""
        async def poll() -> None:
            while self.waiting < n:
                await asyncio.sleep(0.001)

        await asyncio.wait_for(poll(), 10)


def lab_app(sleep: Any = None, clock: Any = None, **kw: Any) -> Any:
    """An echo-backed app with an injected sleep and clock (both reachable on the app)."""
    kw.setdefault("vendor_a_model", "echo")
    kw.setdefault("vendor_b_model", "echo")
    sleep = sleep or FakeSleep()
    clock = clock or FakeClock()
    app = create_app(make_settings(**kw), sleep=sleep, clock=clock)
    app.fake_sleep, app.fake_clock = sleep, clock
    return app


PROMPT = "one two three four five six"

# One valid request per vendor (route, body); the model is the echo engine where the
# vendor lets the caller choose, so answers are instant and their chunks known.
REQUESTS: dict[str, tuple[str, dict[str, Any]]] = {
    "a": ("/vendor-a/messages", {"prompt": PROMPT}),
    "b": ("/vendor-b/messages", {"prompt": PROMPT}),
    "e": ("/vendor-e/messages", {"prompt": PROMPT}),
    "o": ("/vendor-o/messages", {"prompt": PROMPT}),
    "openai": ("/v1/chat/completions", {"model": "echo", "messages": [{"role": "user", "content": PROMPT}]}),
    "anthropic": (
        "/v1/messages",
        {"model": "echo", "max_tokens": 64, "messages": [{"role": "user", "content": PROMPT}]},
    ),
    "gemini": ("/v1beta/models/echo:generateContent", {"contents": [{"parts": [{"text": PROMPT}]}]}),
    "cohere": ("/v2/chat", {"model": "echo", "messages": [{"role": "user", "content": PROMPT}]}),
    "mistral": ("/mistral/v1/chat/completions", {"model": "echo", "messages": [{"role": "user", "content": PROMPT}]}),
    "azure": ("/openai/deployments/echo/chat/completions?api-version=2024-10-21",
              {"messages": [{"role": "user", "content": PROMPT}]}),
    "vertex": ("/v1/projects/p/locations/l/publishers/google/models/echo:generateContent",
               {"contents": [{"parts": [{"text": PROMPT}]}]}),
    "vertex-anthropic": (
        "/v1/projects/p/locations/l/publishers/anthropic/models/echo:rawPredict",
        {"anthropic_version": "vertex-2023-10-16", "max_tokens": 64, "messages": [{"role": "user", "content": PROMPT}]},
    ),
    "bedrock": ("/model/echo/converse", {"messages": [{"role": "user", "content": [{"text": PROMPT}]}]}),
    # Ollama streams unless told not to.
    "ollama": ("/api/chat", {"model": "echo", "messages": [{"role": "user", "content": PROMPT}], "stream": False}),
}
STREAM_ROUTES = {"gemini": "/v1beta/models/echo:streamGenerateContent?alt=sse",
                 "bedrock": "/model/echo/converse-stream",
                 "vertex": "/v1/projects/p/locations/l/publishers/google/models/echo:streamGenerateContent?alt=sse"}
NO_STREAM = {"e", "o"}  # E never streams; O streams only from a real upstream
# Streams in AWS event stream framing, not SSE: their stream faults and pacing are tested with botocore's
# decoder in tests/test_vendor_bedrock.py.
EVENT_STREAMS = {"bedrock"}


def registered_vendors() -> list[str]:
    """Every vendor on this branch; one without a request above fails loudly."""
    names = vendors.names()
    missing = [n for n in names if n not in REQUESTS]
    assert not missing, f"add a request for vendor(s) {missing} to tests/fault_helpers.py"
    return names


def request_for(vendor: str, stream: bool = False) -> tuple[str, dict[str, Any]]:
    route, body = REQUESTS[vendor]
    if stream:
        if vendor in STREAM_ROUTES:
            return STREAM_ROUTES[vendor], body
        return route, {**body, "stream": True}
    return route, body


def sse_events(raw: bytes) -> list[tuple[str | None, bytes]]:
    """(event name, data) per SSE event, in order; data left raw (it may be malformed).
    An NDJSON stream (Ollama's) gives one nameless event per line."""
    if raw[:1] == b"{":
        return [(None, line) for line in raw.split(b"\n") if line.strip()]
    out = []
    for block in raw.split(b"\n\n"):
        if not block.strip():
            continue
        name, data = None, []
        for line in block.split(b"\n"):
            if line.startswith(b"event:"):
                name = line[6:].strip().decode()
            elif line.startswith(b"data:"):
                data.append(line[5:].strip())
        out.append((name, b"\n".join(data)))
    return out


def binomial_interval(n: int, p: float, level: float = 0.999) -> tuple[int, int]:
    """The central interval holding ``level`` of Binomial(n, p), computed exactly."""
    tail = (1 - level) / 2

    def pmf(k: int) -> float:
        if p in (0.0, 1.0):
            return float(k == round(n * p))
        return math.exp(
            math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
            + k * math.log(p) + (n - k) * math.log1p(-p)
        )

    probs = [pmf(k) for k in range(n + 1)]
    acc, lo = 0.0, 0
    for k, pk in enumerate(probs):
        acc += pk
        if acc > tail:
            lo = k
            break
    acc, hi = 0.0, n
    for k in range(n, -1, -1):
        acc += probs[k]
        if acc > tail:
            hi = k
            break
    return lo, hi


class RedisServer:
    """A real ``redis-server`` on a free loopback port (no persistence)."""

    def __init__(self, port: int | None = None) -> None:
        exe = shutil.which("redis-server")
        assert exe, "redis-server is not installed: run `make system-deps` (Debian package redis-server)"
        self.exe = exe
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(
            [self.exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", os.environ.get("TMPDIR", "/tmp")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                import socket

                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.05)
        raise TimeoutError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


def admin(base: str | httpx.Client, method: str, path: str, **kw: Any) -> httpx.Response:
    """A synchronous admin call against a server URL or client."""
    if isinstance(base, httpx.Client):
        return base.request(method, path, **kw)
    return httpx.request(method, base + path, timeout=10, **kw)


ROOT = Path(__file__).resolve().parents[1]
