"""Log-probabilities of the sampled tokens (OpenAI chat ``logprobs``/``top_logprobs``, legacy
completions ``logprobs``, Responses ``include``, Gemini ``responseLogprobs``), through the official
SDKs over a real socket on the embedded model.

The values are checked against the model itself: the test loads the same GGUF with
llama-cpp-python in process, evaluates prompt + answer tokens with ``logits_all`` and takes the
log-softmax of the raw logits, token by token.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as gt
from jinja2.sandbox import ImmutableSandboxedEnvironment

from mockvendor.engines.llamacpp import bundled_model_path

from .helpers import ServerProcess, running

ASK = [{"role": "user", "content": "Write one short sentence about the sea."}]
TOLERANCE = 1e-2  # per token: the server decodes in other batch shapes than the reference


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    config = Path(tmp_path_factory.mktemp("lp")) / "mockvendor.toml"
    config.write_text('[models.echo-lp]\nengine = "echo"\n')
    yield from running({"MOCKVENDOR_FAULTS": "off", "OPENAI_API_KEY": "", "MOCKVENDOR_CONFIG": str(config)}, 180)


@pytest.fixture(scope="module")
def front(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A second server answering ``up-lp`` through the upstream engine, from the first one."""
    config = Path(tmp_path_factory.mktemp("front")) / "mockvendor.toml"
    config.write_text(f'[models.up-lp]\nengine = "upstream"\nbase_url = "{server.url}/v1"\nmodel = "gpt-4o-mini"\n')
    yield from running({"MOCKVENDOR_FAULTS": "off", "OPENAI_API_KEY": "", "MOCKVENDOR_CONFIG": str(config)}, 180)


@pytest.fixture
def client(server: ServerProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)


@pytest.fixture
def gclient(server: ServerProcess) -> genai.Client:
    return genai.Client(api_key="k", http_options=gt.HttpOptions(base_url=server.url))


class Reference:
    """The embedded GGUF, loaded independently: its log-probabilities for a prompt and answer."""

    def __init__(self) -> None:
        import llama_cpp

        self.llm = llama_cpp.Llama(str(bundled_model_path()), n_ctx=512, logits_all=True, verbose=False)
        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        self.template = env.from_string(self.llm.metadata["tokenizer.chat_template"])
        pieces: dict[bytes, list[int]] = {}
        for t in range(self.llm.n_vocab()):
            pieces.setdefault(self.llm.detokenize([t], special=False), []).append(t)
        self.by_bytes = pieces

    def chat_prompt(self, messages: list[dict[str, str]]) -> list[int]:
        text = self.template.render(messages=messages, add_generation_prompt=True)
        return list(self.llm.tokenize(text.encode(), add_bos=True, special=True))

    def raw_prompt(self, text: str) -> list[int]:
        return list(self.llm.tokenize(text.encode(), add_bos=True, special=False))

    def token_id(self, data: bytes) -> int:
        ids = self.by_bytes[data]
        assert len(ids) == 1, (data, ids)  # a token's bytes name it
        return ids[0]

    def logprobs(self, prompt: list[int], answer: list[int]) -> list[float]:
        """log p(answer[j] | prompt + answer[:j]) for each j, from the raw logits. The prompt in one
        batch, then one token at a time, as a server generates (the logits of a quantized model
        differ slightly with the batch shape)."""
        self.llm.reset()
        self.llm.eval(prompt)
        for t in answer[:-1]:
            self.llm.eval([t])
        rows = np.asarray(self.llm.scores[len(prompt) - 1 : len(prompt) - 1 + len(answer)], dtype=np.float64)
        peak = rows.max(axis=1, keepdims=True)
        lse = peak[:, 0] + np.log(np.exp(rows - peak).sum(axis=1))
        return [float(rows[j, t] - lse[j]) for j, t in enumerate(answer)]


@pytest.fixture(scope="module")
def reference() -> Reference:
    return Reference()


def assert_close(got: list[float], want: list[float]) -> None:
    assert len(got) == len(want) > 0
    for j, (g, w) in enumerate(zip(got, want, strict=True)):
        assert abs(g - w) < TOLERANCE, (j, g, w)
    assert abs(sum(got) - sum(want)) < TOLERANCE * len(got)


# -- OpenAI chat completions ---------------------------------------------------------------------
def test_chat_logprobs_are_the_models_own(client: openai.OpenAI, reference: Reference) -> None:
    r = client.chat.completions.create(model="gpt-4o-mini", messages=ASK, max_tokens=16, temperature=0.9, seed=11,
                                       logprobs=True, top_logprobs=5)
    content = r.choices[0].logprobs.content
    assert "".join(t.token for t in content) == r.choices[0].message.content
    answer = [reference.token_id(bytes(t.bytes)) for t in content]
    assert_close([t.logprob for t in content], reference.logprobs(reference.chat_prompt(ASK), answer))
    for t in content:
        assert len(t.top_logprobs) == 5
        tops = [a.logprob for a in t.top_logprobs]
        assert tops == sorted(tops, reverse=True)
        assert all(a.logprob <= 0 for a in t.top_logprobs)
        # Sampled at temperature 0.9: a token may be outside the top 5, never above the best.
        assert t.logprob <= tops[0] + 1e-9


def test_chat_greedy_token_is_the_top_alternative(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(model="gpt-4o-mini", messages=ASK, max_tokens=12, temperature=0,
                                       logprobs=True, top_logprobs=3)
    content = r.choices[0].logprobs.content
    assert len(content) == r.usage.completion_tokens
    for t in content:
        assert t.top_logprobs[0].token == t.token and t.top_logprobs[0].logprob == t.logprob
        assert t.top_logprobs[0].bytes == t.bytes
        assert [a.logprob for a in t.top_logprobs] == sorted((a.logprob for a in t.top_logprobs), reverse=True)


def test_chat_stream_carries_the_same_logprobs(client: openai.OpenAI) -> None:
    kw: dict[str, Any] = {"model": "gpt-4o-mini", "messages": ASK, "max_tokens": 16, "temperature": 0.9, "seed": 5,
                          "logprobs": True, "top_logprobs": 2}
    whole = client.chat.completions.create(**kw).choices[0].logprobs.content
    streamed, text = [], ""
    for chunk in client.chat.completions.create(stream=True, **kw):
        for c in chunk.choices:
            text += c.delta.content or ""
            if c.logprobs is not None:
                streamed += c.logprobs.content
    assert [t.model_dump() for t in streamed] == [t.model_dump() for t in whole]
    assert "".join(t.token for t in streamed) == text


def test_stop_sequence_tokens_are_not_reported(client: openai.OpenAI) -> None:
    kw: dict[str, Any] = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hi"}],
                          "max_tokens": 30, "temperature": 0, "logprobs": True, "stop": [" you"]}
    r = client.chat.completions.create(**kw)
    assert r.choices[0].finish_reason == "stop"
    tokens = [t.token for t in r.choices[0].logprobs.content]
    assert "".join(tokens) == r.choices[0].message.content and " you" not in "".join(tokens)
    streamed = [t.token for chunk in client.chat.completions.create(stream=True, **kw) for c in chunk.choices
                for t in (c.logprobs.content if c.logprobs else [])]
    assert streamed == tokens


def test_each_choice_has_its_own_logprobs(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(model="gpt-4o-mini", messages=ASK, max_tokens=10, temperature=1.0, seed=2, n=2,
                                       logprobs=True)
    texts = [c.message.content for c in r.choices]
    assert texts[0] != texts[1]
    for c in r.choices:
        assert "".join(t.token for t in c.logprobs.content) == c.message.content
    assert sum(len(c.logprobs.content) for c in r.choices) == r.usage.completion_tokens


def test_chat_without_logprobs_has_none(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(model="gpt-4o-mini", messages=ASK, max_tokens=4, seed=1)
    assert r.choices[0].logprobs is None
    r = client.chat.completions.create(model="gpt-4o-mini", messages=ASK, max_tokens=4, seed=1, logprobs=True)
    assert all(t.top_logprobs == [] for t in r.choices[0].logprobs.content)


def test_chat_logprobs_refusals(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="gpt-4o-mini", messages=ASK, max_tokens=4, top_logprobs=2)
    assert e.value.body["param"] == "top_logprobs" and "logprobs" in e.value.message
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="gpt-4o-mini", messages=ASK, max_tokens=4, logprobs=True, top_logprobs=21)
    assert "top_logprobs" in e.value.message


def test_echo_engine_reports_certain_tokens(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(model="echo-lp", messages=[{"role": "user", "content": "hello there world"}],
                                       logprobs=True, top_logprobs=1)
    content = r.choices[0].logprobs.content
    assert "".join(t.token for t in content) == r.choices[0].message.content == "hello there world"
    assert all(t.logprob == 0.0 and t.top_logprobs[0].token == t.token for t in content)


def test_upstream_engine_passes_the_upstreams_logprobs_through(client: openai.OpenAI, front: ServerProcess) -> None:
    via = openai.OpenAI(base_url=front.url + "/v1", api_key="sk-test", max_retries=0)
    kw: dict[str, Any] = {"messages": ASK, "max_tokens": 10, "temperature": 0.9, "seed": 9, "logprobs": True,
                          "top_logprobs": 2}
    direct = client.chat.completions.create(model="gpt-4o-mini", **kw).choices[0].logprobs.content
    passed = via.chat.completions.create(model="up-lp", **kw).choices[0].logprobs.content
    assert [t.model_dump() for t in passed] == [t.model_dump() for t in direct]
    streamed = [t for chunk in via.chat.completions.create(model="up-lp", stream=True, **kw) for c in chunk.choices
                for t in (c.logprobs.content if c.logprobs else [])]
    assert [t.model_dump() for t in streamed] == [t.model_dump() for t in direct]


# -- legacy completions --------------------------------------------------------------------------
def test_completions_logprobs_are_the_models_own(client: openai.OpenAI, reference: Reference) -> None:
    prompt = "The capital of France is"
    kw: dict[str, Any] = {"model": "gpt-3.5-turbo-instruct", "prompt": prompt, "max_tokens": 10,
                          "temperature": 0.7, "seed": 3, "logprobs": 3}
    choice = client.completions.create(**kw).choices[0]
    lp = choice.logprobs
    assert "".join(lp.tokens) == choice.text
    assert [choice.text[o:].startswith(t) for o, t in zip(lp.text_offset, lp.tokens, strict=True)] == [True] * len(
        lp.tokens)
    answer = [reference.token_id(t.encode()) for t in lp.tokens]
    assert_close(lp.token_logprobs, reference.logprobs(reference.raw_prompt(prompt), answer))
    for top in lp.top_logprobs:
        assert len(top) == 3 and all(v <= 0 for v in top.values())
    # Streamed: the same tokens, offsets counted across the chunks.
    tokens, logprobs, offsets = [], [], []
    for chunk in client.completions.create(stream=True, **kw):
        for c in chunk.choices:
            if c.logprobs is not None:
                tokens += c.logprobs.tokens
                logprobs += c.logprobs.token_logprobs
                offsets += c.logprobs.text_offset
    assert (tokens, logprobs, offsets) == (lp.tokens, lp.token_logprobs, lp.text_offset)


def test_completions_echo_scores_the_prompt(client: openai.OpenAI, reference: Reference) -> None:
    prompt = "Once upon a time, in a small village,"
    kw: dict[str, Any] = {"model": "gpt-3.5-turbo-instruct", "prompt": prompt, "max_tokens": 6,
                          "temperature": 0.7, "seed": 6, "logprobs": 2, "echo": True}
    choice = client.completions.create(**kw).choices[0]
    lp = choice.logprobs
    assert choice.text.startswith(prompt) and "".join(lp.tokens) == choice.text
    ids = reference.raw_prompt(prompt)
    bos = reference.llm.token_bos()
    prompt_ids = ids[1:] if ids[0] == bos else ids
    n = len(prompt_ids)
    assert "".join(lp.tokens[:n]) == prompt
    assert lp.token_logprobs[0] is None and lp.top_logprobs[0] is None  # no context, as OpenAI
    context = ids[: len(ids) - n + 1]
    assert_close(lp.token_logprobs[1:n], reference.logprobs(context, prompt_ids[1:]))
    answer = [reference.token_id(t.encode()) for t in lp.tokens[n:]]
    assert_close(lp.token_logprobs[n:], reference.logprobs(ids, answer))
    assert [choice.text[o:].startswith(t) for o, t in zip(lp.text_offset, lp.tokens, strict=True)] == [True] * len(
        lp.tokens)
    streamed, text = [], ""
    for chunk in client.completions.create(stream=True, **kw):
        for c in chunk.choices:
            text += c.text
            streamed += list(zip(c.logprobs.tokens, c.logprobs.token_logprobs, c.logprobs.text_offset,
                                 strict=True)) if c.logprobs else []
    assert text == choice.text
    assert streamed == list(zip(lp.tokens, lp.token_logprobs, lp.text_offset, strict=True))
    plain = client.completions.create(model="gpt-3.5-turbo-instruct", prompt=prompt, max_tokens=3, echo=True)
    assert plain.choices[0].text.startswith(prompt) and plain.choices[0].logprobs is None


def test_completions_logprobs_above_five_is_refused(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as e:
        client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Hi", max_tokens=2, logprobs=6)
    assert "logprobs" in e.value.message


# -- Responses -----------------------------------------------------------------------------------
def test_responses_output_text_logprobs(client: openai.OpenAI, reference: Reference) -> None:
    kw: dict[str, Any] = {"model": "gpt-4o-mini", "input": ASK[0]["content"], "max_output_tokens": 16,
                          "temperature": 0.9, "extra_body": {"seed": 4}, "include": ["message.output_text.logprobs"],
                          "top_logprobs": 2}
    part = client.responses.create(**kw).output[0].content[0]
    assert "".join(t.token for t in part.logprobs) == part.text
    answer = [reference.token_id(bytes(t.bytes)) for t in part.logprobs]
    assert_close([t.logprob for t in part.logprobs], reference.logprobs(reference.chat_prompt(ASK), answer))
    assert all(len(t.top_logprobs) == 2 for t in part.logprobs)
    deltas, final = [], None
    for ev in client.responses.create(stream=True, **kw):
        if ev.type == "response.output_text.delta":
            deltas += [(t.token, t.logprob) for t in ev.logprobs]
        elif ev.type in ("response.completed", "response.incomplete"):
            final = ev.response
    assert deltas == [(t.token, t.logprob) for t in part.logprobs]
    assert final is not None and final.output[0].content[0].logprobs == part.logprobs
    plain = client.responses.create(model="gpt-4o-mini", input="Hi", max_output_tokens=16)
    assert plain.output[0].content[0].logprobs == []


# -- Gemini --------------------------------------------------------------------------------------
def test_gemini_logprobs_result(gclient: genai.Client, reference: Reference) -> None:
    cfg = gt.GenerateContentConfig(response_logprobs=True, logprobs=4, temperature=0.9, seed=8, max_output_tokens=16)
    r = gclient.models.generate_content(model="gemini-2.5-flash", contents=ASK[0]["content"], config=cfg)
    cand = r.candidates[0]
    chosen = cand.logprobs_result.chosen_candidates
    assert "".join(c.token for c in chosen) == r.text
    want = reference.logprobs(reference.chat_prompt(ASK), [c.token_id for c in chosen])
    assert_close([c.log_probability for c in chosen], want)
    assert math.isclose(cand.avg_logprobs, sum(c.log_probability for c in chosen) / len(chosen))
    tops = cand.logprobs_result.top_candidates
    assert len(tops) == len(chosen)
    for step, c in zip(tops, chosen, strict=True):
        values = [x.log_probability for x in step.candidates]
        assert len(values) == 4 and values == sorted(values, reverse=True) and c.log_probability <= values[0] + 1e-9
    streamed = []
    for ev in gclient.models.generate_content_stream(model="gemini-2.5-flash", contents=ASK[0]["content"],
                                                     config=cfg):
        streamed += ev.candidates[0].logprobs_result.chosen_candidates
        last = ev
    assert streamed == chosen
    assert last.candidates[0].avg_logprobs == cand.avg_logprobs


def test_gemini_logprobs_needs_response_logprobs(gclient: genai.Client) -> None:
    with pytest.raises(genai_errors.ClientError) as e:
        gclient.models.generate_content(model="gemini-2.5-flash", contents="Hi",
                                        config=gt.GenerateContentConfig(logprobs=2, max_output_tokens=4))
    assert e.value.code == 400 and "logprobs" in str(e.value)
    plain = gclient.models.generate_content(model="gemini-2.5-flash", contents="Hi",
                                            config=gt.GenerateContentConfig(max_output_tokens=4))
    assert plain.candidates[0].logprobs_result is None and plain.candidates[0].avg_logprobs is None
