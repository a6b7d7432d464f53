"""Prometheus metrics, one registry per app.

The request path only bumps plain dict entries (about 1 us); prometheus-client's own
``Counter.labels().inc()`` / ``Histogram.observe()`` cost over ten times that, because
every call takes locks. The families are built from those dicts when ``/metrics`` is
scraped, by a custom collector registered in the app's own ``CollectorRegistry``, so two
apps in one process never share a metric.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import choose_encoder

from .record import Record

if TYPE_CHECKING:
    from ..models import ModelRegistry
    from .log import RequestLog

# Upper bounds in milliseconds (exported in seconds): from the echo vendor's sub-millisecond
# answers to a slow model's minute-long streams.
LATENCY_BUCKETS_MS = (
    0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 120000,
)
_LE = [str(b / 1000) for b in LATENCY_BUCKETS_MS] + ["+Inf"]


class _Histogram:
    """Bucket counts (not cumulative) plus the sum, in milliseconds."""

    __slots__ = ("counts", "sum")

    def __init__(self) -> None:
        self.counts = [0] * (len(LATENCY_BUCKETS_MS) + 1)
        self.sum = 0.0

    def add(self, other: _Histogram) -> None:
        self.counts = [a + b for a, b in zip(self.counts, other.counts, strict=True)]
        self.sum += other.sum

    def buckets(self) -> list[tuple[str, int]]:
        out, acc = [], 0
        for le, n in zip(_LE, self.counts, strict=True):
            acc += n
            out.append((le, acc))
        return out


class _Series:
    """Everything counted for one (vendor, route, status, fault, model)."""

    __slots__ = ("latency", "ttft", "tokens_in", "tokens_out")

    def __init__(self) -> None:
        self.latency = _Histogram()
        self.ttft = _Histogram()
        self.tokens_in = 0
        self.tokens_out = 0


SeriesKey = tuple[str, str, int, str | None, str]


class Metrics:
    """Request counters and histograms fed by :mod:`mockvendor.front`, plus gauges read at
    scrape time from the engines and the request log."""

    def __init__(
        self, models: ModelRegistry | None = None, requests: RequestLog | None = None, store: Any = None
    ) -> None:
        self.models = models
        self.requests = requests
        self.store = store  # the fault lab's state store: anything with ``health()``
        self.in_flight: dict[bytes, Record] = {}  # by request id; Records are unhashable
        # One entry per label combination, so a request costs one lookup; the families
        # (which group labels differently) are summed from these at scrape time.
        self._series: dict[SeriesKey, _Series] = {}
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)
        ProcessCollector(registry=self.registry)

    def observe(self, rec: Record, route: str) -> None:
        """Count one finished request (the hot path: one dict lookup, a few additions)."""
        key = (rec.vendor or "", route, rec.status, rec.fault, rec.model or "")
        s = self._series.get(key)
        if s is None:
            s = self._series[key] = _Series()
        h = s.latency
        h.counts[bisect_left(LATENCY_BUCKETS_MS, rec.latency_ms)] += 1
        h.sum += rec.latency_ms
        if rec.ttft_ms is not None:
            h = s.ttft
            h.counts[bisect_left(LATENCY_BUCKETS_MS, rec.ttft_ms)] += 1
            h.sum += rec.ttft_ms
        s.tokens_in += rec.tokens_in
        s.tokens_out += rec.tokens_out

    def exposition(self, accept: str | None) -> tuple[bytes, str]:
        """The scrape body and its content type (OpenMetrics if the scraper asks for it)."""
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type

    # -- the collector protocol of prometheus-client ---------------------------------
    def collect(self) -> Iterator[Metric]:
        by_request: dict[tuple[str, str, int, str | None], int] = {}
        latency: dict[tuple[str, str], _Histogram] = {}
        ttft: dict[tuple[str, str], _Histogram] = {}
        tokens: dict[tuple[str, str], list[int]] = {}
        for (vendor, route, status, fault, model), s in list(self._series.items()):
            key = (vendor, route, status, fault)
            by_request[key] = by_request.get(key, 0) + sum(s.latency.counts)
            latency.setdefault((vendor, route), _Histogram()).add(s.latency)
            if any(s.ttft.counts):
                ttft.setdefault((vendor, route), _Histogram()).add(s.ttft)
            if s.tokens_in or s.tokens_out:
                t = tokens.setdefault((vendor, model), [0, 0])
                t[0] += s.tokens_in
                t[1] += s.tokens_out
        requests = CounterMetricFamily(
            "mockvendor_requests", "Vendor requests answered, by vendor, route, HTTP status and injected fault.",
            labels=["vendor", "route", "status", "fault"],
        )
        for (vendor, route, status, fault), n in by_request.items():
            requests.add_metric([vendor, route, str(status), fault or "none"], n)
        yield requests
        yield self._histogram(
            "mockvendor_request_duration_seconds", "Time from request to the end of the response.", latency
        )
        yield self._histogram(
            "mockvendor_time_to_first_token_seconds", "Streams: time to the first generated text.", ttft
        )
        tokens_in = CounterMetricFamily(
            "mockvendor_input_tokens", "Prompt tokens, by vendor and model.", labels=["vendor", "model"]
        )
        tokens_out = CounterMetricFamily(
            "mockvendor_output_tokens", "Generated tokens, by vendor and model.", labels=["vendor", "model"]
        )
        for (vendor, model), (t_in, t_out) in tokens.items():
            tokens_in.add_metric([vendor, model], t_in)
            tokens_out.add_metric([vendor, model], t_out)
        yield tokens_in
        yield tokens_out
        in_flight = GaugeMetricFamily(
            "mockvendor_requests_in_flight", "Vendor requests being answered now.", labels=["vendor"]
        )
        for vendor, n in sorted(Counter(r.vendor for r in list(self.in_flight.values()) if r.vendor).items()):
            in_flight.add_metric([vendor], n)
        yield in_flight
        yield from self._engine_metrics()
        yield from self._log_metrics()
        yield from self._store_metrics()

    @staticmethod
    def _histogram(name: str, doc: str, data: dict[tuple[str, str], _Histogram]) -> Metric:
        fam = HistogramMetricFamily(name, doc, labels=["vendor", "route"])
        for (vendor, route), h in data.items():
            fam.add_metric([vendor, route], h.buckets(), h.sum / 1000)
        return fam

    def _engine_metrics(self) -> Iterator[Metric]:
        if self.models is None:
            return
        labels = ["engine", "models"]
        queue = GaugeMetricFamily("mockvendor_engine_queue_depth", "Requests waiting for the engine.", labels=labels)
        active = GaugeMetricFamily("mockvendor_engine_active", "Requests the engine is generating now.", labels=labels)
        slots = GaugeMetricFamily("mockvendor_engine_slots", "Requests the engine can generate at once.", labels=labels)
        occupancy = GaugeMetricFamily(
            "mockvendor_engine_batch_occupancy", "Share of the engine's slots in use (active / slots).", labels=labels
        )
        names: dict[int, list[str]] = {}
        for name in self.models.names():
            names.setdefault(id(self.models.resolve(name)), []).append(name)
        for engine in self.models.all_engines():
            stats: dict[str, Any] = engine.stats()
            if "queue_depth" not in stats and "active" not in stats:
                continue  # engines without a queue (echo, upstream)
            lv = [str(stats.get("engine", engine.name)), ",".join(sorted(names.get(id(engine), [])))]
            n_active, n_slots = stats.get("active", 0), stats.get("slots", 0)
            queue.add_metric(lv, stats.get("queue_depth", 0))
            active.add_metric(lv, n_active)
            slots.add_metric(lv, n_slots)
            occupancy.add_metric(lv, n_active / n_slots if n_slots else 0.0)
        yield from (queue, active, slots, occupancy)

    def _log_metrics(self) -> Iterator[Metric]:
        if self.requests is None:
            return
        w = self.requests.writer
        written = CounterMetricFamily("mockvendor_request_log_written", "Records written to the request log store.")
        written.add_metric([], w.written)
        dropped = CounterMetricFamily(
            "mockvendor_request_log_dropped", "Records the request log store missed (writer behind or failing)."
        )
        dropped.add_metric([], w.dropped)
        pending = GaugeMetricFamily("mockvendor_request_log_pending", "Records waiting for the log writer.")
        pending.add_metric([], w.pending)
        yield from (written, dropped, pending)

    def _store_metrics(self) -> Iterator[Metric]:
        if self.store is None:
            return
        h = self.store.health()
        healthy = GaugeMetricFamily(
            "mockvendor_state_store_healthy",
            "1 while the shared state store answers; 0 while this replica serves from memory.",
            labels=["backend"],
        )
        healthy.add_metric([h["backend"]], 1 if h["healthy"] else 0)
        outages = CounterMetricFamily(
            "mockvendor_state_store_outages", "Times the state store became unreachable.", labels=["backend"]
        )
        outages.add_metric([h["backend"]], h.get("outages", 0))
        yield from (healthy, outages)
