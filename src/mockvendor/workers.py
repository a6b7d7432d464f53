"""``mockvendor serve --workers N``: N uvicorn worker processes on one port.

uvicorn's supervisor binds the socket once and spawns the workers; each imports this
module and builds its own app from the environment (the command line's options are
passed on as ``MOCKVENDOR_*`` variables). What the workers share is what replicas share
(docs/deployment.md): with ``MOCKVENDOR_REDIS_URL`` the fault settings, scenarios, rate
limits and retry telemetry; without it each worker keeps its own. The request log is
the one SQLite file (WAL, busy timeout), written by every worker; its in-memory ring and
live feed are per worker. Each worker loads the embedded model lazily, on first use.
"""

from __future__ import annotations

from typing import Any

from .settings import Settings


def app() -> Any:
    """The app factory each worker calls."""
    from .app import create_app
    from .serving import settle_memory

    app = create_app(Settings.from_env())
    settle_memory()
    return app


def _protocol() -> Any:
    from .serving import timed_protocol

    s = Settings.from_env()
    return timed_protocol(s.header_timeout_s, s.body_timeout_s)


TimedProtocol = _protocol()
