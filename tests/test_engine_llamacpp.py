"""The llama.cpp engine's continuous batching, on the real embedded model."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from mockvendor.engines import build, generate
from mockvendor.engines.llamacpp import LlamaCppEngine, bundled_model_path
from mockvendor.errors import ContextLengthExceeded, Overloaded
from mockvendor.types import Chunk, Completion, GenerateRequest, Message

from .conftest import make_settings
from .helpers import ServerProcess, assert_vendor_error

# One thread: these tests check behaviour, not speed, and a second llama.cpp thread
# only spins waiting for a core when the machine is shared with other processes.
THREADS = 1


def chat(text: str, **kw: Any) -> GenerateRequest:
    return GenerateRequest("smollm2", [Message("user", text)], **kw)


def fresh(req: GenerateRequest, **changes: Any) -> GenerateRequest:
    """A copy without the cached tokenisation (as a new HTTP request would be), with ``changes``."""
    fields = {f: getattr(req, f) for f in req.__dataclass_fields__}
    return GenerateRequest(**{**fields, "engine_state": None, **changes})


async def each_alone(reqs: list[GenerateRequest], n_ctx: int) -> list[Completion]:
    """What each request gets alone: one slot, no prefix cache, one request after another."""
    ref = build("llamacpp", make_settings(seed=7, n_threads=THREADS, n_ctx=n_ctx), {"slots": 1, "prefix_cache": False})
    await ref.start()
    try:
        return [await generate(ref, fresh(r)) for r in reqs]
    finally:
        await ref.aclose()


async def wait_for(cond: Callable[[], bool]) -> None:
    """Poll the engine's state (no timing threshold: the test timeout bounds it)."""
    while not cond():
        await asyncio.sleep(0.01)


@pytest.fixture(scope="module")
async def engine() -> AsyncIterator[LlamaCppEngine]:
    """Four slots, short prompt chunks (so prompts span several steps), a small queue."""
    eng = build("llamacpp", make_settings(seed=7, n_threads=THREADS, n_ctx=512), {"slots": 4, "prompt_chunk": 16,
                                                                                   "queue_size": 8})
    await eng.start()
    yield eng
    await eng.aclose()


# A mix of greedy and sampled requests, with and without stop sequences and seeds, and
# prompts longer than one prompt chunk.
MIXED = [
    chat("Tell me about cats.", max_tokens=40, temperature=0.9, seed=1),
    chat("Tell me about cats.", max_tokens=40, temperature=0.9, seed=2),
    chat("What is the capital of France?", max_tokens=24, temperature=0),
    chat("Write a short poem about the sea, the wind and the harbour lights at night.", max_tokens=48,
         temperature=1.2, top_p=0.9, top_k=50, seed=99),
    chat("List three colours.", max_tokens=32, temperature=0.7, seed=5, stop=["\n"]),
    GenerateRequest("smollm2", prompt="Once upon a time", max_tokens=30, temperature=1.0, seed=3),
    chat("Explain rain to a child.", max_tokens=36, temperature=0.8, seed=11),
]


async def test_concurrent_seeded_requests_give_the_same_text_as_alone(engine: LlamaCppEngine) -> None:
    alone = [await generate(engine, fresh(r)) for r in MIXED]
    # More requests than slots: some wait and are admitted while others are mid-way.
    together = await asyncio.gather(*(generate(engine, fresh(r)) for r in MIXED))
    for a, b in zip(alone, together, strict=True):
        # (How much of each prompt the prefix cache held differs: it depends on what ran before.)
        assert (a.text, a.usage.input_tokens, a.usage.output_tokens, a.finish_reason) == (
            b.text, b.usage.input_tokens, b.usage.output_tokens, b.finish_reason)
    assert alone[0].text != alone[1].text  # the seed matters
    assert all(c.text for c in alone)


async def test_a_full_batch_is_one_pass_whatever_order_earlier_requests_ended_in() -> None:
    """llama.cpp cuts a step into one micro-batch per run of consecutive sequence ids (one
    KV stream per sequence); each is a pass over every weight. After requests that ended
    in a scrambled order, four requests at once must still be decoded in one pass a step."""
    eng = build("llamacpp", make_settings(seed=7, n_threads=THREADS, n_ctx=256), {"slots": 4})
    await eng.start()
    try:
        # Different lengths: these end in the order 3, 1, 0, 2 and free their ids so.
        await asyncio.gather(*(generate(eng, chat(f"Count to {n}.", max_tokens=n, temperature=0))
                               for n in (12, 6, 16, 3)))
        before = eng.stats()
        done = await asyncio.gather(*(generate(eng, chat(f"Write a long story about dragon number {i}.",
                                                         max_tokens=24, temperature=0)) for i in range(4)))
        assert all(d.finish_reason == "length" for d in done)  # all four decode to the end together
        after = eng.stats()
        steps = after["generate_steps"] - before["generate_steps"]
        passes = after["generate_passes"] - before["generate_passes"]
        assert steps >= 20
        assert passes == steps, (steps, passes)
    finally:
        await eng.aclose()


async def test_a_gap_left_by_an_ended_request_is_filled_and_changes_no_text() -> None:
    """Four requests at once; the second ends first, leaving ids 0, 2, 3 generating: a filler
    token in id 1 keeps each step one pass. Every text is the one each request gets alone, and
    the ended request's cache (the sequence the filler went through) still gives its text."""
    prompts = [(f"Write a long story about dragon number {i}.", n) for i, n in enumerate((30, 3, 30, 30))]
    reqs = [chat(p, max_tokens=n, temperature=0) for p, n in prompts]
    again = chat(prompts[1][0], max_tokens=12, temperature=0)
    eng = build("llamacpp", make_settings(seed=7, n_threads=THREADS, n_ctx=256), {"slots": 4})
    await eng.start()
    try:
        before = eng.stats()
        together = await asyncio.gather(*(generate(eng, fresh(r)) for r in reqs))
        after = eng.stats()
        steps = after["generate_steps"] - before["generate_steps"]
        assert after["filler_tokens"] - before["filler_tokens"] >= 20  # id 1 in most of the 30 steps
        assert after["generate_passes"] - before["generate_passes"] == steps
        second = await generate(eng, fresh(again))
        assert second.usage.cached_tokens > 0
    finally:
        await eng.aclose()
    *alone, alone_again = await each_alone([*reqs, again], n_ctx=256)
    assert [(c.text, c.usage.output_tokens) for c in together] == [(c.text, c.usage.output_tokens) for c in alone]
    assert [c.usage.output_tokens for c in together] == [30, 3, 30, 30]
    assert second.text == alone_again.text


async def test_greedy_text_matches_llama_cpp_python(engine: LlamaCppEngine) -> None:
    """Prefill in 16-token chunks beside other sequences gives llama-cpp-python's own greedy answer."""
    from llama_cpp import Llama

    prompt = ("The following is a detailed account of how bread is made, from the field where the wheat grows "
              "to the mill, the bakery and finally the table, told by the miller's youngest daughter. First,")
    ref = Llama(str(bundled_model_path()), n_ctx=512, n_threads=THREADS, verbose=False)
    try:
        want = ref.create_completion(prompt, max_tokens=40, temperature=0)
    finally:
        ref.close()
    req = GenerateRequest("smollm2", prompt=prompt, max_tokens=40, temperature=0)
    neighbours = [generate(engine, fresh(r)) for r in MIXED[:3]]
    got, *_ = await asyncio.gather(generate(engine, req), *neighbours)
    assert engine.prompt_tokens(fresh(req)) > 16 * 2
    assert got.text == want["choices"][0]["text"]
    assert got.usage.output_tokens == want["usage"]["completion_tokens"]


async def test_stop_sequence_and_max_tokens(engine: LlamaCppEngine) -> None:
    base = GenerateRequest("smollm2", prompt="The days of the week are Monday,", max_tokens=40, temperature=0)
    full = await generate(engine, fresh(base))
    assert len(full.text) > 20, full.text
    middle = len(full.text) // 2
    stop = full.text[middle : middle + 4]  # a stop string the answer is known to contain
    cut = await generate(engine, fresh(base, stop=[stop]))
    assert cut.finish_reason == "stop_sequence" and cut.stop_sequence == stop
    assert stop not in cut.text and full.text.startswith(cut.text)
    short = await generate(engine, fresh(base, max_tokens=5))
    assert short.finish_reason == "length" and short.usage.output_tokens == 5
    assert full.text.startswith(short.text)


async def test_streamed_chunks_add_up_to_the_completion(engine: LlamaCppEngine) -> None:
    req = chat("Describe a forest in spring.", max_tokens=40, temperature=0.9, seed=21)
    items = [item async for item in engine.stream(fresh(req))]
    done = items[-1]
    assert isinstance(done, Completion)
    chunks = [i for i in items[:-1] if isinstance(i, Chunk)]
    assert len(chunks) == len(items) - 1 > 1
    assert "".join(c.text for c in chunks) == done.text
    plain = await generate(engine, fresh(req))
    assert (plain.text, plain.usage.input_tokens, plain.usage.output_tokens, plain.finish_reason) == (
        done.text, done.usage.input_tokens, done.usage.output_tokens, done.finish_reason)
    assert plain.usage.cached_tokens > 0  # the same prompt again: read from the prefix cache


async def test_prompt_beyond_the_context_is_refused_before_taking_a_slot(engine: LlamaCppEngine) -> None:
    before = engine.stats()
    with pytest.raises(ContextLengthExceeded, match="maximum context length is 512"):
        await anext(engine.stream(chat("word " * 600)))
    after = engine.stats()
    assert after["queue_depth"] == 0 and after["active"] == 0
    assert after["completed"] == before["completed"]


async def test_a_cancelled_stream_frees_its_slot_and_its_cache() -> None:
    """One slot: a client that goes away mid-stream must let the next request in, and
    that request must start from an empty cache for the sequence (same text as before)."""
    eng = build("llamacpp", make_settings(seed=7, n_threads=THREADS, n_ctx=256), {"slots": 1, "queue_size": 4})
    await eng.start()
    try:
        probe = chat("Name a fruit.", max_tokens=12, temperature=0)
        expected = await generate(eng, fresh(probe))
        long = eng.stream(chat("Write a long story about a dragon.", max_tokens=200, temperature=0.8, seed=1))
        first = await long.__anext__()
        assert isinstance(first, Chunk)
        assert eng.stats()["active"] == 1
        waiting = asyncio.ensure_future(generate(eng, fresh(probe)))
        await wait_for(lambda: eng.stats()["queue_depth"] == 1)
        await long.aclose()  # the client disconnects
        got = await waiting
        # (Its prompt's opening, the chat template's system turn, may come from the prefix cache.)
        assert (got.text, got.usage.input_tokens, got.usage.output_tokens) == (
            expected.text, expected.usage.input_tokens, expected.usage.output_tokens)
        stats = eng.stats()
        assert stats["active"] == 0 and stats["queue_depth"] == 0
    finally:
        await eng.aclose()


async def test_a_full_queue_refuses_at_once_and_a_request_cancelled_while_waiting_never_runs() -> None:
    eng = build("llamacpp", make_settings(seed=7, n_threads=THREADS, n_ctx=256), {"slots": 1, "queue_size": 1})
    await eng.start()
    try:
        busy = eng.stream(chat("Write a long story about a dragon.", max_tokens=200, temperature=0.8, seed=1))
        await busy.__anext__()
        queued = eng.stream(chat("Say hi.", max_tokens=4))
        pending = asyncio.ensure_future(queued.__anext__())
        await wait_for(lambda: eng.stats()["queue_depth"] == 1)
        with pytest.raises(Overloaded, match="overloaded"):
            await anext(eng.stream(chat("One too many.", max_tokens=4)))  # at once, not after a wait
        pending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await pending
        await queued.aclose()
        assert eng.stats()["queue_depth"] == 0
        completed = eng.stats()["completed"]
        await busy.aclose()
        await wait_for(lambda: eng.stats()["active"] == 0)
        assert eng.stats()["completed"] == completed  # neither ran to completion
    finally:
        await eng.aclose()


async def test_with_no_queue_a_request_is_refused_only_when_every_slot_is_busy() -> None:
    eng = build("llamacpp", make_settings(seed=7, n_threads=THREADS, n_ctx=256, queue_size=0), {"slots": 2})
    await eng.start()
    try:
        streams = [eng.stream(chat(f"Write a long story about dragon number {i}.", max_tokens=200)) for i in (1, 2)]
        for s in streams:
            assert isinstance(await s.__anext__(), Chunk)
        assert eng.stats()["active"] == 2
        with pytest.raises(Overloaded):
            await anext(eng.stream(chat("A third one.", max_tokens=4)))
        for s in streams:
            await s.aclose()
        await wait_for(lambda: eng.stats()["active"] == 0)
        done = await generate(eng, chat("Say hi.", max_tokens=4))
        assert done.usage.output_tokens >= 1
    finally:
        await eng.aclose()


def test_stats_report_the_scheduler() -> None:
    eng = build("llamacpp", make_settings(n_threads=THREADS), {"slots": 3, "queue_size": 5})
    stats = eng.stats()
    assert {"queue_depth": 0, "active": 0, "slots": 3, "completed": 0}.items() <= stats.items()
    assert stats["queue_size"] == 5


# -- through HTTP, in each vendor's own shape ---------------------------------------------------


def one_slot_server(queue_size: int) -> ServerProcess:
    """A real server process whose model has one slot and ``queue_size`` places to wait."""
    server = ServerProcess(env={"MOCKVENDOR_SLOTS": "1", "MOCKVENDOR_QUEUE_SIZE": str(queue_size),
                                "MOCKVENDOR_FAULTS": "off", "MOCKVENDOR_N_THREADS": str(THREADS),
                                "MOCKVENDOR_N_CTX": "512"})
    server.wait_ready()
    return server


def engine_stats(server: ServerProcess) -> dict[str, Any]:
    return httpx.get(server.url + "/readyz", timeout=10).json()["engines"]["smollm2"]


async def test_a_queued_client_that_leaves_gives_up_its_place() -> None:
    """A request waiting for a slot has sent nothing yet; when its client disconnects it
    leaves the queue at once (streaming or not), long before the busy slot frees."""
    server = one_slot_server(queue_size=2)
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
            body = {"prompt": "Write a long story about a dragon.", "max_tokens": 400, "stream": True, "seed": 1}
            async with client.stream("POST", "/vendor-a/messages", json=body) as running:
                lines = running.aiter_lines()
                assert (await anext(lines)).startswith("data: ")  # it holds the only slot
                leaving = [
                    asyncio.ensure_future(client.post("/vendor-a/messages", json={"prompt": "Hi", "stream": stream}))
                    for stream in (True, False)
                ]
                while engine_stats(server)["queue_depth"] < 2:
                    await asyncio.sleep(0.02)
                for task in leaving:
                    task.cancel()  # httpx closes those connections
                await asyncio.gather(*leaving, return_exceptions=True)
                t0 = time.monotonic()
                while engine_stats(server)["queue_depth"] > 0:
                    assert time.monotonic() - t0 < 10, "the queue kept requests whose clients had left"
                    await asyncio.sleep(0.02)
                assert engine_stats(server)["active"] == 1  # the long stream is still being served
                line = await anext(lines)
                assert (line or await anext(lines)).startswith("data: ")
        rows = httpx.get(server.url + "/admin/requests", params={"limit": 10}, timeout=10).json()["data"]
        gone = [r for r in rows if r.get("status") == 499]
        assert len(gone) == 2, [(r["status"], r["stream"], r["error"]) for r in rows]
        assert all("disconnected" in (r.get("error") or "") for r in gone)
    finally:
        server.stop()


async def test_full_queue_and_disconnect_over_real_http() -> None:
    """One slot, one queue place, a real server: a third request gets the vendor's own
    overload error at once, and a streaming client that disconnects frees the slot."""
    server = one_slot_server(queue_size=1)
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
            body = {"prompt": "Write a long story about a dragon.", "max_tokens": 1000, "stream": True, "seed": 1}
            async with client.stream("POST", "/vendor-a/messages", json=body) as running:
                lines = running.aiter_lines()
                assert (await anext(lines)).startswith("data: ")  # it holds the only slot
                waiting = asyncio.ensure_future(
                    client.post("/vendor-b/messages", json={"prompt": "Hello", "max_tokens": 3, "seed": 2})
                )
                while engine_stats(server)["queue_depth"] < 1:
                    await asyncio.sleep(0.02)
                chat_body = {"model": "smollm2", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 3}
                for vendor, path, req_body, status in (
                    ("a", "/vendor-a/messages", {"prompt": "Hi", "max_tokens": 3}, 503),
                    ("b", "/vendor-b/messages", {"prompt": "Hi", "max_tokens": 3}, 503),
                    ("openai", "/v1/chat/completions", chat_body, 503),
                    ("anthropic", "/v1/messages", chat_body, 529),  # Anthropic's own overload status
                ):
                    r = await client.post(path, json=req_body, headers={"anthropic-version": "2023-06-01"})
                    assert_vendor_error(vendor, r, status, mentions="overloaded")
                # A stream is refused the same way, before any byte of it is sent.
                for vendor, path, status in (("openai", "/v1/chat/completions", 503),
                                             ("anthropic", "/v1/messages", 529), ("a", "/vendor-a/messages", 503)):
                    r = await client.post(path, json={**chat_body, "prompt": "Hi", "stream": True},
                                          headers={"anthropic-version": "2023-06-01"})
                    assert_vendor_error(vendor, r, status, mentions="overloaded")
                    assert not r.headers["content-type"].startswith("text/event-stream")
            # The streaming client went away mid-answer: the waiting request gets the slot.
            r = await waiting
            assert r.status_code == 200, r.text
            assert r.json()["usage"]["output_tokens"] >= 1
            stats = engine_stats(server)
            assert (stats["active"], stats["queue_depth"], stats["completed"]) == (0, 0, 1)
    finally:
        server.stop()


async def test_streaming_and_plain_answers_agree(client: httpx.AsyncClient) -> None:
    body = {"prompt": "Tell me about owls.", "max_tokens": 30, "seed": 8, "temperature": 0.9}
    plain = (await client.post("/vendor-a/messages", json=body)).json()
    async with client.stream("POST", "/vendor-a/messages", json={**body, "stream": True}) as r:
        events = [json.loads(ln[6:]) async for ln in r.aiter_lines() if ln.startswith("data: ")]
    last = events[-1]
    assert last["done"] is True
    assert "".join(e.get("delta", "") for e in events[:-1]) == plain["outputText"] == last["outputText"]
    assert (last["tokensIn"], last["tokensOut"]) == (plain["tokensIn"], plain["tokensOut"])


async def test_an_empty_raw_prompt_starts_from_the_beginning_of_text(engine: LlamaCppEngine) -> None:
    done = await generate(engine, GenerateRequest("smollm2", prompt="", max_tokens=6, temperature=0))
    assert done.usage.input_tokens == 1
    assert done.finish_reason in {"stop", "length"} and done.usage.output_tokens <= 6


async def test_simultaneous_arrivals_share_their_opening_with_the_texts_of_each_alone() -> None:
    """Arrivals whose prompts open alike: one reads the opening, the others copy its KV
    (only the cells it holds, not its whole stream) and read their own rest, prefilled
    together; the texts are those of each request alone without the cache, and so are
    those of the same requests again (each now from its own sequence's cache)."""
    opening = "You are a careful assistant who answers every question in one short sentence. " * 3
    reqs = [chat(opening + q, max_tokens=16, temperature=0) for q in
            ("What is a cat?", "What is rain?", "Why is the sky blue?", "What is a river?")]
    eng = build("llamacpp", make_settings(seed=7, n_threads=THREADS, n_ctx=512), {"slots": 4})
    await eng.start()
    try:
        together = await asyncio.gather(*(generate(eng, fresh(r)) for r in reqs))
        stats = eng.stats()
        assert stats["kv_copies"] == 3 and stats["prefill_sequences"] > stats["prefill_decodes"]
        assert sum(c.usage.cached_tokens for c in together) >= 3 * 40
        # A cell of the embedded model's KV is 30 layers x (K + V) x 192 values x 2 bytes: a
        # copy carries the opening's cells (40 or more), far fewer than a stream's 512.
        per_copy = stats["kv_copied_bytes"] / stats["kv_copies"]
        cell = 30 * 2 * 192 * 2
        assert 40 * cell < per_copy < max(c.usage.input_tokens for c in together) * cell * 1.05
        again = await asyncio.gather(*(generate(eng, fresh(r)) for r in reqs))
        assert all(c.usage.cached_tokens > 60 for c in again)
    finally:
        await eng.aclose()
    alone = [c.text for c in await each_alone(reqs, n_ctx=512)]
    assert [c.text for c in together] == alone
    assert [c.text for c in again] == alone


async def test_arrivals_of_a_templated_prompt_read_its_shared_words_once() -> None:
    """The system prompt is cached; four arrivals then share a few more words ("Write a short
    story about"), fewer than COPY_MIN beyond the cache: the first reads them, the others copy
    them and read only their own rest. Texts as each alone."""
    from mockvendor.engines.batcher import COPY_MIN, SHARE_MIN

    topics = ["a cat", "the rain", "a river", "an old clock"]
    reqs = [chat(f"Write a short story about {t}.", max_tokens=8, temperature=0) for t in topics]
    eng = build("llamacpp", make_settings(seed=7, n_threads=THREADS, n_ctx=256), {"slots": 5})
    await eng.start()
    try:
        warm = await generate(eng, chat("Hi", max_tokens=2, temperature=0))  # the template's opening
        # A long raw prompt keeps the engine busy (one decode of 252 tokens) while the four
        # arrive, so that they are admitted together, as a burst is (and without waiting for
        # the first, each would read the shared words itself).
        busy = asyncio.create_task(generate(eng, GenerateRequest("smollm2", prompt="lorem ipsum " * 50,
                                                                 max_tokens=1, temperature=0)))
        await asyncio.sleep(0.05)
        together = await asyncio.gather(*(generate(eng, fresh(r)) for r in reqs))
        await busy
    finally:
        await eng.aclose()
    first, *rest = together
    assert 0 < first.usage.cached_tokens < warm.usage.input_tokens  # the template's opening
    # (" a" of "a cat" is shared by "a river" too: one token more for it.)
    shared = min(c.usage.cached_tokens for c in rest)
    assert SHARE_MIN <= shared - first.usage.cached_tokens < COPY_MIN
    assert [c.text for c in together] == [c.text for c in await each_alone(reqs, n_ctx=256)]


async def test_conversations_served_one_after_another_keep_their_caches_and_steps_stay_one_pass() -> None:
    """Three chats sharing an opening, one request at a time: each new request takes the
    lowest free sequence (so busy ids stay 0..n-1) and what that sequence held moves to a
    free one, so every chat's second turn finds its first in the cache (before, each new
    chat took the sequence holding the shared opening and the earlier chat's cache was lost),
    with the texts of an engine without the cache."""
    opening = "You are a careful assistant who answers every question in one short sentence. " * 2
    firsts = ["What is a cat?", "What is rain?", "Why is the sky blue?"]

    async def conversations(eng: LlamaCppEngine, order: tuple[int, ...] = (0, 1, 2)) -> tuple[list[Completion],
                                                                                              list[Completion]]:
        one = [await generate(eng, chat(opening + q, max_tokens=12, temperature=0)) for q in firsts]
        two = []
        for i in order:
            turn = GenerateRequest("smollm2", [Message("user", opening + firsts[i]), Message("assistant", one[i].text),
                                               Message("user", "Tell me more.")], max_tokens=12, temperature=0)
            two.append(await generate(eng, turn))
        return one, two

    eng = build("llamacpp", make_settings(seed=7, n_threads=THREADS, n_ctx=512), {"slots": 4})
    await eng.start()
    try:
        one, two = await conversations(eng)
        for first, second in zip(one, two, strict=True):
            assert second.usage.cached_tokens >= first.usage.input_tokens - 2, (first.usage, second.usage)
        before = eng.stats()
        await asyncio.gather(*(generate(eng, chat(f"Write a long story about dragon number {i}.", max_tokens=16,
                                                  temperature=0)) for i in range(4)))
        after = eng.stats()
        steps = after["generate_steps"] - before["generate_steps"]
        assert steps >= 12 and after["generate_passes"] - before["generate_passes"] == steps
    finally:
        await eng.aclose()
    ref = build("llamacpp", make_settings(seed=7, n_threads=THREADS, n_ctx=512), {"slots": 1, "prefix_cache": False})
    await ref.start()
    try:
        ref_one, ref_two = await conversations(ref)
    finally:
        await ref.aclose()
    assert [c.text for c in one + two] == [c.text for c in ref_one + ref_two]
    # Two slots, three chats: the one that ended longest ago gives way, the last two stay.
    two_slots = build("llamacpp", make_settings(seed=7, n_threads=THREADS, n_ctx=512), {"slots": 2})
    await two_slots.start()
    try:
        one, two = await conversations(two_slots, (2, 1, 0))  # second turns: c, b, then a
        assert two[0].usage.cached_tokens >= one[2].usage.input_tokens - 2
        assert two[1].usage.cached_tokens >= one[1].usage.input_tokens - 2
        assert two[2].usage.cached_tokens < one[0].usage.input_tokens - 2  # a's first turn gave way to c's
    finally:
        await two_slots.aclose()



async def test_a_chat_moved_out_of_the_way_goes_to_a_stream_used_before_and_leaves_the_shared_opening() -> None:
    """A new chat takes the lowest free sequence; the chat it held moves to a free sequence:
    one whose stream was used before if there is one (the first write into a stream costs
    about 10 ms of page faults and its memory), and the opening both share stays where it is
    (one copy, not the move and a copy back). The texts are those of each request alone."""
    opening = "You are a careful assistant who answers every question in one short sentence. " * 2
    x, y, z = (chat(opening + q, max_tokens=10, temperature=0)
               for q in ("What is a cat?", "What is rain?", "Why is the sky blue?"))
    eng = build("llamacpp", make_settings(seed=7, n_threads=THREADS, n_ctx=512), {"slots": 4})
    await eng.start()
    try:
        one = await asyncio.gather(generate(eng, x), generate(eng, y))  # sequences 0 and 1
        y2 = GenerateRequest("smollm2", [*y.messages, Message("assistant", one[1].text), Message("user", "Why?")],
                             max_tokens=10, temperature=0)
        # y's next turn takes sequence 0: x's chat moves to 3 (no stream used before is free),
        # y's is copied from 1, and 1 is left empty.
        second = await generate(eng, y2)
        assert second.usage.cached_tokens >= one[1].usage.input_tokens - 2
        before = eng.stats()
        assert before["streams_used"] == 3
        # A new chat on sequence 0: y's moves to 1 (used before), not to 2 (never used); the
        # opening z shares with it stays in 0: one copy.
        third = await generate(eng, z)
        after = eng.stats()
        assert after["streams_used"] == 3
        assert after["kv_copies"] - before["kv_copies"] == 1
        assert third.usage.cached_tokens >= len(opening.split())
        # Both earlier chats are still cached.
        x2 = GenerateRequest("smollm2", [*x.messages, Message("assistant", one[0].text), Message("user", "Why?")],
                             max_tokens=10, temperature=0)
        y3 = GenerateRequest("smollm2", [*y2.messages, Message("assistant", second.text), Message("user", "And?")],
                             max_tokens=10, temperature=0)
        last = [await generate(eng, x2), await generate(eng, y3)]
        assert last[0].usage.cached_tokens >= one[0].usage.input_tokens - 2
        assert last[1].usage.cached_tokens >= second.usage.input_tokens - 2
    finally:
        await eng.aclose()
    alone = await each_alone([x, y, y2, z, x2, y3], n_ctx=512)
    assert [c.text for c in [*one, second, third, *last]] == [c.text for c in alone]

def native_threads() -> int:
    """Threads of this process that Python did not start (llama.cpp's OpenMP workers among them)."""
    import os
    import threading

    return len(os.listdir("/proc/self/task")) - len(threading.enumerate())


async def test_embeddings_and_prompt_scoring_start_no_openmp_team_beside_the_engines() -> None:
    """Each thread that runs an OpenMP parallel region keeps a team of workers; once libgomp
    manages more threads than there are cores it cuts every barrier's spin to 100 rounds, for
    the engine too (one embeddings request used to slow a single stream by a third for the
    life of the server). The embedder and the prompt scorer run on one llama.cpp thread,
    which opens no region: no worker is added."""
    eng = build("llamacpp", make_settings(seed=7, n_threads=2, n_ctx=256), {"slots": 2})
    await eng.start()
    try:
        await generate(eng, chat("Hi", max_tokens=8, temperature=0))  # the engine's team exists
        before = native_threads()
        vectors = await eng.embed(["hello world", "a cat on a mat"])
        assert len(vectors) == 2 and len(vectors[0]) > 100
        scored = await generate(eng, GenerateRequest("smollm2", prompt="The sky is blue.", max_tokens=4,
                                                     temperature=0, logprobs=1, echo_prompt=True))
        assert scored.prompt_logprobs
        assert native_threads() == before
    finally:
        await eng.aclose()


def test_greedy_argmax_picks_llama_cpps_greedy_token_and_a_bias_takes_the_chain() -> None:
    """A plain greedy sampler reads the highest logit itself (NativeModel.argmax); at every
    step of four sequences that is the token llama.cpp's own greedy sampler picks from the
    same logits. With a logit bias the chain samples, and the bias counts."""
    import llama_cpp

    from mockvendor.engines.llama_native import NativeModel, Sampler

    m = NativeModel(str(bundled_model_path()), n_seq=4, n_ctx_seq=256, n_batch=64, n_threads=THREADS)
    plain = [Sampler(temperature=0, top_k=0, top_p=1.0, min_p=0.0, seed=1) for _ in range(4)]
    try:
        assert all(s.argmax for s in plain)
        prompts = [[1, 504, 3458, 281, 4012 + q, 30] for q in range(4)]
        m.clear_batch()
        last = [0] * 4
        for q, prompt in enumerate(prompts):
            for pos, tok in enumerate(prompt):
                last[q] = m.add(tok, pos, q, pos == len(prompt) - 1)
        assert m.decode() == 0
        seen: set[int] = set()
        for step in range(24):
            ours = [plain[q].sample(m, last[q]) for q in range(4)]
            theirs = [int(llama_cpp.llama_sampler_sample(plain[q].chain, m.ctx, last[q])) for q in range(4)]
            assert ours == theirs, f"step {step}"
            seen.update(ours)
            m.clear_batch()
            last = [m.add(ours[q], len(prompts[q]) + step, q, True) for q in range(4)]
            assert m.decode() == 0
        assert len(seen) > 4  # the sequences went somewhere: 24 steps of real text, not one token
        first = plain[0].sample(m, last[0])
        biased = Sampler(temperature=0, top_k=0, top_p=1.0, min_p=0.0, seed=1, logit_bias={first: -100.0},
                         n_vocab=m.n_vocab)
        try:
            assert not biased.argmax
            assert biased.sample(m, last[0]) != first
        finally:
            biased.close()
    finally:
        for s in plain:
            s.close()
        m.close()
