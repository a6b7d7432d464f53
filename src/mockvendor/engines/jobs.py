"""Requests handed from the event loop to an engine thread, and their way back.

A :class:`Job` is one request in flight. The engine thread pushes its Chunks and its
final Completion (or an exception) with :meth:`Job.emit`, which hops onto the event
loop with ``call_soon_threadsafe``, or, for the batching engine, into an :class:`Outbox`
that hands a whole step's items over in one such call; the request's coroutine awaits
them in :func:`run_job`. A :class:`JobQueue` is the bounded first-in first-out waiting room
in front of the engine's slots: a full queue refuses at once (the vendor renders
its own overload error), and a job whose client went away leaves the queue without
ever reaching the model.
"""

from __future__ import annotations

import asyncio
import collections
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import Overloaded
from ..types import Chunk, Completion, GenerateRequest


@dataclass(eq=False)
class Job:
    """One request: its prompt tokens and the channel back to its coroutine."""

    req: GenerateRequest
    ids: list[int]
    loop: asyncio.AbstractEventLoop
    # Structured output: the GBNF the answer must follow (see engines.grammar), or None.
    grammar: str | None = None
    out: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)
    # Set from the event loop when the client goes away; read by the engine thread
    # (a plain bool is enough: the engine only needs to see it by its next step).
    cancelled: bool = False
    t_enqueued: float = field(default_factory=time.perf_counter)

    def emit(self, item: Chunk | Completion | BaseException) -> None:
        """Hand ``item`` to the request's coroutine (safe from any thread)."""
        try:
            self.loop.call_soon_threadsafe(self.out.put_nowait, item)
        except RuntimeError:  # the loop is closed: nobody is listening any more
            self.cancelled = True


class Outbox:
    """What an engine thread emits during one step, handed to the event loop in one
    ``call_soon_threadsafe`` at :meth:`flush`: one wake-up of the loop (a write to its
    pipe, the GIL handed over) a step, not one a token of every sequence. In order."""

    def __init__(self) -> None:
        self.items: list[tuple[Job, Chunk | Completion | BaseException]] = []

    def put(self, job: Job, item: Chunk | Completion | BaseException) -> None:
        self.items.append((job, item))

    def flush(self) -> None:
        if not self.items:
            return
        items, self.items = self.items, []
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[Job, Any]]] = {}
        for job, item in items:
            by_loop.setdefault(job.loop, []).append((job, item))
        for loop, batch in by_loop.items():
            try:
                loop.call_soon_threadsafe(_deliver, batch)
            except RuntimeError:  # the loop is closed: nobody is listening any more
                for job, _ in batch:
                    job.cancelled = True


def _deliver(batch: list[tuple[Job, Any]]) -> None:
    for job, item in batch:
        job.out.put_nowait(item)


class JobQueue:
    """A bounded FIFO of jobs waiting for a slot, shared by the loop and one thread."""

    def __init__(self, maxsize: int, free_slots: Callable[[], int] = lambda: 0) -> None:
        self.maxsize = maxsize
        # Jobs passing through on their way to a free slot are not waiting: with
        # ``maxsize`` 0 a request is refused only when every slot is busy.
        self.free_slots = free_slots
        self._items: collections.deque[Job] = collections.deque()
        self._cond = threading.Condition()
        self._closed = False

    def __len__(self) -> int:
        return len(self._items)

    def put(self, job: Job) -> None:
        """Enqueue ``job``, or raise :class:`Overloaded` at once if the queue is full."""
        with self._cond:
            if len(self._items) >= self.maxsize + self.free_slots():
                raise Overloaded(
                    f"The model is overloaded: all its slots are busy and {self.maxsize} requests are already "
                    "waiting. Retry later.",
                    status=503,
                    kind="overloaded",
                )
            self._items.append(job)
            self._cond.notify()

    def discard(self, job: Job) -> None:
        """Drop a job that has not been admitted yet (its client went away)."""
        with self._cond:
            try:
                self._items.remove(job)
            except ValueError:
                pass  # already admitted: the engine frees its slot at its next step

    def pop(self, *, wait: bool, timeout: float | None = None) -> Job | None:
        """The oldest live job; with ``wait``, block until one arrives or the queue closes
        (or ``timeout`` seconds pass)."""
        with self._cond:
            while True:
                while self._items:
                    job = self._items.popleft()
                    if not job.cancelled:
                        return job
                if not wait or self._closed:
                    return None
                if not self._cond.wait(timeout):
                    return None

    def close(self) -> None:
        """Wake a waiting engine thread so that it can stop."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def drain(self) -> list[Job]:
        """Remove and return every waiting job (used when the engine stops)."""
        with self._cond:
            items = list(self._items)
            self._items.clear()
            return items


async def run_job(queue: JobQueue, job: Job) -> AsyncIterator[Chunk | Completion]:
    """Enqueue ``job`` and yield what the engine emits, up to its Completion.

    A full queue raises :class:`Overloaded` from the first iteration. Closing the
    iterator early (the client disconnected) marks the job cancelled and takes it out
    of the queue if it is still waiting, so it never holds a slot.
    """
    queue.put(job)
    try:
        while True:
            item = await job.out.get()
            if isinstance(item, BaseException):
                raise item
            yield item
            if isinstance(item, Completion):
                return
    finally:
        job.cancelled = True
        queue.discard(job)
