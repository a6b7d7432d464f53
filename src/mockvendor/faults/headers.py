"""The per-request controls: ``x-mockvendor-*`` headers, read in one pass and parsed
into a fault, stream pacing and a latency distribution (a 400 naming a bad header)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import InvalidRequest
from .latency import Latency, parse_latency
from .spec import Fault, parse_fault

FAULT_HEADER = "x-mockvendor-fault"
DELAY_HEADER = "x-mockvendor-delay-ms"
TEST_ID_HEADER = "x-mockvendor-test-id"
RETRY_AFTER_HEADER = "x-mockvendor-retry-after-ms"
SHOULD_RETRY_HEADER = "x-mockvendor-should-retry"
AFTER_CHUNKS_HEADER = "x-mockvendor-fault-after-chunks"
STALL_HEADER = "x-mockvendor-stall-ms"
LATENCY_HEADER = "x-mockvendor-latency"
TTFT_HEADER = "x-mockvendor-ttft-ms"
TOKEN_HEADER = "x-mockvendor-token-ms"


def lab_headers(scope: Mapping[str, Any]) -> dict[str, str]:
    """The request's ``x-mockvendor-*`` headers, in one pass over the raw headers (the
    request's Headers object scans them all for every lookup)."""
    return {
        k.decode("latin-1").lower(): v.decode("latin-1")
        for k, v in scope["headers"]
        if k and k[0] in _X and k[:13].lower() == b"x-mockvendor-"  # most names fail at the first letter
    }


_X = frozenset(b"xX")


Forced = tuple[Fault | None, Latency | None, Latency | None, Latency | None]
_FORCED: dict[tuple[tuple[str, str], ...], Forced] = {}  # the headers' meanings (all frozen), by the headers
_FORCED_MAX = 1024


def forced(headers: Mapping[str, str]) -> Forced:
    """What the request's own headers ask for (:func:`read_forced`), remembered for the same
    headers: a test holding or failing many requests sends the same few every time."""
    key = tuple(headers.items())
    got = _FORCED.get(key)
    if got is None:
        got = read_forced(headers)  # a bad header raises, and is not remembered
        if len(_FORCED) >= _FORCED_MAX:
            _FORCED.clear()
        _FORCED[key] = got
    return got


def read_forced(headers: Mapping[str, str]) -> Forced:
    """What the request's own headers ask for: a fault, TTFT, per-token pacing and latency.

    ``x-mockvendor-fault``: a fault spec (``503``, ``rate-limit``, ``stream-error``, ...);
    ``x-mockvendor-delay-ms``: wait before answering; ``x-mockvendor-retry-after-ms`` and
    ``x-mockvendor-should-retry``: the hints of a forced error;
    ``x-mockvendor-fault-after-chunks``: strike a stream after N chunks (alone: the
    in-band error); ``x-mockvendor-stall-ms``; ``x-mockvendor-latency``: a distribution;
    ``x-mockvendor-ttft-ms`` / ``x-mockvendor-token-ms``: fixed stream pacing.
    """
    if not headers:
        return None, None, None, None
    spec = headers.get(FAULT_HEADER)
    opts: dict[str, Any] = {}
    for header, key, hi in (
        (DELAY_HEADER, "delay_ms", 600_000), (RETRY_AFTER_HEADER, "retry_after_ms", 3_600_000),
        (AFTER_CHUNKS_HEADER, "after_chunks", 1_000_000), (STALL_HEADER, "stall_ms", 3_600_000),
    ):
        v = headers.get(header)
        if v is not None:
            opts[key] = _int(v, header, 0, hi)
    should = headers.get(SHOULD_RETRY_HEADER)
    if should is not None:
        if should.strip().lower() not in ("true", "false"):
            raise InvalidRequest(f"Header {SHOULD_RETRY_HEADER} must be true or false, got {should!r}.")
        opts["should_retry"] = should.strip().lower() == "true"
    ttft, token, lat = (
        _fixed(headers.get(TTFT_HEADER), TTFT_HEADER),
        _fixed(headers.get(TOKEN_HEADER), TOKEN_HEADER),
        parse_latency(headers.get(LATENCY_HEADER, ""), f"Header {LATENCY_HEADER}"),
    )
    if spec is None:
        if "after_chunks" in opts:
            spec = "stream-error"
        elif opts.get("delay_ms"):
            spec = "slow"
        else:
            return None, ttft, token, lat
    return parse_fault(spec, opts, where=f"Header {FAULT_HEADER}"), ttft, token, lat


def _fixed(v: str | None, header: str) -> Latency | None:
    return None if v is None else parse_latency(str(_int(v, header, 0, 600_000)))


def _int(text: str, name: str, lo: int, hi: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise InvalidRequest(f"Header {name} must be an integer, got {text!r}.") from None
    if not lo <= value <= hi:
        raise InvalidRequest(f"Header {name} must be between {lo} and {hi}, got {value}.")
    return value
