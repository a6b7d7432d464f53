"""A real HTTP server on loopback playing OpenAI's ``/v1/chat/completions`` for the
security tests and the soak, with misbehaviours chosen by the request's ``model``:

- ``standin-echo-key``: a 401 whose message repeats the Authorization header it got
  (an upstream that echoes keys: the passthrough must not relay ours);
- ``standin-hold``: a stream that sends one chunk, then waits for :meth:`release`;
- ``standin-redirect``: a 307 to ``redirect_to`` (the passthrough must not follow it);
- anything else: a normal answer, JSON or server-sent events.

It records every request it gets (any method, any path), so a test can also prove that a
second instance, playing "somewhere else", was never called.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TEXT = "Hello from the stand-in."


class StandInOpenAI:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.redirect_to = ""
        self._release = threading.Event()
        self._lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _any(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"_raw": raw.decode("utf-8", "replace")}
                with standin._lock:
                    standin.requests.append({
                        "method": self.command, "path": self.path, "body": body,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                    })
                if self.command != "POST" or self.path != "/v1/chat/completions":
                    return self._json(404, {"error": {"message": "not found", "type": "invalid_request_error",
                                                      "param": None, "code": None}})
                model = body.get("model") if isinstance(body, dict) else None
                if model == "standin-echo-key":
                    got = self.headers.get("authorization", "")
                    return self._json(401, {"error": {"message": f"Incorrect API key provided: {got}.",
                                                      "type": "invalid_request_error", "param": None,
                                                      "code": "invalid_api_key"}})
                if model == "standin-redirect":
                    self.send_response(307)
                    self.send_header("location", standin.redirect_to)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return None
                if body.get("stream"):
                    return self._stream(body, hold=model == "standin-hold")
                return self._json(200, completion(body))

            do_POST = do_GET = do_PUT = do_DELETE = do_PATCH = _any  # noqa: N815 (http.server's naming)

            def _json(self, status: int, payload: Any) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, body: dict[str, Any], hold: bool) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("connection", "close")
                self.end_headers()
                base = {"id": "chatcmpl-standin", "object": "chat.completion.chunk", "created": 1,
                        "model": body.get("model")}
                words = TEXT.split(" ")
                try:
                    for i, word in enumerate(words):
                        piece = word if i == len(words) - 1 else word + " "
                        self._event({**base, "choices": [{"index": 0, "delta": {"content": piece},
                                                          "finish_reason": None}]})
                        if hold and i == 0:
                            standin._release.wait(60)
                    self._event({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                    if (body.get("stream_options") or {}).get("include_usage"):
                        self._event({**base, "choices": [], "usage": usage()})
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the passthrough hung up (its client left): fine
                self.close_connection = True

            def _event(self, payload: Any) -> None:
                self.wfile.write(b"data: " + json.dumps(payload).encode() + b"\n\n")
                self.wfile.flush()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.base_url = self.url + "/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def release(self) -> None:
        """Let every held stream finish (and the ones after it run straight through)."""
        self._release.set()

    def hold(self) -> None:
        self._release.clear()

    def __enter__(self) -> StandInOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()


def usage() -> dict[str, int]:
    return {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9}


def completion(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-standin", "object": "chat.completion", "created": 1, "model": body.get("model"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": TEXT}, "finish_reason": "stop"}],
        "usage": usage(),
    }
