"""The transformers engine on a tiny GPT-2 built by the test (random weights, a
tokenizer trained on a few sentences), saved to a folder and loaded like any model.
Hugging Face's own ``generate`` on the same model is the reference."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockvendor import create_app
from mockvendor.engines import build, generate
from mockvendor.engines.transformers import TransformersEngine
from mockvendor.errors import ContextLengthExceeded, Overloaded
from mockvendor.settings import ModelSpec
from mockvendor.types import Chunk, Completion, GenerateRequest, Message

from .conftest import make_settings
from .helpers import assert_vendor_error

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "A mock server answers like a real vendor would.",
    "Gateways retry when the upstream is overloaded.",
    "Tokens stream back one by one until the answer ends.",
    "Rain falls on the harbour lights at night.",
]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}<|end|>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def build_tiny_gpt2(folder: Path, *, chat_template: str | None = None) -> Path:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    special = ["<|endoftext|>", "<|user|>", "<|system|>", "<|assistant|>", "<|end|>"]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=special,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator(SENTENCES, trainer)
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|endoftext|>", bos_token="<|endoftext|>")
    if chat_template:
        tok.chat_template = chat_template
    eos = tok.convert_tokens_to_ids("<|endoftext|>")
    config = GPT2Config(vocab_size=len(tok), n_positions=128, n_embd=32, n_layer=2, n_head=2,
                        bos_token_id=eos, eos_token_id=eos)
    torch.manual_seed(0)
    model = GPT2LMHeadModel(config)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_gpt2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_gpt2(tmp_path_factory.mktemp("tiny-gpt2"))


@pytest.fixture(scope="module")
def tiny_chat(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_gpt2(tmp_path_factory.mktemp("tiny-chat"), chat_template=CHAT_TEMPLATE)


@pytest.fixture(scope="module")
async def engine(tiny_gpt2: Path) -> AsyncIterator[TransformersEngine]:
    eng = build("transformers", make_settings(seed=5, n_threads=1), {"model": str(tiny_gpt2)})
    await eng.start()
    yield eng
    await eng.aclose()


@pytest.fixture(scope="module")
def reference(tiny_gpt2: Path) -> Any:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_gpt2), AutoModelForCausalLM.from_pretrained(tiny_gpt2)


def hf_generate(reference: Any, prompt: str, max_new_tokens: int, seed: int | None = None, **kw: Any) -> str:
    import torch

    tok, model = reference
    ids = tok(prompt, return_tensors="pt").input_ids
    if seed is not None:
        torch.manual_seed(seed)
    out = model.generate(ids, max_new_tokens=max_new_tokens, pad_token_id=tok.eos_token_id, **kw)
    return str(tok.decode(out[0, ids.shape[1] :], skip_special_tokens=True))


def raw(prompt: str, **kw: Any) -> GenerateRequest:
    return GenerateRequest("tiny", prompt=prompt, **kw)


async def test_greedy_matches_hugging_face_generate(engine: TransformersEngine, reference: Any) -> None:
    got = await generate(engine, raw("The quick brown", max_tokens=20, temperature=0))
    want = hf_generate(reference, "The quick brown", 20, do_sample=False)
    assert got.text == want
    assert got.usage.input_tokens == len(reference[0]("The quick brown").input_ids)


async def test_seeded_sampling_matches_hugging_face_generate(engine: TransformersEngine, reference: Any) -> None:
    got = await generate(engine, raw("Rain falls", max_tokens=24, temperature=0.9, top_k=20, top_p=0.95, seed=11))
    want = hf_generate(reference, "Rain falls", 24, seed=11, do_sample=True, temperature=0.9, top_k=20, top_p=0.95,
                       min_p=0.05)
    assert got.text == want
    again = await generate(engine, raw("Rain falls", max_tokens=24, temperature=0.9, top_k=20, top_p=0.95, seed=11))
    other = await generate(engine, raw("Rain falls", max_tokens=24, temperature=0.9, top_k=20, top_p=0.95, seed=12))
    assert again.text == got.text and other.text != got.text


async def test_max_tokens_stop_sequences_and_streaming(engine: TransformersEngine) -> None:
    req = raw("A mock server", max_tokens=16, temperature=0)
    items = [i async for i in engine.stream(req)]
    done = items[-1]
    assert isinstance(done, Completion)
    assert all(isinstance(i, Chunk) for i in items[:-1]) and len(items) > 2
    assert "".join(i.text for i in items[:-1]) == done.text
    assert (done.finish_reason, done.usage.output_tokens) == ("length", 16)  # random weights never say EOS here
    middle = len(done.text) // 2
    stop = done.text[middle : middle + 3]
    cut = await generate(engine, raw("A mock server", max_tokens=16, temperature=0, stop=[stop]))
    assert cut.finish_reason == "stop_sequence" and cut.stop_sequence == stop
    assert stop not in cut.text and done.text.startswith(cut.text)


async def test_an_empty_raw_prompt_starts_from_the_beginning_of_text(engine: TransformersEngine) -> None:
    done = await generate(engine, raw("", max_tokens=5, temperature=0))
    assert done.usage.input_tokens == 1
    assert done.finish_reason in {"stop", "length"} and done.usage.output_tokens <= 5


async def test_prompt_beyond_the_model_positions_is_refused(engine: TransformersEngine) -> None:
    assert engine.context_window == 128  # the model's n_positions caps the configured n_ctx
    with pytest.raises(ContextLengthExceeded, match="maximum context length is 128"):
        engine.prompt_tokens(raw("fox " * 200))


async def test_chat_uses_the_tokenizers_template(tiny_chat: Path) -> None:
    from transformers import AutoTokenizer

    eng = build("transformers", make_settings(n_threads=1), {"model": str(tiny_chat)})
    await eng.start()
    try:
        msgs = [Message("system", "Be brief."), Message("user", "Why do gateways retry?")]
        req = GenerateRequest("tiny", msgs, max_tokens=8, temperature=0)
        tok = AutoTokenizer.from_pretrained(tiny_chat)
        want = tok.apply_chat_template([{"role": m.role, "content": m.content} for m in msgs],
                                       add_generation_prompt=True, tokenize=True)
        want = want["input_ids"] if isinstance(want, dict) or hasattr(want, "keys") else want
        assert eng.render_prompt(req).endswith("<|assistant|>")
        assert eng.prompt_tokens(req) == len(want)
        done = await generate(eng, req)
        assert done.usage.input_tokens == len(want) and done.usage.output_tokens >= 1
    finally:
        await eng.aclose()


async def test_chat_without_a_template_is_a_transcript(engine: TransformersEngine) -> None:
    req = GenerateRequest("tiny", [Message("system", "Be brief."), Message("user", "Hello")], max_tokens=4)
    assert engine.render_prompt(req) == "System: Be brief.\nUser: Hello\nAssistant:"


async def test_a_full_queue_is_refused_and_a_cancelled_stream_lets_the_next_in(tiny_gpt2: Path) -> None:
    eng = build("transformers", make_settings(n_threads=1), {"model": str(tiny_gpt2), "queue_size": 1})
    await eng.start()
    try:
        running = eng.stream(raw("The quick brown", max_tokens=100_000, temperature=0))
        assert isinstance(await running.__anext__(), Chunk)
        waiting = asyncio.ensure_future(generate(eng, raw("Rain", max_tokens=3, temperature=0)))
        while eng.stats()["queue_depth"] < 1:
            await asyncio.sleep(0.01)
        with pytest.raises(Overloaded):
            await generate(eng, raw("Hello", max_tokens=3))
        await running.aclose()  # the client goes away; the context window ends it otherwise
        done = await waiting
        assert done.usage.output_tokens == 3
        assert eng.stats()["completed"] == 1  # the cancelled one never completed
    finally:
        await eng.aclose()


def test_a_model_option_is_required() -> None:
    with pytest.raises(ValueError, match="needs a `model` option"):
        build("transformers", make_settings(), {})


async def test_vendor_b_on_a_transformers_model(tiny_gpt2: Path, reference: Any) -> None:
    """Configuration picks the engine per model name, and a vendor per model name."""
    settings = make_settings(vendor_b_model="tiny", vendor_a_model="echo", n_threads=1)
    settings.models = {"tiny": ModelSpec("tiny", "transformers", {"model": str(tiny_gpt2)}),
                       "echo": ModelSpec("echo", "echo")}
    app = create_app(settings)
    await app.ctx.models.start()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            r = await client.post("/vendor-b/messages", json={"prompt": "The quick brown", "max_tokens": 12,
                                                              "temperature": 0})
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["choices"][0]["message"]["content"] == hf_generate(reference, "The quick brown", 12,
                                                                           do_sample=False)
            assert body["usage"] == {"input_tokens": len(reference[0]("The quick brown").input_ids),
                                     "output_tokens": 12}
            r = await client.post("/vendor-b/messages", json={"prompt": "fox " * 200})
            assert_vendor_error("b", r, 400, mentions="context length")
    finally:
        await app.ctx.models.aclose()
