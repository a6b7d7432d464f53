"""The log writer: a background thread that owns the request store.

The request path only appends to a deque (no lock, no wake-up); the thread wakes every
``interval`` seconds and writes whatever piled up in one transaction. Reads are jobs run
on the same thread, after the records queued before them, so they never miss one.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import IO, Any, TypeVar

from .jsonlog import json_line
from .record import Record
from .store import Bodies, RequestStore, row_json

log = logging.getLogger("mockvendor.requestlog")

T = TypeVar("T")


class LogWriter:
    """Feeds records to a :class:`RequestStore` (and optionally a JSON-lines stream) in batches."""

    def __init__(
        self,
        store: RequestStore,
        *,
        interval: float = 0.25,
        max_pending: int = 200_000,
        json_stream: IO[str] | None = None,
    ) -> None:
        self.store = store
        self.interval = interval
        self.max_pending = max_pending
        self.json_stream = json_stream
        self.written = 0
        self.dropped = 0
        self._pending: deque[tuple[Record, bytes]] = deque()  # each record and its row (store.row_json)
        self._jobs: deque[tuple[Callable[[RequestStore], Any], Future[Any]]] = deque()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closing = False

    @property
    def pending(self) -> int:
        return len(self._pending)

    def put(self, rec: Record, bodies: Bodies = (None, None)) -> None:
        """Queue a record and its bodies' JSON (the hot path: O(1), never blocks). The row
        the store inserts is made here, so the writer thread does no Python work per record."""
        if len(self._pending) >= self.max_pending:
            # The disk cannot keep up; keep serving and count what the log misses.
            if self.dropped == 0:
                log.warning("request log writer is %d records behind; dropping records", self.max_pending)
            self.dropped += 1
            return
        self._pending.append((rec, row_json(rec, bodies)))
        if self._thread is None:
            self._start()

    def submit(self, fn: Callable[[RequestStore], T]) -> Future[T]:
        """Run ``fn(store)`` on the writer thread after everything queued so far is written."""
        fut: Future[T] = Future()
        if self._closing:
            fut.set_exception(RuntimeError("the request log is closed"))
            return fut
        self._jobs.append((fn, fut))
        if self._thread is None:
            self._start()
        self._wake.set()
        return fut

    def close(self, timeout: float = 10.0) -> None:
        """Write what is pending, stop the thread, close the store."""
        self.stop()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        with self._lock:
            if self._thread is None:
                self.store.close()

    def stop(self) -> None:
        """Ask the thread to finish (without waiting for it)."""
        self._closing = True
        self._wake.set()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None and not self._closing:
                self._thread = threading.Thread(target=self._run, name="mockvendor-request-log", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                self._wake.wait(self.interval)
                self._wake.clear()
                closing = self._closing
                jobs = [self._jobs.popleft() for _ in range(len(self._jobs))]
                self._flush()
                for fn, fut in jobs:
                    if fut.set_running_or_notify_cancel():
                        try:
                            fut.set_result(fn(self.store))
                        except BaseException as e:  # the caller gets it, the writer carries on
                            fut.set_exception(e)
                if closing and not self._jobs:
                    self._flush()
                    break
        finally:
            with self._lock:
                self._thread = None
                self.store.close()
            for _, fut in self._jobs:
                if fut.set_running_or_notify_cancel():
                    fut.set_exception(RuntimeError("the request log is closed"))

    def _flush(self) -> None:
        n = len(self._pending)
        if not n:
            return
        items = [self._pending.popleft() for _ in range(n)]
        batch = [rec for rec, _ in items]
        try:
            try:
                self.store.write_rows([row for _, row in items])
            except sqlite3.OperationalError as e:
                if "JSON" not in str(e):
                    raise
                # A body as sent that SQLite's JSON reader refused: the records encoded again.
                log.warning("request log: %s in a batch of %d records; writing them from the records", e, n)
                self.store.write(batch)
            self.written += n
        except Exception:
            self.dropped += n
            log.exception("request log: could not write %d records to %s", n, self.store.path)
        if self.json_stream is not None:
            try:
                self.json_stream.write("".join(json_line(r) for r in batch))
                self.json_stream.flush()
            except (OSError, ValueError):
                pass  # a closed or broken stdout must not stop the log
