"""Tool-call arguments valid by construction: whatever the tool's JSON Schema (random ones
from the strict-mode subset, and the schemas the SDK helpers generate from Pydantic models),
the arguments mockvendor makes validate against it, and the same request gives the same ones."""

from __future__ import annotations

import random
from collections import Counter
from enum import Enum, IntEnum
from typing import Annotated, Any, Literal

import jsonschema
import openai
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from mockvendor.tools import value_for

from .schema_strategies import SCHEMAS

WORDS = ["Paris", "weather", "tomorrow", "London"]


def validator(schema: dict[str, Any]) -> Any:
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def test_random_schemas_get_valid_arguments() -> None:
    counts: Counter[str] = Counter()

    @settings(max_examples=400, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(schema=SCHEMAS, seed=st.integers(0, 2**31))
    def check(schema: dict[str, Any], seed: int) -> None:
        counts["tried"] += 1
        args = value_for(schema, random.Random(seed), WORDS)
        errors = [e.message for e in validator(schema).iter_errors(args)]
        assert not errors, (schema, args, errors)
        counts["valid"] += 1

    check()
    print(f"\ntool arguments on random schemas: {dict(counts)}")
    assert counts["valid"] == counts["tried"] == 400


class Unit(str, Enum):  # noqa: UP042 (as application code writes it)
    celsius = "celsius"
    fahrenheit = "fahrenheit"


class Priority(IntEnum):
    low = 1
    high = 3


class Address(BaseModel):
    street: str
    city: str
    zip: Annotated[str, Field(pattern=r"^\d{5}$")]


class Person(BaseModel):
    name: Annotated[str, Field(min_length=2, max_length=40)]
    age: Annotated[int, Field(ge=0, le=130)]
    email: Annotated[str, Field(json_schema_extra={"format": "email"})]
    addresses: Annotated[list[Address], Field(min_length=1, max_length=3)]
    nickname: str | None = None


class Forecast(BaseModel):
    location: str
    unit: Unit
    days: Annotated[int, Field(gt=0, lt=15)]
    priority: Priority
    mode: Literal["fast", "slow", 3]
    ratio: Annotated[float, Field(gt=0.1, lt=0.2)]
    step: Annotated[int, Field(multiple_of=5, ge=12)]


class Category(BaseModel):
    title: str
    sub: list[Category]


class Search(BaseModel):
    query: str
    filters: list[Annotated[Person | Forecast, Field(discriminator=None)]]
    tags: Annotated[list[str], Field(json_schema_extra={"uniqueItems": True}, max_length=4)]


MODELS = [Person, Forecast, Category, Search]


@pytest.mark.parametrize("model", MODELS, ids=[m.__name__ for m in MODELS])
@pytest.mark.parametrize("strict", [False, True], ids=["plain", "strict"])
def test_pydantic_tool_schemas_get_valid_arguments(model: type[BaseModel], strict: bool) -> None:
    """What ``openai.pydantic_function_tool`` sends (strict: every property required, no
    extra ones, $defs kept), and what Pydantic itself writes: each argument object
    validates with jsonschema and parses back into the model, over many seeds."""
    schema = (openai.pydantic_function_tool(model)["function"]["parameters"] if strict
              else model.model_json_schema())
    for seed in range(60):
        args = value_for(schema, random.Random(seed), WORDS)
        errors = [e.message for e in validator(schema).iter_errors(args)]
        assert not errors, (seed, args, errors)
        model.model_validate(args)


def test_same_seed_same_arguments() -> None:
    schema = Person.model_json_schema()
    first, again = (value_for(schema, random.Random(9), WORDS) for _ in range(2))
    assert first == again
    assert any(value_for(schema, random.Random(s), WORDS) != first for s in range(10, 20))
