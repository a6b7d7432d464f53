"""Helpers for the browser tests: Debian's chromium under Playwright, a stand-in for
OpenAI's servers on loopback, and screenshots."""

from __future__ import annotations

import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from .helpers import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


def chromium_path() -> str:
    """Debian's chromium, or a test failure that says how to install it (never a skip)."""
    if Path(CHROMIUM).is_file():
        return CHROMIUM
    found = shutil.which("chromium")
    if found:
        return found
    pytest.fail(
        f"The browser tests drive Debian's chromium, which is not installed ({CHROMIUM} is missing). "
        "Install it with `apt-get install chromium` (`make test` does this through "
        "scripts/install-system-deps.sh).",
        pytrace=False,
    )


def screenshot(target: Any, name: str, *, full_page: bool = True) -> Path:
    """Save artifacts/screenshots/<name>.png: the page (whole, or the first screen), or
    one element (a Locator)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    if hasattr(target, "goto"):
        target.screenshot(path=str(path), full_page=full_page)
    else:
        target.screenshot(path=str(path))
    return path


class FakeOpenAI:
    """A real HTTP server on loopback playing OpenAI's ``/v1/chat/completions``
    (JSON and server-sent events), remembering what it was sent."""

    TEXT = "Hello from the stand-in for OpenAI."
    PROMPT_TOKENS = 11
    COMPLETION_TOKENS = 7

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep pytest output clean
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append({"path": self.path, "body": body,
                                      "headers": {k.lower(): v for k, v in self.headers.items()}})
                if self.path != "/v1/chat/completions":
                    self._json(404, {"error": {"message": "not found", "type": "invalid_request_error",
                                               "param": None, "code": None}})
                elif body.get("stream"):
                    self._stream(body)
                else:
                    self._json(200, fake.completion(body))

            def _json(self, status: int, payload: Any) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, body: dict[str, Any]) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.end_headers()
                base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1,
                        "model": body.get("model")}
                words = fake.TEXT.split(" ")
                for i, word in enumerate(words):
                    piece = word if i == len(words) - 1 else word + " "
                    self._event({**base, "choices": [{"index": 0, "delta": {"content": piece},
                                                      "finish_reason": None}]})
                self._event({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                if (body.get("stream_options") or {}).get("include_usage"):
                    self._event({**base, "choices": [], "usage": fake.usage()})
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

            def _event(self, payload: Any) -> None:
                self.wfile.write(b"data: " + json.dumps(payload).encode() + b"\n\n")
                self.wfile.flush()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def usage(self) -> dict[str, int]:
        return {"prompt_tokens": self.PROMPT_TOKENS, "completion_tokens": self.COMPLETION_TOKENS,
                "total_tokens": self.PROMPT_TOKENS + self.COMPLETION_TOKENS}

    def completion(self, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": "chatcmpl-fake", "object": "chat.completion", "created": 1, "model": body.get("model"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": self.TEXT},
                         "finish_reason": "stop"}],
            "usage": self.usage(),
        }

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
