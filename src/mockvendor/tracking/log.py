"""The request log: every request once, in a bounded in-memory ring (for the live feed)
and in the persisted store (for queries, statistics and exports)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import weakref
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

from .jsonlog import LOG_FORMATS
from .record import Record
from .redact import redact_text, sanitize
from .store import Filters, RequestStore
from .writer import LogWriter

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..settings import Settings

T = TypeVar("T")

STORES = ("sqlite", "memory")
DB_FILE = "requests.sqlite3"


def default_data_dir(env: dict[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/mockvendor``, else ``~/.local/share/mockvendor``."""
    env = os.environ if env is None else env
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "mockvendor"


def store_path(settings: Settings) -> str:
    """Where the request log lives for these settings (``:memory:`` for the memory store)."""
    if settings.request_log not in STORES:
        raise ValueError(f"unknown request_log {settings.request_log!r}; valid: {list(STORES)}")
    if settings.request_log == "memory":
        return ":memory:"
    base = Path(settings.data_dir).expanduser() if settings.data_dir else default_data_dir()
    return str(base / DB_FILE)


class RequestLog:
    """Keeps the last ``size`` records in memory and every record in ``store``.

    ``add`` is O(1) and never blocks: the store is written by a background thread. Reads
    (``get``, ``query``, ``stats``...) run on that thread after pending writes, so they see
    every record added before them; the ``a``-prefixed variants await it without blocking
    the event loop.
    """

    def __init__(
        self,
        size: int = 10000,
        store: RequestStore | None = None,
        *,
        body_limit: int = 16384,
        json_stream: IO[str] | None = None,
        flush_interval: float = 0.25,
    ) -> None:
        self._records: deque[Record] = deque(maxlen=size)
        self._by_id: dict[str, Record] = {}
        self._subscribers: set[asyncio.Queue[Record]] = set()
        self.body_limit = body_limit
        self.total = 0
        self.writer = LogWriter(store or RequestStore(":memory:"), interval=flush_interval, json_stream=json_stream)
        # An app dropped without a shutdown (tests) must not leave its writer thread behind.
        weakref.finalize(self, self.writer.stop)

    @classmethod
    def from_settings(cls, settings: Settings) -> RequestLog:
        if settings.log_format not in LOG_FORMATS:
            raise ValueError(f"unknown log_format {settings.log_format!r}; valid: {list(LOG_FORMATS)}")
        path = store_path(settings)
        try:
            store = RequestStore(
                path, max_rows=settings.request_log_max_rows, max_age_s=settings.request_log_max_age_days * 86400
            )
        except (OSError, sqlite3.Error) as e:
            raise RuntimeError(
                f"cannot open the request log at {path}: {e}. Set MOCKVENDOR_DATA_DIR to a writable directory "
                "or MOCKVENDOR_REQUEST_LOG=memory."
            ) from e
        return cls(
            settings.request_log_size,
            store,
            body_limit=settings.capture_body_bytes,
            json_stream=sys.stdout if settings.log_format == "json" else None,
        )

    @property
    def path(self) -> str:
        return self.writer.store.path

    def close(self) -> None:
        """Write everything pending and close the store (at shutdown)."""
        self.writer.close()

    # -- live -------------------------------------------------------------------------
    def subscribe(self, maxsize: int = 1000) -> asyncio.Queue[Record]:
        """A queue that receives every record added from now on (for live views)."""
        q: asyncio.Queue[Record] = asyncio.Queue(maxsize)
        self._subscribers.add(q)
        return q

    def unsubscribe(self, q: asyncio.Queue[Record]) -> None:
        self._subscribers.discard(q)

    def add(self, rec: Record, request_json: bytes | None = None, response_json: bytes | None = None) -> None:
        """Record a finished request (called once per request, by :mod:`mockvendor.front`).
        ``request_json`` / ``response_json``: the bodies' JSON as they went over the wire, if
        known to be what ``rec.request_body`` / ``rec.response_body`` hold (not made again)."""
        # Sanitized once, here, so the ring, the live feed and the store hold the same safe copy;
        # the JSON made to measure each body is what the store writes.
        req_json = resp_json = None
        if rec.request_body is not None:
            rec.request_body, req_json = sanitize(rec.request_body, self.body_limit, request_json)
        if rec.response_body is not None:
            rec.response_body, resp_json = sanitize(rec.response_body, self.body_limit, response_json)
        if rec.error:
            rec.error = redact_text(rec.error)
        if len(self._records) == self._records.maxlen:
            self._by_id.pop(self._records[0].id, None)
        self._records.append(rec)
        self._by_id[rec.id] = rec
        self.total += 1
        self.writer.put(rec, (req_json, resp_json))
        for q in self._subscribers:
            if not q.full():  # a slow viewer misses records rather than slowing requests
                q.put_nowait(rec)

    def records(self) -> Iterable[Record]:
        """The records still in memory, oldest first."""
        return iter(self._records)

    # -- persisted --------------------------------------------------------------------
    def _call(self, fn: Callable[[RequestStore], T]) -> T:
        return self.writer.submit(fn).result()

    async def _acall(self, fn: Callable[[RequestStore], T]) -> T:
        return await asyncio.wrap_future(self.writer.submit(fn))

    def get(self, rec_id: str) -> Record | None:
        return self._by_id.get(rec_id) or self._call(lambda s: s.get(rec_id))

    async def aget(self, rec_id: str) -> Record | None:
        return self._by_id.get(rec_id) or await self._acall(lambda s: s.get(rec_id))

    def query(self, *, limit: int = 100, offset: int = 0, **filters: Any) -> list[Record]:
        """Newest first, filtered (see :class:`Filters`)."""
        f = Filters(**filters)
        return self._call(lambda s: s.query(f, limit=limit, offset=offset))

    async def aquery(self, filters: Filters, *, limit: int = 100, offset: int = 0) -> tuple[list[Record], int]:
        """A page of records, newest first, and how many match in all."""
        return await self._acall(lambda s: (s.query(filters, limit=limit, offset=offset), s.count(filters)))

    async def apage(self, filters: Filters, after: int, limit: int) -> list[tuple[int, Record]]:
        """Oldest first, ``limit`` records after sequence number ``after`` (exports)."""
        return await self._acall(lambda s: s.page(filters, after, limit))

    def count(self, **filters: Any) -> int:
        f = Filters(**filters)
        return self._call(lambda s: s.count(f))

    def stats(self, **filters: Any) -> dict[str, Any]:
        """Per vendor and model: counts by status and fault, tokens, latency percentiles."""
        f = Filters(**filters)
        return self._call(lambda s: s.stats(f))

    async def astats(self, filters: Filters) -> dict[str, Any]:
        return await self._acall(lambda s: s.stats(filters))
