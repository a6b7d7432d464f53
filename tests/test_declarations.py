"""Each wire format is declared once (mockvendor.wire): a field added to a declaration is
parsed, checked, documented in the OpenAPI document and shown on the docs page, with no
other edit; and the error words come from the declaration's constraints."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Annotated, Any, Literal

import httpx
import msgspec
import pytest
import uvicorn
from msgspec import Meta

from mockvendor import create_app, wire
from mockvendor.errors import InvalidRequest
from mockvendor.vendors.seed import VendorE
from mockvendor.vendors.seed import wire as seed_wire

from .conftest import asgi_client, make_settings
from .helpers import assert_vendor_error


class EchoWithMood(seed_wire.EchoRequest, kw_only=True):
    """Vendor E's request plus one made-up parameter: the only edit this test makes."""

    mood: Annotated[Literal["calm", "loud"], Meta(description="How loudly to echo (made up by a test).")] | None = None


@pytest.fixture
def mood(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(VendorE, "request", EchoWithMood)


def _props(doc: dict[str, Any], path: str) -> dict[str, Any]:
    body = doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]
    return body["schema"]["properties"]


async def test_a_made_up_parameter_is_parsed_checked_and_documented(mood: None) -> None:
    app = create_app(make_settings())
    async with asgi_client(app) as c:
        ok = await c.post("/vendor-e/messages", json={"prompt": "hi", "mood": "calm"})
        bad = await c.post("/vendor-e/messages", json={"prompt": "hi", "mood": "angry"})
        wrong = await c.post("/vendor-e/messages", json={"prompt": "hi", "mood": 3})
        doc = (await c.get("/openapi.json")).json()
    assert ok.status_code == 200 and ok.json() == {"response": "You entered hi"}
    err = assert_vendor_error("e", bad, 400, mentions="mood")["error"]
    assert "'calm', 'loud'" in err["message"], err
    assert_vendor_error("e", wrong, 400, mentions="mood")
    prop = _props(doc, "/vendor-e/messages")["mood"]
    assert prop["anyOf"][0]["enum"] == ["calm", "loud"]
    assert prop["description"].startswith("How loudly")


def test_the_vendor_parses_the_declared_type(mood: None) -> None:
    vendor = VendorE(make_settings())
    assert vendor.body({"prompt": "hi", "mood": "loud"}) == EchoWithMood(prompt="hi", mood="loud")


@pytest.mark.parametrize(
    ("body", "param", "words"),
    [
        ([], None, "Request body must be a JSON object, got an array."),
        ({}, "prompt", "Missing required field 'prompt'."),
        ({"prompt": 3}, "prompt", "Field 'prompt' must be a string, got an integer."),
        ({"prompt": ""}, "prompt", "Field 'prompt' must not be empty."),
        ({"prompt": "x", "max_tokens": 0}, "max_tokens", "Field 'max_tokens' must be at least 1, got 0."),
        ({"prompt": "x", "temperature": 9}, "temperature", "Field 'temperature' must be at most 2.0, got 9."),
        ({"prompt": "x", "stream": "yes"}, "stream", "Field 'stream' must be a boolean or null, got a string."),
        ({"prompt": "x" * 200_001}, "prompt", "Field 'prompt' is longer than 200000 characters."),
    ],
)
def test_error_words_come_from_the_declaration(body: Any, param: str | None, words: str) -> None:
    with pytest.raises(InvalidRequest) as e:
        wire.decode(seed_wire.PromptRequest, body)
    assert (e.value.param, e.value.message) == (param, words)


class _Part(msgspec.Struct, tag_field="type", tag="text"):
    text: str


class _Image(msgspec.Struct, tag_field="type", tag="image"):
    url: str


class _Turn(msgspec.Struct):
    role: Literal["user", "assistant"]
    content: str | list[_Part | _Image]

    def __post_init__(self) -> None:
        if self.role == "assistant" and not isinstance(self.content, str):
            raise ValueError("An assistant turn's content must be text.")


class _Chat(msgspec.Struct):
    turns: Annotated[list[_Turn], Meta(min_length=1, max_length=3)]


@pytest.mark.parametrize(
    ("body", "param", "words"),
    [
        ({"turns": []}, "turns", "must be a non-empty array"),
        ({"turns": [{"role": "user", "content": "a"}] * 4}, "turns", "may hold at most 3 items"),
        ({"turns": [{"role": "robot", "content": "a"}]}, "turns[0].role", "expected one of 'assistant', 'user'"),
        ({"turns": [{"role": "user", "content": [{"type": "video"}]}]}, "turns[0].content[0].type",
         "expected one of 'text', 'image'"),
        ({"turns": [{"role": "user", "content": [{"type": "image"}]}]}, "turns[0].content[0].url",
         "Missing required field 'turns[0].content[0].url'"),
        ({"turns": [{"role": "user", "content": 5}]}, "turns[0].content", "must be a string or an array"),
        ({"turns": [{"role": "assistant", "content": []}]}, "turns[0]", "An assistant turn's content must be text."),
    ],
)
def test_nested_paths_and_custom_rules(body: Any, param: str, words: str) -> None:
    with pytest.raises(InvalidRequest) as e:
        wire.decode(_Chat, body)
    assert e.value.param == param and words in e.value.message, (e.value.param, e.value.message)


def test_schema_is_inlined_and_valid() -> None:
    import jsonschema

    s = wire.schema(_Chat)
    assert "$ref" not in str(s) and "$defs" not in s
    jsonschema.Draft202012Validator.check_schema(s)
    jsonschema.validate({"turns": [{"role": "user", "content": [{"type": "text", "text": "a"}]}]}, s)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"turns": [{"role": "robot", "content": "a"}]}, s)
    s["properties"]["turns"]["minItems"] = 99  # a caller's edit stays its own
    assert wire.schema(_Chat)["properties"]["turns"]["minItems"] == 1


# ---- the docs page shows the made-up parameter (a real browser on a real socket) --------------

@pytest.fixture
def mood_server(mood: None) -> Iterator[str]:
    """This app (with the made-up field) served by uvicorn on a loopback port, in a thread."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(make_settings(vendor_a_model="echo", vendor_b_model="echo"))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/openapi.json", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield url
    server.should_exit = True
    thread.join(30)


def test_the_docs_page_shows_a_made_up_parameter(mood_server: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    from .browser_helpers import CHROMIUM_ARGS, DESKTOP, chromium_path, screenshot

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport=DESKTOP).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(mood_server + "/request-viewer")
        section = page.locator("section#vendor_e_messages")
        expect(section).to_contain_text("mood", timeout=30_000)
        expect(section).to_contain_text("How loudly to echo")
        screenshot(section, "docs-made-up-parameter")
        browser.close()
    assert errors == []
