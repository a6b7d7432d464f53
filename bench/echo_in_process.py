"""The echo path's cost in process: microseconds per request, no sockets, no server.

    python bench/echo_in_process.py [--requests 3000] [--rounds 12]

Calls the ASGI apps directly from one loop (uvloop) with a ready-made scope and body: the
bare Starlette route of ``bench/bare_echo.py`` against mockvendor's app built as
``mockvendor serve`` builds it (defaults, the SQLite request log in a scratch dir, the
garbage collector settled as a serving process settles it), for vendor E and for the
OpenAI chat route on the ``echo`` model. Best round of each. What is left once uvicorn
and the kernel are out of the picture (``bench/echo_throughput.py`` measures with them).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE.parent))

ROUTES = {
    "vendor E": ("/vendor-e/messages", b'{"prompt": "Hello world"}'),
    "chat echo": ("/v1/chat/completions",
                  b'{"model": "echo", "messages": [{"role": "user", "content": "Hello world"}]}'),
}


def scope(path: str, body: bytes) -> dict[str, Any]:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
            "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
            "headers": [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"bench"),
                        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            "client": ("127.0.0.1", 5555), "server": ("127.0.0.1", 8000), "state": {}}


async def per_request(app: Any, path: str, body: bytes, n: int, rounds: int) -> float:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    for _ in range(n):  # warm
        await app(scope(path, body), receive, send)
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(n):
            await app(scope(path, body), receive, send)
        best = min(best, (time.perf_counter() - t0) / n * 1e6)
    if set(statuses) != {200}:
        raise RuntimeError(f"{path}: statuses {sorted(set(statuses))}")
    return best


async def lifespan(app: Any) -> Any:
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await inbox.put({"type": "lifespan.startup"})
    task = asyncio.ensure_future(app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}},
                                     inbox.get, outbox.put))
    await outbox.get()
    return inbox, outbox, task


async def main_async(args: argparse.Namespace) -> None:
    os.environ["MOCKVENDOR_DATA_DIR"] = tempfile.mkdtemp(prefix="mockvendor-inproc-")
    from bench.bare_echo import app as bare
    from mockvendor import Settings, create_app
    from mockvendor.serving import settle_memory

    mock = create_app(Settings.from_env(dotenv=None))
    inbox, outbox, _ = await lifespan(mock)
    settle_memory()
    for name, (path, body) in ROUTES.items():
        b = await per_request(bare, path, body, args.requests, args.rounds)
        m = await per_request(mock, path, body, args.requests, args.rounds)
        print(f"{name:9s}: bare Starlette {b:6.1f} us/request, mockvendor {m:6.1f} us/request "
              f"(ratio of requests/s {b / m:.2f})")
    await inbox.put({"type": "lifespan.shutdown"})
    await outbox.get()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--rounds", type=int, default=12)
    import uvloop

    uvloop.run(main_async(ap.parse_args()))


if __name__ == "__main__":
    main()
