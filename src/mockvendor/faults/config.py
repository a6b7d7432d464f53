"""The runtime fault configuration: per-vendor knobs, per-route overrides, on/off.

It starts from the Settings (environment, config file) and is replaced or patched
through ``/admin/faults``. It travels as a JSON document through the state store, so
replicas sharing Redis share it; every replica validates it the same way.
"""

from __future__ import annotations

from dataclasses import asdict, fields, replace
from typing import Any

import orjson

from ..errors import InvalidRequest
from ..settings import FAULT_KNOBS, FaultConfig, Settings
from .latency import Latency, parse_latency
from .spec import parse_fault

LATENCY_KNOBS = ("latency", "ttft", "token_latency")
RATE_KNOBS = (
    "error_rate", "slow_rate", "rate_limit_rate", "quota_rate", "stream_fault_rate", "content_fault_rate",
    "overload_error_step", "overload_max_error_rate",
)
ALL_VENDORS = "*"

# One line per knob: the API document's description is built from it, and a test checks
# that every knob has one (and is in the README).
KNOB_HELP = {
    "error_rate": "share of requests answered with `error_status` (0-1)",
    "error_status": "the status of those errors (400-599)",
    "slow_rate": "share of slow answers",
    "slow_min_ms": "shortest slow delay",
    "slow_max_ms": "longest slow delay (uniform in between)",
    "rate_limit_rate": "share of random 429 rate limits",
    "retry_after_min_ms": "shortest retry hint of a random 429",
    "retry_after_max_ms": "longest retry hint of a random 429",
    "quota_rate": "share of 429 quota-exhausted answers (`x-should-retry: false`)",
    "rate_limit_rpm": "token bucket: requests per minute per caller (0: off)",
    "rate_limit_tpm": "token bucket: tokens (prompt + max_tokens) per minute per caller (0: off)",
    "latency": "delay before every answer: `fixed:MS`, `uniform:LO,HI`, `normal:MEAN,SD` or `lognormal:MEDIAN,SIGMA`",
    "ttft": "streams: time to the first chunk (a distribution)",
    "token_latency": "streams: delay before each later chunk (a distribution)",
    "stream_fault_rate": "share of streams hit by `stream_fault`",
    "stream_fault": "which: `stream-error`, `disconnect`, `no-terminator`, `malformed` or `stall`",
    "stream_fault_after_chunks": "after how many chunks it strikes",
    "stall_ms": "how long a random `stall` lasts before the connection drops",
    "content_fault_rate": "share of answers where the model misbehaves (`content_fault`)",
    "content_fault": "which: `refusal`, `invalid-json`, `schema-violation`, `unknown-tool`, `truncated`, `empty` or "
                     "`repetition`",
    "overload_threshold": "requests in flight beyond which the vendor degrades (0: off)",
    "overload_error_step": "chance of an overload error added per request in flight past the threshold",
    "overload_max_error_rate": "the most that chance gets",
    "overload_latency_ms": "delay added per request in flight past the threshold",
    "overload_status": "the overload error's status (503; Anthropic 529)",
}


def check_knob(key: str, value: Any, where: str) -> Any:
    """A validated knob value (a 400 naming ``where`` and the knob if it is wrong)."""
    if key not in FAULT_KNOBS:
        raise InvalidRequest(f"{where}: unknown knob {key!r}; valid knobs: {', '.join(sorted(FAULT_KNOBS))}.")
    typ = str(FAULT_KNOBS[key])
    name = f"{where}.{key}"
    if typ == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidRequest(f"{name} must be a number, got {value!r}.")
        if key in RATE_KNOBS and not 0.0 <= value <= 1.0:
            raise InvalidRequest(f"{name} is a probability between 0 and 1, got {value}.")
        return float(value)
    if typ == "int":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidRequest(f"{name} must be a non-negative integer, got {value!r}.")
        if key in ("error_status", "overload_status") and not 400 <= value <= 599:
            raise InvalidRequest(f"{name} must be an HTTP status between 400 and 599, got {value}.")
        return value
    if not isinstance(value, str):
        raise InvalidRequest(f"{name} must be a string, got {value!r}.")
    if key in LATENCY_KNOBS:
        parse_latency(value, name)
    elif key in ("stream_fault", "content_fault"):
        parse_fault(value, where=name)
    return value


def check_knobs(knobs: Any, where: str) -> dict[str, Any]:
    if not isinstance(knobs, dict):
        raise InvalidRequest(f"{where} must be an object of knobs, got {knobs!r}.")
    return {k: check_knob(k, v, where) for k, v in knobs.items()}


class RuntimeConfig:
    """Fault knobs per vendor (and route), parsed once per version of the document."""

    __slots__ = ("_busy", "_latency", "_merged", "enabled", "routes", "vendors")

    def __init__(self, enabled: bool, vendors: dict[str, FaultConfig], routes: dict[str, dict[str, Any]]) -> None:
        self.enabled = enabled
        self.vendors = vendors
        self.routes = routes
        self._merged: dict[tuple[str, str], FaultConfig] = {}
        self._busy: dict[tuple[str, str], bool] = {}
        self._latency: dict[str, Latency | None] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> RuntimeConfig:
        return cls(settings.faults_enabled, {v: replace(fc) for v, fc in settings.faults.items()}, {})

    def knobs(self, vendor: str, route: str) -> FaultConfig:
        """The knobs for one vendor on one route (route overrides merged over the vendor's)."""
        key = (vendor, route)
        fc = self._merged.get(key)
        if fc is None:
            fc = self.vendors.get(vendor) or FaultConfig()
            over = self.routes.get(route)
            if over:
                fc = replace(fc, **over)
            self._merged[key] = fc
        return fc

    def busy(self, vendor: str, route: str) -> bool:
        """Whether the knobs can do anything at all (False: requests skip the fault lab's work)."""
        key = (vendor, route)
        busy = self._busy.get(key)
        if busy is None:
            fc = self.knobs(vendor, route)
            busy = self._busy[key] = bool(
                fc.rate_limit_rpm or fc.rate_limit_tpm
                or (self.enabled and (
                    fc.error_rate or fc.slow_rate or fc.rate_limit_rate or fc.quota_rate or fc.stream_fault_rate
                    or fc.content_fault_rate
                    or fc.latency or fc.ttft or fc.token_latency or fc.overload_threshold
                ))
            )
        return busy

    def latency(self, spec: str) -> Latency | None:
        """Parsed latency distributions, cached (they were validated on the way in)."""
        if spec not in self._latency:
            self._latency[spec] = parse_latency(spec)
        return self._latency[spec]

    # -- the JSON document ---------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "vendors": {v: asdict(fc) for v, fc in sorted(self.vendors.items())},
            "routes": self.routes,
        }

    def dumps(self) -> bytes:
        return orjson.dumps(self.to_json())

    @classmethod
    def loads(cls, raw: bytes) -> RuntimeConfig:
        doc = orjson.loads(raw)
        vendors = {v: FaultConfig(**knobs) for v, knobs in doc["vendors"].items()}
        return cls(doc["enabled"], vendors, doc.get("routes", {}))

    def replaced(self, doc: Any, vendor_names: list[str]) -> RuntimeConfig:
        """A new config from a full document (PUT): anything not given is off."""
        doc = _check_doc(doc, vendor_names)
        vendors = {v: FaultConfig() for v in vendor_names}
        for v, knobs in doc.get("vendors", {}).items():
            targets = vendor_names if v == ALL_VENDORS else [v]
            for t in targets:
                vendors[t] = replace(vendors[t], **knobs)
        return RuntimeConfig(doc.get("enabled", True), vendors, doc.get("routes", {}))

    def patched(self, doc: Any, vendor_names: list[str]) -> RuntimeConfig:
        """This config with a partial document merged in (PATCH); a route set to null is removed."""
        doc = _check_doc(doc, vendor_names, allow_null_routes=True)
        vendors = {v: replace(fc) for v, fc in self.vendors.items()}
        for v, knobs in doc.get("vendors", {}).items():
            targets = vendor_names if v == ALL_VENDORS else [v]
            for t in targets:
                vendors[t] = replace(vendors.get(t) or FaultConfig(), **knobs)
        routes = {r: dict(k) for r, k in self.routes.items()}
        for r, knobs in doc.get("routes", {}).items():
            if knobs is None:
                routes.pop(r, None)
            else:
                routes[r] = {**routes.get(r, {}), **knobs}
        return RuntimeConfig(doc.get("enabled", self.enabled), vendors, routes)


def _check_doc(doc: Any, vendor_names: list[str], allow_null_routes: bool = False) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise InvalidRequest("The fault configuration must be a JSON object.")
    unknown = set(doc) - {"enabled", "vendors", "routes"}
    if unknown:
        raise InvalidRequest(
            f"Unknown field(s) {sorted(unknown)} in the fault configuration; valid: enabled, vendors, routes."
        )
    out: dict[str, Any] = {}
    if "enabled" in doc:
        if not isinstance(doc["enabled"], bool):
            raise InvalidRequest(f"enabled must be true or false, got {doc['enabled']!r}.")
        out["enabled"] = doc["enabled"]
    vendors = doc.get("vendors", {})
    if not isinstance(vendors, dict):
        raise InvalidRequest("vendors must be an object keyed by vendor name.")
    out["vendors"] = {}
    for v, knobs in vendors.items():
        if v != ALL_VENDORS and v not in vendor_names:
            raise InvalidRequest(
                f"Unknown vendor {v!r} in vendors; valid: {', '.join(vendor_names)} or * for all."
            )
        out["vendors"][v] = check_knobs(knobs, f"vendors.{v}")
    routes = doc.get("routes", {})
    if not isinstance(routes, dict) or not all(isinstance(r, str) and r.startswith("/") for r in routes):
        raise InvalidRequest("routes must be an object keyed by route path (e.g. /v1/chat/completions).")
    out["routes"] = {
        r: (None if k is None and allow_null_routes else check_knobs(k, f"routes.{r}")) for r, k in routes.items()
    }
    return out


FAULT_KNOB_NAMES = [f.name for f in fields(FaultConfig)]
