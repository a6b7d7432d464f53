"""Structured logs (``MOCKVENDOR_LOG_FORMAT=json``): one JSON line per request.

Written by the log writer thread in batches, never on the request path. Bodies are left
out and the key appears only as its fingerprint.
"""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from .record import Record

LOG_FORMATS = ("text", "json")


def json_line(rec: Record) -> str:
    """The log line for one request, newline included."""
    return orjson.dumps(
        {
            "ts": datetime.fromtimestamp(rec.time, UTC).isoformat(timespec="milliseconds"),
            "level": "info",
            "msg": "request",
            "id": rec.id,
            "method": rec.method,
            "route": rec.route,
            "vendor": rec.vendor,
            "model": rec.model,
            "status": rec.status,
            "fault": rec.fault,
            "stream": rec.stream,
            "tokens_in": rec.tokens_in,
            "tokens_out": rec.tokens_out,
            "latency_ms": rec.latency_ms,
            "ttft_ms": rec.ttft_ms,
            "test_id": rec.test_id,
            "key_fingerprint": rec.key_fingerprint,
            "retry_count": rec.retry_count,
            "error": rec.error,
            "rule": rec.rule,
        }
    ).decode() + "\n"
