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
from typing import Any

SPINCOUNT = "100000"  # libgomp spins this many rounds at a barrier, then sleeps (a fraction of a ms)


def bounded_spin() -> None:
    """Make libgomp's threads spin briefly, then sleep. Before llama_cpp is first imported
    (libgomp reads it once, at load); an explicit OMP_WAIT_POLICY or GOMP_SPINCOUNT wins."""
    if "OMP_WAIT_POLICY" not in os.environ:
        os.environ.setdefault("GOMP_SPINCOUNT", SPINCOUNT)


class ThreadTuner:
    """Every ``period`` generating steps, try the other thread count for ``trial`` steps and
    keep it if its steps (of the same batch size) took less time; a trial that changes
    nothing doubles the period (up to ``max_period``), a switch resets it."""

    def __init__(self, ctx: Any, most: int, *, period: int = 16, trial: int = 4, max_period: int = 768) -> None:
        import llama_cpp

        self._set_threads = llama_cpp.llama_set_n_threads
        self.ctx = ctx
        self.choices = [most, 1] if most > 1 else [most]
        # One thread first: on busy cores it is several times faster than more, on quiet ones
        # a little slower; the first trial (of ``most``) comes after ``period`` steps.
        self.current = 1 if most > 1 else most
        self.trying: int | None = None
        self.base_period = self.period = period
        self.trial = trial
        self.max_period = max_period
        self.steps = 0
        self.switches = 0
        self.times: dict[tuple[int, int], deque[float]] = {}
        self._apply(self.current)

    @property
    def threads(self) -> int:
        return self.trying or self.current

    def observe(self, batch: int, seconds: float) -> None:
        """One generating step of ``batch`` sequences took ``seconds``."""
        if len(self.choices) < 2:
            return
        self.times.setdefault((self.threads, batch), deque(maxlen=self.trial)).append(seconds)
        self.steps += 1
        if self.trying is None:
            if self.steps >= self.period:
                self.trying = next(c for c in self.choices if c != self.current)
                self.steps = 0
                self._apply(self.trying)
            return
        if self.steps < self.trial:
            return
        mine, theirs = self.times.get((self.current, batch)), self.times.get((self.trying, batch))
        if mine and theirs and statistics.median(theirs) < 0.95 * statistics.median(mine):
            self.current = self.trying
            self.switches += 1
            self.period = self.base_period
        else:
            self.period = min(self.period * 2, self.max_period)
        self.trying = None
        self.steps = 0
        self._apply(self.current)

    def _apply(self, n: int) -> None:
        self._set_threads(self.ctx, n, n)
