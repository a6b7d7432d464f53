"""Retry telemetry: did the client retry what it should, when it was told to?

Every vendor request is an attempt of some caller (its test id, else its API key's
fingerprint, else its address). An attempt is a retry of the caller's previous one when
that one failed and this one is the same request again: same body, or the client says
so with ``x-stainless-retry-count`` (the OpenAI and Anthropic SDKs send it; a count of 0
means a new request). For each retry we keep the hint the failed response gave
(``retry-after-ms``, else ``retry-after``), the time the client actually waited (from
the failed response to the retry's arrival, on the app's clock) and what it did wrong:

- ``too-early``: it waited less than the hint;
- ``not-retryable``: it retried an answer that must not be retried (``x-should-retry:
  false``, quota exhausted, a 4xx other than 408/409/429);
- ``over-budget``: more retries than ``retry_budget`` (the SDKs' default is 2).

State lives in the state store (per caller: the last outcome, swapped atomically, and a
bounded list of attempts), so replicas sharing Redis see one client.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from .store import StateStore

MAX_ATTEMPTS = 1000  # kept per caller
FAILED, SUCCEEDED = b"F", b"S"  # the first byte of a caller's last outcome


def caller_of(test_id: str | None, key_fingerprint: str | None, host: str | None) -> str:
    if test_id:
        return "test:" + test_id
    if key_fingerprint:
        return "key:" + key_fingerprint
    return "ip:" + (host or "unknown")


def hint_ms(headers: Mapping[str, str]) -> float | None:
    """The wait a response asked for, read the way the SDKs read it (ms header first)."""
    for name, scale in (("retry-after-ms", 1.0), ("retry-after", 1000.0)):
        v = headers.get(name)
        if v is not None:
            try:
                ms = float(v) * scale
            except ValueError:
                continue
            if math.isfinite(ms) and ms >= 0:
                return ms
    return None


def retryable(status: int, headers: Mapping[str, str]) -> tuple[bool, str]:
    """Whether a client may retry this answer, and why (the SDKs' rule)."""
    say = headers.get("x-should-retry")
    if say == "true":
        return True, "x-should-retry: true"
    if say == "false":
        return False, "x-should-retry: false"
    if status in (408, 409, 429) or status >= 500:
        return True, f"status {status}"
    return False, f"status {status}"


class RetryTelemetry:
    """Records attempts and judges retries; see the module docstring."""

    def __init__(self, store: StateStore, budget: int = 2) -> None:
        self.store = store
        self.budget = budget

    async def observe(
        self, *, caller: str, request_id: str, arrival: float, end: float, vendor: str | None, route: str,
        status: int, fault: str | None, headers: Mapping[str, str], body_hash: str | Callable[[], str] | None,
        retry_count: int | None,
    ) -> dict[str, Any]:
        """Record one finished attempt (at the moment its response starts) and judge it.
        ``body_hash`` may be a function giving it: it is then called only when it matters (this
        attempt failed, or the one before it did)."""
        failed = status >= 400
        if failed:
            if callable(body_hash):
                body_hash = body_hash()
            ok, why = retryable(status, headers)
            hint = hint_ms(headers)
            last: dict[str, Any] = {"id": request_id, "end": end, "status": status, "retryable": ok, "why": why,
                                    "hint_ms": hint, "body": body_hash, "attempt": 1}
            raw = FAILED + orjson.dumps(last)
        else:
            hint, raw = None, SUCCEEDED  # nothing can be a retry of a success: no details needed
        prev_raw = await self.store.swap("ret:last:" + caller, raw)
        prev = orjson.loads(prev_raw[1:]) if prev_raw and prev_raw[:1] == FAILED else None
        if prev is not None and callable(body_hash):
            body_hash = body_hash()
        attempt = self._judge(prev, request_id, arrival, vendor, route, status, fault, hint,
                              body_hash if not callable(body_hash) else None, retry_count)
        if failed and attempt["attempt"] > 1:
            # Carry the count over so the next retry knows how many came before (unless a
            # newer attempt of this caller already replaced it: then there is no chain).
            fixed = FAILED + orjson.dumps({**last, "attempt": attempt["attempt"]})
            await self.store.set_if("ret:last:" + caller, raw, fixed)
        await self.store.append("ret:log:" + caller, orjson.dumps(attempt), MAX_ATTEMPTS)
        return attempt

    def _judge(
        self, prev: dict[str, Any] | None, request_id: str, arrival: float, vendor: str | None, route: str,
        status: int, fault: str | None, hint: float | None, body_hash: str | None, retry_count: int | None,
    ) -> dict[str, Any]:
        attempt: dict[str, Any] = {
            "id": request_id, "time": arrival, "vendor": vendor, "route": route, "status": status,
            "fault": fault, "attempt": 1, "retry_of": None, "hint_given_ms": hint,
        }
        is_retry = prev is not None and (
            retry_count > 0 if retry_count is not None else body_hash == prev["body"]
        )
        if not is_retry:
            return attempt
        assert prev is not None
        n = prev["attempt"] + 1
        waited = round((arrival - prev["end"]) * 1000, 3)
        violations = []
        if prev["hint_ms"] is not None and waited < prev["hint_ms"]:
            violations.append("too-early")
        if not prev["retryable"]:
            violations.append("not-retryable")
        if n - 1 > self.budget:
            violations.append("over-budget")
        attempt.update(
            attempt=n, retry_of=prev["id"], waited_ms=waited, hint_ms=prev["hint_ms"],
            retried_status=prev["status"], retryable=prev["retryable"], retryable_because=prev["why"],
            honoured=prev["retryable"] and (prev["hint_ms"] is None or waited >= prev["hint_ms"]),
            violations=violations,
        )
        return attempt

    async def report(self, caller: str | None = None) -> dict[str, Any]:
        """Attempts and a summary per caller (one caller, or all of them)."""
        callers = [caller] if caller else sorted(k.removeprefix("ret:log:") for k in await self.store.keys("ret:log:"))
        out: dict[str, Any] = {}
        for c in callers:
            attempts = sorted((orjson.loads(a) for a in await self.store.read_list("ret:log:" + c)),
                              key=lambda a: a["time"])
            if attempts or caller:
                out[c] = {"summary": summarize(attempts), "attempts": attempts}
        return {"callers": out, "retry_budget": self.budget}

    async def reset(self) -> None:
        await self.store.clear("ret:")


def summarize(attempts: list[dict[str, Any]]) -> dict[str, Any]:
    retries = [a for a in attempts if a.get("retry_of")]

    def count(v: str) -> int:
        return sum(1 for a in retries if v in a["violations"])

    return {
        "attempts": len(attempts),
        "requests": len(attempts) - len(retries),
        "retries": len(retries),
        "honoured": sum(1 for a in retries if a["honoured"]),
        "too_early": count("too-early"),
        "retried_not_retryable": count("not-retryable"),
        "over_budget": count("over-budget"),
        "max_attempt": max((a["attempt"] for a in attempts), default=0),
    }
