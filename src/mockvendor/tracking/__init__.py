"""Tracking: one record per request, the request log (ring + SQLite), metrics and structured logs."""

from .log import RequestLog
from .metrics import Metrics
from .record import Record
from .store import Filters, RequestStore

__all__ = ["Filters", "Metrics", "Record", "RequestLog", "RequestStore"]
