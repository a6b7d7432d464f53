"""Thin wrappers over llama.cpp's low-level C API (llama-cpp-python's ctypes bindings).

Just what continuous batching needs: one model, one context holding several
sequences (each with its own slice of the KV cache), one reusable batch, and a
native sampler chain per request. Every object here belongs to the one engine
thread that created it; none of it is thread-safe.
"""

from __future__ import annotations

import ctypes
import os
from typing import Any

PENALTY_LAST_N = 256  # how far back presence and frequency penalties look
# The dist sampler treats this seed as "pick one at random" (LLAMA_DEFAULT_SEED).
_RANDOM_SEED = 0xFFFFFFFF


def prefer_sleeping_threads() -> None:
    """Make llama.cpp's OpenMP threads sleep, not spin, while they wait for each other.

    A mock server shares its machine with the gateway and the load generator under
    test. Spinning workers then steal the cores their partners need: on two shared
    cores we measured decoding 10-15x slower with spinning than with sleeping threads.
    Must run before llama_cpp is first imported (libgomp reads it once, at load); an
    explicit ``OMP_WAIT_POLICY`` in the environment wins.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _lib() -> Any:
    import llama_cpp  # heavy: only once the engine starts

    return llama_cpp


class NativeModel:
    """A GGUF model and one context with ``n_seq`` sequences of ``n_ctx_seq`` tokens each."""

    def __init__(
        self, path: str, *, n_seq: int, n_ctx_seq: int, n_batch: int, n_threads: int, flash_attn: bool = False
    ) -> None:
        L = self._L = _lib()
        L.llama_backend_init()
        mparams = L.llama_model_default_params()
        # As llama-cpp-python's Llama loads it: CPU only, weights memory-mapped from the file.
        mparams.n_gpu_layers = 0
        mparams.load_mode = L.LLAMA_LOAD_MODE_MMAP
        self.model = L.llama_model_load_from_file(path.encode("utf-8"), mparams)
        if not self.model:
            raise RuntimeError(f"llama.cpp could not load {path}")
        self.vocab = L.llama_model_get_vocab(self.model)
        self.n_ctx_train = int(L.llama_model_n_ctx_train(self.model))
        cparams = L.llama_context_default_params()
        cparams.n_ctx = n_ctx_seq * n_seq
        cparams.n_batch = n_batch
        cparams.n_ubatch = n_batch
        cparams.n_seq_max = n_seq
        cparams.n_threads = n_threads
        cparams.n_threads_batch = n_threads
        # One KV stream per sequence: a sequence attends only to its own cells, so a
        # step costs what its own sequences need and their numbers never mix.
        cparams.kv_unified = False
        # Off by default, as in llama-cpp-python's Llama, so that greedy text matches it.
        cparams.flash_attn_type = (
            L.LLAMA_FLASH_ATTN_TYPE_ENABLED if flash_attn else L.LLAMA_FLASH_ATTN_TYPE_DISABLED
        )
        cparams.no_perf = True
        before = _anonymous_maps()
        self.ctx = L.llama_init_from_model(self.model, cparams)
        if not self.ctx:
            L.llama_model_free(self.model)
            raise RuntimeError("llama.cpp could not create a context (out of memory?)")
        self.n_ctx_seq = int(L.llama_n_ctx_seq(self.ctx))
        self.memory = L.llama_get_memory(self.ctx)
        self.released_bytes = release_zero_pages(before)  # the KV cache takes memory as it fills
        self.n_batch = n_batch
        self.batch = L.llama_batch_init(n_batch, 0, 1)
        self._piece = ctypes.create_string_buffer(256)
        self._state = (ctypes.c_uint8 * 0)()  # a sequence's KV on its way to another (copy_seq)
        self.n_vocab = int(L.llama_vocab_n_tokens(self.vocab))
        self.eos = int(L.llama_vocab_eos(self.vocab))
        self._candidates: Any = None  # a whole-vocabulary llama_token_data array, made on first use
        self._row: Any = None  # the ctypes type of one row of logits, made on first use

    # -- batch ------------------------------------------------------------------------
    def clear_batch(self) -> None:
        self.batch.n_tokens = 0

    def add(self, token: int, pos: int, seq: int, logits: bool) -> int:
        """Append one token of sequence ``seq`` at ``pos``; return its index in the batch."""
        b = self.batch
        i = b.n_tokens
        b.token[i] = token
        b.pos[i] = pos
        b.n_seq_id[i] = 1
        b.seq_id[i][0] = seq
        b.logits[i] = logits
        b.n_tokens = i + 1
        return i

    def decode(self) -> int:
        """Run the batch through the model; llama.cpp's return code (0 = success)."""
        return int(self._L.llama_decode(self.ctx, self.batch))

    def next_pos(self, seq: int) -> int:
        """The position after the last cell sequence ``seq`` holds (0 if it holds none)."""
        return int(self._L.llama_memory_seq_pos_max(self.memory, seq)) + 1

    def forget(self, seq: int, start: int = -1) -> None:
        """Remove the KV cells of sequence ``seq`` from position ``start`` on (all by default)."""
        self._L.llama_memory_seq_rm(self.memory, seq, start, -1)

    def copy_seq(self, src: int, dst: int) -> int:
        """Make ``dst`` hold what ``src`` holds (replacing what it held); the bytes copied.

        Through llama.cpp's sequence state (``llama_state_seq_get_data_ext``, then
        ``..._set_data_ext``), which carries only the cells ``src`` uses: about 23 KB a
        token for the embedded model, 0.2-0.4 ms for a 37-token opening. The first write
        into a stream takes about 10 ms more at 2,048 cells (3 at 512): V is stored
        transposed, so its first cells touch a page in every row, 5,760 of them, each a
        page fault (the KV cache takes memory as it fills). ``llama_memory_seq_cp``
        would copy the whole stream between two streams (47 MB at 2,048 cells, 7-26 ms
        measured, and a graph reservation at the next decode), making all of ``dst``'s
        stream resident. Each cell keeps its position and its place in the stream (a
        stream holds positions 0..n-1 in cells 0..n-1), so the numbers computed from the
        copy are those computed from ``src``."""
        L = self._L
        size = int(L.llama_state_seq_get_size_ext(self.ctx, src, 0))
        if len(self._state) < size:
            self._state = (ctypes.c_uint8 * max(size, 2 * len(self._state)))()
        if int(L.llama_state_seq_get_data_ext(self.ctx, self._state, size, src, 0)) != size:
            raise RuntimeError(f"llama.cpp could not read sequence {src}'s KV")
        if int(L.llama_state_seq_set_data_ext(self.ctx, self._state, size, dst, 0)) != size:
            raise RuntimeError(f"llama.cpp could not copy sequence {src}'s KV into sequence {dst}")
        return size

    # -- tokens -----------------------------------------------------------------------
    def is_eog(self, token: int) -> bool:
        return bool(self._L.llama_vocab_is_eog(self.vocab, token))

    def piece(self, token: int) -> bytes:
        """The bytes of one token (possibly part of a UTF-8 character)."""
        n = self._L.llama_token_to_piece(self.vocab, token, self._piece, len(self._piece), 0, False)
        if n < 0:  # longer than the buffer: grow it once and retry
            self._piece = ctypes.create_string_buffer(-n)
            n = self._L.llama_token_to_piece(self.vocab, token, self._piece, len(self._piece), 0, False)
        return self._piece.raw[:n]

    def candidates(self, index: int | None) -> Any:
        """Every token with its logit at batch ``index`` (0 for all if None), as the
        ``llama_token_data_array`` samplers apply to. One buffer, reused: read it before
        the next call."""
        import numpy as np  # a dependency of llama-cpp-python

        L = self._L
        if self._candidates is None:
            data = np.zeros(self.n_vocab, dtype=np.dtype([("id", "<i4"), ("logit", "<f4"), ("p", "<f4")]))
            arr = L.llama_token_data_array(
                data=data.ctypes.data_as(L.llama_token_data_p), size=self.n_vocab, selected=-1, sorted=False
            )
            self._candidates = (data, arr, np.arange(self.n_vocab, dtype=np.int32))
        data, arr, ids = self._candidates
        data["id"] = ids  # samplers sort and cut the array in place
        data["p"] = 0.0
        if index is None:
            data["logit"] = 0.0
        else:
            data["logit"] = self.logits(index)
        arr.size, arr.selected, arr.sorted = self.n_vocab, -1, False
        return arr

    def argmax(self, index: int) -> int:
        """The token with the highest logit at batch ``index`` (the first of equals), as
        llama.cpp's greedy sampler picks it, without its copy of the whole vocabulary into
        a candidates array: measured at 8 sequences, 23 us a token against 138."""
        return int(self.logits(index).argmax())

    def logits(self, index: int) -> Any:
        """The raw logits row at batch ``index`` of the last decode (a numpy view: read it
        before the next decode)."""
        import numpy as np

        row = self._L.llama_get_logits_ith(self.ctx, index)
        if not row:
            raise RuntimeError(f"llama.cpp has no logits at batch index {index}")
        if self._row is None:
            self._row = ctypes.c_float * self.n_vocab
        return np.frombuffer(self._row.from_address(ctypes.addressof(row.contents)), dtype=np.float32)

    def candidate_logits(self) -> Any:
        """The logits of the array :meth:`candidates` last returned (after samplers ran)."""
        data, arr, _ = self._candidates
        return data["logit"][: arr.size]

    def candidate_ids(self, *, allowed: bool) -> list[int]:
        """The token ids of the last :meth:`candidates` array (only those not set to -inf if ``allowed``)."""
        data, arr, _ = self._candidates
        view = data[: arr.size]
        return [int(t) for t in (view["id"][view["logit"] != float("-inf")] if allowed else view["id"])]

    def selected(self) -> int:
        data, arr, _ = self._candidates
        return int(data["id"][arr.selected])

    def close(self) -> None:
        L = self._L
        if self.ctx:
            L.llama_batch_free(self.batch)
            L.llama_free(self.ctx)
            self.ctx = None
        if self.model:
            L.llama_model_free(self.model)
            self.model = None


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_MADV_DONTNEED = 4


def _anonymous_maps() -> set[tuple[int, int]]:
    """(start, end) of this process's anonymous read-write mappings (Linux; empty elsewhere)."""
    try:
        lines = open("/proc/self/maps").read().splitlines()  # noqa: SIM115
    except OSError:
        return set()
    out = set()
    for line in lines:
        parts = line.split()
        if len(parts) == 5 and parts[1].startswith("rw"):  # no path: anonymous
            a, b = parts[0].split("-")
            out.add((int(a, 16), int(b, 16)))
    return out


def release_zero_pages(before: set[tuple[int, int]], min_size: int = 64 << 20) -> int:
    """Give back to the system the zeroed pages of what llama.cpp just allocated (its KV cache).

    llama.cpp clears its whole KV buffer when it creates a context, so every cell of every
    slot is resident from the start (about 380 MB for 8 slots x 2,048 tokens of the embedded
    model) though requests use a fraction of it. In the large anonymous mappings that are new
    since ``before``, each page that holds only zeros is released with ``MADV_DONTNEED``: a
    private anonymous page then reads as zeros again, so nothing changes for the program,
    and only the cells written later take memory. Returns the bytes released."""
    maps = [(a, b) for a, b in _anonymous_maps() - before if b - a >= min_size]
    if not maps:
        return 0
    import ctypes.util

    import numpy as np  # a dependency of llama-cpp-python

    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    released = 0
    for a, b in maps:
        words = np.ctypeslib.as_array((ctypes.c_uint64 * ((b - a) // 8)).from_address(a))
        zero = ~words.reshape(-1, _PAGE // 8).any(axis=1)
        # Runs of zero pages: where the flag changes.
        edges = np.flatnonzero(np.diff(np.concatenate(([False], zero, [False])).astype(np.int8)))
        for first, stop in zip(edges[::2], edges[1::2], strict=True):
            lo, n = a + int(first) * _PAGE, int(stop - first) * _PAGE
            if libc.madvise(ctypes.c_void_p(lo), ctypes.c_size_t(n), _MADV_DONTNEED) == 0:
                released += n
    return released


class Grammar:
    """A GBNF grammar's state for one sequence (llama.cpp's grammar sampler).

    Kept out of the sampler chain: applying a grammar to every token of the vocabulary
    costs more than a decoding step of this small model. :class:`Sampler` asks it about
    the one token drawn instead, as llama.cpp's own common sampler does.
    """

    def __init__(self, model: NativeModel, gbnf: str) -> None:
        L = self._L = _lib()
        self.model = model
        self.smpl = L.llama_sampler_init_grammar(model.vocab, gbnf.encode("utf-8"), b"root")
        if not self.smpl:
            self.smpl = None
            raise ValueError("llama.cpp could not parse the grammar")
        self._one = (L.llama_token_data * 1)()
        self._one_arr = L.llama_token_data_array(data=self._one, size=1, selected=-1, sorted=False)

    def allows(self, token: int) -> bool:
        """Whether ``token`` may come next (end-of-generation: whether the value is complete)."""
        self._one[0].id, self._one[0].logit, self._one[0].p = token, 1.0, 0.0
        self._one_arr.size, self._one_arr.selected = 1, -1
        self._L.llama_sampler_apply(self.smpl, ctypes.byref(self._one_arr))
        return bool(self._one[0].logit != float("-inf"))

    def complete(self) -> bool:
        """Whether end-of-generation is the only thing that may come next."""
        if not self.allows(self.model.eos):
            return False
        arr = self.model.candidates(None)
        self._L.llama_sampler_apply(self.smpl, ctypes.byref(arr))
        return all(self.model.is_eog(t) for t in self.model.candidate_ids(allowed=True))

    def apply(self, arr: Any) -> None:
        self._L.llama_sampler_apply(self.smpl, ctypes.byref(arr))

    def accept(self, token: int) -> None:
        self._L.llama_sampler_accept(self.smpl, token)

    def close(self) -> None:
        if self.smpl:
            self._L.llama_sampler_free(self.smpl)
            self.smpl = None


class Sampler:
    """A native sampler chain for one request; its random state is its own.

    With a :class:`Grammar`, a token is drawn as usual and kept if the grammar allows it;
    otherwise the draw is made again from the logits with every token the grammar forbids
    removed (the same distribution as constraining first, at a fraction of the cost).
    """

    def __init__(
        self, *, temperature: float, top_k: int, top_p: float, min_p: float, seed: int,
        grammar: Grammar | None = None, presence: float = 0.0, frequency: float = 0.0,
        logit_bias: dict[int, float] | None = None, n_vocab: int = 0,
    ) -> None:
        L = self._L = _lib()
        self.grammar = grammar
        self.chain = L.llama_sampler_chain_init(L.llama_sampler_chain_default_params())
        # First, as llama.cpp's common sampler orders them: biases, then penalties on what was
        # generated so far (the last PENALTY_LAST_N tokens).
        bias = [(t, b) for t, b in (logit_bias or {}).items() if 0 <= t < n_vocab]
        if bias:
            arr = (L.llama_logit_bias * len(bias))(*[L.llama_logit_bias(t, b) for t, b in bias])
            L.llama_sampler_chain_add(self.chain, L.llama_sampler_init_logit_bias(n_vocab, len(bias), arr))
        if presence or frequency:
            penalties = L.llama_sampler_init_penalties(n_vocab, PENALTY_LAST_N, 1.0, frequency, presence)
            L.llama_sampler_chain_add(self.chain, penalties)
        # Greedy with nothing before it: the highest logit, read straight from the logits
        # (NativeModel.argmax), the same token as the chain's and a fifth of its cost.
        self.argmax = temperature <= 0 and not bias and not (presence or frequency)
        if temperature <= 0:
            L.llama_sampler_chain_add(self.chain, L.llama_sampler_init_greedy())
            return
        # The order llama.cpp's own common sampling uses: truncate, then temperature, then draw.
        if top_k > 0:
            L.llama_sampler_chain_add(self.chain, L.llama_sampler_init_top_k(top_k))
        if top_p < 1.0:
            L.llama_sampler_chain_add(self.chain, L.llama_sampler_init_top_p(top_p, 1))
        if min_p > 0.0:
            L.llama_sampler_chain_add(self.chain, L.llama_sampler_init_min_p(min_p, 1))
        L.llama_sampler_chain_add(self.chain, L.llama_sampler_init_temp(temperature))
        L.llama_sampler_chain_add(self.chain, L.llama_sampler_init_dist(seed32(seed)))

    def sample(self, model: NativeModel, index: int) -> int:
        """Draw (and accept) the next token from the logits at batch ``index``."""
        g = self.grammar
        if g is None and self.argmax:  # the greedy sampler keeps no state: nothing to accept
            return model.argmax(index)
        L = self._L
        # llama_sampler_sample applies the chain, then calls llama_sampler_accept on it.
        token = int(L.llama_sampler_sample(self.chain, model.ctx, index))
        if g is None:
            return token
        if not g.allows(token):
            arr = model.candidates(index)
            g.apply(arr)
            if not (model.candidate_logits() != float("-inf")).any():
                return model.eos  # a dead end (no token continues the grammar): end here
            L.llama_sampler_apply(self.chain, ctypes.byref(arr))
            token = model.selected()
            L.llama_sampler_accept(self.chain, token)
        g.accept(token)
        return token

    def close(self) -> None:
        if self.chain:
            self._L.llama_sampler_free(self.chain)
            self.chain = None
        if self.grammar is not None:
            self.grammar.close()
            self.grammar = None


def seed32(seed: int) -> int:
    """Any integer seed as the 32-bit seed llama.cpp takes, never its "random" value."""
    return seed % _RANDOM_SEED
