"""The thread tuner's decisions (``engines.threads.ThreadTuner``), driven by step times given
here, and the engine applying them to llama.cpp.

The times stand for a machine: ``quiet`` (two threads faster at large batches and on prompts, no better at one
sequence) and ``busy`` (two threads several times slower: a thread that lost its core makes
the other wait at every barrier), as measured on our 2-core machine (docs/benchmarks.md,
Threads).
"""

from __future__ import annotations

from typing import Any

import llama_cpp
import pytest

from mockvendor.engines import build, generate
from mockvendor.engines.threads import ThreadTuner
from mockvendor.types import GenerateRequest, Message

from .conftest import make_settings


def quiet(threads: int, batch: int, prompt: bool) -> float:
    if prompt:
        return batch * (0.0055 if threads == 1 else 0.003)  # nearly 2x on two threads, per token
    one = 0.012 + 0.0075 * (batch - 1)
    return one if threads == 1 or batch == 1 else one * 0.57


def busy(threads: int, batch: int, prompt: bool) -> float:
    one = quiet(1, batch, prompt)
    return one if threads == 1 else one * 6


class Machine:
    """Runs decodes as the batcher does (prepare, decode, observe) and keeps what happened."""

    def __init__(self, times: Any, most: int = 2, **kw: Any) -> None:
        self.applied: list[tuple[int, int]] = []
        self.tuner = ThreadTuner("ctx", most, set_threads=self._set, **kw)
        self.times = times
        self.spent = 0.0
        self.runs: list[int] = []  # the thread count of each decode

    def _set(self, ctx: Any, n: int, n_batch: int) -> None:
        assert ctx == "ctx"
        self.applied.append((n, n_batch))

    def decode(self, batch: int, steps: int = 1, *, prompt: bool = False, spare: bool = False) -> None:
        for _ in range(steps):
            self.tuner.prepare(batch, prompt=prompt, spare=spare)
            n = self.applied[-1][0]
            self.runs.append(n)
            t = self.times(n, batch, prompt)
            self.spent += t
            self.tuner.observe(batch, t, prompt=prompt, spare=spare)


def test_generating_starts_on_one_thread_and_takes_two_after_a_short_trial_where_two_are_faster() -> None:
    m = Machine(quiet)
    assert m.applied == [(1, 1)]  # from the start, before any decode
    m.decode(16, 4)
    assert m.runs == [1, 1, 1, 1]
    m.decode(16, 5)  # the trial: its first decode wakes the thread (not timed), then four timed
    assert m.runs[4:] == [2] * 5
    assert m.tuner.switches == 1 and m.tuner.threads == 2
    m.decode(16, 16)
    assert m.runs[9:25] == [2] * 16  # the next trial (of one thread) after the base period
    m.decode(16, 5)
    assert m.runs[25:] == [1] * 4 + [2]  # four timed steps (no thread to wake), clearly slower (1.75x)
    m.decode(16, 62)
    assert m.runs[30:] == [2] * 62  # the period quadrupled
    assert m.tuner.trials == 2 and m.tuner.switches == 1


def test_beside_a_busy_process_a_trial_of_two_threads_ends_at_its_first_slow_step() -> None:
    m = Machine(busy)
    m.decode(8, 200)
    trial_steps = sum(n == 2 for n in m.runs)
    # Trials after 4, then 16 and 64 steps, each ended at its first step (six times as long:
    # more than waking a thread or any noise explains); the next would come after 256.
    assert m.tuner.switches == 0 and m.tuner.threads == 1
    assert m.tuner.trials == 3 and trial_steps == 3
    assert m.spent < 1.1 * 200 * busy(1, 8, False)


def test_each_batch_size_range_keeps_its_own_choice() -> None:
    m = Machine(quiet)
    m.decode(1, 40)  # one sequence: two threads are no faster, so it stays on one
    assert m.tuner.switches == 0 and m.tuner.trials >= 2
    m.decode(16, 20)  # sixteen: a range of its own, starting on the last count used (1)
    assert m.runs[40:44] == [1] * 4
    assert m.tuner.switches == 1
    m.decode(1, 1)
    assert m.tuner.sizes[1].current == 1 and m.tuner.sizes[5].current == 2
    m.decode(16, 1)
    m.decode(9, 1)  # 8-15 is another range: it starts on the count of the last range used
    assert m.tuner.sizes[4].current == 2 and m.runs[-1] == 2


def test_prompt_chunks_run_on_the_count_of_the_largest_batches_and_try_on_spare_chunks_only() -> None:
    m = Machine(quiet)
    m.decode(1, 3)  # one sequence generating, on one thread
    m.decode(16, 9)  # sixteen: two threads after a trial
    m.decode(1, 1)
    sizes = [40, 33, 60, 48, 35, 50, 62, 44, 39, 57]  # one range (32-63 tokens), different sizes
    for n in sizes:
        m.decode(n, prompt=True)  # requests' prompts: never a trial
    assert m.runs[13:] == [2] * 10  # like sixteen sequences, not like the last batch (one)
    trials = m.tuner.trials
    for n in sizes:
        m.decode(n, prompt=True, spare=True)  # settling: a trial of one thread, lost (per token)
    assert m.runs[23:] == [1] * 4 + [2] * 6  # four timed chunks (no thread to wake)
    assert m.tuner.trials == trials + 1 and m.tuner.switches == 1 and m.tuner.sizes[-6].decided


def test_beside_a_busy_process_no_request_waits_for_a_prompt_trial() -> None:
    b = Machine(busy)
    for n in [40, 33, 60, 48, 35, 50, 62, 44, 39, 57]:
        b.decode(n, prompt=True)
    assert b.runs == [1] * 10 and b.tuner.trials == 0  # nothing generated yet: one thread, and no trial
    b.decode(40, 2, prompt=True, spare=True)  # the trial is due: the first spare chunk runs it
    assert b.runs[10:] == [2, 1] and b.tuner.trials == 1  # and it ended at once (six times as long)
    b.decode(40, 3, prompt=True)
    assert b.runs[12:] == [1] * 3
    g = Machine(busy)
    g.decode(1, 6)  # generating: a trial of two threads, lost clearly
    assert g.runs == [1] * 4 + [2, 1] and g.tuner.sizes[1].lost_clearly
    g.decode(40, 5, prompt=True)
    g.decode(40, 3, prompt=True, spare=True)  # due, but not tried: two threads just lost clearly
    assert g.runs[6:] == [1] * 8 and g.tuner.trials == 1


def test_a_prompt_range_follows_the_generating_ones_until_it_has_judged_a_trial() -> None:
    m = Machine(quiet)
    m.decode(40, prompt=True)
    m.decode(16, 12)  # sixteen sequences: one thread, then two after a trial
    m.decode(40, prompt=True)
    assert m.runs[0] == 1 and m.runs[-1] == 2


def test_a_trial_that_ends_on_a_batch_size_without_times_tries_again_as_soon() -> None:
    m = Machine(quiet)
    m.decode(4, 4)  # the range 4-7 on one thread
    m.decode(5, 5)  # the trial ends at batch 5: one thread has no times for it
    assert m.tuner.switches == 0 and m.tuner.trials == 1
    m.decode(5, 4)
    assert m.tuner.trials == 2  # after `first` steps again, not a doubled period


def test_one_thread_configured_means_nothing_to_tune() -> None:
    m = Machine(quiet, most=1)
    m.decode(16, 50)
    m.decode(100, 3, prompt=True)
    assert set(m.runs) == {1} and m.tuner.trials == 0 and m.applied == [(1, 1)]


async def test_the_engine_runs_llama_cpp_on_the_tuners_thread_count() -> None:
    eng = build("llamacpp", make_settings(seed=7, n_threads=2, n_ctx=256), {"slots": 2})
    await eng.start()
    try:
        req = GenerateRequest("smollm2", [Message("user", "Count from one to twenty.")], max_tokens=24,
                              temperature=0)
        await generate(eng, req)
        stats = eng.stats()
        # a trial after the first four steps (or, where the machine is watched, one skipped)
        assert stats["thread_trials"] + stats["thread_trials_skipped"] >= 1
        ctx = eng._batcher.model.ctx
        assert llama_cpp.llama_n_threads(ctx) == stats["threads_now"]
        assert llama_cpp.llama_n_threads_batch(ctx) == stats["threads_now"]
    finally:
        await eng.aclose()


def test_one_noisy_step_does_not_end_a_trial() -> None:
    calls = {"n": 0}

    def noisy(threads: int, batch: int, prompt: bool) -> float:
        calls["n"] += 1
        t = 0.010 if threads == 1 else 0.008
        return t * 1.6 if calls["n"] == 7 else t  # the trial's second (first timed) step

    m = Machine(noisy)
    m.decode(1, 10)
    assert m.runs == [1] * 4 + [2] * 6
    assert m.tuner.switches == 1  # the median of its four timed steps still won


def test_one_hiccup_does_not_end_a_trial_but_two_slow_steps_in_a_row_do() -> None:
    calls = {"n": 0}

    def hiccup(threads: int, batch: int, prompt: bool) -> float:
        calls["n"] += 1
        t = 0.012 if threads == 1 else 0.0075
        return 0.036 if calls["n"] == 7 else t  # the trial's second step: three times one thread's

    m = Machine(hiccup)
    m.decode(1, 10)
    assert m.runs == [1] * 4 + [2] * 6 and m.tuner.switches == 1  # the trial went on, and won

    def stalls(threads: int, batch: int, prompt: bool) -> float:
        return 0.012 if threads == 1 else 0.030  # two threads two and a half times as slow

    s = Machine(stalls)
    s.decode(1, 8)
    assert s.runs == [1] * 4 + [2, 2] + [1] * 2  # ended at its second slow step
    assert s.tuner.switches == 0 and s.tuner.sizes[1].lost_clearly and s.tuner.sizes[1].period == 16


class Room:
    """What a CpuWatch would say: the CPUs other processes leave free (None: not known)."""

    def __init__(self, free: float | None) -> None:
        self.free = free

    def __call__(self) -> float | None:
        return self.free


def test_on_a_quiet_machine_ranges_start_on_every_thread_and_never_try_fewer() -> None:
    m = Machine(quiet, room=Room(2.0))
    m.decode(40, prompt=True)  # the first request's prompt, before anything generates
    m.decode(16, 200)
    m.decode(1, 50)
    m.decode(40, 3, prompt=True)
    m.decode(40, 12, prompt=True, spare=True)
    assert set(m.runs) == {2} and m.tuner.trials == 0 and m.tuner.skipped > 0


def test_beside_a_busy_process_ranges_start_on_one_thread_and_never_try_more() -> None:
    m = Machine(busy, room=Room(1.0))
    m.decode(40, prompt=True)
    m.decode(8, 200)
    m.decode(40, 12, prompt=True, spare=True)
    assert set(m.runs) == {1} and m.tuner.trials == 0 and m.tuner.skipped > 0
    assert m.spent == pytest.approx(200 * busy(1, 8, False) + 13 * busy(1, 40, True))


def test_when_the_machine_changes_a_trial_comes_within_first_steps() -> None:
    room = Room(2.0)
    state = {"times": quiet}
    m = Machine(lambda *a: state["times"](*a), room=room)
    m.decode(16, 100)
    assert set(m.runs) == {2}
    room.free, state["times"] = 1.0, busy  # a process takes a core
    m.decode(16, 12)
    assert m.runs[100:108] == [2] * 4 + [1] * 4 and m.tuner.switches == 1  # four slow steps, then a trial that won
    assert m.runs[108:] == [1] * 4
    room.free, state["times"] = 2.0, quiet  # it ended
    m.decode(16, 20)
    assert m.tuner.switches == 2 and m.runs[-5:] == [2] * 5
    # four steps on one thread since its last trial: the next one is a trial, its first step
    # waking the thread (not timed)
    assert m.runs[112:118] == [1] + [2] * 5


def test_the_cpu_watch_counts_other_processes_not_this_one() -> None:
    import subprocess
    import sys
    import time

    from mockvendor.engines.threads import WINDOW, CpuWatch

    watch = CpuWatch.open()
    assert watch is not None  # Linux: /proc/stat is readable
    try:
        time.sleep(WINDOW + 0.1)
        before = watch.room()
        end = time.monotonic() + WINDOW + 0.1
        while time.monotonic() < end:  # this process on one CPU: not counted
            pass
        mine = watch.room()
        spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            time.sleep(WINDOW + 0.1)
            watch.room()  # a window partly before it started
            time.sleep(WINDOW + 0.1)
            theirs = watch.room()
        finally:
            spinner.kill()
            spinner.wait()
        assert before is not None and mine is not None and theirs is not None
        assert mine > before - 0.35, (before, mine)
        assert theirs < mine - 0.6, (mine, theirs)  # another process on a CPU of ours: about one less
    finally:
        watch.close()


def test_without_a_readable_proc_stat_there_is_no_watch(tmp_path: Any) -> None:
    from mockvendor.engines.threads import CpuWatch

    assert CpuWatch.open(str(tmp_path / "missing")) is None
    empty = tmp_path / "stat"
    empty.write_text("intr 0\n")  # no line for our CPUs: nothing to measure
    assert CpuWatch.open(str(empty)) is None
