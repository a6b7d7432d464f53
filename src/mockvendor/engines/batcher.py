"""Continuous batching: one thread, one model, several sequence slots.

Each step decodes the next token of every sequence that is generating (one batch,
one token per sequence), then up to ``prompt_chunk`` tokens of the prompts still
waiting to be read, first come first served, and samples one token for every
sequence whose logits came out. Requests are admitted first-in first-out as slots
free up; a cancelled request's slot and KV cells are freed at the next step.

Same seed, same text, whatever else runs: each sequence has its own KV stream and
its own sampler (with, for structured output, its own grammar state: see
:class:`~.llama_native.Grammar`), and a prompt is cut into chunks at fixed offsets
(multiples of ``prompt_chunk``), each decoded the same way whatever its neighbours.
A structured answer ends as soon as its JSON is complete.
"""

from __future__ import annotations

import heapq
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidRequest, Unavailable
from ..types import Chunk, Completion, Usage
from .jobs import Job, JobQueue
from .llama_native import Grammar, NativeModel, Sampler
from .logprobs import Tracker
from .sampling import Defaults, Sampling
from .textstream import StopText


@dataclass(eq=False)
class Slot:
    """A sequence in the context, and the request it is serving."""

    seq: int
    job: Job
    sampler: Sampler
    max_tokens: int
    stop: StopText
    pos: int = 0  # tokens of this sequence already in the KV cache
    pending: int | None = None  # the last sampled token, to be decoded next step
    index: int = -1  # where this sequence's logits are in the batch just decoded
    n_out: int = 0
    t_start: float = field(default_factory=time.perf_counter)
    logprobs: Tracker | None = None  # only when the request asks for them

    @property
    def prefilling(self) -> bool:
        return self.pos < len(self.job.ids)


class Batcher:
    """The engine thread's loop. Owns ``model``; talks to requests only through jobs."""

    def __init__(
        self,
        model: NativeModel,
        queue: JobQueue,
        *,
        slots: int,
        prompt_chunk: int,
        context_window: int,
        defaults: Defaults,
    ) -> None:
        self.model = model
        self.queue = queue
        self.n_slots = slots
        self.prompt_chunk = prompt_chunk
        self.context_window = context_window
        self.defaults = defaults
        # A min-heap: a new request takes the lowest free sequence id (see _step).
        self.free_seqs = list(range(slots))
        self.active: list[Slot] = []  # admission order: prompt chunks go first-come first-served
        self.completed = 0
        self.decodes = 0
        # Generating steps, and the micro-batches llama.cpp cut them into (a run of
        # consecutive sequence ids each): equal when every step was a single pass.
        self.generate_steps = 0
        self.generate_passes = 0
        self.stopping = False

    # -- the loop ---------------------------------------------------------------------
    def run(self) -> None:
        """Serve until :meth:`stop` (then fail whatever is still in flight)."""
        while not self.stopping:
            self._reap_cancelled()
            self._admit(wait=not self.active)
            if not self.active:
                continue
            try:
                self._step()
            except Exception as e:  # a llama.cpp failure: fail this batch, keep serving
                self._fail_all(Unavailable(f"The local model failed: {type(e).__name__}: {e}"))
        self._fail_all(Unavailable("The model is shutting down."))
        for job in self.queue.drain():
            job.emit(Unavailable("The model is shutting down."))

    def stop(self) -> None:
        self.stopping = True
        self.queue.close()

    def _admit(self, *, wait: bool) -> None:
        while self.free_seqs and not self.stopping:
            job = self.queue.pop(wait=wait)
            if job is None:
                return
            wait = False
            if not job.ids:  # nothing to decode: it would hold its slot forever
                job.emit(InvalidRequest("The prompt is empty.", param="prompt"))
                continue
            try:
                self.active.append(self._slot_for(job))
            except InvalidRequest as e:
                job.emit(e)

    def _slot_for(self, job: Job) -> Slot:
        sp = Sampling.of(job.req, self.defaults, self.context_window - len(job.ids))
        grammar = None
        if job.grammar is not None:
            try:
                grammar = Grammar(self.model, job.grammar)
            except ValueError as e:
                raise InvalidRequest(f"The response format's grammar was refused: {e}.", param="response_format") from e
        sampler = Sampler(temperature=sp.temperature, top_k=sp.top_k, top_p=sp.top_p, min_p=sp.min_p, seed=sp.seed,
                          grammar=grammar, presence=sp.presence_penalty, frequency=sp.frequency_penalty,
                          logit_bias=sp.logit_bias, n_vocab=self.model.n_vocab)
        lp = None if job.req.logprobs is None else Tracker(job.req.logprobs)
        return Slot(heapq.heappop(self.free_seqs), job, sampler, sp.max_tokens, StopText(job.req.stop), logprobs=lp)

    def _step(self) -> None:
        """Decode one token for every generating sequence, then the next prompt chunks.

        Each prompt chunk gets a llama_decode call of its own: llama.cpp splits a mixed
        batch into micro-batches by sequence anyway, but would cut a chunk differently
        depending on its neighbours, and a different cut changes the floating-point
        results, hence the sampled text. Alone, a chunk is always computed the same way.

        The generating tokens go in by increasing sequence id: with one KV stream per
        sequence, llama.cpp puts into one micro-batch only sequences whose ids follow
        each other in batch order, and every micro-batch is a pass over all the weights.
        In id order, and with the lowest free id given to each new request, the step is
        one pass whenever the busy ids are 0..n-1 (always, under steady load).
        """
        m = self.model
        m.clear_batch()
        generating = []
        for s in sorted(self.active, key=lambda s: s.seq):
            if s.pending is not None:
                s.index = m.add(s.pending, s.pos, s.seq, True)
                s.pos += 1
                s.pending = None
                generating.append(s)
        if generating:
            self.generate_steps += 1
            self.generate_passes += 1 + sum(b.seq != a.seq + 1 for a, b in itertools.pairwise(generating))
            self._decode()
            for s in generating:
                self._advance(s, s.sampler.sample(m, s.index))
        budget = self.prompt_chunk
        for s in [s for s in self.active if s.prefilling]:
            ids = s.job.ids
            end = min(s.pos + self.prompt_chunk, len(ids))
            if end - s.pos > budget:
                break  # whole chunks only, so chunk boundaries never depend on neighbours
            budget -= end - s.pos
            m.clear_batch()
            for p in range(s.pos, end):
                s.index = m.add(ids[p], p, s.seq, p == len(ids) - 1)
            s.pos = end
            self._decode()
            if end == len(ids):
                self._advance(s, s.sampler.sample(m, s.index))
            if budget == 0:
                break

    def _decode(self) -> None:
        rc = self.model.decode()
        self.decodes += 1
        if rc != 0:
            raise RuntimeError(f"llama_decode returned {rc}")

    def _advance(self, s: Slot, token: int) -> None:
        """Account for one sampled token: stream its text or finish the request."""
        if self.model.is_eog(token):
            self._finish(s, "stop")
            return
        s.n_out += 1
        if s.logprobs is not None:  # the logits at s.index are still this step's
            s.logprobs.record(self.model, s.index, token)
        text = s.stop.feed(self.model.piece(token))
        if text:
            s.job.emit(Chunk(text, logprobs=s.logprobs and s.logprobs.take(text)))
        grammar = s.sampler.grammar
        if s.stop.stopped_by is not None:
            self._finish(s, "stop_sequence")
        elif grammar is not None and grammar.complete():
            # The JSON is whole: only end-of-generation could follow, so end without decoding it.
            self._finish(s, "stop")
        elif s.n_out >= s.max_tokens:
            self._finish(s, "length")
        else:
            s.pending = token

    def _finish(self, s: Slot, finish: str) -> None:
        tail = s.stop.finish()
        lp = s.logprobs and s.logprobs.take(tail, rest=s.stop.stopped_by is None)
        if tail or lp:
            s.job.emit(Chunk(tail, logprobs=lp))
        done = Completion(
            s.stop.text,
            Usage(len(s.job.ids), s.n_out),
            finish,
            s.stop.stopped_by,
            (time.perf_counter() - s.t_start) * 1000,
            s.job.req.model,
            logprobs=s.logprobs and s.logprobs.all(),
        )
        # Free the slot and count first, so whoever sees the Completion sees the stats too.
        self._release(s)
        self.completed += 1
        s.job.emit(done)

    def _release(self, s: Slot) -> None:
        self.active.remove(s)
        self.model.forget(s.seq)
        s.sampler.close()
        heapq.heappush(self.free_seqs, s.seq)

    def _reap_cancelled(self) -> None:
        for s in [s for s in self.active if s.job.cancelled]:
            self._release(s)

    def _fail_all(self, err: Exception) -> None:
        for s in list(self.active):
            s.job.emit(err)
            self._release(s)

    def stats(self) -> dict[str, Any]:
        return {
            "active": len(self.active),
            "slots": self.n_slots,
            "completed": self.completed,
            "decodes": self.decodes,
            "generate_steps": self.generate_steps,
            "generate_passes": self.generate_passes,
        }
