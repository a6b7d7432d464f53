"""Bad input, as a table: every endpoint family (seed A/B/E/O, OpenAI chat and legacy
completions, Anthropic messages, Gemini generateContent) against every kind of bad
request. Each gets a clear 4xx in that vendor's own error shape naming the problem;
emoji and right-to-left text are answered; the server is healthy afterwards.

One app on the real model (so context windows are the model's own) with vendor O
pointed at a loopback stand-in for OpenAI."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from mockvendor import create_app

from .conftest import FakeSleep, make_settings
from .helpers import assert_vendor_error
from .standins import StandInOpenAI

MODEL = "smollm2"
LIMIT = 1024 * 1024  # MOCKVENDOR_MAX_BODY_BYTES's default
HUGE = "word " * 50_000  # 250k characters: past every context window and the seed's prompt cap, under LIMIT


@dataclass(frozen=True)
class Family:
    """One endpoint family: how to put a prompt and a sampling field into its body."""

    name: str
    vendor: str  # the error shape (tests.helpers.ERROR_SHAPES)
    path: str
    body: Callable[[Any], dict[str, Any]]
    sampling: Callable[[str, Any], dict[str, Any]] | None  # (field, value) -> body with it
    wrong_type: dict[str, Any] = field(default_factory=dict)  # a required field with the wrong JSON type
    unknown_model: tuple[str, dict[str, Any]] | None = None  # (path, body) naming a model nobody serves


def _seed(v: str) -> Family:
    path = f"/vendor-{v}/messages"
    return Family(
        v, v, path, lambda p: {"prompt": p, "max_tokens": 4},
        None if v == "e" else (lambda k, x: {"prompt": "hi", k: x}),
        wrong_type={"prompt": ["not", "a", "string"]},
    )


def _chat(p: Any, model: str = MODEL) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": p}], "max_tokens": 4}


def _anthropic(p: Any, model: str = MODEL) -> dict[str, Any]:
    return {"model": model, "max_tokens": 4, "messages": [{"role": "user", "content": p}]}


def _gemini(p: Any) -> dict[str, Any]:
    return {"contents": [{"role": "user", "parts": [{"text": p}]}], "generationConfig": {"maxOutputTokens": 4}}


GEMINI_PATH = f"/v1beta/models/{MODEL}:generateContent"
FAMILIES = [
    _seed("a"), _seed("b"), _seed("e"), _seed("o"),
    Family("openai-chat", "openai", "/v1/chat/completions", _chat,
           lambda k, x: {**_chat("hi"), k: x}, wrong_type={"model": MODEL, "messages": "hi"},
           unknown_model=("/v1/chat/completions", _chat("hi", "no-such-model"))),
    Family("openai-completions", "openai", "/v1/completions", lambda p: {"model": MODEL, "prompt": p, "max_tokens": 4},
           lambda k, x: {"model": MODEL, "prompt": "hi", k: x}, wrong_type={"model": MODEL, "prompt": {"a": 1}},
           unknown_model=("/v1/completions", {"model": "no-such-model", "prompt": "hi"})),
    Family("anthropic", "anthropic", "/v1/messages", _anthropic,
           lambda k, x: {**_anthropic("hi"), k: x}, wrong_type={"model": MODEL, "max_tokens": "4", "messages": []},
           unknown_model=("/v1/messages", _anthropic("hi", "no-such-model"))),
    Family("gemini", "gemini", GEMINI_PATH, _gemini,
           lambda k, x: {**_gemini("hi"), "generationConfig": {{"max_tokens": "maxOutputTokens"}.get(k, k): x}},
           wrong_type={"contents": {"parts": "hi"}},
           unknown_model=("/v1beta/models/no-such-model:generateContent", _gemini("hi"))),
    # Cohere caps a too-large max_tokens (and bounds no temperature) rather than refusing it: no sampling cases.
    Family("cohere", "cohere", "/v2/chat", _chat, None, wrong_type={"model": MODEL, "messages": "hi"},
           unknown_model=("/v2/chat", _chat("hi", "no-such-model"))),
]
IDS = [f.name for f in FAMILIES]


@pytest.fixture(scope="module")
def standin() -> Iterator[StandInOpenAI]:
    with StandInOpenAI() as s:
        yield s


@pytest.fixture(scope="module")
async def bad_app(standin: StandInOpenAI) -> AsyncIterator[Any]:
    settings = make_settings(seed=1, openai_base_url=standin.base_url, openai_api_key="sk-bad-input-0000")
    app = create_app(settings, sleep=FakeSleep())
    await app.ctx.models.start()
    yield app
    await app.ctx.models.aclose()


@pytest.fixture
async def c(bad_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=bad_app), base_url="http://test",
                                 timeout=120) as client:
        yield client
        # Healthy afterwards: ready, nothing stuck in the engine, and still answering.
        assert (await client.get("/readyz")).json()["status"] == "ready"
        assert await engines_at_rest(bad_app), bad_app.ctx.models.stats()
        assert (await client.post("/vendor-e/messages", json={"prompt": "still here"})).status_code == 200


async def engines_at_rest(app: Any) -> bool:
    """Every engine idle: nothing generating, nothing queued. The engine finishes its
    bookkeeping just after the answer is out, so this waits a moment for it."""
    for _ in range(100):
        if all(s.get("active", 0) == 0 and s.get("queue_depth", 0) == 0 for s in app.ctx.models.stats().values()):
            return True
        await asyncio.sleep(0.05)
    return False


def raw(c: httpx.AsyncClient, path: str, content: bytes, ctype: str = "application/json") -> Any:
    return c.post(path, content=content, headers={"content-type": ctype})


# ---- body-level problems: the same for every family ------------------------------------

BODY_CASES = {
    "malformed": (b'{"prompt": "hi",,}', 400, "not valid JSON"),
    "truncated": (b'{"prompt": "hi", "max_tok', 400, "not valid JSON"),
    "empty body": (b"", 400, "empty"),
    "not an object": (b'["prompt", "hi"]', 400, "object"),
    "a bare string": (b'"hi"', 400, "object"),
    "invalid utf-8": (b'{"prompt": "\xff\xfe\xfd"}', 400, "not valid JSON"),
    "raw NUL byte": (b'{"prompt": "a\x00b"}', 400, "not valid JSON"),
    "deeply nested": (b'{"prompt": ' + b"[" * 5000 + b"]" * 5000 + b"}", 400, "not valid JSON"),
    "NaN": (b'{"prompt": "hi", "temperature": NaN}', 400, "not valid JSON"),
}


@pytest.mark.parametrize("case", list(BODY_CASES))
@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
async def test_bad_bodies(c: httpx.AsyncClient, family: Family, case: str) -> None:
    content, status, mentions = BODY_CASES[case]
    assert_vendor_error(family.vendor, await raw(c, family.path, content), status, mentions=mentions)


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; b=x",
                                   "application/xml"])
@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
async def test_wrong_content_type(c: httpx.AsyncClient, family: Family, ctype: str) -> None:
    body = json.dumps(family.body("hi")).encode()
    assert_vendor_error(family.vendor, await raw(c, family.path, body, ctype), 415, mentions="Content-Type")


@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
async def test_body_over_the_limit(c: httpx.AsyncClient, family: Family) -> None:
    body = json.dumps(family.body("x" * (LIMIT + 10))).encode()
    assert_vendor_error(family.vendor, await raw(c, family.path, body), 413, mentions="limit")
    # Sent in pieces without a Content-Length, it is cut off just the same.

    async def pieces() -> AsyncIterator[bytes]:
        for i in range(0, len(body), 65536):
            yield body[i:i + 65536]

    r = await c.post(family.path, content=pieces(), headers={"content-type": "application/json"})
    assert_vendor_error(family.vendor, r, 413, mentions="limit")


# ---- field-level problems ----------------------------------------------------------------


@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
async def test_missing_required_fields(c: httpx.AsyncClient, family: Family) -> None:
    assert_vendor_error(family.vendor, await c.post(family.path, json={}), 400)


@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
async def test_wrong_field_types(c: httpx.AsyncClient, family: Family) -> None:
    assert_vendor_error(family.vendor, await c.post(family.path, json=family.wrong_type), 400)


@pytest.mark.parametrize("prompt", ["", "   ", "\n\t \r\n"], ids=["empty", "spaces", "whitespace"])
@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
async def test_empty_and_whitespace_prompts(c: httpx.AsyncClient, family: Family, prompt: str) -> None:
    assert_vendor_error(family.vendor, await c.post(family.path, json=family.body(prompt)), 400, mentions="empty")


@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
async def test_nul_characters(c: httpx.AsyncClient, family: Family) -> None:
    r = await c.post(family.path, json=family.body("before\u0000after"))
    assert_vendor_error(family.vendor, r, 400, mentions="NUL")


@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
async def test_huge_prompt_beyond_the_context_window(c: httpx.AsyncClient, family: Family) -> None:
    r = await c.post(family.path, json=family.body(HUGE))
    body = assert_vendor_error(family.vendor, r, 400)
    assert "context" in r.text or "longer than" in r.text, body


@pytest.mark.parametrize("family", [f for f in FAMILIES if f.unknown_model], ids=lambda f: f.name)
async def test_unknown_models(c: httpx.AsyncClient, family: Family) -> None:
    assert family.unknown_model is not None
    path, body = family.unknown_model
    assert_vendor_error(family.vendor, await c.post(path, json=body), 404, mentions="no-such-model")


SAMPLING_CASES = [
    ("max_tokens", -1), ("max_tokens", 0), ("max_tokens", 10**12), ("max_tokens", 1e300), ("max_tokens", 2.5),
    ("max_tokens", "100"), ("max_tokens", True), ("temperature", -0.5), ("temperature", 1e9),
    ("temperature", "hot"), ("temperature", [1]),
]


@pytest.mark.parametrize(("key", "value"), SAMPLING_CASES, ids=[f"{k}={v!r}" for k, v in SAMPLING_CASES])
@pytest.mark.parametrize("family", [f for f in FAMILIES if f.sampling], ids=lambda f: f.name)
async def test_negative_or_absurd_sampling(c: httpx.AsyncClient, family: Family, key: str, value: Any) -> None:
    assert family.sampling is not None
    r = await c.post(family.path, json=family.sampling(key, value))
    name = "maxOutputTokens" if family.vendor == "gemini" and key == "max_tokens" else key
    assert_vendor_error(family.vendor, r, 400, mentions=name)


# ---- text that must work --------------------------------------------------------------------

GOOD_TEXT = {
    "emoji": "Say hi 👋🏽 to 🧑‍🚀 and 🇯🇵",
    "right-to-left": "שלום עולם، مرحبا بالعالم",
    "mixed direction": "abc \u202eRTL override\u202c def",
    "combining marks": "Zalgo: Z̵̡̛a̷l̶g̸o̴",
}


@pytest.mark.parametrize("text", list(GOOD_TEXT))
@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
async def test_emoji_and_right_to_left_text_are_answered(c: httpx.AsyncClient, family: Family, text: str) -> None:
    r = await c.post(family.path, json=family.body(GOOD_TEXT[text]))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    if family.vendor == "e":
        assert GOOD_TEXT[text] in r.json()["response"]
