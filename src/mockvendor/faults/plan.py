"""What the fault lab decided for one request, in the terms the pipeline needs.

The pipeline asks the plan, never the other way round:

- ``plan.headers``: headers for every response of this request (the fault marker and
  the vendor's rate-limit headers), errors included;
- ``await plan.wait(sleep)``: the delay before answering;
- ``plan.events(source, sleep)``: the engine's events, paced and with the stream fault;
- ``plan.streaming_response(body, headers)`` / ``plan.response(content)``: the response,
  which for stream faults and broken answers is one that goes wrong on the wire.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response

from ..http import JSONResponse, dumps
from ..types import Chunk, Completion
from .spec import Fault
from .stream import STRIKES, CuttableStreamingResponse, FaultyResponse, Pacing, Sleep, StreamState, events, frames


def delay_left(delay_ms: float, spent_s: float) -> float:
    """Seconds of a delay (which counts from the request's arrival) still to wait."""
    return delay_ms / 1000 - spent_s if delay_ms > 0 else 0.0


@dataclass(slots=True)
class Plan:
    """The decision for one request (see the module docstring for how it is used)."""

    fault: Fault | None = None
    delay_ms: float = 0.0
    pacing: Pacing | None = None
    headers: dict[str, str] = field(default_factory=dict)
    _state: StreamState | None = None

    def left_s(self, spent_s: float = 0.0) -> float:
        """Seconds of the plan's delay still to wait, ``spent_s`` having passed since arrival."""
        return delay_left(self.delay_ms, spent_s)

    async def wait(self, sleep: Sleep, spent_s: float = 0.0) -> None:
        """The plan's delay, less ``spent_s`` already spent on the request since it arrived
        (so a held request is answered its delay after arrival, not after its turn came)."""
        remaining = self.left_s(spent_s)
        if remaining > 0:
            await sleep(remaining)

    def events(
        self, source: AsyncIterator[Chunk | Completion], sleep: Sleep
    ) -> AsyncIterator[Chunk | Completion]:
        """The engine's events as this plan wants them streamed."""
        f = self.fault
        if self.pacing is None and (f is None or f.kind not in STRIKES):
            return source
        return events(source, f, self.pacing, sleep, self._state)

    def streaming_response(self, body: AsyncIterator[bytes], headers: dict[str, str]) -> Response:
        f = self.fault
        if f is not None and (f.kind in STRIKES or f.kind == "no-terminator"):
            # The body generator runs later and calls events(): both layers share this state.
            self._state = StreamState()
            body = frames(body, f, self._state)
        return CuttableStreamingResponse(body, media_type="text/event-stream", headers={**headers, **self.headers})

    def response(self, content: Any, sleep: Sleep) -> Response:
        """A non-streaming answer (a broken one for ``malformed``, ``disconnect``, ``stall``)."""
        f = self.fault
        if f is not None and f.kind in ("malformed", "disconnect", "stall"):
            return FaultyResponse(dumps(content), f, sleep, self.headers)
        return JSONResponse(content, 200, self.headers or None)


NO_PLAN = Plan()
