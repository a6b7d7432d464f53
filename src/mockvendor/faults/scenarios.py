"""Scenarios: an ordered script of faults and a timeline, bound to a test id or a route.

A scenario is installed by name through ``/admin/scenarios/{name}``::

    {"test_id": "checkout-retry",            # binding (default: the name is the test id)
     "route": "/v1/chat/completions",         # optional: only this route (alone: every caller)
     "vendor": "openai",                      # optional: only this vendor
     "steps": ["503", {"fault": "rate-limit", "retry_after_ms": 200}, "ok"],
     "then": "pass",                          # after the last step: pass | repeat | loop
     "timeline": [{"from_s": 10, "to_s": 40, "fault": "503"},
                  {"from_s": 40, "to_s": 100, "ramp_ms": [0, 3000]}]}

Each request the scenario matches takes the next step; the position is one atomic
counter in the state store, so replicas sharing Redis play one script. A step may
repeat (``"times": 2``). Timeline phases are windows of seconds since the scenario was
installed (or reset), read from the injected clock; a phase may hold a fault (applied
with probability ``rate``), a latency distribution, or a linear delay ramp.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidRequest
from ..ids import random_hex
from .latency import Latency, parse_latency
from .spec import NONE, Fault, parse_fault

THEN = ("pass", "repeat", "loop")
STEP_FIELDS = {"fault", "times", "retry_after_ms", "should_retry", "after_chunks", "delay_ms", "stall_ms",
               "status", "latency"}
PHASE_FIELDS = STEP_FIELDS - {"times"} | {"from_s", "to_s", "rate", "ramp_ms"}
MAX_STEPS = 10_000


@dataclass(slots=True, frozen=True)
class Step:
    fault: Fault
    latency: Latency | None = None


@dataclass(slots=True, frozen=True)
class Phase:
    """One timeline window [from_s, to_s) (to_s None: for ever)."""

    from_s: float
    to_s: float | None
    fault: Fault | None
    rate: float = 1.0
    latency: Latency | None = None
    ramp_ms: tuple[float, float] | None = None

    def delay_ms(self, elapsed: float, u1: float, u2: float) -> float:
        ms = self.latency.sample(u1, u2) if self.latency else 0.0
        if self.ramp_ms is not None:
            lo, hi = self.ramp_ms
            span = (self.to_s - self.from_s) if self.to_s is not None else 0.0
            frac = min(1.0, (elapsed - self.from_s) / span) if span > 0 else 1.0
            ms += lo + (hi - lo) * frac
        return ms


@dataclass(slots=True)
class Scenario:
    """A parsed scenario; ``spec`` is what the user sent (returned as is by the API)."""

    name: str
    spec: dict[str, Any]
    test_id: str | None
    route: str | None
    vendor: str | None
    steps: list[Step]
    then: str
    timeline: list[Phase]
    gen: str = field(default_factory=lambda: random_hex(6))
    t0: float = 0.0

    def matches(self, test_id: str, vendor: str, route: str) -> bool:
        if self.test_id is not None and self.test_id != test_id:
            return False
        if self.route is not None and self.route != route:
            return False
        return self.vendor is None or self.vendor == vendor

    def counter_key(self) -> str:
        """The store counter holding this scenario's position (new per install or reset)."""
        return f"scn:{self.name}:{self.gen}"

    def step_at(self, n: int) -> Step | None:
        """The step for the n-th matching request (1-based); None once the script is over."""
        if not self.steps:
            return None
        i = n - 1
        if i >= len(self.steps):
            if self.then == "pass":
                return None
            i = len(self.steps) - 1 if self.then == "repeat" else i % len(self.steps)
        return self.steps[i]

    def phase_at(self, now: float) -> tuple[Phase, float] | None:
        """The timeline phase at ``now`` and the seconds elapsed since t0."""
        elapsed = now - self.t0
        for ph in self.timeline:
            if ph.from_s <= elapsed and (ph.to_s is None or elapsed < ph.to_s):
                return ph, elapsed
        return None

    def to_json(self, position: int | None = None) -> dict[str, Any]:
        out = {
            "name": self.name, **self.spec, "test_id": self.test_id, "route": self.route, "vendor": self.vendor,
            "then": self.then, "installed_at": self.t0,
        }
        if position is not None:
            out["position"] = position
            out["steps_total"] = len(self.steps)
        return out


def parse_scenario(name: str, spec: Any, *, gen: str | None = None, t0: float = 0.0) -> Scenario:
    """Validate a scenario document; a 400 naming the bad field."""
    if not name or len(name) > 200 or any(c in name for c in "/ \t\n"):
        raise InvalidRequest("A scenario name must be 1-200 characters without spaces or '/'.")
    if not isinstance(spec, dict):
        raise InvalidRequest("A scenario must be a JSON object with steps and/or a timeline.")
    unknown = set(spec) - {"test_id", "route", "vendor", "steps", "then", "timeline"}
    if unknown:
        raise InvalidRequest(
            f"Unknown scenario field(s) {sorted(unknown)}; valid: test_id, route, vendor, steps, then, timeline."
        )
    test_id = _opt_str(spec, "test_id")
    route = _opt_str(spec, "route")
    if route is not None and not route.startswith("/"):
        raise InvalidRequest(f"route must be a path starting with '/', got {route!r}.")
    vendor = _opt_str(spec, "vendor")
    if test_id is None and route is None:
        test_id = name  # the common case: a scenario per test, named after its test id
    then = spec.get("then", "pass")
    if then not in THEN:
        raise InvalidRequest(f"then must be one of {', '.join(THEN)}, got {then!r}.")
    raw_steps = spec.get("steps", [])
    if not isinstance(raw_steps, list):
        raise InvalidRequest("steps must be a list of faults, e.g. [\"503\", \"503\", \"ok\"].")
    steps: list[Step] = []
    for i, raw in enumerate(raw_steps):
        step, times = _step(raw, f"steps[{i}]")
        steps.extend([step] * times)
        if len(steps) > MAX_STEPS:
            raise InvalidRequest(f"A scenario may hold at most {MAX_STEPS} steps.")
    raw_tl = spec.get("timeline", [])
    if not isinstance(raw_tl, list):
        raise InvalidRequest("timeline must be a list of phases with from_s and to_s.")
    timeline = [_phase(raw, f"timeline[{i}]") for i, raw in enumerate(raw_tl)]
    if not steps and not timeline:
        raise InvalidRequest("A scenario needs steps or a timeline (or both).")
    kw: dict[str, Any] = {"t0": t0}
    if gen is not None:
        kw["gen"] = gen
    return Scenario(name, spec, test_id, route, vendor, steps, then, timeline, **kw)


def _step(raw: Any, where: str) -> tuple[Step, int]:
    if isinstance(raw, str | int) and not isinstance(raw, bool):
        return Step(parse_fault(str(raw), where=where)), 1
    if not isinstance(raw, dict):
        raise InvalidRequest(f"{where} must be a fault string or an object with a fault.")
    unknown = set(raw) - STEP_FIELDS
    if unknown:
        raise InvalidRequest(f"{where}: unknown field(s) {sorted(unknown)}; valid: {', '.join(sorted(STEP_FIELDS))}.")
    times = raw.get("times", 1)
    if isinstance(times, bool) or not isinstance(times, int) or not 1 <= times <= MAX_STEPS:
        raise InvalidRequest(f"{where}.times must be an integer from 1 to {MAX_STEPS}, got {times!r}.")
    fault = _fault(raw, where)
    return Step(fault or NONE, _latency(raw, where)), times


def _phase(raw: Any, where: str) -> Phase:
    if not isinstance(raw, dict):
        raise InvalidRequest(f"{where} must be an object with from_s, to_s and a fault, latency or ramp_ms.")
    unknown = set(raw) - PHASE_FIELDS
    if unknown:
        raise InvalidRequest(f"{where}: unknown field(s) {sorted(unknown)}; valid: {', '.join(sorted(PHASE_FIELDS))}.")
    lo = _num(raw.get("from_s", 0), f"{where}.from_s")
    hi = raw.get("to_s")
    if hi is not None:
        hi = _num(hi, f"{where}.to_s")
        if hi <= lo:
            raise InvalidRequest(f"{where}: to_s must be after from_s.")
    rate = _num(raw.get("rate", 1.0), f"{where}.rate")
    if rate > 1:
        raise InvalidRequest(f"{where}.rate is a probability between 0 and 1, got {rate}.")
    ramp = raw.get("ramp_ms")
    if ramp is not None:
        if not (isinstance(ramp, list) and len(ramp) == 2):
            raise InvalidRequest(f"{where}.ramp_ms must be [from_ms, to_ms].")
        ramp = (_num(ramp[0], f"{where}.ramp_ms"), _num(ramp[1], f"{where}.ramp_ms"))
    return Phase(lo, hi, _fault(raw, where), rate, _latency(raw, where), ramp)


def _fault(raw: dict[str, Any], where: str) -> Fault | None:
    opts = {k: v for k, v in raw.items() if k in ("retry_after_ms", "should_retry", "after_chunks", "delay_ms",
                                                  "stall_ms", "status")}
    spec = raw.get("fault")
    if spec is None:
        return parse_fault("none", opts, where=where) if opts.get("delay_ms") else None
    if not isinstance(spec, str | int) or isinstance(spec, bool):
        raise InvalidRequest(f"{where}.fault must be a string such as \"503\" or \"rate-limit\".")
    return parse_fault(str(spec), opts, where=f"{where}.fault")


def _latency(raw: dict[str, Any], where: str) -> Latency | None:
    spec = raw.get("latency")
    if spec is None:
        return None
    if not isinstance(spec, str):
        raise InvalidRequest(f"{where}.latency must be a string such as \"uniform:100,300\".")
    return parse_latency(spec, f"{where}.latency")


def _num(v: Any, where: str) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
        raise InvalidRequest(f"{where} must be a non-negative number, got {v!r}.")
    return float(v)


def _opt_str(spec: dict[str, Any], key: str) -> str | None:
    v = spec.get(key)
    if v is None:
        return None
    if not isinstance(v, str) or not v:
        raise InvalidRequest(f"{key} must be a non-empty string, got {v!r}.")
    return v
