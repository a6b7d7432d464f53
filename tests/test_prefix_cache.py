"""The llama.cpp engine's prefix cache, over a real server and the vendors' official clients:
a chat's later turns reuse the KV of the earlier ones (reported as cached tokens in each
vendor's usage fields), and the greedy text is the same as with the cache off.

The vendors cache only prompts of 1,024 tokens or more (OpenAI reports hits in steps of 128,
Anthropic only up to a cache_control breakpoint), so the prompts here open with a long
system prompt."""

from __future__ import annotations

import asyncio

import anthropic
import openai
from google import genai
from google.genai import types as gt

from .helpers import serving

ENV = {"MOCKVENDOR_SLOTS": "2", "MOCKVENDOR_N_THREADS": "1", "MOCKVENDOR_N_CTX": "2048"}
QUESTIONS = ["Hi! What is a cat?", "And a dog?", "Which one is better as a pet for a small flat?"]
# About 1,100 tokens: past the vendors' minimum for caching.
SYSTEM = "You are a patient teacher who answers in short, plain sentences. " * 85


async def chat(url: str) -> list[tuple[str, int, int]]:
    """A greedy conversation, the reader taking a moment between turns: (text, prompt, cached) per turn."""
    client = openai.AsyncOpenAI(base_url=url + "/v1", api_key="sk-test", max_retries=0)
    messages: list = [{"role": "system", "content": SYSTEM}]
    turns = []
    for q in QUESTIONS:
        messages.append({"role": "user", "content": q})
        r = await client.chat.completions.create(model="smollm2", messages=messages, max_tokens=32, temperature=0)
        text = r.choices[0].message.content or ""
        turns.append((text, r.usage.prompt_tokens, r.usage.prompt_tokens_details.cached_tokens))
        messages.append({"role": "assistant", "content": text})
        await asyncio.sleep(0.6)  # idle: the engine settles the answer for the next turn
    return turns


async def test_later_turns_reuse_the_earlier_ones_with_the_same_text() -> None:
    with serving(**ENV, MOCKVENDOR_PREFIX_CACHE="false") as server:
        without = await chat(server.url)
    with serving(**ENV) as server:
        with_cache = await chat(server.url)
        # The same texts and prompt sizes; with the cache, each later turn's prompt is mostly cached.
        assert [t[:2] for t in with_cache] == [t[:2] for t in without]
        assert with_cache[0][1] > 1024
        assert [t[2] for t in without] == [0, 0, 0]
        assert with_cache[0][2] == 0
        for (_, prompt, cached), (_, before, _) in zip(with_cache[1:], with_cache, strict=False):
            # At least the whole previous prompt, in OpenAI's steps of 128 tokens.
            assert before // 128 * 128 <= cached < prompt and cached % 128 == 0, with_cache

        # Each vendor's own field, for a prompt sharing a long prefix with one just answered.
        system = SYSTEM
        oai = openai.AsyncOpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)
        r1 = await oai.chat.completions.create(
            model="smollm2", max_tokens=4, temperature=0,
            messages=[{"role": "system", "content": system}, {"role": "user", "content": "What is 2+2?"}])
        assert r1.usage.prompt_tokens_details.cached_tokens % 128 == 0
        short = await oai.chat.completions.create(model="smollm2", max_tokens=4, temperature=0,
                                                  messages=[{"role": "user", "content": "What is 2+2?"}])
        assert short.usage.prompt_tokens_details.cached_tokens == 0  # a short prompt: never cached
        resp = await oai.responses.create(model="smollm2", instructions=system, input="What is 3+3?",
                                          max_output_tokens=16, temperature=0)
        assert resp.usage.input_tokens_details.cached_tokens >= 1024, resp.usage
        assert resp.usage.input_tokens > resp.usage.input_tokens_details.cached_tokens

        ant = anthropic.AsyncAnthropic(base_url=server.url, api_key="sk-ant-test", max_retries=0)
        # Anthropic caches only behind a cache_control breakpoint, and counts cache reads apart from input_tokens.
        plain = await ant.messages.create(model="claude-3-5-haiku-latest", system=system, max_tokens=4,
                                          messages=[{"role": "user", "content": "What is 4+4?"}])
        assert (plain.usage.cache_read_input_tokens, plain.usage.cache_creation_input_tokens) == (0, 0)
        marked = [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}]
        written = await ant.messages.create(model="claude-3-5-haiku-latest", system=marked, max_tokens=4,  # type: ignore[arg-type]
                                            messages=[{"role": "user", "content": "What is 3+3?"}])
        assert written.usage.cache_creation_input_tokens >= 40 and written.usage.cache_read_input_tokens == 0
        m = await ant.messages.create(model="claude-3-5-haiku-latest", system=marked, max_tokens=4,  # type: ignore[arg-type]
                                      messages=[{"role": "user", "content": "What is 4+4?"}])
        assert m.usage.cache_read_input_tokens == written.usage.cache_creation_input_tokens, m.usage
        assert m.usage.cache_creation_input_tokens == 0
        assert m.usage.input_tokens > 0  # the question after the breakpoint
        assert m.usage.input_tokens + m.usage.cache_read_input_tokens == plain.usage.input_tokens
        async with ant.messages.stream(model="claude-3-5-haiku-latest", system=marked, max_tokens=4,  # type: ignore[arg-type]
                                       messages=[{"role": "user", "content": "What is 5+5?"}]) as s:
            final = await s.get_final_message()
        assert final.usage.cache_read_input_tokens >= 40, final.usage
        assert final.usage.input_tokens + final.usage.cache_read_input_tokens == plain.usage.input_tokens

        g = genai.Client(api_key="k", http_options=gt.HttpOptions(base_url=server.url))
        gr = await g.aio.models.generate_content(
            model="gemini-2.0-flash", contents="What is 6+6?",
            config=gt.GenerateContentConfig(system_instruction=system, max_output_tokens=4, temperature=0))
        assert gr.usage_metadata.cached_content_token_count >= 1024, gr.usage_metadata
        assert gr.usage_metadata.prompt_token_count > gr.usage_metadata.cached_content_token_count
        # Another prefix is written, not read: Anthropic's cache is an exact prefix match.
        fresh = [{"type": "text", "text": "You answer in French. " * 12, "cache_control": {"type": "ephemeral"}}]
        first = await ant.messages.create(model="claude-3-5-haiku-latest", system=fresh, max_tokens=4,  # type: ignore[arg-type]
                                          messages=[{"role": "user", "content": "Hello?"}])
        assert first.usage.cache_creation_input_tokens >= 40 and first.usage.cache_read_input_tokens == 0, first.usage
