"""Request log exports (JSON lines, CSV) and the query-string filters shared by the
request log's admin routes."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import UTC, datetime

import orjson

from .log import RequestLog
from .record import Record
from .store import COLUMNS, Filters

FORMATS = {"jsonl": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}
PAGE = 1000


def parse_time(name: str, value: str) -> float:
    """Unix seconds, or an ISO 8601 date/time (UTC unless it names a zone)."""
    try:
        return float(value)
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"`{name}` must be Unix seconds or an ISO 8601 time, not {value!r}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def parse_status(value: str) -> int | str:
    v = value.strip().lower()
    if len(v) == 3 and v[0] in "12345" and v[1:] == "xx":
        return v
    if v.isdigit() and 100 <= int(v) <= 599:
        return int(v)
    raise ValueError(f"`status` must be an HTTP status (429) or a class (4xx), not {value!r}")


def parse_filters(q: Mapping[str, str]) -> Filters:
    """Filters from a query string; a bad value raises ValueError naming the parameter."""
    return Filters(
        vendor=q.get("vendor") or None,
        model=q.get("model") or None,
        status=parse_status(q["status"]) if q.get("status") else None,
        fault=q.get("fault") or None,
        test_id=q.get("test_id") or None,
        since=parse_time("since", q["since"]) if q.get("since") else None,
        until=parse_time("until", q["until"]) if q.get("until") else None,
    )


def parse_int(q: Mapping[str, str], name: str, default: int, lo: int, hi: int | None = None) -> int:
    raw = q.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"`{name}` must be an integer, not {raw!r}") from None
    if value < lo or (hi is not None and value > hi):
        bound = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
        raise ValueError(f"`{name}` must be {bound}, not {value}")
    return value


def jsonl(records: Iterable[Record]) -> bytes:
    return b"".join(orjson.dumps(r.to_dict()) + b"\n" for r in records)


def csv_header() -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerow(COLUMNS)
    return buf.getvalue().encode()


def csv_rows(records: Iterable[Record]) -> bytes:
    """One row per record; bodies as JSON text, empty cells for missing values."""
    buf = io.StringIO()
    w = csv.writer(buf)
    for r in records:
        row = []
        for c in COLUMNS:
            v = getattr(r, c)
            if c in ("request_body", "response_body", "retry"):
                v = "" if v is None else orjson.dumps(v, default=str).decode()
            row.append("" if v is None else v)
        w.writerow(row)
    return buf.getvalue().encode()


async def export(log: RequestLog, filters: Filters, fmt: str, limit: int | None) -> AsyncIterator[bytes]:
    """The matching records, oldest first, in ``fmt``, read from the store a page at a time."""
    if fmt == "csv":
        yield csv_header()
    after, left = 0, limit
    while left is None or left > 0:
        page = await log.apage(filters, after, PAGE if left is None else min(PAGE, left))
        if not page:
            return
        after = page[-1][0]
        recs = [r for _, r in page]
        yield csv_rows(recs) if fmt == "csv" else jsonl(recs)
        if left is not None:
            left -= len(recs)
