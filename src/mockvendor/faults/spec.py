"""The fault vocabulary: what one request may suffer, parsed from a header, a scenario
step or a random draw, always into the same :class:`Fault`.

A fault spec is a short string (``503``, ``error-503``, ``rate-limit``, ``quota``,
``overloaded``, ``slow``, ``stream-error``, ``disconnect``, ``no-terminator``,
``malformed``, ``stall``, the content faults ``refusal``, ``invalid-json``,
``schema-violation``, ``unknown-tool``, ``truncated``, ``empty``, ``repetition``, ``none``)
plus options (retry hint, chunks before a stream
fault, ...). The label of a fault is what ``x-mockvendor-fault`` and the request log say.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ..errors import InvalidRequest, MockVendorError, QuotaExceeded, RateLimited, error_for_status

# Faults that only make sense once a stream has begun; on a non-streaming request
# they degrade to their nearest equivalent (see stream.py).
STREAM_KINDS = frozenset({"stream-error", "disconnect", "no-terminator", "malformed", "stall"})
# The model misbehaving rather than the transport: a well-formed answer (streamed or not)
# whose content is what applications must survive (faults/content.py makes it).
CONTENT_KINDS = frozenset({"refusal", "invalid-json", "schema-violation", "unknown-tool", "truncated", "empty",
                           "repetition"})
KINDS = frozenset({"none", "error", "rate-limit", "quota", "slow"}) | STREAM_KINDS | CONTENT_KINDS

DEFAULT_STREAM_ERROR_STATUS = 529  # the in-band error real streams carry most: overloaded
DEFAULT_RETRY_AFTER_MS = 1000
DEFAULT_SLOW_MS = 3000
DEFAULT_STALL_MS = 600_000

QUOTA_MESSAGE = (
    "Simulated quota exhaustion: you exceeded your current quota, please check your plan "
    "and billing details."
)


@dataclass(slots=True, frozen=True)
class Fault:
    """A decided fault.

    ``kind`` is one of :data:`KINDS`; ``status`` the HTTP status of an error (and of the
    in-band error of ``stream-error``); ``after_chunks`` how many text chunks a stream
    sends before a stream fault strikes; ``delay_ms`` a wait before answering.
    """

    kind: str
    label: str
    status: int | None = None
    delay_ms: int = 0
    retry_after_ms: int | None = None
    should_retry: bool | None = None
    after_chunks: int = 0
    stall_ms: int = DEFAULT_STALL_MS

    @property
    def is_error(self) -> bool:
        """True if the request is answered with an error status instead of an answer."""
        return self.kind in ("error", "rate-limit", "quota")

    def error(self) -> MockVendorError | None:
        """The error to answer with, or None if the request goes on (maybe after a delay)."""
        hints: dict[str, Any] = {"fault": self.label, "retry_after_ms": self.retry_after_ms}
        if self.should_retry is not None:
            hints["should_retry"] = self.should_retry
        if self.kind == "rate-limit":
            return RateLimited("Simulated rate limit: too many requests, please retry later.", **hints)
        if self.kind == "quota":
            hints["should_retry"] = False if self.should_retry is None else self.should_retry
            return QuotaExceeded(QUOTA_MESSAGE, **hints)
        if self.kind in ("error", "stream-error") and self.status is not None:
            return error_for_status(self.status, **hints)
        return None


NONE = Fault("none", "none")


def parse_fault(spec: str, opts: Mapping[str, Any] | None = None, *, where: str = "fault") -> Fault:
    """A Fault from a spec string and options; a 400 naming ``where`` if it is invalid.

    Options: ``retry_after_ms``, ``should_retry``, ``after_chunks``, ``delay_ms``,
    ``stall_ms``, ``status`` (the in-band error of ``stream-error``).
    """
    o = dict(opts or {})
    name = spec.strip().lower().replace("_", "-")
    retry = _opt_int(o, "retry_after_ms", 0, 3_600_000, where)
    should = o.get("should_retry")
    if should is not None and not isinstance(should, bool):
        raise InvalidRequest(f"{where}: should_retry must be true or false, got {should!r}.")
    after = _opt_int(o, "after_chunks", 0, 1_000_000, where) or 0
    delay = _opt_int(o, "delay_ms", 0, 600_000, where) or 0
    stall = _opt_int(o, "stall_ms", 0, 3_600_000, where)
    status = _opt_int(o, "status", 400, 599, where)
    common = {"retry_after_ms": retry, "should_retry": should, "delay_ms": delay}
    if name in ("none", "ok", "off", "pass"):
        return NONE if not delay else Fault("slow", "slow", delay_ms=delay)
    if name == "slow":
        return Fault("slow", "slow", delay_ms=delay or DEFAULT_SLOW_MS)
    if name in ("rate-limit", "ratelimit", "429"):
        common["retry_after_ms"] = _or(retry, DEFAULT_RETRY_AFTER_MS)
        return Fault("rate-limit", "rate-limit", 429, **common)
    if name in ("quota", "insufficient-quota"):
        return Fault("quota", "quota", 429, **common)
    if name == "overloaded":
        name = "529"
    if name == "stream-error" or name.startswith("stream-error-"):
        code = name.removeprefix("stream-error").lstrip("-")
        st = _status(code, where) if code else (status or DEFAULT_STREAM_ERROR_STATUS)
        return Fault("stream-error", f"stream-error-{st}", st, after_chunks=after, **common)
    if name in ("disconnect", "no-terminator", "malformed"):
        return Fault(name, name, after_chunks=after, **common)
    if name in CONTENT_KINDS:
        return Fault(name, name, **common)
    if name == "stall":
        return Fault("stall", "stall", after_chunks=after, stall_ms=_or(stall, DEFAULT_STALL_MS), **common)
    st = _status(name.removeprefix("error-"), where)
    if "after_chunks" in o and o["after_chunks"] is not None:
        # An error status with a chunk count is that error in-band, mid-stream.
        return Fault("stream-error", f"stream-error-{st}", st, after_chunks=after, **common)
    return Fault("error", f"error-{st}", st, **common)


def for_request(fault: Fault, stream: bool) -> Fault:
    """The fault as it applies to a streaming or non-streaming request.

    A stream error on a non-streaming request is simply that error; a stall waits
    before answering. ``no-terminator`` has nothing to cut without a stream.
    """
    if stream or fault.kind not in STREAM_KINDS:
        return fault
    if fault.kind == "stream-error":
        return replace(fault, kind="error", label=f"error-{fault.status}")
    if fault.kind == "no-terminator":
        return NONE if not fault.delay_ms else Fault("slow", "slow", delay_ms=fault.delay_ms)
    return fault


def _or(v: int | None, default: int) -> int:
    return default if v is None else v


def _status(text: str, where: str) -> int:
    valid = (
        "a status 400-599, error-<status>, rate-limit, quota, overloaded, slow, stream-error, "
        "disconnect, no-terminator, malformed, stall, refusal, invalid-json, schema-violation, unknown-tool, "
        "truncated, empty, repetition or none"
    )
    try:
        st = int(text)
    except ValueError:
        raise InvalidRequest(f"{where}: unknown fault {text!r}; use {valid}.") from None
    if not 400 <= st <= 599:
        raise InvalidRequest(f"{where}: status must be between 400 and 599, got {st}.")
    return st


def _opt_int(o: Mapping[str, Any], key: str, lo: int, hi: int, where: str) -> int | None:
    v = o.get(key)
    if v is None:
        return None
    if isinstance(v, str) and v.strip().lstrip("-").isdigit():
        v = int(v)
    if isinstance(v, bool) or not isinstance(v, int):
        raise InvalidRequest(f"{where}: {key} must be an integer, got {v!r}.")
    if not lo <= v <= hi:
        raise InvalidRequest(f"{where}: {key} must be between {lo} and {hi}, got {v}.")
    return v
