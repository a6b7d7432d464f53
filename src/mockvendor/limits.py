"""The cap on streamed answers open at once (``MOCKVENDOR_MAX_STREAMS``).

A stream can stay open for minutes (a slow model, a simulated stall, a client that reads
slowly), and each holds a connection, a task and often an engine slot; past the cap a new
stream gets a clear 429 in its vendor's shape instead of piling up.

The pipeline takes a slot before it answers (so the refusal is a proper error response);
:class:`mockvendor.front.Front` gives it back when the exchange ends, however it ends:
a stream whose client left before its first byte never runs its generator, so the
generator's own ``finally`` could not be trusted to.
"""

from __future__ import annotations

from typing import Any

from .errors import RateLimited

Scope = dict[str, Any]
SLOT_MARK = "stream_slot"


class StreamSlots:
    """Counts open streams against a limit (0: unlimited)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open = 0

    def enter(self, scope: Scope) -> None:
        """Take a slot for this request, or raise a 429 naming the limit."""
        state = scope.setdefault("state", {})
        if state.get(SLOT_MARK):
            return
        if self.limit and self.open >= self.limit:
            raise RateLimited(
                f"Too many streams open at once ({self.open}); the limit is {self.limit} "
                "(MOCKVENDOR_MAX_STREAMS). Retry when one has finished.",
                retry_after_ms=1000,
            )
        self.open += 1
        state[SLOT_MARK] = True

    def leave(self, scope: Scope) -> None:
        if scope.get("state", {}).pop(SLOT_MARK, False):
            self.open -= 1
