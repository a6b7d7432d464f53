"""Tokens/s of the embedded model: our continuous-batching engine and server against
llama-cpp-python in process and against ``llama_cpp.server``, measured in one run.

    python bench/engine_throughput.py [--tokens 128] [--requests 16] [--clients 1,8,16] [--threads 2]

Also llama.cpp's own batched decoding through the low-level API (no scheduler, no HTTP;
each sequence as many cells as our slots, greedy with llama.cpp's own sampler)
at each client count's batch size, right before and right after each server's HTTP run
at that count (each run is divided by the mean of its two), two ways: decoding
alone (B sequences, one token each per ``llama_decode``: the most batching gives on this
machine; its ``llama_decode`` calls alone, sampling left out, are reported too), and
serving the same requests B at a time (each wave's prompts read in one ``llama_decode``,
then decoding until each request has its reference token count): the ceiling for the
same work, prompts included.
Every system gets the same work: the same GGUF,
threads and context, greedy decoding (so each prompt yields the same tokens
everywhere; the script checks the texts), one distinct chat prompt per request,
``--tokens`` new tokens at most. Token counts come
from the in-process reference. Printed:

- in process, one request at a time: ``Llama.create_chat_completion`` (the baseline)
  vs our engine (no HTTP) with 1, 4, 8 concurrent requests;
- over HTTP, streaming, N concurrent clients sharing the same ``--requests`` requests
  (each client sends its share back to back): our server (OpenAI route and seed vendor
  A) vs ``llama_cpp.server --interrupt_requests False``, both running, each run after an
  untimed warm-up of as many requests as our server has slots (prompts of their own, so
  the measured prompts find only the chat template's opening cached), measured back to
  back for each N: aggregate tokens/s, time to
  first token p50/p99, and the spread of per-request tokens/s (fairness). With one
  client the in-process baseline is measured again right before, so the single-stream
  ratio compares two runs made minutes apart at most;
- every throughput also per CPU-second of the generating process, which stays
  comparable when other processes share the machine (wall clock then does not).

Every process here waits for OpenMP threads the same way: our engine's bounded spin
(``GOMP_SPINCOUNT``, set in this process before llama_cpp loads and inherited by the
servers), or ``--wait-policy PASSIVE|ACTIVE`` for all. ``bench/engine_threads.py`` compares
those settings one by one.

Beside a busy process (``--busy``), llama-cpp-python and llama.cpp's own decode on two
spinning threads fall to a tenth of their speed, and a run takes most of an hour:
``--busy --baseline-threads 1 --no-llama-server`` measures every baseline on one thread (their
faster fixed choice there; the texts are the same on any thread count) and leaves
``llama_cpp.server`` out.

``--sections latency`` runs only: time to first token of ``--arrivals`` requests arriving at
once, before (one prompt per ``llama_decode``, no prefix cache) and after, against one
prompt alone; the time to first token of each turn of a chat with the prefix cache off and
on; our server's resident memory ready, at rest and after a request, under 8 streams on 8
slots and under 16 streams on the default slots.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from common import free_port, server_process  # noqa: E402

TOPICS = [
    "a lighthouse keeper", "a lost umbrella", "the first snow", "a clockmaker", "a desert caravan",
    "a robot gardener", "an old library", "a night train", "a small bakery", "a mountain village",
    "a river otter", "a city at dawn", "a broken violin", "a kite festival", "a deep-sea diver", "a paper boat",
]


def messages(i: int) -> list[dict[str, str]]:
    """Request ``i``'s chat: a prompt of its own (past the 16 topics, a part number)."""
    part = f", part {i // len(TOPICS) + 1}" if i >= len(TOPICS) else ""
    return [{"role": "user", "content": f"Write a short story about {TOPICS[i % len(TOPICS)]}{part}."}]


def warmup_messages(i: int) -> list[dict[str, str]]:
    """A warm-up request's chat: the template's opening like every request, then words none
    of the measured prompts has (so the measured requests find only that opening cached)."""
    return [{"role": "user", "content": f"Say hello to visitor number {i + 1}."}]


@dataclass
class Run:
    """One request's timings over HTTP."""

    start: float
    first: float | None
    end: float
    text: str


# -- in process ---------------------------------------------------------------------------------


def alone(fn: Any, *args: Any) -> Any:
    """``fn(*args)`` in a thread of its own, which ends with it. Each thread that runs llama.cpp
    on several threads keeps an OpenMP team of its own, and once libgomp manages more threads
    than there are cores it cuts every barrier's spin to 100 rounds: a team left behind by a
    baseline on the main thread made our engine (on its own thread) a third slower here."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:  # its thread ends when the block does
        return pool.submit(fn, *args).result()


def reference(model: str, n: int, tokens: int, threads: int, n_ctx: int) -> tuple[float, list[str], list[int]]:
    """llama-cpp-python's own chat completion, one request at a time: (tok/s, texts, token counts)."""
    from llama_cpp import Llama

    llm = Llama(model, n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads, verbose=False)
    texts, counts = [], []
    t0 = time.perf_counter()
    for i in range(n):
        out = llm.create_chat_completion(messages=messages(i), max_tokens=tokens, temperature=0)
        texts.append(out["choices"][0]["message"]["content"])
        counts.append(out["usage"]["completion_tokens"])
    elapsed = time.perf_counter() - t0
    llm.close()
    return sum(counts) / elapsed, texts, counts


def llama_sample(smp: Any, m: Any, i: int) -> int:
    """llama.cpp's own sampling, as its batched example does it: ``llama_sampler_sample``
    on the sampler chain (greedy here). Our engine picks a greedy token with an argmax of
    the logits instead (``NativeModel.argmax``: the same token, about a fifth of the time)."""
    import llama_cpp

    return int(llama_cpp.llama_sampler_sample(smp.chain, m.ctx, i))


def raw_batched(model: str, batch_sizes: list[int], steps: int, threads: int,
                n_ctx: int) -> dict[int, tuple[float, float]]:
    """llama.cpp's own batched decoding, no scheduler: B sequences of ``n_ctx`` cells each
    (our server's slots' size: the KV's layout changes a step's time, 2-6% faster at 512
    cells than at 2,048, measured ad hoc), one token each per ``llama_decode``, greedy
    with llama.cpp's sampler, ``steps`` steps. For each B: aggregate tokens/s, and tokens/s
    of the ``llama_decode`` calls alone (sampling left out). This is the most batching can
    give on this machine, the ceiling of every ratio below."""
    from mockvendor.engines.llama_native import NativeModel, Sampler

    out = {}
    for b in batch_sizes:
        m = NativeModel(model, n_seq=b, n_ctx_seq=n_ctx, n_batch=512, n_threads=threads)
        samplers = [Sampler(temperature=0, top_k=0, top_p=1.0, min_p=0.0, seed=1) for _ in range(b)]
        try:
            prompt = list(range(100, 132))
            nxt = []
            for seq in range(b):  # seq ids 0..b-1 in order: one micro-batch a step
                m.clear_batch()
                for p, tok in enumerate(prompt):
                    i = m.add(tok, p, seq, p == len(prompt) - 1)
                m.decode()
                nxt.append(llama_sample(samplers[seq], m, i))
            decoding = 0.0
            t0 = time.perf_counter()
            for step in range(steps):
                m.clear_batch()
                idx = [m.add(nxt[seq], len(prompt) + step, seq, True) for seq in range(b)]
                d0 = time.perf_counter()
                if m.decode() != 0:
                    raise RuntimeError("llama_decode failed")
                decoding += time.perf_counter() - d0
                nxt = [llama_sample(samplers[seq], m, idx[seq]) for seq in range(b)]
            out[b] = (b * steps / (time.perf_counter() - t0), b * steps / decoding)
        finally:
            for smp in samplers:
                smp.close()
            m.close()
    return out


def raw_served(model: str, b: int, n: int, counts: list[int], threads: int, n_ctx: int) -> float:
    """llama.cpp's own batched decoding doing the same work as the servers: requests 0..n-1
    (their chat prompts, their token counts from the reference), ``b`` at a time in waves:
    every prompt of a wave read in one ``llama_decode``, then one token per sequence per
    ``llama_decode`` until each has its count. Aggregate tokens/s: the ceiling for serving
    these requests ``b`` at a time, prompts included (``raw_batched`` leaves them out)."""
    from llama_cpp import Llama

    from mockvendor.engines.llama_native import NativeModel, Sampler
    from mockvendor.engines.llamacpp import _chat_template

    vocab = Llama(model, vocab_only=True, verbose=False)
    template = _chat_template(vocab)
    prompts = [list(vocab.tokenize(template.render(messages=messages(i), add_generation_prompt=True).encode(),
                                   add_bos=True, special=True)) for i in range(n)]
    longest = max(len(p) for p in prompts)
    m = NativeModel(model, n_seq=b, n_ctx_seq=n_ctx, n_batch=max(512, b * longest), n_threads=threads)
    total = 0
    try:
        t0 = time.perf_counter()
        for start in range(0, n, b):
            wave = list(range(start, min(n, start + b)))
            samplers = [Sampler(temperature=0, top_k=0, top_p=1.0, min_p=0.0, seed=1) for _ in wave]
            m.clear_batch()
            last = []
            for seq, i in enumerate(wave):
                for pos, tok in enumerate(prompts[i]):
                    idx = m.add(tok, pos, seq, pos == len(prompts[i]) - 1)
                last.append(idx)
            if m.decode() != 0:
                raise RuntimeError("llama_decode failed")
            nxt = [llama_sample(samplers[seq], m, last[seq]) for seq in range(len(wave))]
            made = [1] * len(wave)
            while True:
                live = [seq for seq, i in enumerate(wave) if made[seq] < counts[i]]
                if not live:
                    break
                m.clear_batch()
                idx = {seq: m.add(nxt[seq], len(prompts[wave[seq]]) + made[seq] - 1, seq, True) for seq in live}
                if m.decode() != 0:
                    raise RuntimeError("llama_decode failed")
                for seq in live:
                    nxt[seq] = llama_sample(samplers[seq], m, idx[seq])
                    made[seq] += 1
            total += sum(counts[i] for i in wave)
            for seq in range(len(wave)):
                m.forget(seq)
            for smp in samplers:
                smp.close()
        return total / (time.perf_counter() - t0)
    finally:
        m.close()
        vocab.close()


async def engine_in_process(model: str, concurrency: list[int], requests: int, tokens: int, threads: int,
                            n_ctx: int, slots: int) -> dict[int, tuple[float, float, list[str]]]:
    """Our engine without HTTP: the same ``requests`` requests, C at a time, for each C."""
    from mockvendor.engines import build, generate
    from mockvendor.settings import Settings
    from mockvendor.types import Completion, GenerateRequest, Message

    settings = Settings(model_path=model, n_threads=threads, n_ctx=n_ctx, slots=max(slots, max(concurrency)))
    eng = build("llamacpp", settings, {})
    await eng.start()
    results = {}
    try:
        await generate(eng, GenerateRequest("smollm2", [Message("user", "Hi")], max_tokens=8, temperature=0))
        for c in concurrency:
            n = max(requests, c)
            done: dict[int, Completion] = {}

            async def worker(w: int, c: int = c, n: int = n, done: dict[int, Completion] = done) -> None:
                for i in range(w, n, c):
                    req = GenerateRequest("smollm2", [Message(**m) for m in messages(i)], max_tokens=tokens,
                                          temperature=0)
                    done[i] = await generate(eng, req)

            t0, c0 = time.perf_counter(), time.process_time()
            await asyncio.gather(*(worker(w) for w in range(c)))
            elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
            total = sum(d.usage.output_tokens for d in done.values())
            results[c] = (total / elapsed, total / cpu, [done[i].text for i in range(n)])
    finally:
        await eng.aclose()
    return results


# -- time to first token: simultaneous arrivals, a chat's fifth turn -----------------------------

BEFORE = {"prefix_cache": False, "prefill_together": False}  # one prompt per llama_decode, nothing reused


async def arrivals_ttft(model: str, threads: int, n_ctx: int, n: int, rounds: int, tokens: int,
                        options: dict[str, Any]) -> list[float]:
    """``n`` requests arriving at once, ``rounds`` times (new prompts each round): seconds to
    each one's first token, in our engine without HTTP."""
    from mockvendor.engines import build, generate
    from mockvendor.settings import Settings
    from mockvendor.types import Chunk, GenerateRequest, Message

    eng = build("llamacpp", Settings(model_path=model, n_threads=threads, n_ctx=n_ctx, slots=max(8, n)), options)
    await eng.start()
    out: list[float] = []
    try:
        await generate(eng, GenerateRequest("smollm2", [Message("user", "Hi")], max_tokens=4, temperature=0))

        async def one(text: str) -> float:
            t0 = time.perf_counter()
            req = GenerateRequest("smollm2", [Message("user", text)], max_tokens=tokens, temperature=0)
            first = None
            async for item in eng.stream(req):
                if first is None and isinstance(item, Chunk):
                    first = time.perf_counter() - t0
            return first if first is not None else time.perf_counter() - t0

        for r in range(rounds):
            texts = [f"Write a short story about {TOPICS[i % len(TOPICS)]}, number {r + 1}." for i in range(n)]
            out += await asyncio.gather(*(one(t) for t in texts))
            await asyncio.sleep(0.3)
    finally:
        await eng.aclose()
    return sorted(out)


async def chat_ttft(model: str, threads: int, n_ctx: int, turns: int, tokens: int, pause: float,
                    options: dict[str, Any]) -> list[tuple[float, int, int]]:
    """A greedy chat of ``turns`` turns, the reader pausing ``pause`` s between them:
    (time to first token, prompt tokens, cached tokens) of each turn."""
    from mockvendor.engines import build
    from mockvendor.settings import Settings
    from mockvendor.types import Chunk, Completion, GenerateRequest, Message

    eng = build("llamacpp", Settings(model_path=model, n_threads=threads, n_ctx=n_ctx), options)
    await eng.start()
    questions = ["Hi! What is a lighthouse?", "Who works there?", "Tell me a short story about one.",
                 "Give it a happier ending.", "Now summarise the story in two sentences.", "Thanks! A title?"]
    msgs: list[Message] = []
    out = []
    try:
        for q in (questions * 2)[:turns]:
            msgs.append(Message("user", q))
            t0, first, done = time.perf_counter(), None, None
            async for item in eng.stream(GenerateRequest("smollm2", list(msgs), max_tokens=tokens, temperature=0)):
                if first is None and isinstance(item, Chunk):
                    first = time.perf_counter() - t0
                if isinstance(item, Completion):
                    done = item
            assert done is not None
            out.append((first or 0.0, done.usage.input_tokens, done.usage.cached_tokens))
            msgs.append(Message("assistant", done.text))
            await asyncio.sleep(pause)
    finally:
        await eng.aclose()
    return out


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def server_rss(model: str, threads: int, n_ctx: int, clients: int, tokens: int,
               slots: int = 0) -> tuple[float, float, float]:
    """Our server's resident memory: ready, after one request (at rest), and the most seen
    under ``clients`` concurrent streams (MB); ``slots`` 0 is the server's default."""
    import threading

    port = free_port()
    env = {"MOCKVENDOR_FAULTS": "off", "MOCKVENDOR_N_THREADS": str(threads), "MOCKVENDOR_N_CTX": str(n_ctx),
           "MOCKVENDOR_MODEL_PATH": model, "MOCKVENDOR_LOG_REQUESTS": "false",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE.parent / "src"), os.environ.get("PYTHONPATH")]))}
    if slots:
        env["MOCKVENDOR_SLOTS"] = str(slots)
    cmd = [sys.executable, "-m", "mockvendor", "serve", "--port", str(port)]
    with server_process(cmd, port, env, "/readyz", timeout=180) as (url, pid):
        ready = rss_mb(pid)
        asyncio.run(load(url + "/v1/chat/completions", "openai", 1, 1, 8))
        time.sleep(0.5)
        rest = rss_mb(pid)
        peak = [rest]
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                peak.append(rss_mb(pid))
                time.sleep(0.05)

        t = threading.Thread(target=sample)
        t.start()
        try:
            asyncio.run(load(url + "/v1/chat/completions", "openai", clients, clients, tokens))
        finally:
            stop.set()
            t.join()
    return ready, rest, max(peak)


def latency_sections(model: str, args: argparse.Namespace) -> None:
    """TTFT at simultaneous arrivals and at a chat's fifth turn, before/after; resident memory."""
    n = args.arrivals
    print(f"\ntime to first token, {n} simultaneous arrivals x {args.rounds} rounds (our engine, no HTTP; "
          "before = one prompt per llama_decode and no prefix cache):", flush=True)
    cold = {"prefix_cache": False}
    alone = asyncio.run(arrivals_ttft(model, args.threads, args.n_ctx, 1, args.rounds * 2, 8, cold))
    print(f"  one prompt alone (no cache): p50 {_pct(alone, 50) * 1000:6.0f} ms", flush=True)
    for name, opts in (("before", BEFORE), ("after", {})):
        t = asyncio.run(arrivals_ttft(model, args.threads, args.n_ctx, n, args.rounds, 8, opts))
        print(f"  {n} at once, {name:6s}:      p50 {_pct(t, 50) * 1000:6.0f} ms   p99 {_pct(t, 99) * 1000:6.0f} ms   "
              f"(p99 / one alone: {_pct(t, 99) / _pct(alone, 50):4.1f})", flush=True)
    print(f"\na chat, {args.turns} turns of up to {args.chat_tokens} tokens, the reader pausing {args.pause} s "
          "(time to first token per turn; prompt / cached tokens):", flush=True)
    for name, opts in (("prefix cache off", {"prefix_cache": False}), ("prefix cache on", {})):
        turns = asyncio.run(chat_ttft(model, args.threads, args.n_ctx, args.turns, args.chat_tokens, args.pause,
                                      opts))
        cells = "  ".join(f"{f * 1000:5.0f}ms {p}/{c}" for f, p, c in turns)
        print(f"  {name:17s} {cells}", flush=True)
    print(f"\nour server's resident memory (n_ctx {args.n_ctx} a slot):", flush=True)
    for slots, streams in ((8, 8), (0, 16)):
        ready, rest, peak = server_rss(model, args.threads, args.n_ctx, streams, args.tokens, slots)
        print(f"  {slots or 'default'} slots: ready {ready:.0f} MB, at rest after a request {rest:.0f} MB, "
              f"under {streams} streams {peak:.0f} MB at most", flush=True)


# -- over HTTP ----------------------------------------------------------------------------------


async def one_request(url: str, kind: str, i: int, tokens: int, *, warm: bool = False) -> Run:
    """One streamed request on a connection of its own, read raw: while it streams, the client
    only stamps each read (its time and the bytes so far); the SSE events are parsed once it
    has ended. At 16 streams this client used 0.01 of a core, an httpx client parsing each
    event as it came 0.02-0.03 (ad hoc, the same server and requests)."""
    import orjson

    chat = warmup_messages(i) if warm else messages(i)
    if kind == "vendor-a":
        body: dict[str, Any] = {"prompt": chat[0]["content"], "max_tokens": tokens, "temperature": 0, "stream": True}
    else:
        body = {"model": "smollm2", "messages": chat, "max_tokens": tokens, "temperature": 0, "stream": True}
    if kind == "llama_cpp.server":
        body["repeat_penalty"] = 1.0  # its default is 1.1; the others apply none
    host, _, rest = url.removeprefix("http://").partition("/")
    name, _, port = host.partition(":")
    payload = orjson.dumps(body)
    start = time.perf_counter()
    reader, writer = await asyncio.open_connection(name, int(port))
    writer.write(f"POST /{rest} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode() + payload)
    reads: list[tuple[float, int]] = []  # (when, bytes received so far)
    parts: list[bytes] = []
    got = 0
    while data := await reader.read(65536):
        got += len(data)
        reads.append((time.perf_counter(), got))
        parts.append(data)
    end = time.perf_counter()
    writer.close()
    raw = b"".join(parts)
    head, _, _ = raw.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"{url} answered {raw[:300]!r}")
    first, pieces = None, []
    at = raw.find(b"data: {")
    while at >= 0:  # each event is one write of the server's, so one chunk: never cut
        stop = raw.index(b"\n", at)
        data = orjson.loads(raw[at + 6 : stop])
        if kind == "vendor-a":
            piece = data.get("delta") or ""
        else:
            piece = "".join((c.get("delta") or {}).get("content") or "" for c in data.get("choices") or [])
        if piece:
            if first is None:
                first = next(t for t, n in reads if n >= stop)
            pieces.append(piece)
        at = raw.find(b"data: {", stop)
    return Run(start, first, end, "".join(pieces))


async def load(url: str, kind: str, clients: int, requests: int, tokens: int,
               *, warm: bool = False) -> tuple[float, list[Run], list[int]]:
    """``clients`` concurrent streams sharing ``requests`` requests (prompt i for request i;
    ``warm``: the warm-up prompts instead)."""

    async def worker(c: int) -> list[tuple[int, Run]]:
        out = []
        for i in range(c, max(requests, clients), clients):
            out.append((i, await one_request(url, kind, i, tokens, warm=warm)))
        return out

    t0 = time.perf_counter()
    per_worker = await asyncio.gather(*(worker(c) for c in range(clients)))
    elapsed = time.perf_counter() - t0
    flat = [x for w in per_worker for x in w]
    return elapsed, [run for _, run in flat], [i for i, _ in flat]


def http_figures(
    elapsed: float, cpu: float, runs: list[Run], idx: list[int], counts: list[int], texts: list[str]
) -> dict[str, Any]:
    n_tokens = [counts[i % len(counts)] for i in idx]
    ttft = sorted((r.first or r.end) - r.start for r in runs)
    rates = sorted(n / (r.end - r.start) for n, r in zip(n_tokens, runs, strict=True))
    mismatched = sum(r.text != texts[i % len(texts)] for i, r in zip(idx, runs, strict=True))
    return {
        "tok_s": sum(n_tokens) / elapsed,
        "tok_cpu_s": sum(n_tokens) / max(cpu, 1e-9),
        "ttft_p50": _pct(ttft, 50),
        "ttft_p99": _pct(ttft, 99),
        "rate_min": rates[0],
        "rate_med": statistics.median(rates),
        "rate_max": rates[-1],
        "mismatched": mismatched,
    }


def _pct(sorted_values: list[float], p: float) -> float:
    k = max(0, min(len(sorted_values) - 1, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


# -- processes ----------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def quiet(pids: list[int], *, window: float = 0.5, most: float = 60.0) -> float:
    """Wait until the processes ``pids`` use no CPU for ``window`` seconds (at most ``most``);
    the seconds waited. An idle server may still be working for the last run: ours settles
    finished answers into its prefix cache, about a CPU-second for 16 answers, and a ceiling
    measured meanwhile on two spinning threads came out at 81 tok/s instead of 185-200."""
    t0 = time.perf_counter()
    before = sum(cpu_seconds(p) for p in pids)
    while time.perf_counter() - t0 < most:
        time.sleep(window)
        now = sum(cpu_seconds(p) for p in pids)
        if now - before < 0.02:
            break
        before = now
    return time.perf_counter() - t0


# -- main ---------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", type=int, default=128, help="max new tokens per request")
    ap.add_argument("--requests", type=int, default=16,
                    help="requests per measurement, shared by the clients (at least one each)")
    ap.add_argument("--clients", default="1,8,16", help="concurrent HTTP clients to try")
    ap.add_argument("--engine-concurrency", default="1,4,8", help="concurrent requests for the in-process engine")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n-ctx", type=int, default=2048)
    ap.add_argument("--slots", type=int, default=0, help="our server's slots (0: its default)")
    ap.add_argument("--wait-policy", default="", choices=["", "PASSIVE", "ACTIVE"],
                    help="OMP_WAIT_POLICY for every process here (default: each one's own)")
    ap.add_argument("--sections", default="all", help="all, or latency (TTFT and memory only)")
    ap.add_argument("--arrivals", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--turns", type=int, default=5)
    ap.add_argument("--chat-tokens", type=int, default=48)
    ap.add_argument("--pause", type=float, default=0.5)
    ap.add_argument("--busy", action="store_true",
                    help="measure everything beside a process that keeps one core busy (while True: pass)")
    ap.add_argument("--baseline-threads", type=int, default=0,
                    help="threads for llama-cpp-python and llama.cpp's own decode (0: --threads); beside a busy "
                         "process 1 is their faster fixed choice (two spinning threads fall to a tenth)")
    ap.add_argument("--no-llama-server", action="store_true", help="leave llama_cpp.server out")
    ap.add_argument("--repeat", type=int, default=1,
                    help="measure each client count this many times (ceiling, runs, ceiling) and print every "
                         "ratio to decoding alone with their median: the machine's speed drifts by 10-20%% "
                         "within minutes here")
    args = ap.parse_args()
    base_threads = args.baseline_threads or args.threads
    if args.busy:
        import atexit
        import subprocess

        spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        atexit.register(spinner.kill)
        print("beside one busy process (while True: pass)", flush=True)
    # Before llama_cpp loads in this process; the servers below inherit it.
    if args.wait_policy:
        os.environ["OMP_WAIT_POLICY"] = args.wait_policy

    from mockvendor.engines.llamacpp import bundled_model_path
    from mockvendor.settings import Settings

    model = str(bundled_model_path())
    if args.sections == "latency":
        latency_sections(model, args)
        return
    clients = [int(c) for c in args.clients.split(",")]
    engine_c = [int(c) for c in args.engine_concurrency.split(",")]
    n_prompts = max(max(clients), args.requests, max(engine_c))
    slots = args.slots or Settings().slots
    print(f"model {Path(model).name}, {args.threads} threads, n_ctx {args.n_ctx}, up to {args.tokens} new tokens, "
          f"greedy, OMP_WAIT_POLICY={args.wait_policy}, our slots {slots}; llama-cpp-python and llama.cpp's own "
          f"decode on {base_threads} thread(s)", flush=True)
    print("tok/s: wall clock. tok/cpu-s: tokens per CPU-second of the generating process (steadier than wall "
          "clock when other processes share the cores).", flush=True)

    c0 = time.process_time()
    ref_tps, texts, counts = alone(reference, model, n_prompts, args.tokens, base_threads, args.n_ctx)
    ref_cpu = sum(counts) / (time.process_time() - c0)
    print(f"\nin-process llama-cpp-python, create_chat_completion, one at a time: {ref_tps:7.1f} tok/s "
          f"{ref_cpu:7.1f} tok/cpu-s ({n_prompts} requests, {sum(counts)} tokens)", flush=True)

    ours = asyncio.run(engine_in_process(model, engine_c, args.requests, args.tokens, args.threads, args.n_ctx,
                                         slots))
    print(f"our engine in process (no HTTP), the same {args.requests} requests, C at a time:")
    for c, (tps, cps, got) in ours.items():
        bad = sum(g != t for g, t in zip(got, texts, strict=False))
        print(f"  {c:2d} at once: {tps:7.1f} tok/s {cps:7.1f} tok/cpu-s   ratio vs llama-cpp-python one at a time: "
              f"{tps / ref_tps:5.2f} (cpu {cps / ref_cpu:5.2f}){'   TEXT MISMATCH x' + str(bad) if bad else ''}",
              flush=True)

    ours_env = {"MOCKVENDOR_FAULTS": "off", "MOCKVENDOR_N_THREADS": str(args.threads),
                "MOCKVENDOR_N_CTX": str(args.n_ctx), "MOCKVENDOR_MODEL_PATH": model,
                "MOCKVENDOR_SLOTS": str(slots), "MOCKVENDOR_LOG_REQUESTS": "false",
                # This checkout's code, whatever the environment has installed.
                "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE.parent / "src"), os.environ.get("PYTHONPATH")]))}
    ours_port, theirs_port = free_port(), free_port()
    ours_cmd = [sys.executable, "-m", "mockvendor", "serve", "--port", str(ours_port)]
    theirs_cmd = [sys.executable, "-m", "llama_cpp.server", "--model", model, "--host", "127.0.0.1",
                  "--port", str(theirs_port), "--n_ctx", str(args.n_ctx), "--n_threads", str(base_threads),
                  "--n_threads_batch", str(base_threads), "--interrupt_requests", "False"]
    results: dict[tuple[str, int], dict[str, Any]] = {}
    # Both servers up at once (idle, they use no CPU): each client count is measured on
    # all of them back to back, so a change in the machine's load skews them alike.
    with contextlib.ExitStack() as stack:
        ours_url, ours_pid = stack.enter_context(server_process(ours_cmd, ours_port, ours_env, "/readyz", timeout=180))
        systems = [
            ("mockvendor openai", ours_url + "/v1/chat/completions", "openai", ours_pid),
            ("mockvendor vendor-a", ours_url + "/vendor-a/messages", "vendor-a", ours_pid),
        ]
        if not args.no_llama_server:
            theirs_url, theirs_pid = stack.enter_context(server_process(theirs_cmd, theirs_port, None, "/v1/models",
                                                                        timeout=180))
            systems.append(("llama_cpp.server", theirs_url + "/v1/chat/completions", "llama_cpp.server", theirs_pid))
        raw: dict[int, float] = {}  # the mean of the ceilings measured around each client count's runs (last repeat)
        raw_both: dict[int, tuple[float, float]] = {}  # (lowest, highest) of those
        raw_decoding: dict[int, float] = {}  # the same, its llama_decode calls alone (no sampling)
        served: dict[int, float] = {}
        repeats: dict[int, list[tuple[float, ...]]] = {}  # each repeat's ratios to decoding alone, by system
        repeats_decoding: dict[int, list[float]] = {}  # each repeat's OpenAI route / the llama_decode calls alone
        pids = [pid for _, _, _, pid in systems]
        for c in clients:
            for rep in range(args.repeat):
                # The machine's speed drifts (10-20% within minutes): the ceiling is measured right
                # before and right after each server's run, and each run is divided by the mean of
                # its two (the one between two runs serves both).
                quiet(pids)
                ceilings, decoding = [], []

                def ceiling(c: int = c, ceilings: list[float] = ceilings, decoding: list[float] = decoding) -> float:
                    tps, dps = alone(raw_batched, model, [c], args.tokens, base_threads, args.n_ctx)[c]
                    ceilings.append(tps)
                    decoding.append(dps)
                    return tps

                ceiling()
                if rep == 0:
                    served[c] = alone(raw_served, model, c, args.requests, counts, base_threads, args.n_ctx)
                print(f"  measured llama.cpp batched decode alone at B={c}: {ceilings[0]:.1f} tok/s; serving the "
                      f"same requests {c} at a time, prompts included: {served[c]:.1f} tok/s", flush=True)
                if c == 1 and rep == 0:
                    c0 = time.process_time()
                    single_tps, _, _ = alone(reference, model, args.requests, args.tokens, base_threads, args.n_ctx)
                    single_cpu = sum(counts[: args.requests]) / (time.process_time() - c0)
                    print(f"  measured in-process create_chat_completion again: {single_tps:.1f} tok/s", flush=True)
                for name, url, kind, pid in systems:
                    # Before each run, untimed: as many requests as our server has slots (c at a
                    # time, 8 tokens each, prompts of their own). First-request costs are out of
                    # the way, every slot has been used once, as in a server serving a while (the
                    # first write into one of our slots costs 11-85 ms of page faults, measured ad
                    # hoc, varying with the machine's state: its KV takes memory as it fills, and
                    # the ceiling's untimed prefill pays for its own), and each run finds the
                    # cache the same: the template's opening, none of the measured prompts.
                    asyncio.run(load(url, kind, c, max(c, slots), 8, warm=True))
                    quiet(pids)
                    cpu0, mine0 = cpu_seconds(pid), time.process_time()
                    elapsed, runs, idx = asyncio.run(load(url, kind, c, args.requests, args.tokens))
                    results[(name, c)] = http_figures(elapsed, cpu_seconds(pid) - cpu0, runs, idx, counts, texts)
                    results[(name, c)]["client_cores"] = (time.process_time() - mine0) / elapsed
                    quiet(pids)
                    ceiling()
                    results[(name, c)]["ceiling"] = (ceilings[-2] + ceilings[-1]) / 2
                    results[(name, c)]["decoding"] = (decoding[-2] + decoding[-1]) / 2
                    print(f"  measured {name} with {c} clients; llama.cpp batched decode alone at B={c} again: "
                          f"{ceilings[-1]:.1f} tok/s", flush=True)
                raw_both[c] = (min(ceilings), max(ceilings))
                raw[c] = statistics.mean(ceilings)
                raw_decoding[c] = statistics.mean(decoding)
                ours_c = results[("mockvendor openai", c)]
                repeats_decoding.setdefault(c, []).append(ours_c["tok_s"] / ours_c["decoding"])
                repeats.setdefault(c, []).append(tuple(results[(name, c)]["tok_s"] / results[(name, c)]["ceiling"]
                                                       for name, _, _, _ in systems))

    print(f"\nover HTTP, streaming, {args.requests} requests shared by the clients (one each at least):")
    print(f"  {'server':22s} {'clients':>7s} {'tok/s':>7s} {'tok/cpu-s':>9s} {'ttft p50':>9s} {'ttft p99':>9s} "
          f"{'per-request tok/s min / median / max':>37s} {'client cores':>12s}")
    for (name, c), f in results.items():
        spread = f"{f['rate_min']:.1f} / {f['rate_med']:.1f} / {f['rate_max']:.1f}"
        bad = f"   TEXT MISMATCH x{f['mismatched']}" if f["mismatched"] else ""
        print(f"  {name:22s} {c:7d} {f['tok_s']:7.1f} {f['tok_cpu_s']:9.1f} {f['ttft_p50'] * 1000:7.0f}ms "
              f"{f['ttft_p99'] * 1000:7.0f}ms {spread:>37s} {f['client_cores']:12.2f}{bad}")

    print(f"\nllama.cpp batched decode alone (low-level API, no scheduler, {args.n_ctx} cells a sequence as our "
          "slots, greedy with llama.cpp's sampler; the ceiling), measured right before and right after each HTTP "
          "run with as many clients (each ratio below divides by the mean of its run's two):")
    for b, tps in raw.items():
        low, high = raw_both[b]
        print(f"  B={b:2d}: {tps:7.1f} tok/s decoding alone (mean; {low:.1f} to {high:.1f}; its llama_decode calls "
              f"alone {raw_decoding[b]:.1f}); "
              f"{served[b]:7.1f} tok/s serving the same {args.requests} requests {b} at a time (prompts read in one "
              "decode, then one token per sequence per decode)")

    print("\nratios (wall clock; CPU-time in brackets):")
    if 1 in clients:
        print(f"  (in-process create_chat_completion measured just before: {single_tps:.1f} tok/s "
              f"{single_cpu:.1f} tok/cpu-s)")
        for name in ("mockvendor openai", "mockvendor vendor-a", "llama_cpp.server"):
            if (name, 1) not in results:
                continue
            f = results[(name, 1)]
            print(f"  one stream over HTTP, {name:19s} / in-process create_chat_completion: "
                  f"{f['tok_s'] / single_tps:5.2f} ({f['tok_cpu_s'] / single_cpu:5.2f})")
    for c in clients:
        ours_f, theirs_f = results[("mockvendor openai", c)], results.get(("llama_cpp.server", c))
        vendor_a = results[("mockvendor vendor-a", c)]
        if c in raw:
            ceiling = ""
            if theirs_f:
                ceiling = f" (llama_cpp.server {theirs_f['tok_s'] / theirs_f['ceiling']:5.2f})"
            mine, theirs_a = ours_f["tok_s"] / ours_f["ceiling"], vendor_a["tok_s"] / vendor_a["ceiling"]
            print(f"  {c:2d} clients: mockvendor over HTTP / llama.cpp batched decode alone at B={c}: "
                  f"{mine:5.2f}   (vendor A {theirs_a:5.2f}){ceiling}")
            print(f"  {c:2d} clients: mockvendor over HTTP / llama.cpp's llama_decode calls alone at B={c} (its "
                  f"sampling left out): {ours_f['tok_s'] / ours_f['decoding']:5.2f}")
            print(f"  {c:2d} clients: mockvendor over HTTP / llama.cpp serving the same requests {c} at a time, "
                  f"prompts included: {ours_f['tok_s'] / served[c]:5.2f}")
        if args.repeat > 1:
            for i, (name, *_rest) in enumerate(systems):
                each = [r[i] for r in repeats[c]]
                print(f"  {c:2d} clients: {name} / llama.cpp batched decode alone, each repeat: "
                      f"{', '.join(f'{x:.2f}' for x in each)}; median {statistics.median(each):.2f}")
            each = repeats_decoding[c]
            print(f"  {c:2d} clients: mockvendor openai / llama.cpp's llama_decode calls alone, each repeat: "
                  f"{', '.join(f'{x:.2f}' for x in each)}; median {statistics.median(each):.2f}")
        peer = (f"mockvendor / llama_cpp.server aggregate: {ours_f['tok_s'] / theirs_f['tok_s']:5.2f} "
                f"({ours_f['tok_cpu_s'] / theirs_f['tok_cpu_s']:5.2f})   ") if theirs_f else ""
        print(f"  {c:2d} clients: {peer}mockvendor / in-process one at a time: "
              f"{ours_f['tok_s'] / ref_tps:5.2f} ({ours_f['tok_cpu_s'] / ref_cpu:5.2f})")


if __name__ == "__main__":
    main()
