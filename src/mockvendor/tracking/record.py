"""The record of one request, filled in along the request path."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from ..ids import random_bits


def new_request_id() -> str:
    """``req_`` and 32 hex digits, as OpenAI and Anthropic both format theirs.

    The first 12 digits are the time in milliseconds and the other 20 random: ids still
    never repeat, and they sort by time, which keeps the request log's id index cheap to
    append to (random keys scatter every insert across the index). Random digits from
    :mod:`mockvendor.ids`.
    """
    return "req_" + ((int(time.time() * 1000) << 80) | random_bits(80)).to_bytes(16, "big").hex()


def ms3(seconds: float) -> float:
    """Milliseconds to the microsecond (``round(seconds * 1000, 3)``, without its exact
    decimal rounding, which costs a float-to-text conversion each time)."""
    return round(seconds * 1_000_000) / 1000


@dataclass(slots=True)
class Record:
    """What the request log keeps of one request. Never holds an API key."""

    id: str = field(default_factory=new_request_id)
    time: float = field(default_factory=time.time)
    method: str = ""
    route: str = ""
    vendor: str | None = None
    model: str | None = None
    key_fingerprint: str | None = None
    test_id: str | None = None
    status: int = 0
    fault: str | None = None
    stream: bool = False
    tokens_in: int = 0
    tokens_out: int = 0
    latency_ms: float = 0.0
    ttft_ms: float | None = None
    retry_count: int | None = None
    retry: dict[str, Any] | None = None  # set by the fault lab's retry telemetry for retries
    error: str | None = None
    rule: str | None = None  # the rule (or recording) that answered
    request_body: Any = None
    response_body: Any = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
