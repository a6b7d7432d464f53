"""Penalties and logit bias, through the OpenAI and Gemini SDKs over a real socket, applied by
llama.cpp's own samplers to the embedded model: with greedy decoding (so nothing else varies),
a frequency or presence penalty changes the answer and does so reproducibly, and a -100 bias on
the token the model would write first keeps it from being written first."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest
from google import genai
from google.genai import types as gt

from mockvendor.engines.llamacpp import resolve_model_path
from mockvendor.settings import Settings

from .helpers import ServerProcess, running

ASK = [{"role": "user", "content": "List the days of the week, then list them again."}]


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    yield from running({"MOCKVENDOR_FAULTS": "off", "OPENAI_API_KEY": ""})


@pytest.fixture
def client(server: ServerProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)


def greedy(client: openai.OpenAI, **kw: object) -> str:
    done = client.chat.completions.create(model="gpt-4o", messages=ASK, temperature=0, max_tokens=48, **kw)  # type: ignore[call-overload]
    return done.choices[0].message.content or ""


@pytest.mark.parametrize("penalty", ["frequency_penalty", "presence_penalty"])
def test_penalties_change_the_greedy_answer(client: openai.OpenAI, penalty: str) -> None:
    plain = greedy(client)
    penalised = greedy(client, **{penalty: 2.0})
    assert penalised != plain
    assert greedy(client, **{penalty: 2.0}) == penalised  # reproducible


def test_logit_bias_bans_a_token(client: openai.OpenAI) -> None:
    from llama_cpp import Llama

    vocab = Llama(resolve_model_path({}, Settings()), vocab_only=True, verbose=False)
    plain = greedy(client)
    first = vocab.tokenize(plain.encode(), add_bos=False, special=False)[0]
    banned = greedy(client, logit_bias={str(first): -100})
    assert vocab.tokenize(banned.encode(), add_bos=False, special=False)[0] != first
    with pytest.raises(openai.BadRequestError) as e:
        greedy(client, logit_bias={"not-a-token": 1})
    assert e.value.body["param"] == "logit_bias"  # type: ignore[index]


def test_gemini_penalties(server: ServerProcess) -> None:
    client = genai.Client(api_key="k", http_options=gt.HttpOptions(base_url=server.url))

    def ask(**kw: float) -> str:
        config = gt.GenerateContentConfig(temperature=0, max_output_tokens=48, **kw)  # type: ignore[arg-type]
        return client.models.generate_content(model="gemini-2.5-flash", contents=ASK[0]["content"],
                                              config=config).text or ""

    assert ask(frequency_penalty=1.9) != ask()
