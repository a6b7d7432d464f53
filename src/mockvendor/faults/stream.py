"""Carrying out stream faults and pacing on an answer that is already under way.

Two layers, because faults strike at two levels:

- :func:`events` wraps the engine's events: time to first token and per-token pacing,
  and, after N text chunks, the vendor's in-band error (raised as the fault's
  MockVendorError, which the pipeline turns into ``vendor.stream_error``), an abrupt
  disconnect, or a stall followed by a disconnect.
- :func:`frames` wraps the rendered SSE bytes: a malformed frame (the previous frame
  cut in half, so it has the vendor's own framing and broken JSON) and the missing
  terminator (the last event is dropped: OpenAI's ``[DONE]``, Anthropic's ``message_stop``).

A disconnect is :class:`StreamCut`; :class:`CuttableStreamingResponse` ends the HTTP
response without finishing it, so the client sees the connection close mid-body.
Non-streaming answers get the same faults through :class:`FaultyResponse`.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from ..types import Chunk, Completion
from .latency import Latency
from .spec import Fault

Sleep = Callable[[float], Awaitable[Any]]
log = logging.getLogger("mockvendor.faults")
CUT_NOTE = "Simulated %s: dropping the connection mid-response (the server's 'without completing' error is expected)."


class StreamCut(Exception):
    """Raised inside a stream to drop the connection without finishing the response."""


@dataclass(slots=True)
class Pacing:
    """Delays of a stream: before the first chunk and before each later one."""

    ttft: Latency | None = None
    token: Latency | None = None
    rng: random.Random | None = None

    def ms(self, first: bool) -> float:
        lat = self.ttft if first else self.token
        if lat is None:
            return 0.0
        if lat.dist == "fixed" or self.rng is None:
            return lat.a
        return lat.sample_rng(self.rng)


class _Marks:
    """What the events layer tells the frames layer (when to inject the malformed frame)."""

    __slots__ = ("malformed_due",)

    def __init__(self) -> None:
        self.malformed_due = False


async def events(
    source: AsyncIterator[Chunk | Completion], fault: Fault | None, pacing: Pacing | None, sleep: Sleep,
    marks: _Marks | None = None,
) -> AsyncIterator[Chunk | Completion]:
    """The engine's events with pacing applied and the stream fault struck after N chunks."""
    strike = fault.kind if fault is not None and fault.kind in ("stream-error", "disconnect", "stall") else None
    after = fault.after_chunks if fault is not None else 0
    n = 0
    try:
        async for item in source:
            is_chunk = isinstance(item, Chunk)
            if strike is not None and (n == after or not is_chunk):
                await _strike(fault, sleep)  # type: ignore[arg-type]
            if marks is not None and (n == after or not is_chunk):
                marks.malformed_due = True
            if is_chunk and pacing is not None:
                ms = pacing.ms(first=n == 0)
                if ms > 0:
                    await sleep(ms / 1000)
            if is_chunk:
                n += 1
            yield item
    finally:
        await source.aclose()  # type: ignore[attr-defined]


async def _strike(fault: Fault, sleep: Sleep) -> None:
    if fault.kind == "stream-error":
        err = fault.error()
        assert err is not None
        raise err
    if fault.kind == "stall":
        await sleep(fault.stall_ms / 1000)
    raise StreamCut(fault.label)


async def frames(body: AsyncIterator[bytes], fault: Fault, marks: _Marks) -> AsyncIterator[bytes]:
    """The rendered SSE bytes with a malformed frame injected or the terminator dropped."""
    if fault.kind == "malformed":
        last: bytes | None = None
        injected = False
        async for data in body:
            if marks.malformed_due and not injected:
                injected = True
                yield truncate_frame(last or data)
            last = data
            yield data
        if not injected:
            yield truncate_frame(last or b"data: {}\n\n")
        return
    held: bytes | None = None
    async for data in body:
        if held is not None:
            yield held
        held = data
    if held is not None:
        events_ = held.split(b"\n\n")
        # held ends with "\n\n": split leaves a trailing b""; drop the last real event.
        kept = [e for e in events_[:-1] if e][:-1] if held.endswith(b"\n\n") else events_[:-1]
        if kept:
            yield b"\n\n".join(kept) + b"\n\n"


def truncate_frame(frame: bytes) -> bytes:
    """An SSE frame cut in the middle of its JSON: same ``event:`` line, broken ``data:``."""
    first = frame.split(b"\n\n", 1)[0]
    lines = first.split(b"\n")
    out = []
    for line in lines:
        if line.startswith(b"data:"):
            payload = line[5:].strip() or b"{}"
            cut = max(1, len(payload) // 2)
            out.append(b"data: " + payload[:cut])
            break
        out.append(line)
    else:
        out.append(b'data: {"')
    return b"\n".join(out) + b"\n\n"


class CuttableStreamingResponse(StreamingResponse):
    """A streaming response whose body may end in :class:`StreamCut`: then the response
    is left unfinished and the server closes the connection (a client sees a peer that
    went away mid-body, as when a vendor's connection drops)."""

    async def stream_response(self, send: Send) -> None:
        try:
            await super().stream_response(send)
        except StreamCut as cut:
            log.info(CUT_NOTE, cut)


class FaultyResponse(Response):
    """A non-streaming answer that goes wrong: ``malformed`` (a 200 whose JSON is cut in
    half), ``disconnect`` (half the body, then the connection closes) or ``stall`` (a long
    wait, then the same disconnect)."""

    def __init__(self, body: bytes, fault: Fault, sleep: Sleep, headers: dict[str, str] | None = None,
                 media_type: str = "application/json") -> None:
        self.fault = fault
        self.sleep = sleep
        cut = body[: max(1, len(body) // 2)]
        super().__init__(cut if fault.kind == "malformed" else body, 200, headers, media_type)
        self.partial = cut

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.fault.kind == "malformed":
            await super().__call__(scope, receive, send)
            return
        if self.fault.kind == "stall" and not await _sleep_unless_gone(self.sleep, self.fault.stall_ms / 1000, receive):
            return  # the client gave up waiting: nothing left to cut
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self.partial, "more_body": True})
        # Returning without the last body message: the server closes the connection.
        log.info(CUT_NOTE, self.fault.label)


async def _sleep_unless_gone(sleep: Sleep, seconds: float, receive: Receive) -> bool:
    """Sleep, but stop when the client disconnects; True if the client is still there."""

    async def gone() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    waiting = asyncio.ensure_future(sleep(seconds))
    leaving = asyncio.ensure_future(gone())
    done, pending = await asyncio.wait({waiting, leaving}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    return waiting in done
