"""The persisted request log: one SQLite table, written in batches, pruned by count and age.

A ``RequestStore`` is used by exactly one thread (the log writer), which serializes writes
and reads, so a read always sees every record added before it was asked for.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import orjson

from .record import Record

COLUMNS = [f.name for f in fields(Record)]
_BODIES = ("request_body", "response_body")
_JSON = ("retry", *_BODIES)  # columns holding JSON text
_SELECT = ", ".join(COLUMNS)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    time REAL NOT NULL,
    method TEXT, route TEXT, vendor TEXT, model TEXT, key_fingerprint TEXT, test_id TEXT,
    status INTEGER, fault TEXT, stream INTEGER, tokens_in INTEGER, tokens_out INTEGER,
    latency_ms REAL, ttft_ms REAL, retry_count INTEGER, error TEXT,
    request_body TEXT, response_body TEXT, retry TEXT, rule TEXT
);
CREATE INDEX IF NOT EXISTS requests_time ON requests(time);
CREATE INDEX IF NOT EXISTS requests_test_id ON requests(test_id) WHERE test_id IS NOT NULL;
"""


@dataclass(slots=True)
class Filters:
    """What ``/admin/requests``, its exports and ``/admin/stats`` can select on."""

    vendor: str | None = None
    model: str | None = None
    status: int | str | None = None  # 429, or a class such as "4xx"
    fault: str | None = None  # a fault label, "none" (no fault) or "any"
    test_id: str | None = None
    since: float | None = None
    until: float | None = None

    def where(self) -> tuple[str, list[Any]]:
        """An SQL ``WHERE`` clause (possibly empty) and its parameters."""
        conds: list[str] = []
        args: list[Any] = []
        for col in ("vendor", "model", "test_id"):
            value = getattr(self, col)
            if value is not None:
                conds.append(f"{col} = ?")
                args.append(value)
        if isinstance(self.status, int):
            conds.append("status = ?")
            args.append(self.status)
        elif isinstance(self.status, str):
            low = int(self.status[0]) * 100
            conds.append("status >= ? AND status < ?")
            args += [low, low + 100]
        if self.fault == "none":
            conds.append("fault IS NULL")
        elif self.fault == "any":
            conds.append("fault IS NOT NULL")
        elif self.fault is not None:
            conds.append("fault = ?")
            args.append(self.fault)
        if self.since is not None:
            conds.append("time >= ?")
            args.append(self.since)
        if self.until is not None:
            conds.append("time <= ?")
            args.append(self.until)
        return (" WHERE " + " AND ".join(conds) if conds else ""), args


# A record's bodies as JSON, already serialized (by RequestLog.add).
Bodies = tuple[bytes | None, bytes | None]

# A batch is written by one statement whose one parameter is the batch as a JSON array of
# rows (``row_json``, made on the request path, where the record's values are at hand):
# SQLite reads it with ``json_each`` while Python's sqlite3 lets other threads run. The
# writer thread does no Python work per row, so it neither holds the GIL nor touches the
# request path's objects for each request logged: with a Python tuple bound per row (and
# before that, one statement per row) it cost the event loop's thread more than its own
# work did (``bench/echo_throughput.py``). Missing values are JSON nulls, so SQL NULLs.
# Each row's text is materialized once: ``json_each``'s ``value`` is rendered again from
# its parse at every mention, and the columns' ``json_extract`` calls share one parse of
# it (SQLite caches it), so the row costs one render and one parse instead of 21 of each
# (a third of the writer's time per row, ad hoc: 17 against 50 us on our machine). Before
# SQLite 3.35 a CTE cannot be marked MATERIALIZED: the same rows, at the old cost.
_MATERIALIZED = "MATERIALIZED " if sqlite3.sqlite_version_info >= (3, 35) else ""
_INSERT = (f"WITH batch(row) AS {_MATERIALIZED}(SELECT value FROM json_each(?)) "
           f"INSERT OR IGNORE INTO requests ({_SELECT}) SELECT "
           + ", ".join(f"json_extract(row, '$[{i}]')" for i in range(len(COLUMNS))) + " FROM batch")


def _json(value: Any) -> bytes | None:
    return None if value is None else orjson.dumps(value, default=str)


def row_json(rec: Record, bodies: Bodies | None = None) -> bytes:
    """The record as the store inserts it: a JSON array of its columns (``COLUMNS``), the
    bodies as their JSON (``bodies`` when already serialized). Empty texts are stored as NULL."""
    if bodies is None:
        bodies = _json(rec.request_body), _json(rec.response_body)
    head = orjson.dumps((
        rec.id, rec.time, rec.method, rec.route, rec.vendor or None, rec.model or None, rec.key_fingerprint or None,
        rec.test_id or None, rec.status, rec.fault or None, rec.stream, rec.tokens_in, rec.tokens_out,
        rec.latency_ms, rec.ttft_ms, rec.retry_count, rec.retry or None, rec.error or None, rec.rule or None,
    ), default=str)
    return b"%b,%b,%b]" % (head[:-1], bodies[0] or b"null", bodies[1] or b"null")


assert len(orjson.loads(row_json(Record()))) == len(COLUMNS) and COLUMNS[-2:] == list(_BODIES), \
    "update row_json with Record"


def _record(row: tuple[Any, ...]) -> Record:
    rec = Record(*row)
    rec.stream = bool(rec.stream)
    for name in _JSON:
        text = getattr(rec, name)
        if text is not None:
            setattr(rec, name, orjson.loads(text))
    return rec


class RequestStore:
    """SQLite storage of records. ``path`` may be ``":memory:"`` (nothing survives the process)."""

    def __init__(self, path: str, *, max_rows: int = 100_000, max_age_s: float = 7 * 86400) -> None:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_rows = max_rows
        self.max_age_s = max_age_s
        # Created here so a bad path fails at startup; afterwards only the writer thread uses it.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA busy_timeout = 5000")  # replicas may share one file on one host
        if path != ":memory:":
            self._db.execute("PRAGMA journal_mode = WAL")
            # WAL + NORMAL: a crashed process loses nothing committed; only power loss may.
            self._db.execute("PRAGMA synchronous = NORMAL")
        try:  # SQLite's JSON functions: built in since 3.38, in nearly every build before
            self._db.execute("SELECT json_extract('[1]', '$[0]')")
        except sqlite3.OperationalError as e:
            raise RuntimeError(f"this SQLite ({sqlite3.sqlite_version}) has no JSON functions ({e}); the "
                               "request log needs them (SQLite 3.38 or later has them built in)") from e
        self._db.executescript(_SCHEMA)
        have = {row[1] for row in self._db.execute("PRAGMA table_info(requests)")}
        if "retry" not in have:  # a log written before the fault lab's retry telemetry
            self._db.execute("ALTER TABLE requests ADD COLUMN retry TEXT")
        if "rule" not in have:  # a log written before rules
            self._db.execute("ALTER TABLE requests ADD COLUMN rule TEXT")
        self.prune()

    def close(self) -> None:
        self._db.close()

    # -- writing ----------------------------------------------------------------------
    def write(self, records: list[Record]) -> None:
        """Insert records, their bodies encoded here (the log writer hands over rows: ``write_rows``)."""
        self.write_rows([row_json(r) for r in records])

    def write_rows(self, rows: list[bytes]) -> None:
        """Insert a batch of rows (``row_json``) in one transaction (a record already stored
        is kept once), then prune."""
        with self._transaction():
            self._db.execute(_INSERT, ((b"[%b]" % b",".join(rows)).decode(),))
        self.prune()

    def prune(self, now: float | None = None) -> None:
        """Drop what is beyond the retention: older than ``max_age_s``, beyond ``max_rows``."""
        with self._transaction():
            if self.max_age_s > 0:
                cutoff = (time.time() if now is None else now) - self.max_age_s
                self._db.execute("DELETE FROM requests WHERE time < ?", (cutoff,))
            if self.max_rows > 0:
                # Sequence numbers are contiguous (rowids, oldest pruned first), so this is
                # O(log n) where counting from the newest row would walk max_rows entries.
                self._db.execute(
                    "DELETE FROM requests WHERE seq <= (SELECT max(seq) FROM requests) - ?", (self.max_rows,)
                )

    def _transaction(self) -> Any:
        return _Transaction(self._db)

    # -- reading ----------------------------------------------------------------------
    def get(self, rec_id: str) -> Record | None:
        row = self._db.execute(f"SELECT {_SELECT} FROM requests WHERE id = ?", (rec_id,)).fetchone()
        return None if row is None else _record(row)

    def count(self, filters: Filters | None = None) -> int:
        where, args = (filters or Filters()).where()
        return int(self._db.execute(f"SELECT count(*) FROM requests{where}", args).fetchone()[0])

    def query(self, filters: Filters | None = None, *, limit: int = 100, offset: int = 0) -> list[Record]:
        """Newest first."""
        where, args = (filters or Filters()).where()
        rows = self._db.execute(
            f"SELECT {_SELECT} FROM requests{where} ORDER BY seq DESC LIMIT ? OFFSET ?", [*args, limit, offset]
        ).fetchall()
        return [_record(r) for r in rows]

    def page(self, filters: Filters | None, after: int, limit: int) -> list[tuple[int, Record]]:
        """Oldest first, the ``limit`` records stored after sequence number ``after`` (for exports)."""
        where, args = (filters or Filters()).where()
        where = (where + " AND" if where else " WHERE") + " seq > ?"
        rows = self._db.execute(
            f"SELECT seq, {_SELECT} FROM requests{where} ORDER BY seq LIMIT ?", [*args, after, limit]
        ).fetchall()
        return [(r[0], _record(r[1:])) for r in rows]

    def stats(self, filters: Filters | None = None) -> dict[str, Any]:
        """Per vendor and model: counts by status and fault, tokens, latency and TTFT percentiles."""
        where, args = (filters or Filters()).where()
        groups: dict[tuple[str, str], dict[str, Any]] = {}
        for vendor, model, n, t_in, t_out in self._db.execute(
            f"SELECT coalesce(vendor, '-'), coalesce(model, '-'), count(*), sum(tokens_in), sum(tokens_out)"
            f" FROM requests{where} GROUP BY 1, 2",
            args,
        ):
            groups[(vendor, model)] = {
                "vendor": vendor, "model": model, "requests": n, "by_status": {}, "by_fault": {},
                "tokens_in": t_in or 0, "tokens_out": t_out or 0,
            }
        for vendor, model, status, n in self._db.execute(
            f"SELECT coalesce(vendor, '-'), coalesce(model, '-'), status, count(*) FROM requests{where}"
            " GROUP BY 1, 2, 3",
            args,
        ):
            groups[(vendor, model)]["by_status"][str(status)] = n
        fault_where = (where + " AND" if where else " WHERE") + " fault IS NOT NULL"
        for vendor, model, fault, n in self._db.execute(
            f"SELECT coalesce(vendor, '-'), coalesce(model, '-'), fault, count(*) FROM requests{fault_where}"
            " GROUP BY 1, 2, 3",
            args,
        ):
            groups[(vendor, model)]["by_fault"][fault] = n
        for column, out_key in (("latency_ms", "latency_ms"), ("ttft_ms", "ttft_ms")):
            values: dict[tuple[str, str], list[float]] = {}
            null_where = (where + " AND" if where else " WHERE") + f" {column} IS NOT NULL"
            for vendor, model, v in self._db.execute(
                f"SELECT coalesce(vendor, '-'), coalesce(model, '-'), {column} FROM requests{null_where}"
                " ORDER BY 1, 2, 3",
                args,
            ):
                values.setdefault((vendor, model), []).append(v)
            for key, group in groups.items():
                vs = values.get(key, [])
                group[out_key] = {"p50": _pct(vs, 0.50), "p95": _pct(vs, 0.95), "p99": _pct(vs, 0.99)}
        out = [groups[k] for k in sorted(groups)]
        return {"total": sum(g["requests"] for g in out), "groups": out}


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (rolled back on error) on an autocommit connection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")


def _pct(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    i = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return round(sorted_values[i], 3)
