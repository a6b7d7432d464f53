"""Carrying out stream faults and pacing on an answer that is already under way.

Two layers, because faults strike at two levels:

- :func:`events` wraps the engine's events: time to first token and per-token pacing,
  and, after N text chunks, the vendor's in-band error (raised as the fault's
  MockVendorError, which the pipeline turns into ``vendor.stream_error``), an abrupt
  disconnect, a stall followed by a disconnect, or the cue for a malformed frame.
- :func:`frames` wraps the rendered SSE bytes: it lets the first layer see what the
  client got, injects the malformed frame (the previous frame cut in half, so it has
  the vendor's own framing and broken JSON) and drops the terminator (the last event:
  OpenAI's ``[DONE]``, Anthropic's ``message_stop``).

A disconnect is :class:`StreamCut`; :class:`CuttableStreamingResponse` ends the HTTP
response without finishing it, so the client sees the connection close mid-body.
Non-streaming answers get the same faults through :class:`FaultyResponse`.
"""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from ..serving import ClientGone, unless_gone
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


class StreamState:
    """Shared by the two layers: what the client has been sent, and when the malformed
    frame is due. "After N chunks" means after the client has N chunks' text: a vendor
    whose renderer holds a chunk back (Gemini puts finishReason on the last text chunk)
    gets one more chunk before the fault strikes, so every vendor shows exactly N."""

    __slots__ = ("malformed_due", "sent")

    def __init__(self) -> None:
        self.malformed_due = False
        self.sent: bytearray | None = None  # frames since the N-th chunk was handed over

    def watch(self) -> None:
        self.sent = bytearray()

    def record(self, data: bytes) -> None:
        if self.sent is not None:
            self.sent += data

    def shows(self, text: str) -> bool:
        """Whether a frame sent since :meth:`watch` carries ``text`` (JSON-escaped)."""
        needle = orjson.dumps(text)[1:-1]
        return not needle.strip() or (self.sent is not None and needle in self.sent)


STRIKES = ("stream-error", "disconnect", "stall", "malformed")


async def events(
    source: AsyncIterator[Chunk | Completion], fault: Fault | None, pacing: Pacing | None, sleep: Sleep,
    state: StreamState | None = None,
) -> AsyncIterator[Chunk | Completion]:
    """The engine's events with pacing applied and the stream fault struck after N chunks."""
    armed = fault is not None and fault.kind in STRIKES and state is not None
    after = fault.after_chunks if fault is not None else 0
    n, last_text, one_more = 0, "", False
    try:
        async for item in source:
            is_chunk = isinstance(item, Chunk)
            if armed and n >= after:
                if after == 0 or not is_chunk or one_more or state.shows(last_text):  # type: ignore[union-attr]
                    armed = False
                    await _strike(fault, sleep, state)  # type: ignore[arg-type]
                else:
                    one_more = True  # the renderer still holds chunk N: let it through
            if is_chunk and pacing is not None:
                ms = pacing.ms(first=n == 0)
                if ms > 0:
                    await sleep(ms / 1000)
            if is_chunk:
                n += 1
                if n == after and state is not None:
                    last_text = item.text  # type: ignore[union-attr]
                    state.watch()
            yield item
    finally:
        await source.aclose()  # type: ignore[attr-defined]


async def _strike(fault: Fault, sleep: Sleep, state: StreamState) -> None:
    if fault.kind == "malformed":
        state.malformed_due = True
        return
    if fault.kind == "stream-error":
        err = fault.error()
        assert err is not None
        raise err
    if fault.kind == "stall":
        await sleep(fault.stall_ms / 1000)
    raise StreamCut(fault.label)


async def frames(body: AsyncIterator[bytes], fault: Fault, state: StreamState) -> AsyncIterator[bytes]:
    """The rendered SSE bytes, seen by ``state``, with a malformed frame injected or the
    terminator dropped."""
    if fault.kind == "no-terminator":
        held: bytes | None = None
        async for data in body:
            if held is not None:
                yield held
            held = data
        if held is not None:
            parts = [e for e in held.split(b"\n\n") if e]
            if len(parts) > 1:  # the last yield held several events: keep all but the last
                yield b"\n\n".join(parts[:-1]) + b"\n\n"
        return
    last: bytes | None = None
    injected = fault.kind != "malformed"
    async for data in body:
        if state.malformed_due and not injected:
            injected = True
            yield truncate_frame(last or data)
        state.record(data)
        last = data
        yield data
    if not injected:
        yield truncate_frame(last or b"data: {}\n\n")


def truncate_frame(frame: bytes) -> bytes:
    """An SSE frame cut in the middle of its JSON: same ``event:`` line, broken ``data:``
    (an NDJSON line, Ollama's framing, is cut in half and keeps its newline)."""
    if frame[:1] == b"{":
        line = frame.split(b"\n", 1)[0]
        return line[: max(1, len(line) // 2)] + b"\n"
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
    try:
        await unless_gone(receive, sleep(seconds))
    except ClientGone:
        return False
    return True
