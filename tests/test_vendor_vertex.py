"""Vertex AI over real sockets: Gemini through ``google.genai.Client(vertexai=True)`` and Claude
through ``anthropic.AnthropicVertex``, both with OAuth access tokens the server checks."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import pytest
from google import genai
from google.genai import errors, types
from google.oauth2.credentials import Credentials

from .helpers import ServerProcess, assert_vendor_error, serving

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no price list from the internet
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:pydantic._internal._generate_schema")

TOKEN = "fake-token"
ACCOUNT = "mock@p.iam.gserviceaccount.com"  # a service account's token is its email (see /oauth2/token)
PROMPT = "one two three four five"
CLAUDE = "/v1/projects/p/locations/us-east5/publishers/anthropic/models"


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with serving(MOCKVENDOR_API_KEYS=f"{TOKEN},{ACCOUNT}") as s:  # access tokens are checked like keys
        yield s


def gemini(server: ServerProcess, token: str = TOKEN, test_id: str | None = None) -> genai.Client:
    headers = {"x-mockvendor-test-id": test_id} if test_id else None
    return genai.Client(vertexai=True, project="p", location="us-central1", credentials=Credentials(token),
                        http_options=types.HttpOptions(base_url=server.url, headers=headers))


def claude(server: ServerProcess, token: str = TOKEN, **kw: Any) -> anthropic.AnthropicVertex:
    return anthropic.AnthropicVertex(project_id="p", region="us-east5", access_token=token,
                                     base_url=server.url + "/v1", **kw)


def records(server: ServerProcess, test_id: str) -> list[dict[str, Any]]:
    return httpx.get(server.url + "/admin/requests", params={"test_id": test_id}).json()["data"]  # type: ignore[no-any-return]


# -- Gemini on Vertex -------------------------------------------------------------------------------
def test_gemini_generate_content_plain_and_streamed(server: ServerProcess) -> None:
    test_id = "vx-gen-" + uuid.uuid4().hex[:6]
    client = gemini(server, test_id=test_id)
    config = types.GenerateContentConfig(max_output_tokens=12, seed=5)
    prompt = "Write one short sentence about the sea."
    plain = client.models.generate_content(model="gemini-2.0-flash", contents=prompt, config=config)
    assert plain.text and plain.candidates[0].finish_reason in (types.FinishReason.STOP, types.FinishReason.MAX_TOKENS)
    assert plain.model_version == "gemini-2.0-flash" and plain.create_time is not None
    assert 0 < plain.usage_metadata.candidates_token_count <= 12  # type: ignore[union-attr,operator]
    chunks = list(client.models.generate_content_stream(model="gemini-2.0-flash", contents=prompt, config=config))
    assert len(chunks) > 1 and "".join(c.text or "" for c in chunks) == plain.text  # same seed, same words
    assert chunks[-1].usage_metadata.candidates_token_count == plain.usage_metadata.candidates_token_count  # type: ignore[union-attr]
    count = client.models.count_tokens(model="gemini-2.0-flash", contents=prompt)
    assert count.total_tokens == plain.usage_metadata.prompt_token_count  # type: ignore[union-attr]
    # Vertex's resource paths (v1beta1, the SDK's default), answered by the vertex vendor.
    logged = records(server, test_id)
    assert {r["vendor"] for r in logged} == {"vertex"} and len(logged) == 3
    where = "/v1beta1/projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash:"
    assert all(r["route"].startswith(where) for r in logged)


def test_gemini_errors_in_googles_shape(server: ServerProcess) -> None:
    wrong = gemini(server, token="wrong-token")  # kept: a client dropped mid-call closes its connection
    with pytest.raises(errors.ClientError) as caught:
        wrong.models.generate_content(model="echo", contents=PROMPT)
    assert caught.value.code == 401 and caught.value.status == "UNAUTHENTICATED"
    assert "wrong-token" not in str(caught.value.details)
    client = gemini(server)
    with pytest.raises(errors.ClientError) as missing:
        client.models.generate_content(model="no-such-model", contents=PROMPT)
    assert missing.value.code == 404 and missing.value.status == "NOT_FOUND"
    url = server.url + "/v1/projects/p/locations/l/publishers/google/models/echo"
    auth = {"authorization": f"Bearer {TOKEN}"}
    r = httpx.post(url + ":generateContent", json={"contents": [{"parts": [{"text": PROMPT}]}]}, headers=auth)
    assert r.status_code == 200 and r.json()["candidates"][0]["content"]["parts"][0]["text"] == PROMPT
    assert_vendor_error("vertex", httpx.post(url + ":generateContent", json={"contents": []}, headers=auth), 400)
    assert_vendor_error("vertex", httpx.post(url + ":predict", json={}, headers=auth), 404, mentions="predict")
    assert_vendor_error("vertex", httpx.post(url + ":generateContent", json={}), 401, mentions="OAuth 2")
    r = httpx.post(url + ":generateContent", json={"contents": [{"parts": [{"text": PROMPT}]}]},
                   headers={**auth, "x-mockvendor-fault": "rate-limit"})
    body = assert_vendor_error("vertex", r, 429, fault="rate-limit")
    assert body["error"]["status"] == "RESOURCE_EXHAUSTED"


# -- Claude on Vertex -------------------------------------------------------------------------------
def test_claude_messages_plain_and_streamed(server: ServerProcess) -> None:
    client = claude(server)
    args: dict[str, Any] = {"max_tokens": 12, "messages": [{"role": "user", "content": "Say hello to the sea."}]}
    plain = client.messages.create(model="claude-sonnet-4-5@20250929", **args)  # Vertex's model id
    text = plain.content[0].text  # type: ignore[union-attr]
    assert text and plain.stop_reason in ("end_turn", "max_tokens") and plain.model == "claude-sonnet-4-5@20250929"
    assert 0 < plain.usage.output_tokens <= 12
    with client.messages.stream(model="claude-sonnet-4-5@20250929", **args) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert len(pieces) > 1 and "".join(pieces) == final.content[0].text  # type: ignore[union-attr]
    assert final.usage.output_tokens == plain.usage.output_tokens and final.stop_reason == plain.stop_reason
    echo = client.messages.create(model="echo", max_tokens=16, messages=[{"role": "user", "content": PROMPT}])
    assert echo.content[0].text == PROMPT  # type: ignore[union-attr]
    count = client.messages.count_tokens(model="echo", messages=[{"role": "user", "content": PROMPT}])
    assert count.input_tokens == echo.usage.input_tokens


def test_claude_body_and_errors(server: ServerProcess) -> None:
    auth = {"authorization": f"Bearer {TOKEN}"}
    turn = {"max_tokens": 8, "messages": [{"role": "user", "content": PROMPT}]}
    r = httpx.post(f"{server.url}{CLAUDE}/echo:rawPredict", json=turn, headers=auth)  # no anthropic_version
    assert_vendor_error("vertex-anthropic", r, 400, mentions="anthropic_version")
    assert r.json()["error"]["type"] == "invalid_request_error"
    ok = httpx.post(f"{server.url}{CLAUDE}/echo:rawPredict", json={**turn, "anthropic_version": "vertex-2023-10-16"},
                    headers=auth)
    assert ok.status_code == 200 and ok.json()["content"][0]["text"] == PROMPT
    r = httpx.post(f"{server.url}{CLAUDE}/echo:predict", json={**turn, "anthropic_version": "vertex-2023-10-16"},
                   headers=auth)
    assert_vendor_error("vertex-anthropic", r, 404, mentions="rawPredict")
    with pytest.raises(anthropic.NotFoundError) as missing:
        claude(server).messages.create(model="no-such-model", **turn)
    assert missing.value.body["error"]["status"] == "NOT_FOUND"  # type: ignore[index]
    assert_vendor_error("vertex-anthropic", missing.value.response, 404, mentions="Publisher Model")
    with pytest.raises(anthropic.AuthenticationError) as denied:
        claude(server, token="wrong-token").messages.create(model="echo", **turn)
    assert denied.value.body["error"]["status"] == "UNAUTHENTICATED"  # type: ignore[index]
    assert "wrong-token" not in denied.value.response.text


def test_claude_429_retried_by_the_sdk(server: ServerProcess) -> None:
    test_id = "vx-retry-" + uuid.uuid4().hex[:6]
    r = httpx.put(f"{server.url}/admin/scenarios/{test_id}",
                  json={"steps": [{"fault": "rate-limit", "retry_after_ms": 300}, "ok"]})
    assert r.status_code == 201, r.text
    client = claude(server, default_headers={"x-mockvendor-test-id": test_id})
    out = client.messages.create(model="echo", max_tokens=16, messages=[{"role": "user", "content": PROMPT}])
    assert out.content[0].text == PROMPT  # type: ignore[union-attr]
    report = httpx.get(server.url + "/admin/retries", params={"test_id": test_id}).json()["callers"][f"test:{test_id}"]
    first, second = report["attempts"]
    assert [a["status"] for a in report["attempts"]] == [429, 200]
    assert second["retry_of"] == first["id"] and second["waited_ms"] >= 300 and second["honoured"]
    assert {rec["vendor"] for rec in records(server, test_id)} == {"vertex-anthropic"}


# -- LiteLLM's vertex_ai/, with a service account whose token_uri is the server's ------------------
def service_account(server: ServerProcess) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return json.dumps({"type": "service_account", "project_id": "p", "private_key_id": "k1", "private_key": pem,
                       "client_email": ACCOUNT, "client_id": "1", "token_uri": server.url + "/oauth2/token"})


@pytest.mark.parametrize("model", ["gemini-2.0-flash", "claude-sonnet-4-5@20250929"])
def test_litellm_vertex_ai(server: ServerProcess, model: str) -> None:
    import litellm

    args: dict[str, Any] = {"model": f"vertex_ai/{model}", "vertex_project": "p", "vertex_location": "us-east5",
                            "vertex_credentials": service_account(server), "api_base": server.url, "max_tokens": 8,
                            "messages": [{"role": "user", "content": "Say hello to the sea."}]}
    plain = litellm.completion(**args)
    text = plain.choices[0].message.content  # type: ignore[union-attr]
    assert text
    pieces = [c.choices[0].delta.content or "" for c in litellm.completion(stream=True, **args) if c.choices]
    assert "".join(pieces) == text  # greedy: the same words


def test_token_endpoint_grants(server: ServerProcess) -> None:
    url = server.url + "/oauth2/token"
    r = httpx.post(url, data={"grant_type": "refresh_token", "refresh_token": "r-1"})
    assert r.status_code == 200 and r.json()["access_token"] == "r-1" and r.json()["token_type"] == "Bearer"
    r = httpx.post(url, data={"grant_type": "password"})
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"
    r = httpx.post(url, data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": "not-a-jwt"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert httpx.post(url, content=b"x" * 70_000).status_code == 413


def test_fault_knobs_of_a_dashed_vendor_name_from_the_environment() -> None:
    from mockvendor.settings import Settings

    env = {"MOCKVENDOR_VERTEX_ANTHROPIC_ERROR_RATE": "0.5", "MOCKVENDOR_VERTEX_ERROR_RATE": "0.2"}
    s = Settings.from_env(env=env, dotenv=None)
    assert (s.faults["vertex-anthropic"].error_rate, s.faults["vertex"].error_rate) == (0.5, 0.2)
    assert s.faults["anthropic"].error_rate == 0.0 and s.faults["vertex-anthropic"].overload_status == 529
