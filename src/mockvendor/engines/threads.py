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
while generating, keeping whichever decodes faster now. A :class:`CpuWatch` tells it what
other processes leave free, so that it tries only what is likely to win. The thread count
does not change llama.cpp's numbers (checked: the same logits), so texts do not depend on it.
"""

from __future__ import annotations

import os
import statistics
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SPINCOUNT = "100000"  # libgomp spins this many rounds at a barrier, then sleeps (a fraction of a ms)
WINDOW = 0.5  # seconds: the shortest span over which CpuWatch judges what other processes use
FIRST_WINDOW = 0.2  # ... and for its first judgement (10 ms ticks: about 0.1 CPU either way)


def bounded_spin() -> None:
    """Make libgomp's threads spin briefly, then sleep. Before llama_cpp is first imported
    (libgomp reads it once, at load); an explicit OMP_WAIT_POLICY or GOMP_SPINCOUNT wins."""
    if "OMP_WAIT_POLICY" not in os.environ:
        os.environ.setdefault("GOMP_SPINCOUNT", SPINCOUNT)


class CpuWatch:
    """How many of this process's CPUs other processes left free lately: the CPUs' busy time
    in ``/proc/stat`` minus this process's own CPU time, over the last span of at least
    ``WINDOW`` seconds. Measured on our 2-core machine: 1.9-2.0 free on a quiet machine
    whatever the engine does, about 1 beside a process spinning on one core. A thread
    trial costs up to 4 steps at half speed (a quiet machine trying one thread at 16
    sequences) or at a quarter (a busy one trying two): :class:`ThreadTuner` tries only
    what this makes likely to win."""

    def __init__(self, stat: str = "/proc/stat") -> None:
        self.cpus = {f"cpu{i}".encode() for i in os.sched_getaffinity(0)}
        self._fd = os.open(stat, os.O_RDONLY)
        self._tick = os.sysconf("SC_CLK_TCK")
        self._last = self._sample()
        self.free: float | None = None

    @classmethod
    def open(cls, stat: str = "/proc/stat") -> CpuWatch | None:
        """A watch, or None where ``stat`` cannot be read or has no line for our CPUs (the
        tuner then tries on schedule): not Linux (no ``os.sched_getaffinity``), no procfs."""
        try:
            watch = cls(stat)
        except (OSError, ValueError, IndexError, AttributeError):
            return None
        if watch._last[1] > 0:
            return watch
        watch.close()
        return None

    def _sample(self) -> tuple[float, float, float]:
        """(now, busy seconds of our CPUs, this process's CPU seconds)."""
        busy = 0
        for line in os.pread(self._fd, 1 << 16, 0).split(b"\n"):
            name, _, rest = line.partition(b" ")
            if name in self.cpus:  # user nice system idle iowait irq softirq steal ...
                f = [int(x) for x in rest.split()]
                busy += sum(f[:8]) - f[3] - f[4]
        return time.monotonic(), busy / self._tick, time.process_time()

    def room(self) -> float | None:
        """CPUs other processes left free over the last span of at least WINDOW seconds
        (FIRST_WINDOW for the first; None until it has passed)."""
        now = time.monotonic()
        if now - self._last[0] >= (WINDOW if self.free is not None else FIRST_WINDOW):
            try:
                sample = self._sample()
            except (OSError, ValueError, IndexError):
                return self.free
            (t0, busy0, mine0), (t1, busy1, mine1) = self._last, sample
            others = max(0.0, (busy1 - busy0) - (mine1 - mine0)) / (t1 - t0)
            self.free = max(0.0, len(self.cpus) - others)
            self._last = sample
        return self.free

    def close(self) -> None:
        os.close(self._fd)


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
    quiet: bool | None = None  # whether the machine was quiet when it last judged a trial (None: unknown)

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
    it as it was. The first decode of a trial of more threads is not timed (the thread it
    wakes costs a quarter more, measured).

    With ``room`` (a :meth:`CpuWatch.room`: the CPUs other processes left free lately),
    a trial is made only if likely to win: fewer threads while others take room from ours,
    more while all of ours have room (others are counted in ``skipped``); and once the
    machine has changed since a range's last judgement, its next trial comes after
    ``first`` steps, not its period. Measured idle, 16 requests of 64 tokens at once: a trial of
    one thread ran 5 steps at 128 ms instead of 68, 0.3 s of a run of 5. A range seen for
    the first time starts on every thread if there is room, else on one. Without ``room``
    (not known) it starts on the count of the last one used (one thread at first: two beside
    a busy process is what costs most) and trials follow the schedule.

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
                 max_period: int = 768, set_threads: Callable[[Any, int, int], Any] | None = None,
                 room: Callable[[], float | None] | None = None) -> None:
        if set_threads is None:
            import llama_cpp

            set_threads = llama_cpp.llama_set_n_threads
        self._set_threads = set_threads
        self.room = room
        self.skipped = 0  # trials not made: the machine made them unlikely to win
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
            size = self.sizes[key] = _Size(self._start(), self.first)
        if prompt and not size.decided and size.trying is None:
            size.current = self._generating()
        return size

    def _quiet(self) -> bool | None:
        """Whether other processes left room for all our threads lately (None: not watched)."""
        room = self.room() if self.room is not None else None
        return None if room is None else room >= self.most - 0.5

    def _due(self, size: _Size) -> bool:
        """Is a trial of ``size``'s other count worth making now? On schedule (``period``
        steps), or ``first`` steps after the machine changed since its last judgement; but
        where the machine is watched, only one likely to win: fewer threads while something
        else takes room, more while there is room. A trial not worth making waits another
        period."""
        if size.steps < self.first:  # never sooner (the period is at least that): no need to look
            return False
        q = self._quiet()
        if q is None:
            return size.steps >= size.period
        if size.steps < (self.first if size.quiet is not None and q != size.quiet else size.period):
            return False
        if q == (size.current < self.most):
            return True
        self.skipped += 1
        size.steps = 0
        size.quiet = q
        return False

    def _largest(self) -> _Size | None:
        """The range of the largest batches generating seen so far (the most like a prompt chunk)."""
        key = max((k for k in self.sizes if k > 0), default=None)
        return None if key is None else self.sizes[key]

    def _generating(self) -> int:
        """The count of the largest batches generating (if none yet: where a new range starts)."""
        gen = self._largest()
        return self._start() if gen is None else gen.current

    def _start(self) -> int:
        """Where a range seen for the first time starts: on every thread if other processes
        leave room for them, on one if not, on the count last used if that is not known."""
        q = self._quiet()
        return self._last if q is None else self.most if q else 1

    def prepare(self, batch: int, *, prompt: bool = False, spare: bool = False) -> None:
        """Set the thread count for a decode of ``batch`` sequences generating (``prompt``:
        of a prompt chunk of ``batch`` tokens; ``spare``: a chunk no request waits for)."""
        if len(self.choices) < 2:
            return
        size = self._size(batch, prompt)
        if not prompt:
            self._last = size.current
        elif spare and size.trying is None and self._due(size):
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
        size.fresh = size.trying > size.current  # a thread to wake: its first step is not timed

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
            if not prompt and self._due(size):  # prompts: on a spare chunk (prepare)
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
        size.quiet = self._quiet()
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
