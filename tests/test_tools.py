"""The neutral tool-call rules (mockvendor/tools.py): which tool, when, and arguments that
satisfy the tool's JSON Schema, whatever schema a caller sends."""

from __future__ import annotations

import json
import random
import time
from typing import Any

import jsonschema
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mockvendor.tools import decide, plain_messages, prepare, value_for
from mockvendor.types import GenerateRequest, Message, Tool, ToolCall

SCHEMAS: list[dict[str, Any]] = [
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    {"type": "object", "properties": {"n": {"type": "integer", "minimum": 3, "maximum": 5},
                                      "x": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
                                      "ok": {"type": "boolean"}, "none": {"type": "null"}}},
    {"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string", "maxLength": 3},
                                               "minItems": 2, "maxItems": 4}}, "required": ["tags"]},
    {"type": "object", "properties": {"when": {"type": "string", "format": "date-time"},
                                      "mail": {"type": "string", "format": "email"},
                                      "kind": {"enum": ["a", "b"]}, "fixed": {"const": 7},
                                      "name": {"type": "string", "minLength": 12}}},
    {"type": "object", "properties": {"inner": {"type": "object", "properties": {
        "deep": {"type": "array", "items": {"type": "object", "properties": {"v": {"type": "integer"}},
                                            "required": ["v"]}}}, "required": ["deep"]}}, "required": ["inner"]},
    {"type": "object", "properties": {"maybe": {"anyOf": [{"type": "null"}, {"type": "integer", "minimum": 10}]},
                                      "either": {"oneOf": [{"type": "string", "enum": ["x"]}]},
                                      "nullable": {"type": ["null", "string"]}}},
    {"type": "object", "allOf": [{"properties": {"a": {"type": "integer"}}, "required": ["a"]},
                                 {"properties": {"b": {"type": "string"}}, "required": ["b"]}]},
    {"type": "object", "properties": {}, "additionalProperties": False},
]


@pytest.mark.parametrize("schema", SCHEMAS, ids=range(len(SCHEMAS)))
def test_arguments_satisfy_the_schema(schema: dict[str, Any]) -> None:
    for seed in range(20):
        value = value_for(schema, random.Random(seed), ["Paris", "weather"], "")
        jsonschema.validate(value, schema)
        json.dumps(value)  # and they are JSON


def test_gemini_upper_case_types() -> None:
    schema = {"type": "OBJECT", "properties": {"city": {"type": "STRING"}, "n": {"type": "INTEGER"},
                                               "l": {"type": "ARRAY", "items": {"type": "NUMBER"}}},
              "required": ["city", "n", "l"]}
    value = value_for(schema, random.Random(1), ["Rome"], "")
    assert value["city"] == "Rome" and isinstance(value["n"], int) and all(isinstance(x, float) for x in value["l"])


@pytest.mark.parametrize("schema", [
    {"type": "array", "items": {"type": "string"}, "minItems": 10**12},
    {"type": "string", "minLength": 10**12},
    {"type": "integer", "minimum": 10**30, "maximum": -5},
    {"type": "object", "properties": {"a": {"type": "object", "properties": {"a": {"$ref": "#"}}}}},
    {"type": ["null"]}, {"type": 5}, {"properties": "x"}, {"enum": []}, {"anyOf": "x"}, "not a schema",
    {"type": "object", "required": 5, "properties": {"a": 1}}, {"allOf": [{"properties": "x", "required": 3}, 7]},
])
def test_any_schema_answers_quickly_and_never_raises(schema: Any) -> None:
    t0 = time.process_time()
    value_for(schema, random.Random(0), [], "")
    nested: dict[str, Any] = {"type": "object", "properties": {}}
    cursor = nested
    for _ in range(200):  # deeper than any tool needs: cut at a fixed depth (tools.HARD_DEPTH)
        child: dict[str, Any] = {"type": "object", "properties": {}, "required": ["c"]}
        cursor["properties"]["c"] = child
        cursor["required"] = ["c"]
        cursor = child
    assert json.dumps(value_for(nested, random.Random(0), [], "")).count("{") <= 33
    assert time.process_time() - t0 < 5  # a guard against a runaway loop, not a speed claim


WEATHER = Tool("get_weather", "Current weather for a city", {"type": "object", "properties": {
    "city": {"type": "string"}}, "required": ["city"]})
SEARCH = Tool("searchDocs", "Search the documentation", {"type": "object", "properties": {
    "query": {"type": "string"}}, "required": ["query"]})


def req(*messages: Message, choice: str = "auto", seed: int | None = 1) -> GenerateRequest:
    return GenerateRequest("m", list(messages), tools=[SEARCH, WEATHER], tool_choice=choice, seed=seed)


def test_the_decision_rule() -> None:
    ask = Message("user", "Is it raining in Lisbon? Check the weather.")
    (call,) = decide(req(ask))
    assert call.name == "get_weather" and call.arguments == {"city": "Lisbon"}
    assert decide(req(Message("user", "search the documentation for limits")))[0].name == "searchDocs"
    assert decide(req(Message("user", "zzz")))[0].name == "searchDocs"  # no word matches: the first tool
    result = [ask, Message("assistant", "", tool_calls=[call]), Message("tool", "rain", tool_call_id=call.id)]
    assert decide(req(*result)) == []  # auto after a tool result: text
    assert decide(req(*result, choice="required"))[0].name == "get_weather"
    assert decide(req(ask, choice="none")) == []
    assert decide(req(ask, choice="tool:searchDocs"))[0].name == "searchDocs"
    assert decide(GenerateRequest("m", [ask])) == []  # no tools, no calls
    # Reproducible: the same request, the same call; another seed, another id.
    assert decide(req(ask)) == decide(req(ask)) and decide(req(ask, seed=2))[0].id != call.id


def test_tool_turns_reach_the_model_as_plain_turns() -> None:
    call = ToolCall("abc", "get_weather", {"city": "Oslo"})
    msgs = [Message("user", "weather in Oslo?"), Message("assistant", "", tool_calls=[call]),
            Message("tool", "-3C, snow", tool_call_id="abc", name="get_weather")]
    plain = plain_messages(msgs)
    assert [m.role for m in plain] == ["user", "assistant", "user"]
    assert plain[1].content == '[called get_weather with {"city": "Oslo"}]'
    assert plain[2].content == "Result of get_weather: -3C, snow"

    class Counting:
        def prompt_tokens(self, r: GenerateRequest) -> int:
            return len((r.prompt or "").split())

    r = req(*msgs)
    assert prepare(Counting(), r).__class__.__name__ == "Counting"  # text: the engine itself
    assert [m.role for m in r.messages] == ["user", "assistant", "user"]


KEYWORDS = ["type", "properties", "required", "items", "enum", "const", "anyOf", "oneOf", "allOf", "minimum",
            "maximum", "exclusiveMinimum", "exclusiveMaximum", "minItems", "maxItems", "minLength", "maxLength",
            "format"]
TYPES = ["object", "array", "string", "integer", "number", "boolean", "null", "OBJECT", "STRING"]
ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(TYPES) | st.text(max_size=4),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(KEYWORDS) | st.text(max_size=3), children, max_size=5),
    max_leaves=40,
)


@given(ANY_JSON)
@example({"type": None, "anyOf": [None]})  # options none of which is a schema (found by this test)
@example({"oneOf": [1, {"type": "string"}]})
@settings(max_examples=400, deadline=None, derandomize=True)
def test_any_json_as_a_schema_never_raises(schema: Any) -> None:
    """A caller's schema is whatever JSON they sent: an argument is always made, as JSON."""
    json.dumps(value_for(schema, random.Random(0), ["Paris"], ""))
