"""The official openai, anthropic and google-genai SDKs against a real server process over
real sockets: answers parse into the SDKs' own types, errors raise their own exception
classes, and their retry loops honour our retry hints."""

from __future__ import annotations

import itertools
import logging
import re
import uuid
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types

from .helpers import ServerProcess, serving

PROMPT = "Write one short sentence about the sea."
RETRY_AFTER_MS = 1200  # longer than the SDKs' own first backoffs (<= 0.5 s, <= 1 s)


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with serving() as s:
        yield s


def attempts(server: ServerProcess, test_id: str) -> list[dict[str, Any]]:
    """The server's records of one test id, oldest first."""
    r = httpx.get(server.url + "/admin/requests", params={"test_id": test_id})
    return sorted(r.json()["data"], key=lambda rec: rec["time"])


def fault(status: int | str, **extra: str) -> dict[str, str]:
    return {"x-mockvendor-fault": str(status), **extra}


def retry_waits(caplog: pytest.LogCaptureFixture, logger: str) -> list[float]:
    """The waits the SDK's retry loop logged (its own decision, from our headers)."""
    waits = [re.search(r"in ([0-9.]+) seconds", r.getMessage()) for r in caplog.records if r.name == logger]
    return [float(m.group(1)) for m in waits if m]


def assert_retried_after(server: ServerProcess, test_id: str, status: int, seconds: float) -> None:
    recs = attempts(server, test_id)
    assert [r["retry_count"] for r in recs] == [0, 1, 2], recs
    assert all(r["status"] == status and r["fault"] == "rate-limit" for r in recs), recs
    # A lower bound only: the SDK sleeps at least this long before each retry.
    assert all(b["time"] - a["time"] >= seconds for a, b in itertools.pairwise(recs)), recs


# -- OpenAI ------------------------------------------------------------------------------
def oa(server: ServerProcess, **kw: Any) -> openai.OpenAI:
    kw.setdefault("max_retries", 0)
    return openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", **kw)


def test_openai_chat_plain_and_stream(server: ServerProcess) -> None:
    client = oa(server)
    args: dict[str, Any] = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": PROMPT}], "seed": 3}
    plain = client.chat.completions.create(max_tokens=8, **args)
    assert isinstance(plain, openai.types.chat.ChatCompletion)
    assert plain.choices[0].message.content and plain.choices[0].finish_reason in ("stop", "length")
    assert plain.usage is not None and plain.usage.prompt_tokens > 5
    assert plain.usage.total_tokens == plain.usage.prompt_tokens + plain.usage.completion_tokens
    chunks = list(client.chat.completions.create(
        max_tokens=8, stream=True, stream_options={"include_usage": True}, **args
    ))
    assert all(isinstance(c, openai.types.chat.ChatCompletionChunk) for c in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == plain.choices[0].message.content
    assert chunks[-1].usage == plain.usage
    short = client.chat.completions.create(max_completion_tokens=3, **args)
    assert short.choices[0].finish_reason == "length" and short.usage and short.usage.completion_tokens == 3


def test_openai_legacy_completions_and_models(server: ServerProcess) -> None:
    client = oa(server)
    done = client.completions.create(model="gpt-3.5-turbo", prompt="Once upon a time", max_tokens=5, seed=1)
    assert isinstance(done, openai.types.Completion) and done.usage and done.usage.completion_tokens <= 5
    streamed = list(client.completions.create(
        model="gpt-3.5-turbo", prompt="Once upon a time", max_tokens=5, seed=1, stream=True
    ))
    assert "".join(c.choices[0].text for c in streamed) == done.choices[0].text
    names = [m.id for m in client.models.list()]
    assert {"gpt-4o-mini", "gpt-3.5-turbo", "gpt-5", "smollm2", "echo"} <= set(names)
    assert not any(n.startswith(("claude-", "gemini-")) for n in names)  # each vendor lists its own
    assert client.models.retrieve("gpt-4o-mini").owned_by == "system"
    with pytest.raises(openai.NotFoundError) as e:
        client.models.retrieve("no-such-gpt")
    assert e.value.code == "model_not_found"


@pytest.mark.parametrize(
    ("status", "exc"),
    [
        (400, openai.BadRequestError),
        (401, openai.AuthenticationError),
        (403, openai.PermissionDeniedError),
        (404, openai.NotFoundError),
        (409, openai.ConflictError),
        (422, openai.UnprocessableEntityError),
        (429, openai.RateLimitError),
        (500, openai.InternalServerError),
        (503, openai.InternalServerError),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_openai_error_classes(server: ServerProcess, status: int, exc: type[Exception], stream: bool) -> None:
    with pytest.raises(exc) as e:
        oa(server).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=stream,
            extra_headers=fault(status),
        )
    assert isinstance(e.value, openai.APIStatusError) and e.value.status_code == status
    assert e.value.request_id and e.value.request_id.startswith("req_")
    assert e.value.response.headers["x-mockvendor-fault"]


def test_openai_real_errors(server: ServerProcess) -> None:
    client = oa(server)
    with pytest.raises(openai.NotFoundError) as e:
        client.chat.completions.create(model="no-such-gpt", messages=[{"role": "user", "content": "hi"}])
    assert e.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(model="smollm2", messages=[{"role": "user", "content": "word " * 5000}])
    assert bad.value.code == "context_length_exceeded" and bad.value.param == "messages"


def test_openai_retries_after_retry_after_ms(server: ServerProcess, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="openai._base_client")
    test_id = "sdk-openai-" + uuid.uuid4().hex
    headers = fault("rate-limit", **{"x-mockvendor-retry-after-ms": str(RETRY_AFTER_MS),
                                     "x-mockvendor-test-id": test_id})
    with pytest.raises(openai.RateLimitError):
        oa(server, max_retries=2).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], extra_headers=headers
        )
    assert retry_waits(caplog, "openai._base_client") == [RETRY_AFTER_MS / 1000] * 2
    assert_retried_after(server, test_id, 429, RETRY_AFTER_MS / 1000)


# -- Anthropic ---------------------------------------------------------------------------
def an(server: ServerProcess, **kw: Any) -> anthropic.Anthropic:
    kw.setdefault("max_retries", 0)
    return anthropic.Anthropic(base_url=server.url, api_key="sk-ant-test", **kw)


def test_anthropic_plain_and_stream(server: ServerProcess) -> None:
    client = an(server)
    args: dict[str, Any] = {
        "model": "claude-3-5-haiku-latest", "max_tokens": 8, "system": "Be brief.",
        "messages": [{"role": "user", "content": PROMPT}], "extra_body": {"seed": 3},
    }
    plain = client.messages.create(**args)
    assert isinstance(plain, anthropic.types.Message)
    assert plain.content[0].type == "text" and plain.content[0].text
    assert plain.stop_reason in ("end_turn", "max_tokens") and plain.usage.input_tokens > 5
    with client.messages.stream(**args) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == plain.content[0].text == final.content[0].text
    assert final.stop_reason == plain.stop_reason
    assert final.usage.input_tokens == plain.usage.input_tokens
    assert final.usage.output_tokens == plain.usage.output_tokens
    short = client.messages.create(**{**args, "max_tokens": 3})
    assert short.stop_reason == "max_tokens" and short.usage.output_tokens == 3


@pytest.mark.parametrize(
    ("status", "exc"),
    [
        (400, anthropic.BadRequestError),
        (401, anthropic.AuthenticationError),
        (403, anthropic.PermissionDeniedError),
        (404, anthropic.NotFoundError),
        (409, anthropic.ConflictError),
        (413, anthropic.ContentTooLargeError),
        (429, anthropic.RateLimitError),
        (500, anthropic.InternalServerError),
        (503, anthropic.ServiceUnavailableError),
        (529, anthropic.OverloadedError),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_error_classes(server: ServerProcess, status: int, exc: type[Exception], stream: bool) -> None:
    with pytest.raises(exc) as e:
        an(server).messages.create(
            model="claude-3-5-haiku-latest", max_tokens=8, messages=[{"role": "user", "content": "hi"}],
            stream=stream, extra_headers=fault(status),
        )
    assert isinstance(e.value, anthropic.APIStatusError) and e.value.status_code == status
    assert e.value.request_id and e.value.request_id == e.value.response.headers["x-request-id"]


def test_anthropic_real_errors(server: ServerProcess) -> None:
    client = an(server)
    with pytest.raises(anthropic.NotFoundError) as e:
        client.messages.create(model="no-such-claude", max_tokens=8, messages=[{"role": "user", "content": "hi"}])
    assert isinstance(e.value.body, dict) and e.value.body["error"]["type"] == "not_found_error"
    with pytest.raises(anthropic.BadRequestError):
        client.messages.create(model="claude-3-5-haiku-latest", max_tokens=8, messages=[])


def test_anthropic_retries_after_retry_after_ms(server: ServerProcess, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="anthropic._base_client")
    test_id = "sdk-anthropic-" + uuid.uuid4().hex
    headers = fault("rate-limit", **{"x-mockvendor-retry-after-ms": str(RETRY_AFTER_MS),
                                     "x-mockvendor-test-id": test_id})
    with pytest.raises(anthropic.RateLimitError):
        an(server, max_retries=2).messages.create(
            model="claude-3-5-haiku-latest", max_tokens=8, messages=[{"role": "user", "content": "hi"}],
            extra_headers=headers,
        )
    assert retry_waits(caplog, "anthropic._base_client") == [RETRY_AFTER_MS / 1000] * 2
    assert_retried_after(server, test_id, 429, RETRY_AFTER_MS / 1000)


# -- Google GenAI ------------------------------------------------------------------------
def gg(server: ServerProcess, headers: dict[str, str] | None = None, api_version: str | None = None) -> genai.Client:
    options = genai_types.HttpOptions(base_url=server.url, headers=headers, api_version=api_version)
    return genai.Client(api_key="AIza-test", http_options=options)


@pytest.mark.parametrize("api_version", [None, "v1beta"])
def test_genai_plain_and_stream(server: ServerProcess, api_version: str | None) -> None:
    test_id = "sdk-genai-" + uuid.uuid4().hex
    client = gg(server, {"x-mockvendor-test-id": test_id}, api_version)
    config = genai_types.GenerateContentConfig(max_output_tokens=8, seed=3, system_instruction="Be brief.")
    plain = client.models.generate_content(model="gemini-2.0-flash", contents=PROMPT, config=config)
    assert isinstance(plain, genai_types.GenerateContentResponse) and plain.text
    usage = plain.usage_metadata
    assert usage and usage.prompt_token_count and usage.prompt_token_count > 5
    assert usage.total_token_count == usage.prompt_token_count + (usage.candidates_token_count or 0)
    assert plain.candidates and plain.candidates[0].finish_reason in (
        genai_types.FinishReason.STOP, genai_types.FinishReason.MAX_TOKENS
    )
    chunks = list(client.models.generate_content_stream(model="gemini-2.0-flash", contents=PROMPT, config=config))
    assert "".join(c.text or "" for c in chunks) == plain.text
    assert chunks[-1].usage_metadata == usage
    assert chunks[-1].candidates and chunks[-1].candidates[0].finish_reason == plain.candidates[0].finish_reason
    routes = {r["route"] for r in attempts(server, test_id)}
    version = api_version or "v1"
    assert routes == {
        f"/{version}/models/gemini-2.0-flash:generateContent",
        f"/{version}/models/gemini-2.0-flash:streamGenerateContent",
    }


@pytest.mark.parametrize(
    ("status", "exc", "name"),
    [
        (400, genai_errors.ClientError, "INVALID_ARGUMENT"),
        (401, genai_errors.ClientError, "UNAUTHENTICATED"),
        (403, genai_errors.ClientError, "PERMISSION_DENIED"),
        (404, genai_errors.ClientError, "NOT_FOUND"),
        (429, genai_errors.ClientError, "RESOURCE_EXHAUSTED"),
        (500, genai_errors.ServerError, "INTERNAL"),
        (503, genai_errors.ServerError, "UNAVAILABLE"),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_genai_error_classes(
    server: ServerProcess, status: int, exc: type[Exception], name: str, stream: bool
) -> None:
    client = gg(server, fault(status))
    call = client.models.generate_content_stream if stream else client.models.generate_content
    with pytest.raises(exc) as e:
        result = call(model="gemini-2.0-flash", contents="hi")
        list(result) if stream else None  # type: ignore[call-overload]
    assert isinstance(e.value, genai_errors.APIError)
    assert (e.value.code, e.value.status) == (status, name)


def test_genai_does_not_retry_by_default(server: ServerProcess) -> None:
    test_id = "sdk-genai-retry-" + uuid.uuid4().hex
    client = gg(server, fault("rate-limit", **{"x-mockvendor-test-id": test_id}))
    with pytest.raises(genai_errors.ClientError) as e:
        client.models.generate_content(model="gemini-2.0-flash", contents="hi")
    assert e.value.details["error"]["details"][0]["@type"] == "type.googleapis.com/google.rpc.RetryInfo"
    assert len(attempts(server, test_id)) == 1


def test_genai_unknown_model(server: ServerProcess) -> None:
    client = gg(server)  # held: a collected genai.Client closes its HTTP client mid-call
    with pytest.raises(genai_errors.ClientError) as e:
        client.models.generate_content(model="no-such-gemini", contents="hi")
    assert (e.value.code, e.value.status) == (404, "NOT_FOUND")


def test_each_sdk_raises_its_own_error_for_a_wrong_key() -> None:
    """With keys configured, a wrong key is what each vendor answers it: OpenAI's and
    Anthropic's 401, Google's 400 API_KEY_INVALID. No SDK retries it."""
    with serving(MOCKVENDOR_API_KEYS="sk-good-0001", MOCKVENDOR_VENDOR_A_MODEL="echo") as keyed:
        with pytest.raises(openai.AuthenticationError) as oe:
            openai.OpenAI(base_url=keyed.url + "/v1", api_key="sk-wrong-9876").chat.completions.create(
                model="echo", messages=[{"role": "user", "content": "hi"}])
        assert "sk-wrong-9876" not in str(oe.value)
        with pytest.raises(anthropic.AuthenticationError) as ae:
            anthropic.Anthropic(base_url=keyed.url, api_key="sk-wrong-9876").messages.create(
                model="echo", max_tokens=8, messages=[{"role": "user", "content": "hi"}])
        assert ae.value.body["error"]["message"] == "invalid x-api-key"  # type: ignore[index]
        client = genai.Client(api_key="sk-wrong-9876", http_options=genai_types.HttpOptions(base_url=keyed.url))
        with pytest.raises(genai_errors.ClientError) as ge:
            client.models.generate_content(model="echo", contents="hi")
        assert (ge.value.code, ge.value.status) == (400, "INVALID_ARGUMENT")
        assert ge.value.details["error"]["details"][0]["reason"] == "API_KEY_INVALID"
        good = genai.Client(api_key="sk-good-0001", http_options=genai_types.HttpOptions(base_url=keyed.url))
        assert good.models.generate_content(model="echo", contents="hi").text
        statuses = [r["status"] for r in httpx.get(keyed.url + "/admin/requests", params={"limit": 10}).json()["data"]]
        assert sorted(statuses) == [200, 400, 401, 401]  # each attempt once: none was retried
