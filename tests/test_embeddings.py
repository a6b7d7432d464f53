"""Embeddings (OpenAI's /v1/embeddings, Gemini's embedContent and batchEmbedContents) from the
embedded model, through the official SDKs and LiteLLM against a real server process: unit
vectors that put paraphrases together, the same vector for the same text, both encodings,
shortened vectors as each vendor shortens them, and each vendor's own 4xx for bad input."""

from __future__ import annotations

import math
import os
import uuid
from collections.abc import Iterator

import httpx
import openai
import pytest
from google import genai
from google.genai import types as genai_types

from .helpers import ServerProcess, serving

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no price list from the internet
import litellm  # noqa: E402

TEXTS = ["The cat sat on the mat.", "A cat was sitting on a mat.", "Stock markets fell sharply today.",
         "Shares dropped a lot on the exchange this morning."]
MODEL = "text-embedding-3-small"
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:pydantic._internal._generate_schema")


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with serving() as s:
        yield s


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)


def cos(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def norm(v: list[float]) -> float:
    return math.sqrt(sum(x * x for x in v))


def test_openai_vectors_come_from_the_model(client: openai.OpenAI) -> None:
    done = client.embeddings.create(model=MODEL, input=TEXTS)  # the SDK asks for base64 and decodes it
    assert done.object == "list" and done.model == MODEL and [d.index for d in done.data] == [0, 1, 2, 3]
    v = [d.embedding for d in done.data]
    assert all(len(x) == 576 and abs(norm(x) - 1) < 1e-5 for x in v)  # SmolLM2's hidden size, unit length
    cross = max(cos(v[i], v[j]) for i in (0, 1) for j in (2, 3))
    assert cos(v[0], v[1]) > cross and cos(v[2], v[3]) > cross  # paraphrases sit together
    assert done.usage.prompt_tokens == done.usage.total_tokens > 4 * 5
    # Floats on the wire give the same vectors (float32 precision), alone or in a batch.
    alone = client.embeddings.create(model=MODEL, input=TEXTS[2], encoding_format="float").data[0].embedding
    assert max(abs(a - b) for a, b in zip(alone, v[2], strict=True)) < 1e-6


def test_openai_dimensions_shorten_to_a_unit_vector(client: openai.OpenAI) -> None:
    full = client.embeddings.create(model=MODEL, input=TEXTS[0]).data[0].embedding
    short = client.embeddings.create(model=MODEL, input=TEXTS[0], dimensions=8).data[0].embedding
    assert len(short) == 8 and abs(norm(short) - 1) < 1e-5
    scale = norm(full[:8])
    assert all(abs(s * scale - f) < 1e-5 for s, f in zip(short, full[:8], strict=True))


def test_gemini_single_and_batch(server: ServerProcess, client: openai.OpenAI) -> None:
    g = genai.Client(api_key="g-test", http_options=genai_types.HttpOptions(base_url=server.url))
    batch = g.models.embed_content(model="text-embedding-004", contents=TEXTS[:2])
    assert batch.embeddings and len(batch.embeddings) == 2
    one = httpx.post(server.url + "/v1beta/models/text-embedding-004:embedContent", timeout=60,
                     json={"content": {"parts": [{"text": TEXTS[1]}]}, "taskType": "SEMANTIC_SIMILARITY"})
    assert one.status_code == 200, one.text
    values = one.json()["embedding"]["values"]
    assert max(abs(a - b) for a, b in zip(values, batch.embeddings[1].values or [], strict=True)) < 1e-9
    # The same model behind both vendors: the same vector.
    oa = client.embeddings.create(model=MODEL, input=TEXTS[1], encoding_format="float").data[0].embedding
    assert max(abs(a - b) for a, b in zip(values, oa, strict=True)) < 1e-9
    # Google cuts the vector and leaves it as is.
    cut = g.models.embed_content(model="text-embedding-004", contents=TEXTS[1],
                                 config=genai_types.EmbedContentConfig(output_dimensionality=16))
    assert cut.embeddings and cut.embeddings[0].values == pytest.approx(values[:16], abs=1e-9)


def test_echo_vectors_are_a_hash_of_the_text(client: openai.OpenAI) -> None:
    one, two, other = (client.embeddings.create(model="echo", input=t, encoding_format="float").data[0].embedding
                       for t in ("same", "same", "different"))
    assert one == two != other and len(one) == 64 and abs(norm(one) - 1) < 1e-9


def test_litellm_embedding_and_the_request_log(server: ServerProcess) -> None:
    test_id = "emb-" + uuid.uuid4().hex
    resp = litellm.embedding(model="openai/" + MODEL, api_base=server.url + "/v1", api_key="sk-test",
                             input=TEXTS[:2], extra_headers={"x-mockvendor-test-id": test_id})
    assert len(resp.data) == 2 and len(resp.data[0]["embedding"]) == 576 and resp.usage.prompt_tokens > 5
    (rec,) = httpx.get(server.url + "/admin/requests", params={"test_id": test_id}).json()["data"]
    assert rec["route"] == "/v1/embeddings" and rec["status"] == 200
    assert rec["tokens_in"] == resp.usage.prompt_tokens and not rec["tokens_out"]


@pytest.mark.parametrize(("body", "status", "param", "words"), [
    ({"model": MODEL}, 400, "input", "'input'"),
    ({"model": MODEL, "input": ""}, 400, "input", "non-empty"),
    ({"model": MODEL, "input": ["ok", ""]}, 400, "input[1]", "non-empty"),
    ({"model": MODEL, "input": [[1, 2, 3]]}, 400, "input[0]", "token arrays"),
    ({"model": MODEL, "input": [5]}, 400, "input[0]", "token arrays"),
    ({"model": MODEL, "input": "x", "dimensions": 5000}, 400, "dimensions", "less than or equal to 576"),
    ({"model": MODEL, "input": "x", "encoding_format": "int8"}, 400, "encoding_format", "'float' or 'base64'"),
    ({"model": MODEL, "input": "word " * 3000}, 400, "input", "maximum context length"),
    ({"model": MODEL, "input": ["x"] * 2049}, 400, "input", "maximum length 2048"),
    ({"model": "no-such-model", "input": "x"}, 404, "model", "no-such-model"),
])
def test_openai_bad_input(server: ServerProcess, body: dict[str, object], status: int, param: str | None,
                          words: str) -> None:
    r = httpx.post(server.url + "/v1/embeddings", json=body, timeout=60)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["param"] == param and words in err["message"] and "x-mockvendor-fault" not in r.headers, err


@pytest.mark.parametrize(("method", "body", "words"), [
    ("embedContent", {}, "content"),
    ("embedContent", {"content": {"parts": [{"text": "x"}]}, "taskType": "GUESS"}, "taskType"),
    ("batchEmbedContents", {"requests": []}, "requests"),
    ("batchEmbedContents", {"requests": [{"model": "models/other", "content": {"parts": [{"text": "x"}]}}]},
     "models/other"),
    ("embedContent", {"content": {"parts": [{"text": "x"}]}, "outputDimensionality": 4096}, "outputDimensionality"),
])
def test_gemini_bad_input(server: ServerProcess, method: str, body: dict[str, object], words: str) -> None:
    r = httpx.post(f"{server.url}/v1beta/models/text-embedding-004:{method}", json=body, timeout=60)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["status"] == "INVALID_ARGUMENT" and words in err["message"], err
