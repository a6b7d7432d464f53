"""Structured output: a request's JSON Schema as a llama.cpp grammar (GBNF).

The conversion is llama-cpp-python's own (``llama_cpp.llama_grammar.SchemaConverter``),
with what its 0.3.36 port lacks or gets wrong for JSON filled in here:

- ``$ref`` is resolved by us first (any ``#/...`` pointer, ``#`` itself, recursion): each
  target becomes one ``$defs`` entry with a name no property rule can take; a recursive
  one is unrolled ``MAX_RECURSION`` levels deep, below which it is its smallest valid
  value, and a recursive list holds fewer items the deeper it is (so a tree always
  closes: a small model left free nests and widens until ``max_tokens``);
- ``type`` lists and ``nullable`` become ``anyOf`` (the port's type-list branch drops the
  branch's own constraints), ``allOf`` of one schema is merged into its parent;
- integer and number bounds (``minimum``, ``maximum``, exclusive or not) become digit
  rules; ``format: email`` gets a rule; ``pattern`` is translated by us (with Python's
  own regex parser: the port mistranslates ``\\d``), unanchored sides left free,
  lookarounds and backreferences refused;
- string characters exclude the control characters JSON forbids, dates have real days;
- no whitespace at all (``space ::= ""``): compact JSON, as the vendors answer, and
  nothing for a small model to loop on. With nothing optional after the value, a
  complete value leaves end-of-generation as the only choice.

A schema using a keyword no grammar can enforce (``not``, ``uniqueItems``,
``multipleOf``, ...) or one the converter fails on is refused with
:class:`~mockvendor.errors.InvalidRequest` naming the problem, never answered with JSON
that would not validate. Compiled grammars are cached by the canonical JSON of the schema.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidRequest
from ..jsonschema_instance import Unbuildable, smallest_instance_at
from ..types import ResponseFormat

PARAM = "response_format"
CACHE_SIZE = 256
# How many times a recursive reference is expanded inside itself; deeper, its smallest value.
MAX_RECURSION = 3

# Keywords a token-by-token grammar cannot enforce: refused rather than ignored.
UNSUPPORTED = (
    "not", "if", "then", "else", "patternProperties", "propertyNames", "dependentRequired",
    "dependentSchemas", "dependencies", "contains", "minContains", "maxContains",
    "unevaluatedProperties", "unevaluatedItems", "multipleOf", "minProperties", "maxProperties",
)
# Keywords that only describe: dropped before conversion.
_ANNOTATIONS = ("$schema", "$id", "$comment", "title", "description", "default", "examples", "deprecated",
                "readOnly", "writeOnly", "discriminator")

_JSON_CHAR = r'[^"\\\x7F\x00-\x1F]'
_OVERRIDES = {
    "space": '""',
    "char": _JSON_CHAR + r' | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F])',
    # A pattern's "." inside a JSON string: any character that needs no escaping.
    "dot": _JSON_CHAR,
    "date": '[0-9] [0-9] [0-9] [0-9] "-" ( ("0" [13578] | "1" [02]) "-" ("0" [1-9] | [12] [0-9] | "3" [01])'
            ' | ("0" [469] | "11") "-" ("0" [1-9] | [12] [0-9] | "30")'
            ' | "02" "-" ("0" [1-9] | "1" [0-9] | "2" [0-8]) )',
}
# Bounded parts: a small model left free in an address tends never to leave it.
_EMAIL = (r'"\"" [a-zA-Z0-9_+-] [a-zA-Z0-9._+-]{0,31} "@" [a-zA-Z0-9] [a-zA-Z0-9-]{0,19} ("." [a-zA-Z]{2,10}){1,2}'
          r' "\"" space')
_FRACTION = '"." [0-9]? [0-9]? [0-9]? [0-9]? [0-9]? [1-9]'  # never all zeros: strictly inside (I, I+1)

JSON_OBJECT_GBNF = "\n".join(
    f"{name} ::= {rule}"
    for name, rule in {
        "root": "object",
        "value": "object | array | string | number | boolean | null",
        "object": '"{" ( string ":" value ("," string ":" value)* )? "}"',
        "array": '"[" ( value ("," value)* )? "]"',
        "string": '"\\"" char* "\\""',
        "char": _OVERRIDES["char"],
        "number": '"-"? ("0" | [1-9] [0-9]{0,15}) ("." [0-9]{1,16})? ([eE] [-+]? [0-9]{1,3})?',
        "boolean": '"true" | "false"',
        "null": '"null"',
    }.items()
)


@dataclass(frozen=True)
class Grammar:
    """A compiled grammar: its GBNF text, what it was compiled from, and what that took."""

    gbnf: str
    key: str
    compile_ms: float


_cache: OrderedDict[str, Grammar] = OrderedDict()
_lock = threading.Lock()


def grammar_for(fmt: ResponseFormat) -> Grammar:
    """The grammar for ``fmt``, compiled once per distinct schema (LRU of ``CACHE_SIZE``)."""
    if fmt.kind == "json_object" or (fmt.kind == "json_schema" and fmt.schema is None):
        key = "json_object"
    elif fmt.kind == "json_schema":
        try:
            # Key order kept: properties are written in the order the schema declares them.
            key = json.dumps(fmt.schema, separators=(",", ":"), allow_nan=False, ensure_ascii=False)
        except (TypeError, ValueError) as e:
            raise InvalidRequest(f"Invalid JSON Schema: {e}.", param=PARAM) from None
    else:
        raise InvalidRequest(f"Unknown response format {fmt.kind!r}: use json_object or json_schema.", param=PARAM)
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    t0 = time.perf_counter()
    gbnf = JSON_OBJECT_GBNF if key == "json_object" else schema_to_gbnf(json.loads(key))
    g = Grammar(gbnf, key, (time.perf_counter() - t0) * 1000)
    with _lock:
        _cache[key] = g
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return g


def cache_clear() -> None:
    with _lock:
        _cache.clear()


def instruction(fmt: ResponseFormat, limit: int = 1500) -> str:
    """What the model is told (in a system turn) so that its values fit the grammar's shape."""
    if fmt.kind == "json_schema" and fmt.schema is not None:
        text = json.dumps(fmt.schema, separators=(",", ":"), ensure_ascii=False)
        if len(text) <= limit:
            return f"Answer with JSON only, valid against this JSON Schema: {text}"
        return "Answer with JSON only."
    return "Answer with a JSON object only."


def schema_to_gbnf(schema: Any) -> str:
    """A JSON Schema as GBNF (root rule ``root``); :class:`InvalidRequest` if it cannot be enforced."""
    normalized = _Normalizer(schema).run()
    converter = _converter()
    try:
        normalized = converter.resolve_refs(normalized, "schema")
        converter.visit(normalized, "")
    except InvalidRequest:
        raise
    except (AssertionError, ValueError, KeyError, TypeError, IndexError, RecursionError, re.error) as e:
        raise InvalidRequest(f"This JSON Schema cannot be used for structured output: {e}", param=PARAM) from None
    return converter.format_grammar()


# -- normalisation ------------------------------------------------------------------------
class _Normalizer:
    """A copy of the schema in the subset the converter handles well (see the module doc)."""

    def __init__(self, root: Any) -> None:
        self.root = root
        self.names: dict[tuple[str, int], str] = {}
        self.defs: dict[str, Any] = {}
        self.stack: list[str] = []  # the references being expanded, outermost first

    def run(self) -> dict[str, Any]:
        out = self.norm(self.root, "schema")
        if self.defs:
            out = {**out, "$defs": self.defs} if "$ref" not in out else {"anyOf": [out], "$defs": self.defs}
        return out

    def refuse(self, path: str, why: str) -> InvalidRequest:
        return InvalidRequest(f"Unsupported JSON Schema at {path}: {why}.", param=PARAM)

    def ref(self, ref: Any, path: str) -> dict[str, Any]:
        if not isinstance(ref, str) or not ref.startswith("#"):
            raise self.refuse(path, f"$ref {ref!r} is not a local reference (#/...)")
        node = self.root
        for part in [p for p in ref[1:].split("/") if p]:
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise self.refuse(path, f"$ref {ref!r} points nowhere")
        depth = self.stack.count(ref)
        if depth >= MAX_RECURSION:
            # Deep enough: the rest of the recursion is its smallest valid value, so the answer
            # always ends (a small model left free nests without end until max_tokens).
            try:
                return {"const": smallest_instance_at(self.root, ref)}
            except Unbuildable as e:
                raise self.refuse(path, str(e)) from None
        key = (ref, depth)
        if key not in self.names:
            tail = re.sub(r"[^a-zA-Z0-9]+", "-", ref.rsplit("/", 1)[-1]).strip("-")
            name = self.names[key] = f"ref{len(self.names)}-{tail or 'root'}"
            self.defs[name] = {}
            self.stack.append(ref)
            try:
                self.defs[name] = self.norm(node, f"{path}({ref})")
            finally:
                self.stack.pop()
        return {"$ref": f"#/$defs/{self.names[key]}"}

    def norm(self, s: Any, path: str) -> dict[str, Any]:  # noqa: C901 - one branch per keyword
        if s is True:
            return {}
        if not isinstance(s, dict):
            raise self.refuse(path, "a schema must be an object")
        if "$ref" in s:
            return self.ref(s["$ref"], path)
        for key in UNSUPPORTED:
            if key in s:
                raise self.refuse(path, f"{key!r} cannot be enforced by a grammar")
        if s.get("uniqueItems") is True:
            raise self.refuse(path, "'uniqueItems' cannot be enforced by a grammar")
        out = {k: v for k, v in s.items() if k not in _ANNOTATIONS and k not in ("$defs", "definitions")}
        out.pop("uniqueItems", None)
        t = out.get("type")
        if isinstance(t, str):
            out["type"] = t = t.lower()  # Gemini writes OBJECT, STRING, ...
        elif isinstance(t, list):
            out["type"] = t = [str(x).lower() for x in t]
        if isinstance(out.get("properties"), dict):
            out["properties"] = {k: self.norm(v, f"{path}.{k}") for k, v in out["properties"].items()}
        elif "properties" in out:
            raise self.refuse(path, "'properties' must be an object")
        req = out.get("required")
        if req is not None:
            if not isinstance(req, list) or not all(isinstance(r, str) for r in req):
                raise self.refuse(path, "'required' must be a list of names")
            missing = [r for r in req if r not in out.get("properties", {})]
            if missing:  # required but not described: any value
                out["properties"] = {**out.get("properties", {}), **{r: {} for r in missing}}
        if isinstance(out.get("additionalProperties"), dict):
            out["additionalProperties"] = self.norm(out["additionalProperties"], f"{path}.additionalProperties")
        if "items" in out:
            items = out["items"]
            if isinstance(items, list):
                out["items"] = [self.norm(x, f"{path}[{i}]") for i, x in enumerate(items)]
            elif items is False:
                out["maxItems"] = 0
                out["items"] = {}
            else:
                if isinstance(items, dict) and items.get("$ref") in self.stack:
                    # A recursive list (a tree's children): fewer items the deeper it is, so the
                    # whole tree stays small. Any answer still validates: the schema allows it.
                    depth = self.stack.count(items["$ref"])
                    cap = max(MAX_RECURSION + 1 - depth, out.get("minItems", 0), 1)
                    out["maxItems"] = min(out.get("maxItems", cap), cap)
                out["items"] = self.norm(items, f"{path}[]")
        if isinstance(out.get("prefixItems"), list):
            if "items" in out or out.get("minItems", 0) > len(out["prefixItems"]):
                raise self.refuse(path, "'prefixItems' with more items after them")
            out["items"] = [self.norm(x, f"{path}[{i}]") for i, x in enumerate(out.pop("prefixItems"))]
        if "array" in ([t] if isinstance(t, str) else t or []) and "items" not in out:
            out["items"] = {}
        for key in ("anyOf", "oneOf", "allOf"):
            if key in out:
                if not isinstance(out[key], list) or not out[key]:
                    raise self.refuse(path, f"{key!r} must be a non-empty list")
                out[key] = [self.norm(x, f"{path}.{key}[{i}]") for i, x in enumerate(out[key])]
        if "allOf" in out:
            if len(out["allOf"]) != 1:
                raise self.refuse(path, "'allOf' with more than one schema")
            (only,) = out.pop("allOf")
            out = {**out, **only}
        if "const" in out or "enum" in out:
            if "enum" in out and (not isinstance(out["enum"], list) or not out["enum"]):
                raise self.refuse(path, "'enum' must be a non-empty list")
            out.pop("type", None)  # the values themselves say what is allowed
            t = None
        if out.pop("nullable", False) is True:
            out = {"anyOf": [out, {"type": "null"}]}
        elif isinstance(t, list):
            rest = {k: v for k, v in out.items() if k != "type"}
            out = {"anyOf": [{**rest, "type": x} for x in t]} if t else rest
        for key in ("minLength", "maxLength", "minItems", "maxItems"):
            if key in out and (not isinstance(out[key], int) or isinstance(out[key], bool) or out[key] < 0):
                raise self.refuse(path, f"{key!r} must be a non-negative integer")
        if out.get("minItems", 0) > out.get("maxItems", math.inf) or out.get("minLength", 0) > out.get(
            "maxLength", math.inf
        ):
            raise self.refuse(path, "no value fits its minimum and maximum")
        return out


# -- conversion -----------------------------------------------------------------------------
_CLASS: type | None = None


def _converter() -> Any:
    """llama-cpp-python's SchemaConverter with numeric bounds, email and our rule overrides."""
    global _CLASS
    if _CLASS is None:
        from llama_cpp.llama_grammar import RESERVED_NAMES, SchemaConverter

        class Converter(SchemaConverter):  # type: ignore[misc, valid-type]
            def visit(self, schema: dict[str, Any], name: str) -> str:
                rule_name = name + "-" if name in RESERVED_NAMES else name or "root"
                t = schema.get("type")
                plain = not any(k in schema for k in ("$ref", "anyOf", "oneOf", "const", "enum"))
                if plain and t in ("integer", "number") and _has_bounds(schema):
                    return str(self._add_rule(rule_name, f"({_number_rule(schema, t == 'integer')}) space"))
                if plain and t in (None, "string") and schema.get("format") == "email" and "pattern" not in schema:
                    return str(self._add_rule(rule_name, _EMAIL))
                if plain and t in (None, "string") and isinstance(schema.get("pattern"), str):
                    body = pattern_gbnf(schema["pattern"], schema.get("minLength", 0), schema.get("maxLength"))
                    return str(self._add_rule(rule_name, f'"\\"" {body} "\\"" space'))
                return str(super().visit(schema, name))

            def _generate_constant_rule(self, value: Any) -> str:
                # Compact, like every other value here (the port writes ", " and ": ").
                return str(self._format_literal(json.dumps(value, separators=(",", ":"), ensure_ascii=False)))

            def format_grammar(self) -> str:
                for rule, body in _OVERRIDES.items():
                    if rule in self._rules:
                        self._rules[rule] = body
                return str(super().format_grammar())

        _CLASS = Converter
    return _CLASS(prop_order={}, allow_fetch=False, dotall=False, raw_pattern=False)


def _has_bounds(schema: dict[str, Any]) -> bool:
    return any(k in schema for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"))


def _bound(schema: dict[str, Any], lower: bool) -> tuple[float | None, bool]:
    """(the bound, whether it is exclusive), from draft 6+ or draft 4 spellings."""
    plain, excl = ("minimum", "exclusiveMinimum") if lower else ("maximum", "exclusiveMaximum")
    value, exclusive = schema.get(plain), False
    flag = schema.get(excl)
    if isinstance(flag, bool):
        exclusive = flag
    elif isinstance(flag, (int, float)):
        if value is None or (flag >= value if lower else flag <= value):
            value, exclusive = flag, True
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise InvalidRequest(f"{plain} must be a number, not {value!r}.", param=PARAM)
    return value, exclusive


def _number_rule(schema: dict[str, Any], integer: bool) -> str:
    """Digits for the numbers within the schema's bounds: whole numbers, plus (for
    ``number``) whole parts followed by a fraction where the whole open interval fits."""
    lo, lo_x = _bound(schema, True)
    hi, hi_x = _bound(schema, False)
    # Whole numbers in range.
    ilo = None if lo is None else (math.floor(lo) + 1 if lo_x and lo == math.floor(lo) else math.ceil(lo))
    ihi = None if hi is None else (math.ceil(hi) - 1 if hi_x and hi == math.ceil(hi) else math.floor(hi))
    options = []
    if ilo is None or ihi is None or ilo <= ihi:
        options.append(_int_range(ilo, ihi))
    if not integer:
        # I.f with I >= 0 lies in (I, I+1): needs lo <= I and I + 1 <= hi.
        a = 0 if lo is None else max(0, math.ceil(lo))
        b = None if hi is None else math.floor(hi) - 1
        if b is None or a <= b:
            options.append(f"({_int_range(a, b)}) {_FRACTION}")
        # -k.f lies in (-(k+1), -k): needs lo <= -(k+1) and -k <= hi.
        ka = 0 if hi is None else max(0, math.ceil(-hi))
        kb = None if lo is None else math.floor(-lo) - 1
        if kb is None or ka <= kb:
            options.append(f'"-" ({_int_range(ka, kb)}) {_FRACTION}')
    if not options:
        raise InvalidRequest(
            f"No {'integer' if integer else 'number'} fits between {lo} and {hi} "
            "(number bounds closer than one unit are not supported).",
            param=PARAM,
        )
    return " | ".join(options)


_MAX_DIGITS = 15


def _int_range(lo: int | None, hi: int | None) -> str:
    """GBNF for the decimal integers from ``lo`` to ``hi`` (either may be open)."""
    if lo is not None and hi is not None and lo > hi:
        raise ValueError("empty range")
    parts = []
    if lo is None or lo < 0:  # the negative side: "-" then its magnitudes
        top = None if lo is None else -lo
        bottom = 1 if hi is None or hi >= 0 else -hi
        parts.append(f'"-" ({_naturals(bottom, top)})')
    if hi is None or hi >= 0:
        parts.append(_naturals(max(lo or 0, 0), hi))
    return " | ".join(parts)


def _naturals(lo: int, hi: int | None) -> str:
    """0 <= lo <= n <= hi (hi None: up to 16 digits), without leading zeros."""
    n_lo = len(str(lo))
    if hi is None:  # lo up to all nines of its length, then any longer number
        alts = [_same_length(str(lo), "9" * n_lo)]
        if n_lo <= _MAX_DIGITS:
            alts.append(f"[1-9] [0-9]{{{n_lo},{_MAX_DIGITS}}}")
        return " | ".join(alts)
    alts = []
    for n in range(n_lo, len(str(hi)) + 1):
        a, b = max(lo, 10 ** (n - 1) if n > 1 else 0), min(hi, 10**n - 1)
        alts.append(_same_length(str(a), str(b)))
    return " | ".join(alts)


def _same_length(a: str, b: str) -> str:
    """The numbers from ``a`` to ``b``, two digit strings of one length."""
    if not a:
        return '""'
    if a[0] == b[0]:
        rest = _same_length(a[1:], b[1:])
        return f'"{a[0]}"' + ("" if rest == '""' else f" ({rest})")
    n = len(a) - 1
    if a[1:] == "0" * n and b[1:] == "9" * n:
        return f"[{a[0]}-{b[0]}]" + _any_digits(n)
    alts = [f'"{a[0]}" ({_same_length(a[1:], "9" * n)})' if n else f'"{a[0]}"']
    if int(b[0]) - int(a[0]) > 1:
        alts.append(f"[{int(a[0]) + 1}-{int(b[0]) - 1}]" + _any_digits(n))
    alts.append(f'"{b[0]}" ({_same_length("0" * n, b[1:])})' if n else f'"{b[0]}"')
    return " | ".join(alts)


def _any_digits(n: int) -> str:
    return "" if n == 0 else " [0-9]" if n == 1 else f" [0-9]{{{n}}}"


# -- patterns ---------------------------------------------------------------------------------
_CONTROL = (0x00, 0x1F)
_CATEGORIES = {"DIGIT": [(48, 57)], "WORD": [(48, 57), (65, 90), (95, 95), (97, 122)], "SPACE": [(32, 32)]}


def pattern_gbnf(pattern: str, min_length: int = 0, max_length: int | None = None) -> str:
    """A JSON string's content matching ``pattern`` (searched, as JSON Schema does), as GBNF."""
    from re import _constants as c  # type: ignore[attr-defined]
    from re import _parser as sre  # type: ignore[attr-defined]

    try:
        parsed = sre.parse(pattern)
    except re.error as e:
        raise InvalidRequest(f"Invalid pattern {pattern!r}: {e}.", param=PARAM) from None
    if parsed.state.flags & (re.IGNORECASE | re.MULTILINE | re.DOTALL | re.VERBOSE):
        raise InvalidRequest(f"Pattern {pattern!r}: inline flags are not supported.", param=PARAM)
    items = list(parsed)
    anchored_start = bool(items) and items[0] == (c.AT, c.AT_BEGINNING)
    anchored_end = bool(items) and items[-1][0] is c.AT and items[-1][1] in (c.AT_END, c.AT_END_STRING)
    items = items[1 if anchored_start else 0 : len(items) - (1 if anchored_end else 0)]
    lo, hi = sre.SubPattern(parsed.state, items).getwidth()
    if min_length or max_length is not None:
        free = not (anchored_start and anchored_end)
        if lo < min_length or (max_length is not None and (free or hi > max_length)):
            raise InvalidRequest(
                f"Pattern {pattern!r} together with minLength/maxLength: the pattern alone must fix the length.",
                param=PARAM,
            )
    body = _regex(items, pattern) or '""'
    any_char = f"({_char_class([(0, 0x10FFFF)], False)})*"
    return " ".join(([] if anchored_start else [any_char]) + [body] + ([] if anchored_end else [any_char]))


def _regex(items: Any, pattern: str) -> str:  # noqa: C901 - one branch per regex construct
    from re import _constants as c  # type: ignore[attr-defined]

    out = []
    for op, av in items:
        if op is c.LITERAL:
            out.append(_json_literal(chr(av)))
        elif op is c.NOT_LITERAL:
            out.append(_char_class([(av, av)], True))
        elif op is c.ANY:
            out.append(_char_class([(10, 10), (13, 13)], True))
        elif op is c.IN:
            out.append(_in(av, pattern))
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", c.MAX_REPEAT)):
            lo, hi, sub = av
            inner = _regex(sub, pattern) or '""'
            top = "" if hi is c.MAXREPEAT else str(hi)
            out.append(f"({inner}){{{lo},{top}}}" if top != str(lo) else f"({inner}){{{lo}}}")
        elif op is c.SUBPATTERN:
            out.append(f"({_regex(av[-1], pattern) or chr(34) * 2})")
        elif op is c.BRANCH:
            out.append("(" + " | ".join(_regex(b, pattern) or '""' for b in av[1]) + ")")
        else:
            what = {c.AT: "anchors inside the pattern", c.ASSERT: "lookarounds", c.ASSERT_NOT: "lookarounds",
                    c.GROUPREF: "backreferences"}.get(op, str(op).lower())
            raise InvalidRequest(f"Pattern {pattern!r}: {what} are not supported.", param=PARAM)
    return " ".join(out)


def _in(av: Any, pattern: str) -> str:
    from re import _constants as c  # type: ignore[attr-defined]

    negate, ranges = False, []
    for op, v in av:
        if op is c.NEGATE:
            negate = True
        elif op is c.LITERAL:
            ranges.append((v, v))
        elif op is c.RANGE:
            ranges.append(v)
        elif op is c.CATEGORY:
            name = str(v).upper().replace("CATEGORY_", "")
            if name.startswith("NOT_") and not negate and len(av) == 1:
                return _char_class(_CATEGORIES[name[4:]], True)
            if name not in _CATEGORIES:
                raise InvalidRequest(f"Pattern {pattern!r}: {name.lower()} inside [...] is not supported.", param=PARAM)
            ranges += _CATEGORIES[name]
        else:
            raise InvalidRequest(f"Pattern {pattern!r}: {str(op).lower()} inside [...] is not supported.", param=PARAM)
    return _char_class(ranges, negate)


def _char_class(ranges: list[tuple[int, int]], negate: bool) -> str:
    """Characters as they appear inside a JSON string: plain where JSON allows, escaped ``"`` and ``\\``."""
    special = [(34, 34), (92, 92), _CONTROL, (0x7F, 0x7F)]
    if negate:
        return "[^" + "".join(_range(a, b) for a, b in [*ranges, *special]) + "]"
    plain = _subtract(ranges, special)
    alts = ["[" + "".join(_range(a, b) for a, b in plain) + "]"] if plain else []
    for ch in ('"', "\\"):
        if any(a <= ord(ch) <= b for a, b in ranges):
            alts.append(_json_literal(ch))
    if not alts:
        raise InvalidRequest("A pattern's character class allows no character a JSON string can hold.", param=PARAM)
    return alts[0] if len(alts) == 1 else "(" + " | ".join(alts) + ")"


def _subtract(ranges: list[tuple[int, int]], cut: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out = sorted(ranges)
    for x, y in cut:
        out = [part for a, b in out for part in ((a, min(b, x - 1)), (max(a, y + 1), b)) if part[0] <= part[1]]
    return out


def _range(a: int, b: int) -> str:
    return _class_char(a) if a == b else f"{_class_char(a)}-{_class_char(b)}"


def _class_char(cp: int) -> str:
    ch = chr(cp)
    if ch in "]-\\^[" or cp < 0x20 or cp > 0x7E:
        return f"\\x{cp:02X}" if cp < 0x100 else f"\\u{cp:04X}" if cp < 0x10000 else f"\\U{cp:08X}"
    return ch


def _json_literal(ch: str) -> str:
    """One character as a GBNF literal of its JSON spelling."""
    encoded = json.dumps(ch, ensure_ascii=False)[1:-1]
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'
