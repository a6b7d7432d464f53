"""Tracking: one record per request, the request log and usage statistics."""

from .log import RequestLog
from .record import Record

__all__ = ["Record", "RequestLog"]
