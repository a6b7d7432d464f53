"""Rate limiting that really counts: token buckets for requests and tokens per minute.

One pair of buckets per (vendor, caller). The caller is, by ``rate_limit_by``: ``key``
(the API key's fingerprint, else the client address), ``client`` (the address),
``test-id`` (the test id, else the key) or ``global`` (everyone shares one). A bucket
holds ``limit`` and refills ``limit / 60`` per second; a request costs one request and
its prompt tokens plus the most it may generate (``max_tokens``), as OpenAI estimates.

Vendors turn the :class:`RateLimitState` into their own headers
(``BaseVendor.ratelimit_headers``), on every response, not only on 429s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from ..errors import RateLimited
from ..settings import FaultConfig
from .store import StateStore

BY = ("key", "client", "test-id", "global")


@dataclass(slots=True, frozen=True)
class Bucket:
    """One limit as a client sees it: the limit, what is left, seconds until full again."""

    limit: int
    remaining: int
    reset_s: float


@dataclass(slots=True, frozen=True)
class RateLimitState:
    """Both buckets after this request (None: that limit is off); ``now`` is the clock's time."""

    requests: Bucket | None
    tokens: Bucket | None
    now: float


def caller(by: str, key_fingerprint: str | None, client_host: str | None, test_id: str | None) -> str:
    """Whose bucket a request draws from."""
    if by == "global":
        return "*"
    if by == "test-id" and test_id:
        return "test:" + test_id
    if by in ("key", "test-id") and key_fingerprint:
        return key_fingerprint
    return "ip:" + (client_host or "unknown")


async def take(
    store: StateStore, now: float, vendor: str, who: str, fc: FaultConfig, tokens: int
) -> tuple[RateLimitState, RateLimited | None]:
    """Take one request and ``tokens`` from the caller's buckets; the 429 if they are empty."""
    rpm, tpm = fc.rate_limit_rpm, fc.rate_limit_tpm
    limits = ((float(rpm), rpm / 60.0, 1.0), (float(tpm), tpm / 60.0, float(tokens)))
    t = await store.take(f"rl:{vendor}:{who}", now, limits)
    state = RateLimitState(
        Bucket(rpm, math.floor(t.remaining[0] + 1e-9), t.reset_s[0]) if rpm else None,
        Bucket(tpm, math.floor(t.remaining[1] + 1e-9), t.reset_s[1]) if tpm else None,
        now,
    )
    if t.allowed:
        return state, None
    if rpm and t.remaining[0] < 1.0:
        used = rpm - state.requests.remaining  # type: ignore[union-attr]
        what, label, limit, requested = "requests per min (RPM)", "rate-limit-rpm", rpm, 1
    else:
        used = tpm - state.tokens.remaining  # type: ignore[union-attr]
        what, label, limit, requested = "tokens per min (TPM)", "rate-limit-tpm", tpm, tokens
    if t.wait_s < 0:
        return state, RateLimited(
            f"Request too large on {what}: Limit {limit}, Requested {requested}. "
            "The input or max_tokens must be reduced to fit; retrying will not help.",
            fault=label,
            should_retry=False,
        )
    wait_ms = max(1, math.ceil(t.wait_s * 1000))
    return state, RateLimited(
        f"Rate limit reached on {what}: Limit {limit}, Used {used}, Requested {requested}. "
        f"Please try again in {go_duration(wait_ms / 1000)}.",
        fault=label,
        retry_after_ms=wait_ms,
    )


def go_duration(seconds: float) -> str:
    """A duration the way OpenAI's reset headers write it (Go style): ``12ms``, ``1.5s``, ``6m0s``."""
    ms = max(0, math.ceil(seconds * 1000))
    if ms < 1000:
        return f"{ms}ms"
    s = ms / 1000
    if s < 60:
        return f"{s:.3f}".rstrip("0").rstrip(".") + "s"
    m, rest = divmod(s, 60)
    if m < 60:
        return f"{int(m)}m" + (f"{rest:.3f}".rstrip("0").rstrip(".") or "0") + "s"
    h, m = divmod(int(m), 60)
    return f"{h}h{m}m" + (f"{rest:.3f}".rstrip("0").rstrip(".") or "0") + "s"


def reset_at(now: float, reset_s: float) -> str:
    """When a bucket is full again, as RFC 3339 in whole seconds rounded up (the way
    Anthropic's ``anthropic-ratelimit-*-reset`` headers say it)."""
    moment = datetime.fromtimestamp(math.ceil(now + reset_s - 1e-9), UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
