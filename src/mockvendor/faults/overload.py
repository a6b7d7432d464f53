"""Overload that depends on load: past ``overload_threshold`` requests in flight in this
process, every further request in flight adds ``overload_error_step`` to the chance of
an overload error (``overload_status``: 503, or 529 for Anthropic; capped at
``overload_max_error_rate``) and ``overload_latency_ms`` of delay, the way a real
deployment degrades. In flight means between the fault decision and the end of the
response (a stream counts until its last byte)."""

from __future__ import annotations

from ..settings import FaultConfig


def excess(fc: FaultConfig, inflight: int) -> int:
    """Requests in flight beyond the threshold (0: not overloaded, or overload off)."""
    if fc.overload_threshold <= 0:
        return 0
    return max(0, inflight - fc.overload_threshold)


def error_rate(fc: FaultConfig, over: int) -> float:
    """The chance of an overload error with ``over`` requests past the threshold."""
    return min(fc.overload_max_error_rate, over * fc.overload_error_step)


def latency_ms(fc: FaultConfig, over: int) -> float:
    return float(over * fc.overload_latency_ms)
