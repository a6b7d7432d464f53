"""The transformers engine: a Hugging Face causal language model run with PyTorch.

For models that have no GGUF, e.g. ``TinyLlama/TinyLlama-1.1B-Chat-v1.0`` or
``distilgpt2`` as the seed prototype used, or a local folder saved with
``save_pretrained``. Needs the optional extra: ``pip install 'mockvendor[transformers]'``.
Chat requests use the tokenizer's chat template when it has one, else a plain
"Role: text" transcript. One worker thread generates one request at a time, token by
token with the KV cache, so it can stream, honour stop sequences and notice a client
that went away; others wait in a bounded queue (full: an overload error at once).

Options (per model in the config): ``model`` (a hub id or a local folder; required),
``n_ctx`` (capped by the model's own position limit), ``n_threads`` (PyTorch's
intra-op threads, process-wide), ``queue_size``.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

from ..errors import ContextLengthExceeded, MockVendorError, Unavailable
from ..types import Chunk, Completion, GenerateRequest, Usage
from . import register
from .jobs import Job, JobQueue, run_job
from .sampling import Defaults, Sampling
from .textstream import StopText

INSTALL_HINT = "The transformers engine needs its extra: pip install 'mockvendor[transformers]'."


class TransformersEngine:
    """Chat or raw completion on a Hugging Face causal LM, one request at a time."""

    name = "transformers"
    can_stream = True

    def __init__(self, settings: Any, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = dict(options)
        self.model_id = str(options.get("model") or options.get("path") or "")
        if not self.model_id:
            raise ValueError("the transformers engine needs a `model` option: a hub id or a local folder")
        self.context_window = int(options.get("n_ctx") or settings.n_ctx)
        self.n_threads = int(options.get("n_threads") or settings.n_threads or 0)
        queue_size = options.get("queue_size")
        self._queue = JobQueue(int(settings.queue_size if queue_size is None else queue_size),
                               lambda: 1 - self._active)
        self._defaults = Defaults(max_tokens=settings.default_max_tokens, seed=settings.seed)
        self._tokenizer: Any = None
        self._model: Any = None
        self._eos: set[int] = set()
        self._cache_kw = "past_key_values"
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._active = 0
        self.completed = 0

    # -- lifecycle ------------------------------------------------------------------
    async def start(self) -> None:
        if self._model is not None:
            return
        await asyncio.to_thread(self._load)
        self._stopping = False
        self._thread = threading.Thread(target=self._worker, name="transformers", daemon=True)
        self._thread.start()

    def _load(self) -> None:
        try:  # heavy imports, only when this engine is used
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as e:
            raise RuntimeError(f"{INSTALL_HINT} ({e})") from None
        if self.n_threads:
            torch.set_num_threads(self.n_threads)
        tokenizer = AutoTokenizer.from_pretrained(self.model_id)
        model = AutoModelForCausalLM.from_pretrained(self.model_id)
        model.eval()
        # transformers 5 renamed the KV-cache argument (and output) to ``cache``.
        self._cache_kw = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"
        limit = getattr(model.config, "max_position_embeddings", None) or getattr(model.config, "n_positions", None)
        if limit:
            self.context_window = min(self.context_window, int(limit))
        eos = {tokenizer.eos_token_id, *_as_list(getattr(model.generation_config, "eos_token_id", None))}
        self._eos = {int(t) for t in eos if t is not None}
        self._tokenizer, self._model = tokenizer, model

    def ready(self) -> bool:
        return self._model is not None and self._thread is not None and self._thread.is_alive()

    async def aclose(self) -> None:
        if self._thread is not None:
            self._stopping = True
            self._queue.close()
            await asyncio.to_thread(self._thread.join, 30)
            self._thread = None
        for job in self._queue.drain():
            job.emit(Unavailable("The model is shutting down."))
        self._model = None

    def stats(self) -> dict[str, Any]:
        return {
            "engine": self.name,
            "model": self.model_id,
            "n_ctx": self.context_window,
            "queue_depth": len(self._queue),
            "active": self._active,
            "slots": 1,
            "completed": self.completed,
        }

    # -- tokens -----------------------------------------------------------------------
    def render_prompt(self, req: GenerateRequest) -> str:
        """The text the model sees: the raw prompt, the chat template applied, or a transcript."""
        if req.prompt is not None:
            return req.prompt
        tok = self._loaded_tokenizer()
        msgs = [{"role": m.role, "content": m.content} for m in req.messages]
        if getattr(tok, "chat_template", None):
            return str(tok.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False))
        # No template (e.g. distilgpt2): a transcript that ends where the answer starts.
        lines = [f"{m['role'].capitalize()}: {m['content']}" for m in msgs]
        return "\n".join([*lines, "Assistant:"])

    def tokenize(self, req: GenerateRequest) -> list[int]:
        tok = self._loaded_tokenizer()
        text = self.render_prompt(req)
        # A chat template writes its own special tokens (BOS included) into the text.
        templated = req.prompt is None and bool(getattr(tok, "chat_template", None))
        ids = list(tok(text, add_special_tokens=not templated)["input_ids"])
        if not ids:  # an empty raw prompt: start from the beginning-of-text token, as OpenAI does
            start = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
            ids = [start] if start is not None else []
        return ids

    def prompt_tokens(self, req: GenerateRequest) -> int:
        if req.engine_state is None:
            req.engine_state = self.tokenize(req)
        n = len(req.engine_state)
        if n + 1 > self.context_window:
            raise ContextLengthExceeded(
                f"This model's maximum context length is {self.context_window} tokens. "
                f"However, your messages resulted in {n} tokens. Please reduce the length "
                "of the messages.",
                param="messages",
            )
        return n

    def _loaded_tokenizer(self) -> Any:
        if self._tokenizer is None:
            raise Unavailable("The model is still loading; retry in a moment.")
        return self._tokenizer

    # -- generation ---------------------------------------------------------------------
    async def stream(self, req: GenerateRequest) -> AsyncIterator[Chunk | Completion]:
        if not self.ready():
            raise Unavailable("The model is not loaded yet; retry in a moment.")
        self.prompt_tokens(req)  # refused here, before the request can take a slot
        async for item in run_job(self._queue, Job(req, req.engine_state, asyncio.get_running_loop())):
            yield item

    def _worker(self) -> None:
        while not self._stopping:
            job = self._queue.pop(wait=True)
            if job is None:
                return
            self._active = 1
            try:
                self._run(job)
            except MockVendorError as e:
                job.emit(e)
            except Exception as e:  # a PyTorch failure: report it, keep serving
                job.emit(Unavailable(f"The local model failed: {type(e).__name__}: {e}"))
            finally:
                self._active = 0

    def _run(self, job: Job) -> None:
        import torch

        req, ids, tok = job.req, job.ids, self._tokenizer
        t0 = time.perf_counter()
        sp = Sampling.of(req, self._defaults, self.context_window - len(ids))
        draw = torch.Generator().manual_seed(sp.seed)
        warp = _warpers(sp)
        stop = StopText(req.stop)
        out: list[int] = []
        decoded = ""  # the text of ``out`` already handed to ``stop``
        finish, past = "length", None
        x = torch.tensor([ids])
        with torch.inference_mode():
            while len(out) < sp.max_tokens:
                if job.cancelled or self._stopping:
                    return
                result = self._model(input_ids=x, use_cache=True, **{self._cache_kw: past})
                past = result.get(self._cache_kw)
                logits = result.logits[:, -1, :].float()
                if sp.temperature <= 0:
                    token = int(torch.argmax(logits, dim=-1)[0])
                else:
                    probs = torch.softmax(warp(x, logits), dim=-1)
                    token = int(torch.multinomial(probs, 1, generator=draw)[0, 0])
                if token in self._eos:
                    finish = "stop"
                    break
                out.append(token)
                # Decode the whole answer so far: per-token decoding loses the spaces
                # that SentencePiece tokenizers attach to the next word.
                text = tok.decode(out, skip_special_tokens=True)
                if text.startswith(decoded) and not text.endswith("\ufffd"):
                    piece = stop.feed(text[len(decoded) :].encode("utf-8"))
                    decoded = text
                    if piece:
                        job.emit(Chunk(piece))
                    if stop.stopped_by is not None:
                        finish = "stop_sequence"
                        break
                x = torch.tensor([[token]])
        if finish != "stop_sequence":
            text = tok.decode(out, skip_special_tokens=True)
            if text.startswith(decoded) and len(text) > len(decoded):
                piece = stop.feed(text[len(decoded) :].encode("utf-8"))
                if piece:
                    job.emit(Chunk(piece))
            if stop.stopped_by is not None:
                finish = "stop_sequence"
        tail = stop.finish()
        if tail:
            job.emit(Chunk(tail))
        self.completed += 1
        self._active = 0
        job.emit(
            Completion(
                stop.text, Usage(len(ids), len(out)), finish, stop.stopped_by,
                (time.perf_counter() - t0) * 1000, req.model,
            )
        )


def _warpers(sp: Sampling) -> Any:
    """Hugging Face's own logits warpers, in the order its ``generate`` applies them."""
    from transformers import (
        LogitsProcessorList,
        MinPLogitsWarper,
        TemperatureLogitsWarper,
        TopKLogitsWarper,
        TopPLogitsWarper,
    )

    warpers = LogitsProcessorList()
    if sp.temperature > 0 and sp.temperature != 1.0:
        warpers.append(TemperatureLogitsWarper(sp.temperature))
    if sp.top_k > 0:
        warpers.append(TopKLogitsWarper(sp.top_k))
    if sp.top_p < 1.0:
        warpers.append(TopPLogitsWarper(sp.top_p))
    if sp.min_p > 0:
        warpers.append(MinPLogitsWarper(sp.min_p))
    return warpers


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


register("transformers", TransformersEngine)
