"""The record of one request, filled in along the request path."""

from __future__ import annotations

import os
import random
import time
from dataclasses import asdict, dataclass, field
from typing import Any


def new_request_id() -> str:
    """``req_`` and 32 hex digits, as OpenAI and Anthropic both format theirs.

    The first 12 digits are the time in milliseconds and the other 20 random: ids still
    never repeat, and they sort by time, which keeps the request log's id index cheap to
    append to (random keys scatter every insert across the index). The random digits come
    from a generator seeded once from the OS (reading the OS's for every request costs
    about 10 us on some virtual machines); ids need to be unique, not secret.
    """
    return f"req_{int(time.time() * 1000):012x}{_bits(80):020x}"


# Reseeded in each process (a worker forked from another must not repeat its ids).
_rng = random.Random(os.urandom(16))
_bits = _rng.getrandbits
os.register_at_fork(after_in_child=lambda: _rng.seed(os.urandom(16)))


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
