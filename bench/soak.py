"""Soak: a mixed load on a real server for a bounded time, with faults on, then checks.

    python bench/soak.py --duration 600        # ten minutes (README "Soak")

Loopback only. Starts its own server (and a loopback stand-in for OpenAI behind vendor O),
drives every vendor, streaming and not, with simulated faults on and some clients leaving
mid-stream, and meanwhile probes /healthz every second and samples the server's memory.
Then it checks, and prints each figure:

- the server answered every health probe throughout;
- its resident memory grew by less than 10% from the end of the warm-up to the end
  (a ratio against the baseline measured in the same run);
- every request the clients sent is in the request log exactly once (by its
  ``x-request-id``, under this run's test id) and in the metrics' request counter;
- the engines are at rest afterwards: nothing active, nothing queued, nothing in flight.

Exit status 0 when every check passes. The request log's in-memory ring is kept small
(``MOCKVENDOR_REQUEST_LOG_SIZE``) so that it is full by the end of the warm-up: a bounded
structure still filling up would read as growth.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.standins import StandInOpenAI  # noqa: E402

from bench.common import free_port  # noqa: E402

MAX_RSS_GROWTH = 0.10
PROMPTS = ["Say hello.", "Name three colours.", "Count to five.", "What is 2+2?", "Write one short sentence."]


@dataclass
class Shot:
    """One kind of request in the mix."""

    name: str
    vendor: str
    method: str
    path: str
    body: dict[str, Any]
    stream: bool = False
    weight: int = 1


def mix() -> list[Shot]:
    def chat(model: str, stream: bool = False) -> dict[str, Any]:
        return {"model": model, "messages": [{"role": "user", "content": "{p}"}], "max_tokens": 8, "stream": stream}

    def anthropic(model: str, stream: bool = False) -> dict[str, Any]:
        return {"model": model, "max_tokens": 8, "messages": [{"role": "user", "content": "{p}"}], "stream": stream}

    gem = {"contents": [{"parts": [{"text": "{p}"}]}], "generationConfig": {"maxOutputTokens": 8}}
    seed = {"prompt": "{p}", "max_tokens": 8}
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    oa_tools = [{"type": "function", "function": {"name": "get_weather", "parameters": schema}}]
    an_tools = [{"name": "get_weather", "input_schema": schema}]
    responses = {"model": "smollm2", "input": "{p}", "max_output_tokens": 16}
    return [
        Shot("a", "a", "POST", "/vendor-a/messages", seed, weight=2),
        Shot("a-stream", "a", "POST", "/vendor-a/messages", {**seed, "stream": True}, True, 2),
        Shot("b", "b", "POST", "/vendor-b/messages", seed, weight=2),
        Shot("b-stream", "b", "POST", "/vendor-b/messages", {**seed, "stream": True}, True),
        Shot("e", "e", "POST", "/vendor-e/messages", {"prompt": "{p}"}, weight=3),
        Shot("o", "o", "POST", "/vendor-o/messages", {"prompt": "{p}"}, weight=2),
        Shot("o-stream", "o", "POST", "/vendor-o/messages", {"prompt": "{p}", "stream": True}, True),
        Shot("openai", "openai", "POST", "/v1/chat/completions", chat("smollm2"), weight=2),
        Shot("openai-stream", "openai", "POST", "/v1/chat/completions", chat("smollm2", True), True, 2),
        Shot("openai-echo", "openai", "POST", "/v1/chat/completions", chat("echo"), weight=2),
        Shot("openai-legacy", "openai", "POST", "/v1/completions", {"model": "echo", "prompt": "{p}"}),
        Shot("openai-models", "openai", "GET", "/v1/models", {}),
        Shot("anthropic", "anthropic", "POST", "/v1/messages", anthropic("smollm2"), weight=2),
        Shot("anthropic-stream", "anthropic", "POST", "/v1/messages", anthropic("echo", True), True, 2),
        Shot("gemini", "gemini", "POST", "/v1beta/models/smollm2:generateContent", gem, weight=2),
        Shot("gemini-stream", "gemini", "POST", "/v1beta/models/echo:streamGenerateContent?alt=sse", gem, True),
        Shot("openai-responses", "openai", "POST", "/v1/responses", responses),
        Shot("openai-responses-stream", "openai", "POST", "/v1/responses",
             {**responses, "model": "echo", "stream": True}, True),
        Shot("openai-tools-stream", "openai", "POST", "/v1/chat/completions",
             {**chat("echo", True), "tools": oa_tools}, True),
        Shot("anthropic-tools", "anthropic", "POST", "/v1/messages", {**anthropic("smollm2"), "tools": an_tools}),
        Shot("openai-embeddings", "openai", "POST", "/v1/embeddings", {"model": "smollm2", "input": ["{p}", "{p}"]}),
        Shot("gemini-embed", "gemini", "POST", "/v1beta/models/echo:embedContent", {"content": gem["contents"][0]}),
        Shot("anthropic-count", "anthropic", "POST", "/v1/messages/count_tokens",
             {"model": "smollm2", "messages": [{"role": "user", "content": "{p}"}]}),
    ]


def fill(body: Any, prompt: str) -> Any:
    if isinstance(body, str):
        return body.replace("{p}", prompt)
    if isinstance(body, dict):
        return {k: fill(v, prompt) for k, v in body.items()}
    if isinstance(body, list):
        return [fill(v, prompt) for v in body]
    return body


@dataclass
class Tally:
    sent: int = 0
    ids: list[str] = field(default_factory=list)  # x-request-id of every answer that started
    headless: int = 0  # sent, but no response head came back (client gave up first)
    statuses: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    by_shot: Counter[str] = field(default_factory=Counter)
    unsimulated_5xx: int = 0
    left_mid_stream: int = 0
    cut_by_server: int = 0
    latencies: list[float] = field(default_factory=list)


async def client_loop(url: str, test_id: str, shots: list[Shot], tally: Tally, stop: float, rng: random.Random,
                      leave_rate: float) -> None:
    weights = [s.weight for s in shots]
    headers = {"x-mockvendor-test-id": test_id}
    async with httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(60, connect=5)) as c:
        while time.monotonic() < stop:
            shot = rng.choices(shots, weights)[0]
            body = fill(shot.body, rng.choice(PROMPTS))
            t0 = time.perf_counter()
            tally.sent += 1
            tally.by_shot[shot.name] += 1
            got_head = False
            try:
                req = c.build_request(shot.method, shot.path, json=body if shot.method == "POST" else None,
                                      headers=headers)
                resp = await c.send(req, stream=True)
                got_head = True
                tally.ids.append(resp.headers["x-request-id"])
                tally.statuses[str(resp.status_code)] += 1
                if resp.headers.get("x-mockvendor-fault"):
                    tally.faults[resp.headers["x-mockvendor-fault"]] += 1
                elif resp.status_code >= 500:
                    tally.unsimulated_5xx += 1  # a real failure: only simulated ones may be 5xx
                try:
                    if shot.stream and resp.status_code == 200 and rng.random() < leave_rate:
                        async for _ in resp.aiter_bytes():
                            break  # one chunk, then leave mid-stream
                        tally.left_mid_stream += 1
                    else:
                        await resp.aread()
                finally:
                    await resp.aclose()
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.ReadTimeout) as e:
                # A simulated disconnect or stall cuts the answer; a stall past our timeout we leave.
                if got_head:
                    tally.cut_by_server += 1
                else:
                    tally.headless += 1
                    tally.statuses[type(e).__name__] += 1
            tally.latencies.append((time.perf_counter() - t0) * 1000)


async def probe_loop(url: str, stop: float, results: list[bool]) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=5) as c:
        while time.monotonic() < stop:
            try:
                results.append((await c.get("/healthz")).status_code == 200)
            except httpx.HTTPError:
                results.append(False)
            await asyncio.sleep(1)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def rss_loop(pid: int, stop: float, samples: list[tuple[float, int]]) -> None:
    while time.monotonic() < stop:
        samples.append((time.monotonic(), rss_kb(pid)))
        await asyncio.sleep(1)


def metric_total(text: str, name: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def wait_at_rest(url: str, patience: float = 60) -> dict[str, Any]:
    """Engines idle, nothing in flight, the log writer caught up; the last readings."""
    async with httpx.AsyncClient(base_url=url, timeout=10) as c:
        deadline = time.monotonic() + patience
        while True:
            engines = (await c.get("/readyz")).json()["engines"]
            text = (await c.get("/metrics")).text
            busy = sum(int(s.get("active", 0)) + int(s.get("queue_depth", 0)) for s in engines.values())
            in_flight = metric_total(text, "mockvendor_requests_in_flight")
            pending = metric_total(text, "mockvendor_request_log_pending")
            if (busy == 0 and in_flight == 0 and pending == 0) or time.monotonic() > deadline:
                return {"engines_busy": busy, "in_flight": in_flight, "log_pending": pending, "engines": engines}
            await asyncio.sleep(0.5)


def engines_summary(engines: dict[str, Any]) -> dict[str, Any]:
    """Each engine once (model names sharing an engine share its stats)."""
    out: dict[str, Any] = {}
    for name, s in engines.items():
        stats = {k: s[k] for k in ("engine", "active", "queue_depth", "slots", "completed") if k in s}
        for names, seen in out.items():
            if seen == stats:
                del out[names]
                out[f"{names},{name}"] = stats
                break
        else:
            out[name] = stats
    return out


async def logged_ids(url: str, test_id: str) -> list[str]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as c:
        r = await c.get("/admin/requests.jsonl", params={"test_id": test_id})
        r.raise_for_status()
        return [json.loads(line)["id"] for line in r.text.splitlines() if line.strip()]


def start_server(port: int, upstream: StandInOpenAI, data_dir: str, seed: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "OPENAI_API_KEY": "sk-soak-0000",
        "OPENAI_BASE_URL": upstream.base_url,
        "MOCKVENDOR_DATA_DIR": data_dir,
        "MOCKVENDOR_SEED": str(seed),
        "MOCKVENDOR_REQUEST_LOG_SIZE": "500",
        # Faults on: the seed's defaults (A: 10% errors, 10% slow; B: 10% rate limits), plus a
        # few errors and stream faults everywhere, and short slow faults to keep the pace.
        "MOCKVENDOR_FAULTS": "on",
        "MOCKVENDOR_SLOW_MIN_MS": "200",
        "MOCKVENDOR_SLOW_MAX_MS": "1500",
        "MOCKVENDOR_RETRY_AFTER_MIN_MS": "100",
        "MOCKVENDOR_RETRY_AFTER_MAX_MS": "500",
        "MOCKVENDOR_OPENAI_ERROR_RATE": "0.05",
        "MOCKVENDOR_ANTHROPIC_ERROR_RATE": "0.05",
        "MOCKVENDOR_GEMINI_ERROR_RATE": "0.05",
        "MOCKVENDOR_STREAM_FAULT_RATE": "0.05",
        # Each kind of broken stream somewhere: in-band errors (the default), a dropped
        # connection, a missing terminator, a malformed chunk, a stall (then a drop).
        "MOCKVENDOR_GEMINI_STREAM_FAULT": "disconnect",
        "MOCKVENDOR_OPENAI_STREAM_FAULT": "no-terminator",
        "MOCKVENDOR_O_STREAM_FAULT": "malformed",
        "MOCKVENDOR_B_STREAM_FAULT": "stall",
        "MOCKVENDOR_STALL_MS": "3000",
    }
    log = open(Path(data_dir) / "server.log", "wb")  # noqa: SIM115
    return subprocess.Popen([sys.executable, "-m", "mockvendor", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, cwd=str(ROOT), stdout=log, stderr=subprocess.STDOUT)


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}")
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not become ready")


async def soak(url: str, pid: int, args: argparse.Namespace) -> dict[str, Any]:
    test_id = f"soak-{uuid.uuid4().hex[:10]}"
    rng = random.Random(args.seed)
    shots = mix()
    async with httpx.AsyncClient(base_url=url, timeout=10) as c:
        metrics_before = metric_total((await c.get("/metrics")).text, "mockvendor_requests_total")
    tally = Tally()
    probes: list[bool] = []
    rss: list[tuple[float, int]] = []
    t0 = time.monotonic()
    stop = t0 + args.duration
    warm_end = t0 + args.warmup
    await asyncio.gather(
        probe_loop(url, stop, probes),
        rss_loop(pid, stop, rss),
        *(client_loop(url, test_id, shots, tally, stop, random.Random(rng.random()), args.leave_rate)
          for _ in range(args.concurrency)),
    )
    elapsed = time.monotonic() - t0
    rest = await wait_at_rest(url)
    rss_end = rss_kb(pid)
    async with httpx.AsyncClient(base_url=url, timeout=10) as c:
        metrics_after = metric_total((await c.get("/metrics")).text, "mockvendor_requests_total")
    ids = await logged_ids(url, test_id)

    # The baseline: the highest reading in the last 10 s of the warm-up (no flattering dip).
    warm = [kb for t, kb in rss if warm_end - 10 <= t <= warm_end] or [rss[0][1]]
    rss_base = max(warm)
    growth = rss_end / rss_base - 1
    answered = set(tally.ids)
    logged = Counter(ids)
    lat = sorted(tally.latencies)
    figures = {
        "test_id": test_id,
        "duration_s": round(elapsed, 1),
        "warmup_s": args.warmup,
        "concurrency": args.concurrency,
        "requests_sent": tally.sent,
        "requests_per_s": round(tally.sent / elapsed, 2),
        "latency_ms_p50": round(statistics.median(lat), 1) if lat else None,
        "latency_ms_p95": round(lat[int(len(lat) * 0.95) - 1], 1) if lat else None,
        "statuses": dict(tally.statuses),
        "faults_seen": dict(tally.faults),
        "unsimulated_5xx": tally.unsimulated_5xx,
        "streams_left_mid_stream": tally.left_mid_stream,
        "answers_cut_by_server": tally.cut_by_server,
        "sent_without_answer_head": tally.headless,
        "by_request_kind": dict(tally.by_shot),
        "health_probes": len(probes),
        "health_probes_failed": probes.count(False),
        "rss_mb_after_warmup": round(rss_base / 1024, 1),
        "rss_mb_end": round(rss_end / 1024, 1),
        "rss_ratio_end_to_warmup": round(rss_end / rss_base, 4),
        "logged_records": len(ids),
        "logged_duplicates": sum(n - 1 for n in logged.values() if n > 1),
        "answered_but_not_logged": len(answered - set(logged)),
        "logged_but_not_answered": len(set(logged) - answered),
        "metrics_requests_delta": metrics_after - metrics_before,
        "at_rest": {k: v for k, v in rest.items() if k != "engines"},
        "engines": engines_summary(rest["engines"]),
    }
    checks = {
        "answered_throughout": bool(probes) and all(probes),
        "no_unsimulated_5xx": tally.unsimulated_5xx == 0,
        "rss_growth_under_10pct": growth < MAX_RSS_GROWTH,
        "each_request_logged_once": len(ids) == tally.sent and not figures["logged_duplicates"]
        and answered <= set(logged),
        "each_request_in_metrics": metrics_after - metrics_before == tally.sent,
        "engines_at_rest": rest["engines_busy"] == 0 and rest["in_flight"] == 0,
    }
    return {"figures": figures, "checks": checks, "ok": all(checks.values())}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=float, default=60, help="seconds of load (default 60)")
    p.add_argument("--warmup", type=float, default=None, help="seconds before the memory baseline (default: "
                   "a quarter of the duration, at most 60)")
    p.add_argument("--concurrency", type=int, default=8, help="clients sending at once (default 8)")
    p.add_argument("--leave-rate", type=float, default=0.15, help="share of streams the client leaves mid-way")
    p.add_argument("--seed", type=int, default=7, help="seed for the mix and the server's faults")
    p.add_argument("--json", type=Path, default=None, help="also write the result here")
    args = p.parse_args(argv)
    if args.warmup is None:
        args.warmup = min(60.0, args.duration / 4)
    with StandInOpenAI() as upstream, tempfile.TemporaryDirectory(prefix="mockvendor-soak-") as data_dir:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc = start_server(port, upstream, data_dir, args.seed)
        try:
            wait_ready(url, proc)
            result = asyncio.run(soak(url, proc.pid, args))
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log = (Path(data_dir) / "server.log").read_text(errors="replace")
        result["checks"]["no_exception_in_server_log"] = "Traceback" not in log
        result["ok"] = all(result["checks"].values())
        if not result["checks"]["no_exception_in_server_log"]:
            result["server_log_tail"] = log[-4000:]
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
