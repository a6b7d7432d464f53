"""The request log: a bounded in-memory ring of records plus running aggregates."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable
from typing import Any

from .record import Record


class RequestLog:
    """Keeps the last ``size`` records; ``add`` is O(1) and never blocks."""

    def __init__(self, size: int = 10000) -> None:
        self._records: deque[Record] = deque(maxlen=size)
        self._by_id: dict[str, Record] = {}
        self._subscribers: set[asyncio.Queue[Record]] = set()
        self.total = 0

    def subscribe(self, maxsize: int = 1000) -> asyncio.Queue[Record]:
        """A queue that receives every record added from now on (for live views)."""
        q: asyncio.Queue[Record] = asyncio.Queue(maxsize)
        self._subscribers.add(q)
        return q

    def unsubscribe(self, q: asyncio.Queue[Record]) -> None:
        self._subscribers.discard(q)

    def add(self, rec: Record) -> None:
        if len(self._records) == self._records.maxlen:
            old = self._records[0]
            self._by_id.pop(old.id, None)
        self._records.append(rec)
        self._by_id[rec.id] = rec
        self.total += 1
        for q in self._subscribers:
            if not q.full():  # a slow viewer misses records rather than slowing requests
                q.put_nowait(rec)

    def get(self, rec_id: str) -> Record | None:
        return self._by_id.get(rec_id)

    def query(
        self,
        *,
        vendor: str | None = None,
        status: int | None = None,
        fault: str | None = None,
        test_id: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Record]:
        """Newest first, filtered."""
        out: list[Record] = []
        skipped = 0
        for r in reversed(self._records):
            if vendor is not None and r.vendor != vendor:
                continue
            if status is not None and r.status != status:
                continue
            if fault is not None and r.fault != fault:
                continue
            if test_id is not None and r.test_id != test_id:
                continue
            if since is not None and r.time < since:
                continue
            if until is not None and r.time > until:
                continue
            if skipped < offset:
                skipped += 1
                continue
            out.append(r)
            if len(out) >= limit:
                break
        return out

    def records(self) -> Iterable[Record]:
        return iter(self._records)

    def stats(self) -> dict[str, Any]:
        """Per vendor and model: counts by status and fault, tokens, latency percentiles."""
        groups: dict[tuple[str, str], list[Record]] = {}
        for r in self._records:
            groups.setdefault((r.vendor or "-", r.model or "-"), []).append(r)
        out = []
        for (vendor, model), recs in sorted(groups.items()):
            lat = sorted(r.latency_ms for r in recs)
            by_status: dict[str, int] = {}
            by_fault: dict[str, int] = {}
            for r in recs:
                by_status[str(r.status)] = by_status.get(str(r.status), 0) + 1
                if r.fault:
                    by_fault[r.fault] = by_fault.get(r.fault, 0) + 1
            out.append(
                {
                    "vendor": vendor,
                    "model": model,
                    "requests": len(recs),
                    "by_status": by_status,
                    "by_fault": by_fault,
                    "tokens_in": sum(r.tokens_in for r in recs),
                    "tokens_out": sum(r.tokens_out for r in recs),
                    "latency_ms": {
                        "p50": _pct(lat, 0.50),
                        "p95": _pct(lat, 0.95),
                        "p99": _pct(lat, 0.99),
                    },
                }
            )
        return {"total": self.total, "groups": out}


def _pct(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    i = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return round(sorted_values[i], 3)
