"""Every request parameter the vendors' own SDKs can send is declared (so it is checked, documented
and either honoured or accepted and reflected), read from the installed SDKs' request types:
openai's ``*CreateParams`` TypedDicts, anthropic's ``MessageCreateParams`` and google-genai's
``GenerationConfig`` / ``GenerateContentConfig``. An SDK upgrade that adds a parameter fails here
until mockvendor declares it. Then each newly declared group is sent through the SDK and its echo
checked where the vendor echoes it."""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator
from typing import Any

import msgspec
import openai
import pytest
from google.genai import types as genai_types

from mockvendor.vendors.anthropic import wire as anthropic_wire
from mockvendor.vendors.gemini import wire as gemini_wire
from mockvendor.vendors.openai import wire as openai_wire

from .helpers import ServerProcess, serving


def declared(struct: type) -> set[str]:
    return {f.encode_name for f in msgspec.inspect.type_info(struct).fields}  # type: ignore[attr-defined]


def sdk_keys(typed_dict: Any) -> set[str]:
    return set(typing.get_type_hints(typed_dict))


def camel(name: str) -> str:
    return re.sub(r"_(\w)", lambda m: m.group(1).upper(), name)


def _openai(module: str, name: str = "CompletionCreateParamsBase") -> Any:
    import importlib

    return getattr(importlib.import_module(f"openai.types.{module}"), name)


def _anthropic(module: str) -> Any:
    import importlib

    return importlib.import_module(f"anthropic.types.{module}").MessageCreateParamsBase


# Parameters of the SDK's own helpers or of the client, never sent in the body; and what a
# vendor's server does not take on this route.
NOT_IN_THE_BODY = {
    # anthropic: `betas` goes in the anthropic-beta header.
    "beta messages": {"betas"},
}
PAIRS = [
    ("chat", lambda: _openai("chat.completion_create_params"), openai_wire.ChatRequest),
    ("completions", lambda: _openai("completion_create_params"), openai_wire.CompletionRequest),
    ("responses", lambda: _openai("responses.response_create_params", "ResponseCreateParamsBase"),
     openai_wire.ResponsesRequest),
    ("embeddings", lambda: _openai("embedding_create_params", "EmbeddingCreateParams"), openai_wire.EmbeddingRequest),
    ("messages", lambda: _anthropic("message_create_params"), anthropic_wire.MessagesRequest),
    ("beta messages", lambda: _anthropic("beta.message_create_params"), anthropic_wire.MessagesRequest),
]
# Declared by work in progress elsewhere; this set shrinks to nothing.
PENDING: dict[str, set[str]] = {}


@pytest.mark.parametrize("api,params,struct", PAIRS, ids=[p[0] for p in PAIRS])
def test_every_sdk_parameter_is_declared(api: str, params: Any, struct: type) -> None:
    missing = sdk_keys(params()) - declared(struct) - NOT_IN_THE_BODY.get(api, set()) - PENDING.get(api, set())
    assert not missing, f"{api}: the SDK sends {sorted(missing)}, which mockvendor does not declare"


def test_every_gemini_generation_parameter_is_declared() -> None:
    sdk = {camel(k) for k in genai_types.GenerationConfig.model_fields}
    missing = sdk - declared(gemini_wire.GenerationConfig) - PENDING.get("gemini", set())
    assert not missing, f"generationConfig: google-genai sends {sorted(missing)}, not declared"


def test_every_gemini_request_parameter_is_declared() -> None:
    """``GenerateContentConfig`` is the SDK's flat view: each key lands in ``generationConfig`` or at the
    top of the request, except the client-side ones."""
    client_side = {"httpOptions", "shouldReturnHttpResponse", "automaticFunctionCalling", "automaticContinuation"}
    sdk = {camel(k) for k in genai_types.GenerateContentConfig.model_fields} - client_side
    known = declared(gemini_wire.GenerationConfig) | declared(gemini_wire.GenerateContentRequest)
    missing = sdk - known - PENDING.get("gemini", set())
    assert not missing, f"google-genai's GenerateContentConfig sends {sorted(missing)}, not declared"


# ---- the echoes, through the SDK ------------------------------------------------------------------
@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with serving() as s:
        yield s


def test_responses_echo_what_openai_echoes(server: ServerProcess) -> None:
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)
    r = client.responses.create(model="echo", input="hello there", service_tier="auto", prompt_cache_key="tenant-7",
                                safety_identifier="user-hash-1", prompt_cache_retention="24h",
                                moderation={"model": "omni-moderation-latest"}, image={"context_compression": "auto"},
                                context_management=[{"type": "compaction", "compact_threshold": 2000}])
    assert (r.prompt_cache_key, r.safety_identifier, r.service_tier) == ("tenant-7", "user-hash-1", "default")
    assert r.prompt_cache_retention == "24h" and r.output_text == "hello there"
    again = client.responses.retrieve(r.id)
    assert again.prompt_cache_key == "tenant-7" and again.service_tier == "default"
    flex = client.responses.create(model="echo", input="hi", service_tier="flex")
    assert flex.service_tier == "flex"


def test_chat_accepts_the_newer_parameters(server: ServerProcess) -> None:
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)
    out = client.chat.completions.create(
        model="echo", messages=[{"role": "user", "content": "hello there"}], prompt_cache_retention="in_memory",
        prompt_cache_options={"mode": "implicit", "ttl": "30m"}, moderation={"model": "omni-moderation-latest"},
        web_search_options={}, service_tier="priority")
    assert out.choices[0].message.content == "hello there" and out.service_tier == "priority"
    chunks = list(client.chat.completions.create(model="echo", messages=[{"role": "user", "content": "hi"}],
                                                 stream=True, service_tier="flex"))
    assert {c.service_tier for c in chunks} == {"flex"}
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(model="echo", messages=[{"role": "user", "content": "x"}],
                                       prompt_cache_retention="forever")  # type: ignore[arg-type]
    assert bad.value.body["param"] == "prompt_cache_retention"  # type: ignore[index]


def test_gemini_takes_safety_settings_and_labels_and_refuses_what_it_cannot_have(server: ServerProcess) -> None:
    from google import genai

    client = genai.Client(api_key="gm-test", http_options={"base_url": server.url})
    cfg = genai_types.GenerateContentConfig(
        safety_settings=[genai_types.SafetySetting(category="HARM_CATEGORY_HARASSMENT", threshold="BLOCK_ONLY_HIGH")],
        labels={"team": "search"}, media_resolution="MEDIA_RESOLUTION_LOW", response_modalities=["TEXT"],
        service_tier="standard")
    out = client.models.generate_content(model="echo", contents="hello there", config=cfg)
    assert out.text == "hello there"
    with pytest.raises(genai.errors.ClientError) as bad:
        client.models.generate_content(model="echo", contents="x", config={"response_modalities": ["IMAGE"]})
    assert bad.value.code == 400 and "response modalities ['IMAGE']" in bad.value.message  # type: ignore[operator]
    with pytest.raises(genai.errors.ClientError) as missing:
        client.models.generate_content(model="echo", contents="x", config={"cached_content": "cachedContents/abc"})
    assert missing.value.code == 404 and "CachedContent not found" in missing.value.message  # type: ignore[operator]
    with pytest.raises(genai.errors.ClientError) as wrong:
        client.models.generate_content(model="echo", contents="x", config={"safety_settings": [
            {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_SOMETIMES"}]})
    assert wrong.value.code == 400 and "safetySettings[0].threshold" in wrong.value.message  # type: ignore[operator]
