"""Fault simulation: deciding, per request, whether and how a vendor fails."""

from .policy import Fault, FaultPolicy

__all__ = ["Fault", "FaultPolicy"]
