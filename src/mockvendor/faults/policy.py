"""The fault policy: one decision per request, reproducible from a seed.

Decisions come from a ``random.Random`` per (test id, vendor) stream, seeded from the
global seed, so the same seed and the same sequence of requests on a stream give the
same faults, whatever happens on other streams. Each decision draws the same number of
random numbers whatever it decides, so one changed rate does not shift later draws.
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import MockVendorError, RateLimited, error_for_status
from ..settings import FaultConfig, Settings

FAULT_HEADER = "x-mockvendor-fault"
DELAY_HEADER = "x-mockvendor-delay-ms"
TEST_ID_HEADER = "x-mockvendor-test-id"


@dataclass(slots=True, frozen=True)
class Fault:
    """A decided fault. ``kind`` is ``error``, ``slow`` or ``rate-limit``."""

    kind: str
    label: str
    status: int | None = None
    delay_ms: int = 0
    retry_after_ms: int | None = None

    def error(self) -> MockVendorError | None:
        """The error to answer with, or None if the request goes on (maybe after a delay)."""
        if self.kind == "rate-limit":
            return RateLimited(
                "Simulated rate limit: too many requests, please retry later.",
                fault=self.label,
                retry_after_ms=self.retry_after_ms,
            )
        if self.kind == "error" and self.status is not None:
            return error_for_status(self.status, fault=self.label)
        return None


class FaultPolicy:
    """Decides each request's fault from per-vendor rates and per-request headers."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.seed = settings.seed if settings.seed is not None else int.from_bytes(os.urandom(8))
        self._streams: dict[tuple[str, str], random.Random] = {}

    def reset(self) -> None:
        """Start every stream again from the seed."""
        self._streams.clear()

    def _rng(self, vendor: str, test_id: str) -> random.Random:
        key = (test_id, vendor)
        rng = self._streams.get(key)
        if rng is None:
            # String seeds hash with SHA-512: stable across runs and processes.
            rng = self._streams[key] = random.Random(f"{self.seed}:{test_id}:{vendor}")
        return rng

    def decide(self, vendor: str, headers: Mapping[str, str] | None = None) -> Fault | None:
        """The fault for the next request to ``vendor`` (None: answer normally)."""
        test_id = ""
        if headers is not None:
            test_id = headers.get(TEST_ID_HEADER, "")
            if self.settings.allow_fault_headers:
                forced = forced_fault(headers)
                if forced is not None:
                    return forced if forced.kind != "none" else None
        if not self.settings.faults_enabled:
            return None
        cfg = self.settings.faults.get(vendor)
        if cfg is None:
            return None
        return draw(cfg, self._rng(vendor, test_id))


def draw(cfg: FaultConfig, rng: random.Random) -> Fault | None:
    """One random decision: three draws, always, whatever the outcome."""
    u, v, w = rng.random(), rng.random(), rng.random()
    edge = cfg.error_rate
    if u < edge:
        return Fault("error", f"error-{cfg.error_status}", status=cfg.error_status)
    edge += cfg.rate_limit_rate
    if u < edge:
        ms = round(cfg.retry_after_min_ms + v * (cfg.retry_after_max_ms - cfg.retry_after_min_ms))
        return Fault("rate-limit", "rate-limit", status=429, retry_after_ms=ms)
    edge += cfg.slow_rate
    if u < edge:
        ms = round(cfg.slow_min_ms + w * (cfg.slow_max_ms - cfg.slow_min_ms))
        return Fault("slow", "slow", delay_ms=ms)
    return None


def forced_fault(headers: Mapping[str, str]) -> Fault | None:
    """A fault asked for by the request's own headers, if any.

    ``x-mockvendor-fault``: a status (``503``), ``error-503``, ``rate-limit``, ``slow``
    or ``none``; ``x-mockvendor-delay-ms``: a delay before answering.
    """
    spec = headers.get(FAULT_HEADER)
    delay = headers.get(DELAY_HEADER)
    delay_ms = _int(delay, DELAY_HEADER, 0, 600_000) if delay else 0
    if spec is None:
        return Fault("slow", "slow", delay_ms=delay_ms) if delay_ms else None
    spec = spec.strip().lower()
    if spec in {"none", "off", "ok"}:
        return Fault("none", "none")
    if spec == "slow":
        return Fault("slow", "slow", delay_ms=delay_ms or 3000)
    if spec in {"rate-limit", "rate_limit", "429"}:
        retry = headers.get("x-mockvendor-retry-after-ms")
        ms = _int(retry, "x-mockvendor-retry-after-ms", 0, 3_600_000) if retry else 1000
        return Fault("rate-limit", "rate-limit", status=429, retry_after_ms=ms, delay_ms=delay_ms)
    status_text = spec.removeprefix("error-")
    status = _int(status_text, FAULT_HEADER, 400, 599)
    return Fault("error", f"error-{status}", status=status, delay_ms=delay_ms)


def _int(text: str, name: str, lo: int, hi: int) -> int:
    from ..errors import InvalidRequest

    try:
        value = int(text)
    except ValueError:
        raise InvalidRequest(f"Header {name} must be an integer, got {text!r}.") from None
    if not lo <= value <= hi:
        raise InvalidRequest(f"Header {name} must be between {lo} and {hi}, got {value}.")
    return value
