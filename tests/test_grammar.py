"""Structured output in the engines: JSON Schema -> grammar, decoding under it on the
real embedded model (alone and in a full batch), and the echo engine's smallest instance."""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import threading
from collections import Counter
from collections.abc import Coroutine, Iterator
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockvendor.engines import build, generate
from mockvendor.engines.echo import EchoEngine
from mockvendor.engines.grammar import _int_range, cache_clear, grammar_for, schema_to_gbnf
from mockvendor.engines.llamacpp import LlamaCppEngine
from mockvendor.errors import InvalidRequest
from mockvendor.jsonschema_instance import smallest_instance
from mockvendor.types import Completion, GenerateRequest, Message, ResponseFormat

from .conftest import make_settings
from .schema_strategies import SCHEMAS

MODEL_EXAMPLES = int(os.environ.get("MOCKVENDOR_GRAMMAR_EXAMPLES", "25"))

PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 24},
        "age": {"type": "integer", "minimum": 0, "maximum": 120},
        "email": {"type": "string", "format": "email"},
        "born": {"type": "string", "format": "date"},
        "role": {"type": "string", "enum": ["admin", "user", "guest"]},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 12}, "minItems": 1, "maxItems": 3},
        "manager": {"anyOf": [{"type": "string", "maxLength": 20}, {"type": "null"}]},
    },
    "required": ["name", "age", "email", "born", "role", "tags", "manager"],
    "additionalProperties": False,
}


def validator(schema: dict[str, Any]) -> jsonschema.Validator:
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def structured(
    schema: dict[str, Any] | None, seed: int, text: str = "Describe one person.", **kw: Any
) -> GenerateRequest:
    fmt = ResponseFormat("json_schema", schema) if schema is not None else ResponseFormat("json_object")
    return GenerateRequest("smollm2", [Message("user", text)], seed=seed, **{"max_tokens": 160, **kw},
                           response_format=fmt)


def fresh(req: GenerateRequest) -> GenerateRequest:
    fields = {f: getattr(req, f) for f in req.__dataclass_fields__}
    return GenerateRequest(**{**fields, "engine_state": None})


class Model:
    """The engine on an event loop of its own (a thread), so that hypothesis's synchronous
    examples can await it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.engine: LlamaCppEngine = build(
            "llamacpp", make_settings(seed=7, n_threads=1, n_ctx=1024), {"slots": 8, "queue_size": 16}
        )  # type: ignore[assignment]
        self.run(self.engine.start())

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(600)

    def answer(self, req: GenerateRequest) -> Completion:
        return self.run(generate(self.engine, req))  # type: ignore[no-any-return]

    def answer_all(self, reqs: list[GenerateRequest]) -> list[Completion]:
        async def together() -> list[Completion]:
            return list(await asyncio.gather(*(generate(self.engine, r) for r in reqs)))

        return self.run(together())  # type: ignore[no-any-return]

    def close(self) -> None:
        self.run(self.engine.aclose())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def model() -> Iterator[Model]:
    m = Model()
    yield m
    m.close()


# -- the model under the grammar ------------------------------------------------------------
def test_random_schemas_answered_by_the_model_validate(model: Model) -> None:
    """Every complete answer parses and validates; a cut one (max_tokens) is counted apart."""
    counts: Counter[str] = Counter()

    @settings(max_examples=MODEL_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(schema=SCHEMAS, seed=st.integers(0, 2**31))
    def check(schema: dict[str, Any], seed: int) -> None:
        counts["tried"] += 1
        done = model.answer(structured(schema, seed, "Fill in this form with realistic values.", max_tokens=256))
        if done.finish_reason == "length":
            counts["cut"] += 1
            return
        assert done.finish_reason == "stop", done
        counts["complete"] += 1
        errors = [e.message for e in validator(schema).iter_errors(json.loads(done.text))]
        assert not errors, (schema, done.text, errors)
        counts["valid"] += 1

    check()
    print(f"\nstructured output on random schemas: {dict(counts)}")
    assert counts["valid"] == counts["complete"] >= counts["tried"] * 0.7, counts


def test_json_object_mode_gives_an_object(model: Model) -> None:
    done = model.answer(structured(None, 3, "Give me a JSON object about a cat.", max_tokens=200))
    assert done.finish_reason == "stop", done.text
    assert isinstance(json.loads(done.text), dict)


def test_same_seed_same_json_alone_and_in_a_full_batch(model: Model) -> None:
    """Eight structured requests (two share a seed) and two plain ones, more than the
    eight slots: each gives byte for byte what it gives alone; the grammar of one
    sequence does not touch its neighbours."""
    reqs = [structured(PERSON, seed) for seed in (1, 2, 3, 4, 5, 6, 7, 1)]
    reqs += [GenerateRequest("smollm2", [Message("user", "Tell me about cats.")], max_tokens=40, seed=s)
             for s in (8, 9)]
    alone = [model.answer(fresh(r)) for r in reqs]
    together = model.answer_all([fresh(r) for r in reqs])
    for a, b in zip(alone, together, strict=True):
        # (what the prefix cache held differs between the runs; the answer and its counts do not)
        assert (a.text, a.finish_reason, a.usage.input_tokens, a.usage.output_tokens) == \
            (b.text, b.finish_reason, b.usage.input_tokens, b.usage.output_tokens)
    assert alone[0].text == alone[7].text
    assert len({c.text for c in alone[:7]}) > 1  # the seed matters
    for c in alone[:8]:
        if c.finish_reason == "stop":
            validator(PERSON).validate(json.loads(c.text))
    assert sum(c.finish_reason == "stop" for c in alone[:8]) >= 6


def test_max_tokens_mid_object_gives_length_and_the_cut_json(model: Model) -> None:
    whole = model.answer(structured(PERSON, 11))
    assert whole.finish_reason == "stop"
    cut = model.answer(structured(PERSON, 11, max_tokens=9))
    assert cut.finish_reason == "length"
    assert cut.usage.output_tokens == 9
    assert whole.text.startswith(cut.text) and len(cut.text) < len(whole.text)
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut.text)


def test_a_complete_value_ends_generation_at_once(model: Model) -> None:
    """The answer stops at its closing brace: nothing after it, even with budget left."""
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"],
              "additionalProperties": False}
    done = model.answer(structured(schema, 5, max_tokens=100))
    assert done.finish_reason == "stop"
    assert done.text in ('{"ok":true}', '{"ok":false}')
    # Even when the last token of the JSON is the last of the budget.
    exact = model.answer(structured(schema, 5, max_tokens=done.usage.output_tokens))
    assert (exact.text, exact.finish_reason) == (done.text, "stop")


TREE = {"$defs": {"Node": {"type": "object", "properties": {
    "label": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}},
    "required": ["label", "children"], "additionalProperties": False}}, "$ref": "#/$defs/Node"}
LINKED = {"type": "object", "properties": {"value": {"type": "integer"},
                                           "next": {"anyOf": [{"$ref": "#"}, {"type": "null"}]}},
          "required": ["value", "next"]}


@pytest.mark.parametrize("schema", [TREE, LINKED], ids=["tree", "linked-list"])
def test_a_recursive_schema_always_closes(model: Model, schema: dict[str, Any]) -> None:
    """A small model left free nests (and widens) until max_tokens; the grammar unrolls the
    recursion a few levels and shrinks recursive lists with depth, so every seed gives a
    complete, valid answer well within the budget."""
    for seed in range(6):
        done = model.answer(structured(schema, seed, "A small tree of three labels.", max_tokens=1000))
        assert done.finish_reason == "stop", (seed, done.text)
        validator(schema).validate(json.loads(done.text))


def test_a_refused_schema_is_a_400_before_the_model(model: Model) -> None:
    async def first(req: GenerateRequest) -> Any:
        agen = model.engine.stream(req)
        try:
            return await agen.__anext__()
        finally:
            await agen.aclose()

    with pytest.raises(InvalidRequest) as e:
        model.run(first(structured({"type": "object", "not": {"required": ["a"]}}, 1)))
    assert e.value.status == 400 and "'not'" in e.value.message and e.value.param == "response_format"


# -- the schema -> grammar conversion (no model) ---------------------------------------------
REFUSED = [
    ({"type": "object", "properties": {"a": {"not": {"type": "string"}}}}, "'not'"),
    ({"type": "array", "items": {"type": "integer"}, "uniqueItems": True}, "uniqueItems"),
    ({"type": "integer", "multipleOf": 3}, "multipleOf"),
    ({"type": "object", "patternProperties": {"^x": {}}}, "patternProperties"),
    ({"$ref": "https://example.com/schema.json"}, "not a local reference"),
    ({"$ref": "#/$defs/Missing"}, "points nowhere"),
    ({"type": "string", "pattern": "^(?=a)b$"}, "lookarounds"),
    ({"type": "string", "pattern": r"^(a)\1$"}, "backreferences"),
    ({"type": "string", "pattern": "^[a-z]+$", "maxLength": 5}, "the pattern alone must fix the length"),
    ({"type": "widget"}, "cannot be used"),
    ({"type": "integer", "exclusiveMinimum": 1, "exclusiveMaximum": 2}, "No integer fits"),
    ({"type": "array", "minItems": 3, "maxItems": 1}, "no value fits"),
    ({"allOf": [{"type": "string"}, {"maxLength": 3}]}, "allOf"),
    ({"type": "object", "properties": {"a": 3}}, "must be an object"),
]


@pytest.mark.parametrize(("schema", "why"), REFUSED, ids=[w for _, w in REFUSED])
def test_schemas_a_grammar_cannot_enforce_are_refused_by_name(schema: dict[str, Any], why: str) -> None:
    with pytest.raises(InvalidRequest) as e:
        grammar_for(ResponseFormat("json_schema", schema))
    assert e.value.status == 400
    assert why in e.value.message


def test_grammars_are_cached_by_schema() -> None:
    cache_clear()
    a = grammar_for(ResponseFormat("json_schema", PERSON))
    b = grammar_for(ResponseFormat("json_schema", json.loads(json.dumps(PERSON))))
    assert a is b and a.compile_ms >= 0
    reordered = {**PERSON, "properties": dict(reversed(list(PERSON["properties"].items())))}
    c = grammar_for(ResponseFormat("json_schema", reordered))
    assert c is not a  # properties are written in the order the schema gives
    assert grammar_for(ResponseFormat("json_object")).gbnf.startswith("root ::=")


def test_recursive_and_self_referencing_schemas_convert() -> None:
    tree = {"$defs": {"Node": {"type": "object", "properties": {"kids": {"type": "array",
                                                                          "items": {"$ref": "#/$defs/Node"}}}}},
            "$ref": "#/$defs/Node"}
    assert "ref0-Node" in schema_to_gbnf(tree)
    selfref = {"type": "object", "properties": {"next": {"anyOf": [{"$ref": "#"}, {"type": "null"}]}}}
    assert "ref0-root" in schema_to_gbnf(selfref)
    pydantic_v1 = {"definitions": {"A": {"type": "string"}}, "type": "object",
                   "properties": {"a": {"$ref": "#/definitions/A"}}, "required": ["a"]}
    assert "a ::= string" in schema_to_gbnf(pydantic_v1)


def _gbnf_regex(g: str) -> re.Pattern[str]:
    """A digits-only GBNF alternative list as a Python regex (for the integer ranges)."""
    r = re.sub(r'"(-?\d*)"', r"\1", g).replace(" ", "")
    return re.compile(f"(?:{r})")


def test_integer_ranges_match_exactly_the_numbers_in_range() -> None:
    rng = random.Random(1)
    for _ in range(400):
        lo, hi = rng.choice([None, rng.randint(-3000, 3000)]), rng.choice([None, rng.randint(-3000, 3000)])
        if lo is not None and hi is not None and lo > hi:
            lo, hi = hi, lo
        rx = _gbnf_regex(_int_range(lo, hi))
        for n in [*range(-3100, 3100, 37), lo or 0, hi or 0, (lo or 0) - 1, (hi or 0) + 1, 0, -1, 10**14, -(10**14)]:
            assert bool(rx.fullmatch(str(n))) == ((lo is None or n >= lo) and (hi is None or n <= hi)), (lo, hi, n)
        for bad in ("-0", "007", "01", "--1", ""):
            assert not rx.fullmatch(bad), (lo, hi, bad)


# -- the echo engine's smallest instance -----------------------------------------------------
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=SCHEMAS)
def test_the_smallest_instance_validates(schema: dict[str, Any]) -> None:
    value = smallest_instance(schema)
    validator(schema).validate(value)
    grammar_for(ResponseFormat("json_schema", schema))  # and the same schemas all convert


async def test_the_echo_engine_answers_with_the_smallest_instance() -> None:
    echo = EchoEngine()
    done = await generate(echo, structured(PERSON, 1))
    assert done.finish_reason == "stop"
    value = json.loads(done.text)
    validator(PERSON).validate(value)
    assert value["age"] == 0 and value["role"] == "admin" and value["manager"] == "" and len(value["tags"]) == 1
    assert (await generate(echo, structured(None, 1))).text == "{}"
    optional = {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "integer", "minimum": 4}},
                "required": ["b"]}
    assert echo.complete(structured(optional, 1)).text == '{"b":4}'
