"""How llama.cpp's threads wait, and how many of them decode: chosen by measurement.

The installed llama-cpp-python builds llama.cpp with OpenMP: ggml's threads meet at an
OpenMP barrier after every node of the graph (hundreds per token for a small model), and
wait there as libgomp's ``OMP_WAIT_POLICY`` / ``GOMP_SPINCOUNT`` say. Measured on a 2-core
machine (docs/benchmarks.md, ``bench/engine_threads.py``):

- sleeping at once (``PASSIVE``) pays a wake-up per node: about half the speed of spinning
  on quiet cores;
- spinning without end (``ACTIVE``) never lets an idle server sleep, and spinning of any
  length collapses (to a tenth) when another process takes one of the cores, because a
  thread that lost its core makes the other spin at every barrier;
- one thread has no barrier at all: steady whatever runs beside it.

So the engine spins for a bounded time (``GOMP_SPINCOUNT``, then sleeps: an idle server
uses no CPU), and a :class:`ThreadTuner` switches between ``n_threads`` and one thread
while generating, keeping whichever decodes faster now. The thread count does not change
llama.cpp's numbers (checked: the same logits), so texts do not depend on it.
"""

from __future__ import annotations

import os
import statistics
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SPINCOUNT = "100000"  # libgomp spins this many rounds at a barrier, then sleeps (a fraction of a ms)


def bounded_spin() -> None:
    """Make libgomp's threads spin briefly, then sleep. Before llama_cpp is first imported
    (libgomp reads it once, at load); an explicit OMP_WAIT_POLICY or GOMP_SPINCOUNT wins."""
    if "OMP_WAIT_POLICY" not in os.environ:
        os.environ.setdefault("GOMP_SPINCOUNT", SPINCOUNT)


# A trial step this much slower than the current count's steps (of the same batch size) ends
# its trial at once: on a busy core a trial of two threads takes 5-10 times as long, while
# on a quiet one a step varies by a third at most (a trial's first, which wakes a thread,
# by a quarter more: measured). Two steps in a row ABORT times as long end it too; one alone
# can be a hiccup (the event loop's thread taking a core for a moment), and a trial that
# loses clearly waits four times as long for the next.
ABORT_ONE = 4.0
ABORT = 2.0
# A trial whose steps took this much longer (median) than the current count's lost clearly.
CLEAR_LOSS = 1.3


@dataclass(eq=False)
class _Size:
    """The tuner's state for one range of batch sizes."""

    current: int
    period: int
    trying: int | None = None
    steps: int = 0
    fresh: bool = False  # the next step is a trial's first (its thread just woken: not timed)
    decided: bool = False  # a trial of its own has been judged (prompt ranges follow the generating ones until then)
    lost_clearly: bool = False  # its last trial was clearly slower (a busy core, if it tried more threads)
    slow: bool = False  # the trial's last step took ABORT times as long as the current count's

    @property
    def threads(self) -> int:
        return self.trying or self.current


class ThreadTuner:
    """Which thread count decodes faster, found while decoding, for each range of batch
    sizes (1, 2-3, 4-7, 8-15, ... sequences generating; prompt chunks by their tokens, in
    the same ranges). Measured on a 2-core machine, quiet: one sequence decodes about as
    fast on one thread as on two, sixteen nearly twice as fast on two, a prompt twice as
    fast; beside a busy process two threads took up to 10 times as long as one, to generate
    or to read a prompt (in a process whose event loop thread runs too).

    In each range: after ``first`` decodes, then every ``period``, try the other count for
    ``trial`` decodes and keep it if they took less time (generating: decodes of the same
    batch size; prompts: time per token). A trial that changes nothing doubles the period
    (up to ``max_period``), one that is clearly slower (``CLEAR_LOSS``) quadruples it and
    ends at its first decode that took ``ABORT_ONE`` times as long, or its second in a row
    that took ``ABORT`` times; a switch sets it back to
    ``period``; a trial that ends at a batch size the current count has no times for leaves
    it as it was. A trial's first decode is not timed (the thread it wakes costs a quarter
    more, measured). A range of generating steps seen for the first time starts on the
    count of the last one used (one thread at first: two beside a busy process is what
    costs most).

    A request's prompt chunk is never a trial: beside a busy process one chunk of 36 tokens
    on two threads took 1.4 s instead of 0.2 (a chat's turn waiting for it). A range of
    prompt chunks runs on the count of the largest batches generating (the most like a
    prompt chunk) until it has judged a trial of its own, and its trials run on ``spare``
    decodes only, those no request waits for (the batcher's settling of finished answers,
    while idle; a request arriving meanwhile waits for that chunk, so a trial of more
    threads is skipped while the largest batches generating just lost one clearly).

    The batcher calls :meth:`prepare` before each ``llama_decode`` and :meth:`observe`
    after it. ``set_threads(ctx, n, n_batch)`` is llama.cpp's ``llama_set_n_threads``
    unless given."""

    def __init__(self, ctx: Any, most: int, *, first: int = 4, period: int = 16, trial: int = 4,
                 max_period: int = 768, set_threads: Callable[[Any, int, int], Any] | None = None) -> None:
        if set_threads is None:
            import llama_cpp

            set_threads = llama_cpp.llama_set_n_threads
        self._set_threads = set_threads
        self.ctx = ctx
        self.most = most
        self.choices = [most, 1] if most > 1 else [most]
        self.first = first
        self.base_period = period
        self.trial = trial
        self.max_period = max_period
        self.sizes: dict[int, _Size] = {}  # by range: batch.bit_length(), negative for prompt chunks
        self.switches = 0
        self.trials = 0
        self.times: dict[tuple[int, int], deque[float]] = {}
        self.applied = 0
        self._last = 1 if most > 1 else most
        self._apply(self._last)

    @property
    def threads(self) -> int:
        return self.applied

    @staticmethod
    def _range(batch: int, prompt: bool) -> int:
        return -batch.bit_length() if prompt else batch.bit_length()

    def _size(self, batch: int, prompt: bool) -> _Size:
        key = self._range(batch, prompt)
        size = self.sizes.get(key)
        if size is None:
            size = self.sizes[key] = _Size(self._last, self.first)
        if prompt and not size.decided and size.trying is None:
            size.current = self._generating()
        return size

    def _largest(self) -> _Size | None:
        """The range of the largest batches generating seen so far (the most like a prompt chunk)."""
        key = max((k for k in self.sizes if k > 0), default=None)
        return None if key is None else self.sizes[key]

    def _generating(self) -> int:
        """The count of the largest batches generating (the last one used if none yet)."""
        gen = self._largest()
        return self._last if gen is None else gen.current

    def prepare(self, batch: int, *, prompt: bool = False, spare: bool = False) -> None:
        """Set the thread count for a decode of ``batch`` sequences generating (``prompt``:
        of a prompt chunk of ``batch`` tokens; ``spare``: a chunk no request waits for)."""
        if len(self.choices) < 2:
            return
        size = self._size(batch, prompt)
        if not prompt:
            self._last = size.current
        elif spare and size.trying is None and size.steps >= size.period:
            if self._busy(size):  # two threads just lost clearly while generating: not worth a slow chunk
                size.steps = 0
                size.period = min(size.period * 4, self.max_period)
            else:
                self._begin(size, self._range(batch, prompt))
        n = size.threads if spare or not prompt else size.current
        if n != self.applied:
            self._apply(n)

    def _busy(self, size: _Size) -> bool:
        """Would trying ``size``'s other count mean trying more threads where the largest
        batches generating just found them clearly slower?"""
        gen = self._largest()
        return gen is not None and size.current < self.most and gen.current < self.most and gen.lost_clearly

    def _begin(self, size: _Size, key: int) -> None:
        size.trying = next(c for c in self.choices if c != size.current)
        self.trials += 1
        self.times.pop((size.trying, key), None)  # judged on this trial's decodes only
        size.steps = 0
        size.fresh = True

    def observe(self, batch: int, seconds: float, *, prompt: bool = False, spare: bool = False) -> None:
        """The decode :meth:`prepare` was called for took ``seconds``."""
        if len(self.choices) < 2:
            return
        size = self._size(batch, prompt)
        key = self._range(batch, prompt) if prompt else batch  # prompts: compared per token within the range
        if prompt:
            seconds /= batch
            if size.trying is not None and not spare:  # a request's chunk ran on the current count
                self.times.setdefault((size.current, key), deque(maxlen=self.trial)).append(seconds)
                return
        mine = self.times.get((size.current, key))
        if size.trying is not None and mine:
            ratio = seconds / statistics.median(mine)
            if ratio > ABORT_ONE or (ratio > ABORT and size.slow):
                self._end(size, switch=False, clear=True)
                return
            size.slow = ratio > ABORT
        if size.fresh:  # a trial's first step wakes a thread: not timed
            size.fresh = False
            return
        self.times.setdefault((size.threads, key), deque(maxlen=self.trial)).append(seconds)
        size.steps += 1
        if size.trying is None:
            if size.steps >= size.period and not prompt:  # prompts: on a spare chunk (prepare)
                self._begin(size, key)
            return
        if size.steps < self.trial:
            return
        theirs = self.times.get((size.trying, key))
        if not (mine and theirs):  # the batch size changed: nothing to compare, try again as soon
            self._end(size, switch=False, known=False)
        else:
            ratio = statistics.median(theirs) / statistics.median(mine)
            self._end(size, switch=ratio < 0.95, clear=ratio > CLEAR_LOSS)

    def _end(self, size: _Size, *, switch: bool, clear: bool = False, known: bool = True) -> None:
        size.decided = size.decided or known
        size.lost_clearly = clear and not switch
        if switch:
            assert size.trying is not None
            size.current = size.trying
            self.switches += 1
            size.period = self.base_period
        elif known:
            size.period = min(size.period * (4 if clear else 2), self.max_period)
        size.trying = None
        size.steps = 0
        size.slow = False

    def _apply(self, n: int) -> None:
        self._set_threads(self.ctx, n, n)
        self.applied = n
