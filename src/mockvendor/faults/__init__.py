"""The fault lab: deciding, per request, whether and how a vendor fails.

``policy`` decides (headers, scenarios, random rates, rate limits, overload, latency);
``plan`` carries the decision to the pipeline; ``stream`` strikes mid-stream; ``store``
and ``redis_store`` hold the state replicas share; ``retries`` judges client retries;
``admin`` is the runtime API; the per-request bookkeeping is done in :mod:`mockvendor.front`.
"""

from .plan import Plan
from .policy import FaultPolicy
from .spec import Fault

__all__ = ["Fault", "FaultPolicy", "Plan"]
