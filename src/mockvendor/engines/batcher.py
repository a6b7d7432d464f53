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

Prompts waiting together are prefilled together: one ``llama_decode`` holds an equal
chunk of each (llama.cpp cuts a batch of several sequences into micro-batches of an
equal number of tokens per sequence, so equal chunks keep every sequence's cut its
own). Measured on the embedded model, a token's numbers do not depend on the chunk it
is computed in or on its neighbours, except in a chunk of one token (other kernels):
no prompt chunk is ever one token long, unless the whole prompt is.

Prefix cache: a finished request leaves its KV in its sequence; a new request whose
prompt starts the same way (a shared system prompt, the earlier turns of a chat) starts
from there, in that sequence or in a copy of it (only the cells it uses, through the
sequence state: ``NativeModel.copy_seq``), and only its
new tokens are computed. Only KV computed in prompt chunks is reused, so that the text
is the same as without the cache: an answer's tokens, decoded one at a time, are
recomputed as one chunk while the engine is idle ("settled"), ready for the next turn.
The count of reused tokens is the Usage's ``cached_tokens``.

A failure inside this thread (a llama.cpp error, a ctypes error while sampling) fails
the requests it touches with an error the vendor renders in its own shape, and the loop
goes on serving the others.
"""

from __future__ import annotations

import heapq
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidRequest, MockVendorError, Unavailable
from ..types import Chunk, Completion, Usage
from .jobs import Job, JobQueue, Outbox
from .llama_native import Grammar, NativeModel, Sampler
from .logprobs import Tracker
from .sampling import Defaults, Sampling
from .textstream import StopText
from .threads import CpuWatch, ThreadTuner

# llama.cpp computes a batch of one token with other kernels than a longer one (measured:
# logits up to 0.35 apart), so prompt chunks are never shorter than this.
MIN_CHUNK = 2
# A new request starts from another sequence's KV (a copy) only when they share this many
# tokens: a copy costs little (about 0.01 ms a cell used by the source, against 3-4 ms a
# prompt token computed), but a shorter match is mostly the chat template's opening, and a
# free sequence holding another conversation is not given up for that (see _pick_seq).
COPY_MIN = 16
# A request waits for one still prefilling to read an opening they share (and copies it)
# when that saves it at least this many prompt tokens: about 3.7 ms each, against a decode
# call of its own for the rest (about 8 ms more). Arrivals of a templated prompt (the same
# system prompt and the same first words) compute those words once instead of once each.
SHARE_MIN = 4
# An answer is settled (see below) once the engine has been idle this long, SETTLE_CHUNK
# tokens a decode, so that a request arriving meanwhile waits for one small chunk at most.
SETTLE_AFTER = 0.2
SETTLE_CHUNK = 32
# A gap of up to this many ids between generating sequences is filled with a token each
# (decoded into that sequence's stream, then forgotten) so that the step stays one pass:
# measured at 16 sequences, a pass costs about 12 ms more and a token about 5 ms (15
# sequences with one gap 87.4 ms, filled 82.6; three single gaps 96.2 ms, filled 80.7).
# The other sequences' logits are bit for bit those of the step without the filler.
FILL_MAX = 2


def engine_error(e: BaseException) -> MockVendorError:
    """What a request sees when the engine thread failed while serving it."""
    if isinstance(e, MockVendorError):
        return e
    return Unavailable(f"The local model failed while generating this answer ({type(e).__name__}: {e}). "
                       "Other requests are not affected; retry.")


class DebugFault(RuntimeError):
    """Raised inside the engine thread on purpose (``engine_fault_text``), to exercise its failure path."""


@dataclass
class Kept:
    """What a free sequence's KV still holds (prefix cache): ``tokens``, of which the first
    ``exact`` were computed in prompt chunks (the rest, an answer, still to be settled)."""

    tokens: list[int]
    exact: int
    used: float = field(default_factory=time.monotonic)  # when its request ended (the oldest goes first)


def common_prefix(a: list[int], b: list[int], limit: int) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if n >= limit or x != y:
            break
        n += 1
    return n


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
    cached: int = 0  # prompt tokens whose KV came from the prefix cache
    generated: list[int] = field(default_factory=list)  # sampled tokens (the answer), in order
    fault: bool = False  # a debug fault: sampling raises (engine_fault_text)
    # Waiting for another request's prefill to reach a prefix both prompts share: (that
    # slot, the prefix's length). Arrivals with the same opening compute it once.
    leader: tuple[Slot, int] | None = None
    logprobs: Tracker | None = None  # only when the request asks for them

    @property
    def prefilling(self) -> bool:
        return self.pos < len(self.job.ids)

    @property
    def remaining(self) -> int:
        """Prompt tokens still to be prefilled."""
        return len(self.job.ids) - self.pos

    @property
    def prefilled(self) -> int:
        """Leading tokens of this sequence's KV computed in prompt chunks (reusable as they are)."""
        n = len(self.job.ids)
        return min(self.pos, n) if n >= MIN_CHUNK else 0

    def kv_tokens(self) -> list[int]:
        """The tokens this sequence's KV holds, in order."""
        n = len(self.job.ids)
        return self.job.ids[: min(self.pos, n)] + self.generated[: max(0, self.pos - n)]


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
        prefix_cache: bool = True,
        fault_text: str = "",
        prefill_together: bool = True,
        n_threads: int = 1,
        tune_threads: bool = True,
        watch: CpuWatch | None = None,
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
        self.filler_tokens = 0  # tokens decoded in gaps between generating ids (see FILL_MAX)
        self.stopping = False
        self.prefix_cache = prefix_cache
        self.fault_text = fault_text
        self.prefill_together = prefill_together  # off: one prompt per llama_decode (to compare)
        self.watch = watch  # the tuner's view of other processes (None: it tries on schedule); closed at the end
        self.tuner = ThreadTuner(model.ctx, n_threads, room=watch and watch.room) if tune_threads else None
        self.kept: dict[int, Kept] = {}  # free sequence id -> what its KV still holds
        # Sequences whose KV stream has held cells: the first write into a stream costs 10-85 ms
        # of page faults (see NativeModel.copy_seq), so a cached conversation moves to one of
        # these first, and a stream takes memory only once fewer would not do.
        self.warm: set[int] = set()
        self.cached_tokens = 0  # prompt tokens reused from the prefix cache, by the requests completed
        self.kv_copies = 0
        self.kv_copied_bytes = 0
        self.settled_tokens = 0
        self.prefill_decodes = 0
        self.prefill_sequences = 0  # sequences in those decodes (more than decodes: prefilled together)
        self.failures = 0
        self._settling = False
        self.out = Outbox()  # what a step emits, handed to the event loop at its end

    # -- the loop ---------------------------------------------------------------------
    def run(self) -> None:
        """Serve until :meth:`stop` (then fail whatever is still in flight)."""
        while not self.stopping:
            try:
                self._reap_cancelled()
                unsettled = not self.active and self._unsettled()
                if not unsettled:
                    self._admit(wait=not self.active)
                elif self._settling:
                    self._admit(wait=False)
                else:  # settle only once no request came for a while (a chat's reader reading)
                    self._admit(wait=True, timeout=SETTLE_AFTER)
                    self._settling = True
                if self.active:
                    self._settling = False
                    self._step()
                elif unsettled:
                    self._settle()
            except Exception as e:  # a llama.cpp failure: fail this batch, keep serving
                self._fail_all(engine_error(e))
            finally:
                self.out.flush()
        self._fail_all(Unavailable("The model is shutting down."))
        self.out.flush()
        for job in self.queue.drain():
            job.emit(Unavailable("The model is shutting down."))
        if self.watch is not None:
            self.watch.close()

    def stop(self) -> None:
        self.stopping = True
        self.queue.close()

    def _admit(self, *, wait: bool, timeout: float | None = None) -> None:
        while self.free_seqs and not self.stopping:
            job = self.queue.pop(wait=wait, timeout=timeout)
            if job is None:
                return
            wait = False
            if not job.ids:  # nothing to decode: it would hold its slot forever
                self.out.put(job, InvalidRequest("The prompt is empty.", param="prompt"))
                continue
            try:
                self.active.append(self._slot_for(job))
            except Exception as e:  # a refused grammar, or a failure making its sampler
                self.out.put(job, engine_error(e))

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
        seq = self._pick_seq(job.ids)
        self.warm.add(seq)
        try:
            cached = self._reuse(seq, job.ids)
        except BaseException:
            heapq.heappush(self.free_seqs, seq)
            sampler.close()
            raise
        lp = None if job.req.logprobs is None else Tracker(job.req.logprobs)
        slot = Slot(seq, job, sampler, sp.max_tokens, StopText(job.req.stop), pos=cached, cached=cached,
                    fault=self._faulty(job), logprobs=lp)
        slot.leader = self._leader(job.ids, cached)
        return slot

    def _leader(self, ids: list[int], cached: int) -> tuple[Slot, int] | None:
        """A request still prefilling whose prompt opens like ``ids`` for at least COPY_MIN
        tokens, SHARE_MIN more than the cache holds: this one waits for it and copies that
        prefix (see _prefill)."""
        if not self.prefix_cache:
            return None
        best: tuple[Slot, int] | None = None
        for a in self.active:
            n = common_prefix(a.job.ids, ids, len(ids) - MIN_CHUNK)
            if (a.leader is None and a.prefilled < n and n >= max(COPY_MIN, cached + SHARE_MIN)
                    and (best is None or n > best[1])):
                best = (a, n)
        return best

    def _pick_seq(self, ids: list[int]) -> int:
        """The free sequence a new request takes: always the lowest id, so that the busy ids
        stay 0..n-1 and a step is one pass (see _step). The prefix cache follows the requests
        instead: what that sequence holds, unless this prompt continues it, first moves to
        the highest free sequence holding nothing, one used before if there is one (a copy
        of the cells it uses, 0.2-0.4 ms for 40 tokens, 10-85 ms more into a stream never
        used: see NativeModel.copy_seq), or over the one that ended longest ago. The opening
        this prompt shares with it stays where it is, and a longer cached prefix is then
        copied in (_reuse). So the ``slots`` conversations used last stay cached, whichever
        ids they were served on (and the one this prompt starts from)."""
        seq = heapq.heappop(self.free_seqs)
        k = self.kept.get(seq) if self.prefix_cache else None
        mine = common_prefix(k.tokens, ids, k.exact) if k is not None else 0
        if k is not None and k.exact >= COPY_MIN and mine < k.exact:
            empty = [q for q in self.free_seqs if q not in self.kept]
            # Else the free sequence whose conversation ended longest ago gives way, if older;
            # not the one holding most of this prompt (_reuse copies from it next), unless
            # what moves there holds as much of it.
            match = {q: common_prefix(self.kept[q].tokens, ids, self.kept[q].exact)
                     for q in self.free_seqs if q in self.kept}
            source = max(match, key=lambda q: match[q], default=None)
            others = [q for q in match if q != source or match[q] <= max(mine, COPY_MIN - 1)]
            warm = [q for q in empty if q in self.warm]
            dst = max(warm or empty) if empty else min(others, key=lambda q: self.kept[q].used, default=None)
            if dst is not None and (empty or self.kept[dst].used < k.used):
                try:
                    self.kv_copied_bytes += self.model.copy_seq(seq, dst)
                except BaseException:  # what dst holds is unknown now; seq stays free
                    self.kept.pop(dst, None)
                    self.model.forget(dst)
                    heapq.heappush(self.free_seqs, seq)
                    raise
                self.warm.add(dst)
                self.kv_copies += 1
                self.kept[dst] = k
                # What both prompts share is still in seq: _reuse keeps it there (no copy back).
                self.kept[seq] = Kept(k.tokens[:mine], mine)
        return seq

    def _faulty(self, job: Job) -> bool:
        if not self.fault_text:
            return False
        req = job.req
        texts = [req.prompt] if req.prompt is not None else [m.content for m in req.messages]
        return any(self.fault_text in t for t in texts)

    # -- prefix cache -------------------------------------------------------------------
    def _reuse(self, seq: int, ids: list[int]) -> int:
        """Make sequence ``seq`` hold the longest computed prefix of ``ids`` the cache has
        (its own KV, or a copy of another sequence's); how many tokens that is (0: none,
        ``seq`` emptied). At least MIN_CHUNK prompt tokens are left to decode."""
        limit = len(ids) - MIN_CHUNK
        own, best, src = 0, 0, seq
        if self.prefix_cache and limit > 0:
            mine = self.kept.get(seq)
            if mine is not None:
                own = common_prefix(mine.tokens, ids, min(mine.exact, limit))
            others = [(q, k.tokens, k.exact) for q, k in self.kept.items() if q != seq]
            others += [(s.seq, s.job.ids, s.prefilled) for s in self.active]
            for q, toks, exact in others:
                n = common_prefix(toks, ids, min(exact, limit))
                if n > best:
                    best, src = n, q
        self.kept.pop(seq, None)
        if best >= COPY_MIN and best > own:
            self.kv_copied_bytes += self.model.copy_seq(src, seq)
            self.kv_copies += 1
            source = self.kept.get(src)
            if source is not None and best >= source.exact:  # this request continues it: one copy is enough
                del self.kept[src]
                self.model.forget(src)
        else:
            best = own
        self.model.forget(seq, best)
        return best

    def _unsettled(self) -> bool:
        return any(len(k.tokens) > k.exact for k in self.kept.values())

    def _settle(self) -> None:
        """Idle: compute one finished answer again as a prompt chunk (see the module doc), so
        that the next turn of its conversation can reuse it; a one-token tail is dropped.
        One chunk a call: the loop looks at the queue in between."""
        for q, k in self.kept.items():
            tail = len(k.tokens) - k.exact
            if tail == 0:
                continue
            self.model.forget(q, k.exact)
            n = min(tail, SETTLE_CHUNK)
            if tail - n == 1:
                n -= 1
            if n < MIN_CHUNK:
                del k.tokens[k.exact :]
                return
            m = self.model
            m.clear_batch()
            for p in range(k.exact, k.exact + n):
                m.add(k.tokens[p], p, q, False)
            try:
                self._timed_decode(n, prompt=True, spare=True)
            except Exception:
                self.kept.pop(q, None)
                m.forget(q)
                raise
            k.exact += n
            self.settled_tokens += n
            return

    def _step(self) -> None:
        """Decode the next prompt chunks, then one token for every generating sequence.

        Each prompt chunk gets a llama_decode call of its own: llama.cpp splits a mixed
        batch into micro-batches by sequence anyway, but would cut a chunk differently
        depending on its neighbours, and a different cut changes the floating-point
        results, hence the sampled text. Alone, a chunk is always computed the same way.

        The generating tokens go in by increasing sequence id: with one KV stream per
        sequence, llama.cpp puts into one micro-batch only sequences whose ids follow
        each other in batch order, and every micro-batch is a pass over all the weights.
        In id order, and with the lowest free id given to each new request, the step is
        one pass whenever the busy ids are 0..n-1; a short gap (a request ended, or one is
        still reading its prompt) is filled with a token decoded and forgotten (FILL_MAX).
        Prompts go first so that a request taking the id a finished one left generates in
        the same step: prompts second, the step after an arrival was two passes (measured
        at 16 sequences: 92-94 ms against 79, one gap; 17% of the steps under steady load
        of 16 clients).
        """
        self._prefill()
        generating = {s.seq: s for s in self.active if s.pending is not None}
        if not generating:
            return
        fill = self._fillers(sorted(generating))
        ids = sorted([*generating, *fill])
        m = self.model
        m.clear_batch()
        for q in ids:
            s = generating.get(q)
            if s is None:
                m.add(m.eos, fill[q], q, False)
                continue
            s.index = m.add(s.pending, s.pos, s.seq, True)
            s.pos += 1
            s.pending = None
        self.generate_steps += 1
        self.generate_passes += 1 + sum(b != a + 1 for a, b in itertools.pairwise(ids))
        self.filler_tokens += len(fill)
        try:
            self._timed_decode(len(ids))
        except Exception as e:  # these sequences' KV is now unknown: fail them, not the others
            self._fail_each(list(generating.values()), e)
            return
        finally:
            for q, pos in fill.items():
                m.forget(q, pos)
        for s in generating.values():
            self._sample(s)

    def _fillers(self, ids: list[int]) -> dict[int, int]:
        """The ids in gaps of at most FILL_MAX between the generating ``ids`` (sorted), each
        with the position a filler token takes in its stream (the one after its last cell).
        A gap with a full stream is left as it is: the step is one pass more."""
        fill: dict[int, int] = {}
        for a, b in itertools.pairwise(ids):
            if 1 < b - a <= FILL_MAX + 1:
                gap = {q: self.model.next_pos(q) for q in range(a + 1, b)}
                if all(pos < self.model.n_ctx_seq for pos in gap.values()):
                    fill.update(gap)
                    self.warm.update(gap)
        return fill

    def _prefill(self) -> None:
        """Read the next chunk of the prompts waiting; if that chunk completed an opening other
        requests wait for (see _leader), they copy it and read their rest in this step too,
        instead of one generating step later."""
        group = self._prefill_chunk()
        if any(s.leader is not None and s.leader[0] in group and s.leader[0].prefilled >= s.leader[1]
               for s in self.active):
            self._prefill_chunk()

    def _prefill_chunk(self) -> list[Slot]:
        """One llama_decode for the prompts waiting, first come first served: an equal chunk
        of each (up to ``prompt_chunk`` tokens in all), never leaving one token behind. The
        slots it read (none if nothing waited, or if the decode failed them)."""
        for s in self.active:
            if s.leader is not None:
                lead, n = s.leader
                if lead not in self.active or lead.prefilled >= n:  # ready (or gone: take what is cached)
                    s.leader = None
                    self.kept[s.seq] = Kept(s.job.ids[: s.pos], s.pos)  # what it holds already
                    s.pos = s.cached = self._reuse(s.seq, s.job.ids)
        waiting = [s for s in self.active if s.prefilling and s.leader is None]
        if not waiting:
            return []
        first = waiting[0]
        size = min(first.remaining, self.prompt_chunk)
        if first.remaining - size == 1:
            size += 1  # the batch has room for it (n_batch > prompt_chunk)
        group = [first]
        for s in waiting[1:] if self.prefill_together else []:
            k = len(group) + 1
            new = min(size, s.remaining, self.prompt_chunk // k)
            if new < MIN_CHUNK or new * k < size * len(group):
                break  # adding it would not read more prompt tokens in this step
            group.append(s)
            size = new
        if len(group) > 1:
            # A sequence left with a single token would need a one-token chunk later: it waits.
            group = [s for s in group if s.remaining - size != 1] or [first]
            if group == [first] and first.remaining - size == 1:
                size += 1
        m = self.model
        m.clear_batch()
        for s in sorted(group, key=lambda s: s.seq):  # id order: consecutive ids share a micro-batch
            ids = s.job.ids
            for p in range(s.pos, s.pos + size):
                s.index = m.add(ids[p], p, s.seq, p == len(ids) - 1)
        self.prefill_decodes += 1
        self.prefill_sequences += len(group)
        try:
            self._timed_decode(size * len(group), prompt=True)
        except Exception as e:
            self._fail_each(group, e)
            return []
        for s in group:
            s.pos += size
            if not s.prefilling:
                self._sample(s)
        return group

    def _sample(self, s: Slot) -> None:
        """Sample ``s``'s next token and account for it; a failure fails this request only."""
        try:
            if s.fault:
                raise DebugFault("a debug fault: the prompt contains MOCKVENDOR_ENGINE_FAULT_TEXT")
            self._advance(s, s.sampler.sample(self.model, s.index))
        except Exception as e:
            self._fail_each([s], e)

    def _timed_decode(self, batch: int, *, prompt: bool = False, spare: bool = False) -> None:
        """Decode on the thread count the tuner picks for ``batch`` sequences generating
        (``prompt``: a prompt chunk of ``batch`` tokens; ``spare``: no request waits for it),
        and tell it how long that took."""
        if self.tuner is None:
            self._decode()
            return
        self.tuner.prepare(batch, prompt=prompt, spare=spare)
        t0 = time.perf_counter()
        self._decode()
        self.tuner.observe(batch, time.perf_counter() - t0, prompt=prompt, spare=spare)

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
        s.generated.append(token)
        if s.logprobs is not None:  # the logits at s.index are still this step's
            s.logprobs.record(self.model, s.index, token)
        text = s.stop.feed(self.model.piece(token))
        if text:
            self.out.put(s.job, Chunk(text, logprobs=s.logprobs and s.logprobs.take(text)))
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
            self.out.put(s.job, Chunk(tail, logprobs=lp))
        done = Completion(
            s.stop.text,
            Usage(len(s.job.ids), s.n_out, s.cached),
            finish,
            s.stop.stopped_by,
            (time.perf_counter() - s.t_start) * 1000,
            s.job.req.model,
            logprobs=s.logprobs and s.logprobs.all(),
        )
        # Free the slot and count first, so whoever sees the Completion sees the stats too.
        self._release(s, keep=True)
        self.completed += 1
        self.cached_tokens += s.cached
        self.out.put(s.job, done)

    def _release(self, s: Slot, *, keep: bool = False) -> None:
        """Free ``s``'s slot; with ``keep`` (and the prefix cache on) its KV stays for later requests."""
        if s not in self.active:
            return
        self.active.remove(s)
        heapq.heappush(self.free_seqs, s.seq)  # first: whatever fails below, the id is free again
        try:
            s.sampler.close()
        finally:
            if keep and self.prefix_cache:
                self.kept[s.seq] = Kept(s.kv_tokens(), s.prefilled)
            else:
                self.kept.pop(s.seq, None)
                self.model.forget(s.seq)  # (a new request clears its sequence anyway: see _reuse)

    def _reap_cancelled(self) -> None:
        for s in [s for s in self.active if s.job.cancelled]:
            self._release(s, keep=True)

    def _fail_each(self, slots: list[Slot], e: BaseException) -> None:
        """Fail these requests (their KV is dropped), keep the rest going."""
        err = engine_error(e)
        for s in slots:
            self.failures += 1
            self.out.put(s.job, err)
            try:
                self._release(s)
            except Exception:  # noqa: S110 - the id is free again already; its KV is cleared on reuse
                pass

    def _fail_all(self, err: Exception) -> None:
        self._fail_each(list(self.active), err)

    def stats(self) -> dict[str, Any]:
        return {
            "active": len(self.active),
            "slots": self.n_slots,
            "completed": self.completed,
            "decodes": self.decodes,
            "generate_steps": self.generate_steps,
            "generate_passes": self.generate_passes,
            "filler_tokens": self.filler_tokens,
            "prefill_decodes": self.prefill_decodes,
            "prefill_sequences": self.prefill_sequences,
            "prefix_cache": self.prefix_cache,
            "cached_tokens": self.cached_tokens,
            "kv_copies": self.kv_copies,
            "streams_used": len(self.warm),  # sequences whose KV stream took memory (its V: about 24 MB at 2,048 cells)
            "kv_copied_bytes": self.kv_copied_bytes,
            "settled_tokens": self.settled_tokens,
            "failures": self.failures,
            "threads_now": self.tuner.threads if self.tuner is not None else None,
            "thread_switches": self.tuner.switches if self.tuner is not None else 0,
            "thread_trials": self.tuner.trials if self.tuner is not None else 0,
            "thread_trials_skipped": self.tuner.skipped if self.tuner is not None else 0,
            "cpus_free": None if self.watch is None or self.watch.free is None else round(self.watch.free, 2),
        }
