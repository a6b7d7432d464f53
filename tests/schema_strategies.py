"""Hypothesis strategies: random JSON Schemas from the subset structured output supports
(the vendors' strict-mode subset: objects with required properties and no extra ones,
strings with enum / const / pattern / format, bounded integers and numbers, arrays with
item counts, anyOf, nullable types, $defs / $ref with recursion)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

# Names that collide with the converter's own rule names are in on purpose.
NAMES = st.sampled_from(["name", "city", "count", "score", "tags", "when", "email", "kind", "note", "id",
                         "value", "string", "root", "number", "items"])
WORDS = ["red", "green", "blue", "small", "large", "north", "south"]
PATTERNS = [r"^[a-z]{2,6}$", r"^[A-Z][a-z]{1,8}$", r"^\d{3}-\d{4}$", r"^(yes|no)$", r"^[a-f0-9]{4}$", r"ab"]


def _bounded(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    num = st.integers(-60, 60) if kind == "integer" else st.integers(-120, 120).map(lambda n: n / 2)
    width = st.integers(2, 100)  # wide enough for a whole number strictly inside

    def build(lo: float, w: float, style: int) -> dict[str, Any]:
        hi = lo + w
        return [
            {"type": kind, "minimum": lo, "maximum": hi},
            {"type": kind, "minimum": lo},
            {"type": kind, "maximum": hi},
            {"type": kind, "exclusiveMinimum": lo, "exclusiveMaximum": hi},
            {"type": kind},
        ][style]

    return st.builds(build, num, width, st.integers(0, 4))


def _strings() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.lists(st.sampled_from(WORDS), min_size=1, max_size=4, unique=True).map(
            lambda v: {"type": "string", "enum": v}),
        st.sampled_from(PATTERNS).map(lambda p: {"type": "string", "pattern": p}),
        st.sampled_from(["date", "email"]).map(lambda f: {"type": "string", "format": f}),
        st.tuples(st.integers(0, 3), st.integers(1, 16)).map(
            lambda t: {"type": "string", "minLength": t[0], "maxLength": t[0] + t[1]}),
        st.just({"type": "string"}),
    )


def _nullable(s: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    if "type" not in s or "enum" in s:
        return st.just(s)
    return st.sampled_from([s, {**s, "type": [s["type"], "null"]}, {"anyOf": [s, {"type": "null"}]}])


LEAVES: st.SearchStrategy[dict[str, Any]] = st.one_of(
    _strings(),
    _bounded("integer"),
    _bounded("number"),
    st.just({"type": "boolean"}),
    st.sampled_from(["alpha", 3, True, None]).map(lambda v: {"const": v}),
    st.lists(st.sampled_from([1, 2.5, "x", None, False]), min_size=1, max_size=3, unique=True).map(
        lambda v: {"enum": v}),
).flatmap(_nullable)


def objects(children: st.SearchStrategy[dict[str, Any]], max_size: int = 3) -> st.SearchStrategy[dict[str, Any]]:
    def with_required(props: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
        names = list(props)
        return st.lists(st.sampled_from(names), unique=True).map(
            lambda req: {"type": "object", "properties": props, "required": sorted(req, key=names.index),
                         "additionalProperties": False})

    return st.dictionaries(NAMES, children, min_size=1, max_size=max_size).flatmap(with_required)


def arrays(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(lambda item, lo, extra: {"type": "array", "items": item, "minItems": lo, "maxItems": lo + extra},
                     children, st.integers(0, 2), st.integers(0, 2))


def any_of(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.lists(children, min_size=2, max_size=3).map(lambda xs: {"anyOf": xs})


VALUES = st.recursive(LEAVES, lambda ch: st.one_of(objects(ch), arrays(ch), any_of(ch)), max_leaves=5)


def _with_defs(thing: dict[str, Any]) -> dict[str, Any]:
    return {"$defs": {"Thing": thing}, "type": "object",
            "properties": {"thing": {"$ref": "#/$defs/Thing"},
                           "others": {"type": "array", "items": {"$ref": "#/$defs/Thing"}, "maxItems": 2}},
            "required": ["thing", "others"], "additionalProperties": False}


def _tree(label: dict[str, Any], max_children: int) -> dict[str, Any]:
    node = {"type": "object",
            "properties": {"label": label,
                           "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}, "maxItems": max_children}},
            "required": ["label", "children"], "additionalProperties": False}
    return {"$defs": {"Node": node}, "$ref": "#/$defs/Node"}


# The root is an object, as the vendors require.
SCHEMAS: st.SearchStrategy[dict[str, Any]] = st.one_of(
    objects(VALUES),
    objects(LEAVES, max_size=2).map(_with_defs),
    st.builds(_tree, LEAVES, st.integers(0, 2)),
)
