"""Images, audio and PDFs in prompts, through the three official SDKs over a real socket: each
is accepted, the model reads a marker in its place, and the input tokens count it as that
vendor bills it (OpenAI's tile rule by ``detail`` and size, Anthropic's width x height / 750,
Gemini's 258 per tile or page). The expected figures below are worked out by hand from each
vendor's published rule. Each test compares a request holding the media with the same request
holding the marker text instead: the difference is the media's cost. Bad data is a 400 naming
the field, in the vendor's shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as gt

from .helpers import ServerProcess, running
from .media_samples import b64, pdf, png, wav


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    yield from running({"MOCKVENDOR_FAULTS": "off", "OPENAI_API_KEY": ""})


# -- OpenAI ----------------------------------------------------------------------------------------
def gpt(server: ServerProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)


def chat_tokens(server: ServerProcess, part: dict[str, Any]) -> int:
    content = [{"type": "text", "text": "What is this?"}, part]
    done = gpt(server).chat.completions.create(model="gpt-4o", max_tokens=1,
                                               messages=[{"role": "user", "content": content}])  # type: ignore[misc]
    assert done.usage is not None
    return done.usage.prompt_tokens


def data_url(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{b64(data)}"


@pytest.mark.parametrize(("size", "detail", "cost"), [
    ((1024, 1024), "auto", 765),  # 768x768 after scaling: 4 tiles x 170 + 85
    ((1024, 1024), "low", 85),
    ((2048, 4096), "high", 1105),  # 1024x2048, then 768x1536: 6 tiles
    ((300, 200), "high", 255),  # one tile
])
def test_openai_chat_image_tokens(server: ServerProcess, size: tuple[int, int], detail: str, cost: int) -> None:
    image = {"type": "image_url", "image_url": {"url": data_url("image/png", png(*size)), "detail": detail}}
    marker = {"type": "text", "text": "[image]"}
    assert chat_tokens(server, image) - chat_tokens(server, marker) == cost


def test_openai_chat_pdf_and_audio(server: ServerProcess) -> None:
    marker = chat_tokens(server, {"type": "text", "text": "[file: notes.pdf]"})
    doc = {"type": "file", "file": {"filename": "notes.pdf", "file_data": data_url("application/pdf", pdf(2))}}
    assert chat_tokens(server, doc) - marker == 2 * 765  # each page a page image at high detail
    sound = {"type": "input_audio", "input_audio": {"data": b64(wav(3.0)), "format": "wav"}}
    assert chat_tokens(server, sound) - chat_tokens(server, {"type": "text", "text": "[audio]"}) == 30


def test_openai_responses_image_and_file(server: ServerProcess) -> None:
    def tokens(*parts: dict[str, Any]) -> int:
        r = gpt(server).responses.create(model="gpt-4o", max_output_tokens=16, input=[{"role": "user", "content": [
            {"type": "input_text", "text": "What is this?"}, *parts]}])  # type: ignore[list-item]
        assert r.usage is not None
        return r.usage.input_tokens

    image = {"type": "input_image", "detail": "low", "image_url": data_url("image/jpeg", png(640, 480, "JPEG"))}
    assert tokens(image) - tokens({"type": "input_text", "text": "[image]"}) == 85
    doc = {"type": "input_file", "filename": "a.pdf", "file_data": data_url("application/pdf", pdf(1))}
    assert tokens(doc) - tokens({"type": "input_text", "text": "[file: a.pdf]"}) == 765


@pytest.mark.parametrize(("part", "param", "words"), [
    ({"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}, "messages[0].content[1].image_url",
     "unsupported image"),
    ({"type": "image_url", "image_url": {"url": "data:image/png;base64,@@@"}}, "messages[0].content[1].image_url",
     "not valid base64"),
    ({"type": "input_audio", "input_audio": {"data": b64(b"not audio"), "format": "wav"}},
     "messages[0].content[1].input_audio", "not wav audio"),
    ({"type": "file", "file": {"file_id": "file-abc"}}, "messages[0].content[1].file", "No such File object"),
])
def test_openai_bad_media_is_a_400(server: ServerProcess, part: dict[str, Any], param: str, words: str) -> None:
    with pytest.raises(openai.BadRequestError) as e:
        chat_tokens(server, part)
    body: dict[str, Any] = e.value.body  # type: ignore[assignment]
    assert body["param"] == param and words in body["message"]


def test_openai_image_only_in_user_turns(server: ServerProcess) -> None:
    image = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
    with pytest.raises(openai.BadRequestError) as e:
        gpt(server).chat.completions.create(model="gpt-4o", max_tokens=1, messages=[
            {"role": "system", "content": [image]}, {"role": "user", "content": "hi"}])  # type: ignore[list-item]
    assert e.value.body["param"] == "messages[0].content[0]"  # type: ignore[index]


def test_openai_remote_image_is_not_fetched(server: ServerProcess) -> None:
    # example.invalid cannot resolve: an answer at all shows it was never fetched.
    remote = {"type": "image_url", "image_url": {"url": "https://example.invalid/cat.png"}}
    assert chat_tokens(server, remote) - chat_tokens(server, {"type": "text", "text": "[image]"}) == 765


# -- Anthropic -------------------------------------------------------------------------------------
def claude(server: ServerProcess) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=server.url, api_key="sk-ant-test", max_retries=0)


def claude_tokens(server: ServerProcess, block: dict[str, Any]) -> int:
    content = [block, {"type": "text", "text": "What is this?"}]
    return claude(server).messages.count_tokens(model="claude-sonnet-4-5",
                                                messages=[{"role": "user", "content": content}]).input_tokens  # type: ignore[misc]


@pytest.mark.parametrize(("size", "cost"), [
    ((1000, 1000), 1334),  # 1,000,000 / 750, rounded up
    ((200, 150), 40),
    ((3136, 1568), 1534),  # 1568x784 (long edge), then 1.15 MP: 1,150,000 / 750
])
def test_anthropic_image_tokens(server: ServerProcess, size: tuple[int, int], cost: int) -> None:
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": b64(png(*size))}}
    assert claude_tokens(server, image) - claude_tokens(server, {"type": "text", "text": "[image]"}) == cost


def test_anthropic_pdf_and_answer(server: ServerProcess) -> None:
    doc = {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": b64(pdf(3))}}
    assert claude_tokens(server, doc) - claude_tokens(server, {"type": "text", "text": "[document]"}) == 3 * 1534
    done = claude(server).messages.create(model="claude-sonnet-4-5", max_tokens=8, messages=[
        {"role": "user", "content": [doc, {"type": "text", "text": "Summarise it."}]}])  # type: ignore[list-item]
    assert done.usage.input_tokens > 3 * 1534 and done.content[0].type == "text"


def test_anthropic_media_type_must_match_the_data(server: ServerProcess) -> None:
    jpeg = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": b64(png(10, 10, "JPEG"))}}
    with pytest.raises(anthropic.BadRequestError) as e:
        claude_tokens(server, jpeg)
    message = e.value.body["error"]["message"]  # type: ignore[index]
    assert message.startswith("messages.0.content.0.image.source.base64.data: ")
    assert "image/png media type, but the image appears to be a image/jpeg image" in message


# -- Gemini ----------------------------------------------------------------------------------------
def gemini_tokens(client: genai.Client, part: gt.Part) -> int:
    contents = [gt.Content(role="user", parts=[gt.Part(text="What is this?"), part])]
    return client.models.count_tokens(model="gemini-2.5-flash", contents=contents).total_tokens or 0


@pytest.fixture
def gemini(server: ServerProcess) -> genai.Client:
    return genai.Client(api_key="k", http_options=gt.HttpOptions(base_url=server.url))


@pytest.mark.parametrize(("size", "cost"), [((300, 300), 258), ((1000, 800), 4 * 258)])
def test_gemini_image_tokens(gemini: genai.Client, size: tuple[int, int], cost: int) -> None:
    image = gt.Part.from_bytes(data=png(*size), mime_type="image/png")
    assert gemini_tokens(gemini, image) - gemini_tokens(gemini, gt.Part(text="[image]")) == cost


def test_gemini_pdf_audio_and_answer(gemini: genai.Client) -> None:
    doc = gt.Part.from_bytes(data=pdf(3), mime_type="application/pdf")
    assert gemini_tokens(gemini, doc) - gemini_tokens(gemini, gt.Part(text="[document]")) == 3 * 258
    sound = gt.Part.from_bytes(data=wav(2.0), mime_type="audio/wav")
    assert gemini_tokens(gemini, sound) - gemini_tokens(gemini, gt.Part(text="[audio]")) == 64
    r = gemini.models.generate_content(model="gemini-2.5-flash", contents=[doc, "Summarise it."],
                                       config=gt.GenerateContentConfig(max_output_tokens=8))
    assert r.usage_metadata is not None and (r.usage_metadata.prompt_token_count or 0) > 3 * 258


def test_gemini_bad_image_is_a_400(gemini: genai.Client) -> None:
    with pytest.raises(genai_errors.ClientError) as e:
        gemini_tokens(gemini, gt.Part.from_bytes(data=b"not an image", mime_type="image/png"))
    assert e.value.code == 400 and "Unable to process input image" in (e.value.message or "")
