"""The fault policy: one decision per request, reproducible from a seed.

Layers, in order (the first that decides wins, except where noted):

1. rate-limit buckets (``rate_limit_rpm`` / ``rate_limit_tpm``): an empty bucket is a 429;
   every answer carries the vendor's rate-limit headers while limits are on;
2. per-request headers (``x-mockvendor-fault`` & co., unless ``allow_fault_headers`` is off);
3. the scenario bound to the request's test id or route (scripted steps, timeline);
4. random faults from the vendor's rates (only while faults are enabled);
5. load-dependent overload, latency distributions and stream pacing, added on top
   (only while faults are enabled).

Random numbers come from :class:`~mockvendor.faults.latency.Draws`: a hash of (seed, test
id, vendor, n) where n counts that stream's requests in the state store, so the same
seed and the same sequence of requests on a stream give the same faults, whatever
happens on other streams and on whichever replica.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from ..errors import MockVendorError
from ..serving import spent_since_arrival
from ..settings import FaultConfig, Settings
from . import overload, ratelimit
from .config import RuntimeConfig
from .headers import TEST_ID_HEADER, forced, lab_headers
from .latency import Draws
from .plan import NO_PLAN, Plan, delay_left
from .ratelimit import RateLimitState
from .retries import RetryTelemetry
from .scenarios import Scenario, parse_scenario
from .spec import NONE, Fault, for_request, parse_fault
from .store import StateStore, build_store
from .stream import Pacing

if TYPE_CHECKING:
    from starlette.requests import Request

    from ..tracking.record import Record
    from ..types import GenerateRequest
    from ..vendors.base import BaseVendor

INFLIGHT_MARK = "faultlab.inflight"
HEADERS_MARK = "faultlab.headers"

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[Any]]


@dataclass(slots=True)
class RequestInfo:
    """What the policy needs to know about a request (vendor-neutral)."""

    vendor: str
    route: str = "/"
    headers: Mapping[str, str] | None = None
    test_id: str = ""
    who: str = "*"  # the rate-limit caller
    tokens: int = 0  # the rate-limit token cost
    stream: bool = False
    rule_fault: Fault | None = None  # a rule's answer (mockvendor.rules), after the request's own headers


@dataclass(slots=True)
class Decision:
    """The outcome: a fault (or None), extra delay, stream pacing, rate-limit state, label."""

    fault: Fault | None = None
    delay_ms: float = 0.0
    pacing: Pacing | None = None
    ratelimit: RateLimitState | None = None
    label: str | None = None
    error: MockVendorError | None = None


QUIET = Decision()  # shared, never changed: no fault, nothing to add


class _LazyDraws:
    """The request's random numbers, drawn (and the stream's counter advanced) only if needed."""

    __slots__ = ("_d", "info", "policy")

    def __init__(self, policy: FaultPolicy, info: RequestInfo) -> None:
        self.policy, self.info, self._d = policy, info, None

    async def get(self) -> Draws:
        if self._d is None:
            n = await self.policy.store.incr(f"rng:{self.info.test_id}:{self.info.vendor}")
            self._d = Draws(self.policy.seed, self.info.test_id, self.info.vendor, n)  # type: ignore[assignment]
        return self._d  # type: ignore[return-value]


class FaultPolicy:
    """Decides each request's fault; holds the runtime configuration, scenarios and state."""

    def __init__(
        self, settings: Settings, *, clock: Clock = time.time, sleep: Sleep = asyncio.sleep,
        store: StateStore | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.sleep = sleep
        self.seed = settings.seed if settings.seed is not None else int.from_bytes(os.urandom(8))
        self.store = store or build_store(settings)
        self.telemetry = RetryTelemetry(self.store, settings.retry_budget)
        self.vendor_names = sorted(settings.faults)
        self.inflight = 0
        self.defaults = RuntimeConfig.from_settings(settings)
        self._cfg_raw: bytes | None = None
        self._cfg = self.defaults
        self._scn_raw: bytes | None = None
        self._scenarios: dict[str, Scenario] = {}
        self._doc_version: int | None = None

    # -- state ------------------------------------------------------------------

    def _current(self) -> tuple[RuntimeConfig, dict[str, Scenario]] | None:
        """The configuration and scenarios, if known to be current without asking the store
        (a local store says when they changed)."""
        version = getattr(self.store, "doc_version", None)
        if version is not None and version == self._doc_version:
            return self._cfg, self._scenarios
        return None

    async def state(self) -> tuple[RuntimeConfig, dict[str, Scenario]]:
        """The current configuration and scenarios (re-parsed only when they changed)."""
        known = self._current()
        if known is not None:
            return known
        version = getattr(self.store, "doc_version", None)
        raw_cfg, raw_scn = await self.store.get_docs("faults", "scenarios")
        self._doc_version = version
        if raw_cfg is not self._cfg_raw and raw_cfg != self._cfg_raw:
            self._cfg = RuntimeConfig.loads(raw_cfg) if raw_cfg else self.defaults
            self._cfg_raw = raw_cfg
        if raw_scn is not self._scn_raw and raw_scn != self._scn_raw:
            self._scenarios = load_scenarios(raw_scn)
            self._scn_raw = raw_scn
        return self._cfg, self._scenarios

    async def reset(self) -> None:
        """Back to the startup configuration; random streams and rate-limit buckets start again."""
        await self.store.set_doc("faults", None)
        await self.store.clear("rng:")
        await self.store.clear("rl:")

    def enter(self) -> None:
        """A request is in flight (for load-dependent overload)."""
        self.inflight += 1

    def leave(self) -> None:
        self.inflight -= 1

    async def aclose(self) -> None:
        await self.store.aclose()

    # -- the decision ---------------------------------------------------------------

    async def decide(self, info: RequestInfo) -> Decision:
        """The fault for one request (see the module docstring for the layers)."""
        cfg, scenarios = await self.state()
        if quiet(cfg, scenarios, info.headers, info.rule_fault, info.vendor, info.route):
            return QUIET  # nothing configured could apply: the common case under load
        fc = cfg.knobs(info.vendor, info.route)
        now = self.clock()
        d = Decision()
        if fc.rate_limit_rpm or fc.rate_limit_tpm:
            d.ratelimit, err = await ratelimit.take(self.store, now, info.vendor, info.who, fc, info.tokens)
            if err is not None:
                d.error, d.label = err, err.fault
                return d
        draws = _LazyDraws(self, info)
        labels: list[str] = []
        fault: Fault | None = None
        pacing = Pacing()
        if self.settings.allow_fault_headers and info.headers is not None:
            fault, ttft, token, lat = forced(info.headers)
            pacing.ttft, pacing.token = ttft, token
            if lat is not None:
                dr = await draws.get()
                d.delay_ms += lat.sample(dr.u(5), dr.u(6))
                labels.append("latency")
        if fault is None and info.rule_fault is not None:
            fault = info.rule_fault
        if fault is None and scenarios:
            scn = match(scenarios, info)
            if scn is not None:
                fault, extra = await self._scenario(scn, info, now, draws)
                d.delay_ms += extra
        if cfg.enabled:
            if fault is None and has_rates(fc, info.stream):
                fault = draw(fc, await draws.get(), info.stream)
            over = overload.excess(fc, self.inflight)
            if over:
                ms = overload.latency_ms(fc, over)
                if ms:
                    d.delay_ms += ms
                    labels.append("overload-latency")
                if fault is None and (await draws.get()).u(4) < overload.error_rate(fc, over):
                    st = fc.overload_status
                    fault = Fault("error", f"overload-{st}", st)
            lat = cfg.latency(fc.latency)
            if lat is not None:
                dr = await draws.get()
                d.delay_ms += lat.sample(dr.u(5), dr.u(6))
                labels.append("latency")
            if info.stream:
                pacing.ttft = pacing.ttft or cfg.latency(fc.ttft)
                pacing.token = pacing.token or cfg.latency(fc.token_latency)
        if fault is not None:
            fault = for_request(fault, info.stream)
            if fault.kind == "none":
                fault = None
        if info.stream and (pacing.ttft or pacing.token):
            if any(lat.dist != "fixed" for lat in (pacing.ttft, pacing.token) if lat):
                pacing.rng = (await draws.get()).rng()
            d.pacing = pacing
            labels.append("pacing")
        if fault is not None:
            d.delay_ms += fault.delay_ms
            labels.insert(0, fault.label)
            d.error = fault.error() if fault.is_error else None
        d.fault = fault
        d.label = "+".join(labels) or None
        if d.error is not None:
            d.error.fault = d.label
        return d

    async def _scenario(
        self, scn: Scenario, info: RequestInfo, now: float, draws: _LazyDraws
    ) -> tuple[Fault | None, float]:
        """The scenario's fault for this request (NONE for an explicit 'ok') and extra delay."""
        if scn.steps:
            step = scn.step_at(await self.store.incr(scn.counter_key()))
            if step is not None:
                ms = step.latency.sample_rng((await draws.get()).rng()) if step.latency else 0.0
                return step.fault, ms
        found = scn.phase_at(now)
        if found is None:
            return None, 0.0
        phase, elapsed = found
        rng = (await draws.get()).rng() if phase.rate < 1 or (phase.latency and phase.latency.dist != "fixed") else None
        ms = phase.delay_ms(elapsed, *((rng.random(), rng.random()) if rng else (0.0, 0.0)))
        fault = phase.fault
        if fault is not None and phase.rate < 1 and rng is not None and rng.random() >= phase.rate:
            fault = None
        return fault, ms

    # -- the pipeline's side ----------------------------------------------------------

    async def plan(self, vendor: BaseVendor, request: Request, req: GenerateRequest, rec: Record,
                   rule_fault: Fault | None = None) -> Plan:
        """Decide for a parsed request; raise the simulated error (with its headers) if it is one.
        ``rule_fault``: the fault a rule answers with (the request's own headers still come first)."""
        scope = request.scope
        scope.setdefault("state", {})[INFLIGHT_MARK] = True  # mockvendor.front calls leave()
        self.enter()
        lab = lab_headers(scope)
        known = self._current()
        if known is not None and quiet(*known, lab, rule_fault, vendor.name, scope["path"]):
            return NO_PLAN  # what decide() would find, without building its RequestInfo
        max_tokens = req.max_tokens or self.settings.default_max_tokens
        client = scope.get("client")
        info = RequestInfo(
            vendor.name, scope["path"], lab, rec.test_id or "",
            ratelimit.caller(self.settings.rate_limit_by, rec.key_fingerprint, client[0] if client else None,
                             rec.test_id),
            rec.tokens_in + max_tokens, req.stream, rule_fault,
        )
        d = await self.decide(info)
        if d is QUIET:
            return NO_PLAN
        headers = vendor.ratelimit_headers(d.ratelimit) if d.ratelimit is not None else {}
        if headers:
            request.scope["state"][HEADERS_MARK] = headers.copy()
        if d.label:
            rec.fault = d.label
            headers["x-mockvendor-fault"] = d.label
        if d.error is not None:
            # Its delay counts from the request's arrival, as an answer's does (Plan.wait).
            left = delay_left(d.delay_ms, spent_since_arrival(scope, self.sleep))
            if left > 0:
                await self.sleep(left)
            d.error.headers = {**headers, **d.error.headers}
            raise d.error
        if not headers and d.fault is None and d.pacing is None and not d.delay_ms:
            return NO_PLAN
        return Plan(d.fault, d.delay_ms, d.pacing, headers)


    def answer_headers(self, request: Request) -> dict[str, str]:
        """Headers every answer to this request carries, errors included (rate limits)."""
        return request.scope.get("state", {}).get(HEADERS_MARK) or {}


def quiet(cfg: RuntimeConfig, scenarios: dict[str, Scenario], headers: Mapping[str, str] | None,
          rule_fault: Fault | None, vendor: str, route: str) -> bool:
    """Nothing configured could apply to a request: no lab headers, no scenario, no rule's
    fault, no rates, latency or limits for its vendor and route."""
    return not (headers or scenarios or rule_fault is not None or cfg.busy(vendor, route))


def match(scenarios: dict[str, Scenario], info: RequestInfo) -> Scenario | None:
    """The scenario for a request: one bound to its test id first, then one bound to its route."""
    route_bound = None
    for scn in scenarios.values():
        if scn.matches(info.test_id, info.vendor, info.route):
            if scn.test_id is not None:
                return scn
            route_bound = route_bound or scn
    return route_bound


def load_scenarios(raw: bytes | None) -> dict[str, Scenario]:
    if not raw:
        return {}
    out = {}
    for name, entry in orjson.loads(raw).items():
        out[name] = parse_scenario(name, entry["spec"], gen=entry["gen"], t0=entry["t0"])
    return out


def has_rates(fc: FaultConfig, stream: bool) -> bool:
    return bool(
        fc.error_rate or fc.rate_limit_rate or fc.quota_rate or fc.slow_rate or (stream and fc.stream_fault_rate)
        or fc.content_fault_rate
    )


def draw(fc: FaultConfig, d: Draws, stream: bool) -> Fault | None:
    """One random decision from the vendor's rates (each outcome reads its own numbers)."""
    u = d.u(0)
    edge = fc.error_rate
    if u < edge:
        return Fault("error", f"error-{fc.error_status}", status=fc.error_status)
    edge += fc.rate_limit_rate
    if u < edge:
        ms = round(fc.retry_after_min_ms + d.u(1) * (fc.retry_after_max_ms - fc.retry_after_min_ms))
        return Fault("rate-limit", "rate-limit", status=429, retry_after_ms=ms)
    edge += fc.quota_rate
    if u < edge:
        return Fault("quota", "quota", status=429)
    edge += fc.slow_rate
    if u < edge:
        ms = round(fc.slow_min_ms + d.u(2) * (fc.slow_max_ms - fc.slow_min_ms))
        return Fault("slow", "slow", delay_ms=ms)
    if stream and fc.stream_fault_rate and d.u(3) < fc.stream_fault_rate:
        opts = {"after_chunks": fc.stream_fault_after_chunks, "stall_ms": fc.stall_ms}
        return parse_fault(fc.stream_fault, opts, where="stream_fault")
    if fc.content_fault_rate and d.u(4) < fc.content_fault_rate:
        return parse_fault(fc.content_fault, where="content_fault")
    return None


__all__ = ["NONE", "TEST_ID_HEADER", "Decision", "FaultPolicy", "RequestInfo"]
