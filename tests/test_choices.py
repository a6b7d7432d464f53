"""Several choices per request (OpenAI's ``n``, Gemini's ``candidateCount``), through the SDKs
over a real socket on the embedded model: the choices are sampled side by side, choice ``i``
with seed + ``i``, so they differ, the same seed gives the same choices again, and choice ``i``
is exactly what a single request with seed + ``i`` answers; usage bills the prompt once and
every choice's output."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest
from google import genai
from google.genai import types as gt

from .helpers import ServerProcess, running

ASK = [{"role": "user", "content": "Write one short sentence about the sea."}]


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    yield from running({"MOCKVENDOR_FAULTS": "off", "OPENAI_API_KEY": ""})


@pytest.fixture
def client(server: ServerProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)


def test_n_choices_are_seeded_side_by_side(client: openai.OpenAI) -> None:
    def ask(n: int, seed: int) -> openai.types.chat.ChatCompletion:
        return client.chat.completions.create(model="gpt-4o", messages=ASK, n=n, seed=seed, temperature=1.0,  # type: ignore[arg-type]
                                              max_tokens=24)

    three = ask(3, 5)
    texts = [c.message.content for c in three.choices]
    assert [c.index for c in three.choices] == [0, 1, 2] and len(set(texts)) == 3
    assert [c.message.content for c in ask(3, 5).choices] == texts  # reproducible
    singles = [ask(1, 5 + i) for i in range(3)]
    assert [s.choices[0].message.content for s in singles] == texts
    assert three.usage is not None and all(s.usage is not None for s in singles)
    assert three.usage.prompt_tokens == singles[0].usage.prompt_tokens  # type: ignore[union-attr]
    assert three.usage.completion_tokens == sum(s.usage.completion_tokens for s in singles)  # type: ignore[union-attr]


def test_n_choices_streamed(client: openai.OpenAI) -> None:
    whole = client.chat.completions.create(model="gpt-4o", messages=ASK, n=2, seed=9, max_tokens=24)  # type: ignore[arg-type]
    parts: dict[int, list[str]] = {0: [], 1: []}
    finished = {}
    for chunk in client.chat.completions.create(model="gpt-4o", messages=ASK, n=2, seed=9, max_tokens=24,  # type: ignore[arg-type]
                                                stream=True):
        for c in chunk.choices:
            parts[c.index].append(c.delta.content or "")
            if c.finish_reason:
                finished[c.index] = c.finish_reason
    assert ["".join(parts[i]) for i in (0, 1)] == [c.message.content for c in whole.choices]
    assert finished == {c.index: c.finish_reason for c in whole.choices}


def test_legacy_completions_n(client: openai.OpenAI) -> None:
    done = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="The sea is", n=2, seed=3,
                                     max_tokens=12, temperature=1.0)
    assert [c.index for c in done.choices] == [0, 1] and done.choices[0].text != done.choices[1].text


def test_gemini_candidate_count(server: ServerProcess) -> None:
    client = genai.Client(api_key="k", http_options=gt.HttpOptions(base_url=server.url))
    config = gt.GenerateContentConfig(candidate_count=2, seed=4, temperature=1.0, max_output_tokens=24)
    r = client.models.generate_content(model="gemini-2.5-flash", contents=ASK[0]["content"], config=config)
    assert r.candidates is not None and [c.index for c in r.candidates] == [0, 1]
    texts = [c.content.parts[0].text for c in r.candidates]  # type: ignore[union-attr,index]
    assert texts[0] != texts[1]
    streamed: dict[int, str] = {0: "", 1: ""}
    for chunk in client.models.generate_content_stream(model="gemini-2.5-flash", contents=ASK[0]["content"],
                                                       config=config):
        for c in chunk.candidates or []:
            streamed[c.index or 0] += "".join(p.text or "" for p in (c.content.parts if c.content else []) or [])
    assert [streamed[0], streamed[1]] == texts
