"""Shared test helpers: the one place that knows each vendor's error shape."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]


def _seed_shape(body: Any) -> None:
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), body
    assert isinstance(body["error"]["type"], str) and body["error"]["type"], body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"], body


def _openai_shape(body: Any) -> None:
    assert isinstance(body, dict) and set(body) == {"error"}, body
    err = body["error"]
    assert {"message", "type", "param", "code"} <= set(err), err
    assert isinstance(err["message"], str) and err["message"], err


def _anthropic_shape(body: Any) -> None:
    assert body.get("type") == "error", body
    assert isinstance(body["error"]["type"], str) and body["error"]["message"], body


def _gemini_shape(body: Any) -> None:
    err = body["error"]
    assert isinstance(err["code"], int) and isinstance(err["status"], str), body
    assert isinstance(err["message"], str) and err["message"], body


def _cohere_shape(body: Any) -> None:
    assert isinstance(body, dict) and set(body) == {"id", "message"}, body
    assert isinstance(body["message"], str) and body["message"], body


def _mistral_shape(body: Any) -> None:
    assert body.get("object") == "error" and {"message", "type", "param", "code"} <= set(body), body
    assert isinstance(body["message"], str) and body["message"] and isinstance(body["type"], str), body
def _azure_shape(body: Any) -> None:
    assert isinstance(body, dict) and set(body) == {"error"}, body
    err = body["error"]
    assert {"code", "message", "param", "type"} <= set(err) and isinstance(err["code"], str | None), err
    assert isinstance(err["message"], str) and err["message"], err


def _vertex_anthropic_shape(body: Any) -> None:
    # Vertex's own errors (auth, unknown model, quota) are Google's; the model's are Anthropic's.
    (_anthropic_shape if body.get("type") == "error" else _gemini_shape)(body)
def _bedrock_shape(body: Any) -> None:
    assert isinstance(body, dict) and set(body) == {"message"} and body["message"], body
def _ollama_shape(body: Any) -> None:
    assert isinstance(body, dict) and set(body) == {"error"} and isinstance(body["error"], str) and body["error"], body


ERROR_SHAPES = {
    "a": _seed_shape,
    "b": _seed_shape,
    "e": _seed_shape,
    "o": _openai_shape,
    "openai": _openai_shape,
    "anthropic": _anthropic_shape,
    "gemini": _gemini_shape,
    "cohere": _cohere_shape,
    "mistral": _mistral_shape,
    "azure": _azure_shape,
    "vertex": _gemini_shape,
    "vertex-anthropic": _vertex_anthropic_shape,
    "bedrock": _bedrock_shape,
    "ollama": _ollama_shape,
}


def assert_vendor_error(
    vendor: str, resp: httpx.Response, status: int, *, fault: str | None = None,
    mentions: str | None = None,
) -> Any:
    """Assert ``resp`` is ``vendor``'s own error shape with ``status``.

    ``fault``: the expected ``x-mockvendor-fault`` header (None: must be absent, since
    only simulated failures carry it). ``mentions``: a word the message must contain.
    """
    assert resp.status_code == status, (resp.status_code, resp.text)
    assert resp.headers["content-type"].startswith("application/json"), resp.headers
    body = resp.json()
    ERROR_SHAPES[vendor](body)
    assert resp.headers.get("x-mockvendor-fault") == fault, resp.headers
    if status == 500:
        assert fault is not None, "a 500 must only ever be a simulated one"
    if mentions is not None:
        assert mentions.lower() in resp.text.lower(), (mentions, resp.text)
    return body


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """A real ``mockvendor serve`` process on a free loopback port."""

    def __init__(self, env: dict[str, str] | None = None, args: list[str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        # The request log goes to a temporary data dir unless the test names one.
        self._tmp_data = None
        if "MOCKVENDOR_DATA_DIR" not in (env or {}):
            self._tmp_data = tempfile.TemporaryDirectory(prefix="mockvendor-data-")
            full_env["MOCKVENDOR_DATA_DIR"] = self._tmp_data.name
        self.log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"mockvendor-{self.port}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mockvendor", "serve", "--port", str(self.port), *(args or [])],
            env=full_env, stdout=self._log, stderr=subprocess.STDOUT, cwd=str(ROOT),
        )

    def wait_ready(self, timeout: float = 60.0) -> ServerProcess:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"server not ready: {self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()
        if self._tmp_data is not None:
            self._tmp_data.cleanup()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


# A server for SDK tests: the embedded model, faults off, a fixed seed, no OpenAI key.
QUIET_ENV = {"MOCKVENDOR_FAULTS": "off", "MOCKVENDOR_SEED": "7", "OPENAI_API_KEY": ""}


def running(env: dict[str, str], timeout: float = 120) -> Iterator[ServerProcess]:
    """A ready server process with ``env``, stopped when the generator closes: a module's
    ``server`` fixture is ``yield from running({...})``."""
    s = ServerProcess(env=env)
    try:
        yield s.wait_ready(timeout)
    finally:
        s.stop()


@contextmanager
def serving(**env: str) -> Iterator[ServerProcess]:
    """A ready server process with ``QUIET_ENV`` (plus ``env``), stopped on the way out."""
    yield from running({**QUIET_ENV, **env}, 180)
