"""What a grammar costs: tokens/s of structured output against plain text on the embedded
model, and the compile time of a large schema's grammar, measured in one run.

    python bench/grammar_throughput.py [--tokens 128] [--concurrency 8] [--rounds 3] [--threads 2]

Both sides get the same work: ``--concurrency`` requests at once through our engine (no
HTTP), the same chat prompt (the structured requests' schema instruction is given to the
plain ones as the same system turn), seeded sampling, and a schema whose JSON is longer
than ``--tokens`` (an array of at least 12 records) so that every request on both sides
runs to ``--tokens`` and the batch keeps the same shape to the end. Rounds alternate
plain and structured, so that a neighbour's load hits both; the medians are compared.

Printed: aggregate tokens/s plain vs structured and their ratio (the goal: a grammar
costs under 25%), then for a large schema (80 properties, nested objects, enums,
patterns, bounds, $defs): the first compile (JSON Schema -> GBNF), a cached lookup, and
llama.cpp's parse of the GBNF (done once per request, when its sequence starts).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

RECORD = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 30},
        "city": {"type": "string", "enum": ["Paris", "Lima", "Oslo", "Tokyo", "Cairo"]},
        "age": {"type": "integer", "minimum": 0, "maximum": 120},
        "score": {"type": "number", "minimum": 0, "maximum": 10},
        "joined": {"type": "string", "format": "date"},
        "active": {"type": "boolean"},
    },
    "required": ["name", "city", "age", "score", "joined", "active"],
    "additionalProperties": False,
}
LONG = {"type": "object", "properties": {"people": {"type": "array", "items": RECORD, "minItems": 12}},
        "required": ["people"], "additionalProperties": False}
TOPICS = ["a lighthouse", "a bakery", "a night train", "an old library", "a harbour", "a village", "a museum",
          "a school", "a theatre", "a farm", "a mountain hut", "a space station", "a garden", "a market", "a zoo",
          "a ship"]


def large_schema(n: int = 80) -> dict[str, Any]:
    """A big schema as SDK helpers write them: many fields, nested models in $defs, enums, bounds."""
    kinds = [
        {"type": "string", "maxLength": 40},
        {"type": "integer", "minimum": -1000, "maximum": 1000000},
        {"type": "number", "exclusiveMinimum": 0, "maximum": 99.5},
        {"type": "string", "enum": [f"option_{i}" for i in range(12)]},
        {"type": "string", "pattern": r"^[A-Z]{2}-\d{4,6}$"},
        {"type": "string", "format": "date-time"},
        {"anyOf": [{"$ref": "#/$defs/Address"}, {"type": "null"}]},
        {"type": "array", "items": {"$ref": "#/$defs/Item"}, "minItems": 1, "maxItems": 20},
    ]
    props = {f"field_{i}": kinds[i % len(kinds)] for i in range(n)}
    return {
        "$defs": {
            "Address": {"type": "object", "properties": {"street": {"type": "string"}, "zip": {"type": "string",
                        "pattern": r"^\d{5}$"}, "country": {"type": "string", "enum": ["FR", "DE", "US", "JP"]}},
                        "required": ["street", "zip", "country"], "additionalProperties": False},
            "Item": {"type": "object", "properties": {"sku": {"type": "string"}, "qty": {"type": "integer",
                     "minimum": 1, "maximum": 500}, "children": {"type": "array", "items": {"$ref": "#/$defs/Item"},
                                                                  "maxItems": 3}},
                     "required": ["sku", "qty", "children"], "additionalProperties": False},
        },
        "type": "object", "properties": props, "required": list(props), "additionalProperties": False,
    }


async def measure(engine: Any, structured: bool, n: int, tokens: int, round_: int) -> tuple[float, list[Any]]:
    from mockvendor.engines import generate
    from mockvendor.engines.grammar import instruction
    from mockvendor.types import GenerateRequest, Message, ResponseFormat

    fmt = ResponseFormat("json_schema", LONG)
    reqs = []
    for i in range(n):
        user = Message("user", f"List the people of {TOPICS[i % len(TOPICS)]}, with every detail.")
        seed = 1000 * round_ + i
        if structured:
            reqs.append(GenerateRequest("smollm2", [user], max_tokens=tokens, seed=seed, response_format=fmt))
        else:  # the same prompt the engine builds for the structured request
            reqs.append(GenerateRequest("smollm2", [Message("system", instruction(fmt)), user], max_tokens=tokens,
                                        seed=seed))
    t0 = time.perf_counter()
    done = await asyncio.gather(*(generate(engine, r) for r in reqs))
    wall = time.perf_counter() - t0
    return sum(d.usage.output_tokens for d in done) / wall, done


async def throughput(args: argparse.Namespace) -> None:
    from mockvendor.engines import build
    from mockvendor.settings import Settings

    settings = Settings.from_env(env={}, dotenv=None)
    settings.n_threads = args.threads
    settings.n_ctx = 2048
    engine = build("llamacpp", settings, {"slots": args.concurrency})
    await engine.start()
    try:
        await measure(engine, True, args.concurrency, 16, 99)  # warm up both paths
        await measure(engine, False, args.concurrency, 16, 99)
        plain, structured = [], []
        for r in range(args.rounds):
            for is_structured in ((False, True) if r % 2 == 0 else (True, False)):
                tps, done = await measure(engine, is_structured, args.concurrency, args.tokens, r)
                (structured if is_structured else plain).append(tps)
                finishes = sorted({d.finish_reason for d in done})
                print(f"  round {r + 1} {'structured' if is_structured else 'plain     '}: {tps:7.1f} tok/s "
                      f"({sum(d.usage.output_tokens for d in done)} tokens, finish {finishes})", flush=True)
        p, s = statistics.median(plain), statistics.median(structured)
        print(f"\n{args.concurrency} concurrent requests, {args.tokens} tokens each, median of {args.rounds}:")
        print(f"  plain      {p:7.1f} tok/s")
        print(f"  structured {s:7.1f} tok/s   ratio {s / p:5.2f} (grammar cost {100 * (1 - s / p):4.1f}%, "
              "goal < 25%)")
    finally:
        await engine.aclose()


def compile_times() -> None:
    import llama_cpp

    from mockvendor.engines.grammar import cache_clear, grammar_for
    from mockvendor.engines.llamacpp import bundled_model_path
    from mockvendor.types import ResponseFormat

    schema = large_schema()
    fmt = ResponseFormat("json_schema", schema)
    cache_clear()
    t0 = time.perf_counter()
    g = grammar_for(fmt)
    first = time.perf_counter() - t0
    again = ResponseFormat("json_schema", json.loads(json.dumps(schema)))  # an equal schema, a new object
    t0 = time.perf_counter()
    for _ in range(100):
        assert grammar_for(again) is g
    cached = (time.perf_counter() - t0) / 100
    vocab_model = llama_cpp.Llama(str(bundled_model_path()), vocab_only=True, verbose=False)
    vocab = vocab_model._model.vocab
    t0 = time.perf_counter()
    for _ in range(10):
        smpl = llama_cpp.llama_sampler_init_grammar(vocab, g.gbnf.encode(), b"root")
        assert smpl
        llama_cpp.llama_sampler_free(smpl)
    parse = (time.perf_counter() - t0) / 10
    print(f"\nlarge schema: {len(json.dumps(schema))} bytes of JSON Schema, {len(g.gbnf)} bytes of GBNF, "
          f"{g.gbnf.count(chr(10)) + 1} rules")
    print(f"  compile, first time: {first * 1000:8.2f} ms")
    print(f"  compile, cached:     {cached * 1000:8.3f} ms   ({first / cached:,.0f}x faster)")
    print(f"  llama.cpp parse of the GBNF (per request): {parse * 1000:6.2f} ms")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", type=int, default=128, help="new tokens per request")
    ap.add_argument("--concurrency", type=int, default=8, help="requests at once (and engine slots)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    from mockvendor.engines.llama_native import prefer_sleeping_threads

    prefer_sleeping_threads()
    print(f"SmolLM2-135M, {args.threads} threads, our engine in process (no HTTP)", flush=True)
    compile_times()
    print()
    asyncio.run(throughput(args))


if __name__ == "__main__":
    main()
