"""A failure inside the llama.cpp engine thread fails the requests it touches, in each
vendor's own error shape, and the engine goes on serving everyone else.

The failure is a real exception raised inside the engine thread while it samples
(``MOCKVENDOR_ENGINE_FAULT_TEXT``: a prompt containing that text makes the sampling step
raise), over a real server and the vendors' official clients.
"""

from __future__ import annotations

import asyncio

import anthropic
import httpx
import openai

from .helpers import assert_vendor_error, serving

FAULT = "zebra-crash-now"


def engine_stats(url: str) -> dict:
    (stats,) = [e for e in httpx.get(url + "/readyz").json()["engines"].values() if e.get("engine") == "llamacpp"]
    return stats


async def test_a_failing_request_gets_a_vendor_error_and_the_engine_keeps_serving() -> None:
    with serving(MOCKVENDOR_ENGINE_FAULT_TEXT=FAULT, MOCKVENDOR_SLOTS="2", MOCKVENDOR_N_THREADS="1",
                 MOCKVENDOR_N_CTX="512") as server:
        oai = openai.AsyncOpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)
        ant = anthropic.AsyncAnthropic(base_url=server.url, api_key="sk-ant-test", max_retries=0)
        healthy = [{"role": "user", "content": "Name three colours."}]
        faulty = [{"role": "user", "content": f"Tell me a story. {FAULT}"}]

        async def streamed_healthy() -> str:
            parts = []
            stream = await oai.chat.completions.create(model="smollm2", messages=healthy, max_tokens=24,
                                                       temperature=0, stream=True)
            async for chunk in stream:
                parts.extend(c.delta.content or "" for c in chunk.choices)
            return "".join(parts)

        alone = await streamed_healthy()
        assert alone
        # A healthy stream beside failing requests (plain and streamed, two vendors).
        running = asyncio.ensure_future(streamed_healthy())
        errors = []
        for call in (
            oai.chat.completions.create(model="smollm2", messages=faulty, max_tokens=8),
            oai.chat.completions.create(model="smollm2", messages=faulty, max_tokens=8, stream=True),
            ant.messages.create(model="claude-3-5-haiku-latest", messages=faulty, max_tokens=8),
        ):
            try:
                await call
            except (openai.APIStatusError, anthropic.APIStatusError) as e:
                errors.append(e)
        assert [e.status_code for e in errors] == [503, 503, 503]
        assert all("local model failed" in e.message for e in errors), [e.message for e in errors]
        assert isinstance(errors[2].body, dict) and errors[2].body["type"] == "error"
        assert await running == alone  # the other request never noticed
        # The engine thread is alive: later requests are answered.
        after = await oai.chat.completions.create(model="smollm2", messages=healthy, max_tokens=24, temperature=0)
        assert after.choices[0].message.content == alone
        stats = engine_stats(server.url)
        assert stats["failures"] == 3 and stats["active"] == 0, stats

        # The raw answers are each vendor's own error shape, not a bare 500, and not marked
        # as a simulated fault (it is a real failure path).
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
            for vendor, path, body in (
                ("openai", "/v1/chat/completions", {"model": "smollm2", "messages": faulty, "max_tokens": 4}),
                ("anthropic", "/v1/messages", {"model": "claude-3-5-haiku-latest", "messages": faulty,
                                               "max_tokens": 4}),
                ("a", "/vendor-a/messages", {"prompt": FAULT, "max_tokens": 4}),
            ):
                r = await client.post(path, json=body, headers={"anthropic-version": "2023-06-01"})
                assert_vendor_error(vendor, r, 503, mentions="failed")
        assert engine_stats(server.url)["failures"] == 6
