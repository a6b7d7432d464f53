"""The app's context: everything a request may need, built once per app by ``create_app``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .engines import Engine
from .faults import FaultPolicy
from .limits import StreamSlots
from .models import ModelRegistry
from .rules import RuleBook
from .settings import Settings
from .tracking import Metrics, RequestLog

Sleep = Callable[[float], Awaitable[Any]]
Clock = Callable[[], float]


@dataclass
class AppContext:
    """Everything a request may need, built once per app."""

    settings: Settings
    models: ModelRegistry
    faults: FaultPolicy
    requests: RequestLog
    openai_passthrough: Engine
    sleep: Sleep = asyncio.sleep
    vendors: list[Any] = field(default_factory=list)
    clock: Clock = time.time
    metrics: Metrics | None = None
    streams: StreamSlots = field(default_factory=lambda: StreamSlots(0))
    rules: RuleBook = field(default_factory=RuleBook)
