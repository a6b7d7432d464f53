"""LiteLLM's Router in front of two deployments of ours, one failing every request: the
router falls back to the healthy one, and both servers' request logs show it."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

# LiteLLM fetches its model price list from the internet at import unless told not to.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
import litellm  # noqa: E402

from .helpers import ServerProcess  # noqa: E402

BASE_ENV = {"MOCKVENDOR_SEED": "7", "OPENAI_API_KEY": ""}
# LiteLLM's own pydantic models warn about ReadOnly TypedDict items; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:pydantic._internal._generate_schema")


@pytest.fixture(scope="module")
def deployments() -> Iterator[tuple[ServerProcess, ServerProcess]]:
    failing = ServerProcess(
        env={**BASE_ENV, "MOCKVENDOR_OPENAI_ERROR_RATE": "1", "MOCKVENDOR_OPENAI_ERROR_STATUS": "503"}
    )
    healthy = ServerProcess(env={**BASE_ENV, "MOCKVENDOR_FAULTS": "off"})
    try:
        yield failing.wait_ready(180), healthy.wait_ready(180)
    finally:
        failing.stop()
        healthy.stop()


def records(server: ServerProcess, test_id: str) -> list[dict[str, Any]]:
    r = httpx.get(server.url + "/admin/requests", params={"test_id": test_id})
    return r.json()["data"]


def router(failing: ServerProcess, healthy: ServerProcess) -> litellm.Router:
    def deployment(name: str, server: ServerProcess) -> dict[str, Any]:
        params = {"model": "openai/gpt-4o-mini", "api_base": server.url + "/v1", "api_key": "sk-test"}
        return {"model_name": name, "litellm_params": params}

    return litellm.Router(
        model_list=[deployment("primary", failing), deployment("backup", healthy)],
        fallbacks=[{"primary": ["backup"]}],
        num_retries=0,
    )


@pytest.mark.parametrize("stream", [False, True])
def test_router_falls_back_to_the_healthy_deployment(
    deployments: tuple[ServerProcess, ServerProcess], stream: bool
) -> None:
    failing, healthy = deployments
    test_id = "litellm-" + uuid.uuid4().hex
    resp = router(failing, healthy).completion(
        model="primary",
        messages=[{"role": "user", "content": "Write one short sentence about the sea."}],
        max_tokens=8,
        seed=3,
        stream=stream,
        extra_headers={"x-mockvendor-test-id": test_id},
    )
    if stream:
        text = "".join(c.choices[0].delta.content or "" for c in resp if c.choices)
    else:
        text = resp.choices[0].message.content
        assert resp.usage.completion_tokens > 0
    assert text

    failed = records(failing, test_id)
    assert failed and all(r["status"] == 503 and r["fault"] == "error-503" for r in failed), failed
    (answered,) = records(healthy, test_id)
    assert answered["status"] == 200 and answered["fault"] is None
    assert answered["tokens_out"] > 0 and answered["stream"] is stream


WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("provider", ["openai/gpt-4o-mini", "anthropic/claude-3-5-haiku-latest"])
def test_litellm_translates_our_tool_calls(
    deployments: tuple[ServerProcess, ServerProcess], provider: str, stream: bool
) -> None:
    """A gateway's translation both ways: OpenAI-shaped tools in, each vendor's own tool call
    on the wire, OpenAI-shaped tool_calls back; then the tool result and a text answer."""
    _, healthy = deployments
    api_base = healthy.url + ("/v1" if provider.startswith("openai/") else "")
    messages: list[dict[str, Any]] = [{"role": "user", "content": "What is the weather in Paris?"}]
    kw: dict[str, Any] = {"model": provider, "api_base": api_base, "api_key": "sk-test", "tools": [WEATHER_TOOL],
                          "max_tokens": 16}
    # LiteLLM refuses OpenAI's `seed` for Anthropic; our own `seed` field goes in the body.
    if provider.startswith("openai/"):
        kw["seed"] = 3
    else:
        kw["extra_body"] = {"seed": 3}
    resp = litellm.completion(messages=messages, stream=stream, **kw)
    if stream:
        resp = litellm.stream_chunk_builder(list(resp), messages=messages)
    message = resp.choices[0].message
    assert resp.choices[0].finish_reason == "tool_calls", resp
    (call,) = message.tool_calls
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Paris"}
    messages += [message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": call.id, "content": '{"forecast": "sunny"}'}]
    answer = litellm.completion(messages=messages, **kw)
    assert answer.choices[0].finish_reason in ("stop", "length") and answer.choices[0].message.content
