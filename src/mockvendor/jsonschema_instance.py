"""The smallest valid instance of a JSON Schema, for answers that must parse instantly.

Smallest means: required properties only, ``minItems`` items, the first ``enum`` / ``const``
value, the first ``anyOf`` / ``oneOf`` branch (and first ``type`` of a list) that can be
built, numbers at their minimum, strings at ``minLength`` (a ``format`` gets a fixed
sample, a ``pattern`` its shortest match where we can build one). ``$ref`` (local
pointers, ``#`` included) and ``$defs`` / ``definitions`` are followed; a branch that
would recurse forever is skipped for the next one.
"""

from __future__ import annotations

import math
import re
from typing import Any

FORMATS = {
    "date": "2026-01-15", "date-time": "2026-01-15T09:30:00Z", "time": "09:30:00Z",
    "email": "user@example.com", "idn-email": "user@example.com", "uri": "https://example.com/",
    "url": "https://example.com/", "iri": "https://example.com/", "hostname": "example.com",
    "uuid": "123e4567-e89b-42d3-a456-426614174000", "ipv4": "192.0.2.1", "ipv6": "2001:db8::1",
    "duration": "P1D",
}


class Unbuildable(ValueError):
    """No instance could be built (a cycle with no way out, or contradictory bounds)."""


def smallest_instance(schema: Any) -> Any:
    """The smallest value valid against ``schema`` (see the module doc); raises :class:`Unbuildable`."""
    return _Maker(schema).make(schema, ())


def smallest_instance_at(root: Any, ref: str) -> Any:
    """The smallest value valid against the schema ``ref`` points to inside ``root``."""
    return _Maker(root).make({"$ref": ref}, ())


class _Maker:
    def __init__(self, root: Any) -> None:
        self.root = root

    def resolve(self, ref: str) -> Any:
        node = self.root
        for part in [p for p in ref.lstrip("#").split("/") if p]:
            part = part.replace("~1", "/").replace("~0", "~")
            node = node[int(part)] if isinstance(node, list) else node[part]
        return node

    def make(self, s: Any, refs: tuple[str, ...]) -> Any:  # noqa: C901 - one branch per keyword
        if s is True or s == {}:
            return None
        if not isinstance(s, dict):
            raise Unbuildable(f"not a schema: {s!r}")
        if "$ref" in s:
            ref = s["$ref"]
            if ref in refs:  # this branch only goes round in a circle
                raise Unbuildable(f"{ref} refers to itself with no way out")
            return self.make(self.resolve(ref), (*refs, ref))
        if "const" in s:
            return s["const"]
        if isinstance(s.get("enum"), list) and s["enum"]:
            return s["enum"][0]
        for key in ("anyOf", "oneOf"):
            if isinstance(s.get(key), list):
                return self.first(s[key], refs)
        if isinstance(s.get("allOf"), list):
            merged: dict[str, Any] = {k: v for k, v in s.items() if k != "allOf"}
            for part in s["allOf"]:
                part = self.resolve(part["$ref"]) if isinstance(part, dict) and "$ref" in part else part
                if isinstance(part, dict):
                    merged = {**merged, **part,
                              "properties": {**merged.get("properties", {}), **part.get("properties", {})},
                              "required": [*merged.get("required", []), *part.get("required", [])]}
            return self.make(merged, refs)
        t = s.get("type")
        if isinstance(t, list):
            return self.first([{**s, "type": x} for x in t], refs)
        if t is None:
            t = "object" if "properties" in s else "array" if "items" in s or "prefixItems" in s else None
            if t is None:
                return None
        t = str(t).lower()
        if t == "object":
            props = s.get("properties") or {}
            names = list(s.get("required") or [])
            for name in props:  # more properties only if the schema asks for more
                if len(names) >= int(s.get("minProperties", 0)):
                    break
                if name not in names:
                    names.append(name)
            return {n: self.make(props.get(n, {}), refs) for n in names}
        if t == "array":
            n = int(s.get("minItems", 0))
            prefix = s.get("prefixItems") or (s["items"] if isinstance(s.get("items"), list) else [])
            rest = s.get("items") if isinstance(s.get("items"), dict) else {}
            return [self.make(prefix[i] if i < len(prefix) else rest, refs) for i in range(n)]
        if t in ("integer", "number"):
            return _number(s, t == "integer")
        if t == "string":
            return _string(s)
        if t == "boolean":
            return False
        if t == "null":
            return None
        raise Unbuildable(f"unknown type {t!r}")

    def first(self, options: list[Any], refs: tuple[str, ...]) -> Any:
        errors = []
        for option in options:
            try:
                return self.make(option, refs)
            except Unbuildable as e:
                errors.append(str(e))
        raise Unbuildable("; ".join(errors) or "an empty anyOf")


def bound(s: dict[str, Any], plain: str, excl: str) -> tuple[float | None, bool]:
    """(bound, exclusive), from draft 6+ (a number) or draft 4 (a boolean) exclusivity."""
    value, flag = s.get(plain), s.get(excl)
    if isinstance(flag, bool):
        return value, flag
    if isinstance(flag, (int, float)) and (value is None or (flag >= value if plain == "minimum" else flag <= value)):
        return flag, True
    return value, False


def _number(s: dict[str, Any], integer: bool) -> int | float:
    lo, lo_x = bound(s, "minimum", "exclusiveMinimum")
    hi, hi_x = bound(s, "maximum", "exclusiveMaximum")
    value: float
    if lo is not None:
        value = (math.floor(lo) + 1 if integer else lo + 1) if lo_x else (math.ceil(lo) if integer else lo)
        if not integer and hi is not None and (value > hi or (hi_x and value >= hi)):
            value = (lo + hi) / 2
    elif hi is None or 0 < hi or (hi == 0 and not hi_x):
        value = 0
    else:  # only an upper bound, below zero
        value = (math.ceil(hi) - 1 if integer else hi - 1) if hi_x else (math.floor(hi) if integer else hi)
    mult = s.get("multipleOf")
    if isinstance(mult, (int, float)) and not isinstance(mult, bool) and mult > 0:
        value = math.ceil(value / mult) * mult
    if integer:
        return int(value)
    return int(value) if float(value).is_integer() else value


def _string(s: dict[str, Any]) -> str:
    fmt = s.get("format")
    pattern = s.get("pattern")
    lo = int(s.get("minLength", 0))
    text = ""
    if isinstance(pattern, str):
        text = shortest_match(pattern) or ""
    elif isinstance(fmt, str) and fmt in FORMATS:
        text = FORMATS[fmt]
    if len(text) < lo:
        text += "a" * (lo - len(text))
    return text


def shortest_match(pattern: str) -> str | None:
    """A short string that ``re.search(pattern, ...)`` finds, or None if we cannot build one."""
    try:
        from re import _parser as sre_parse  # type: ignore[attr-defined]

        text = _build(sre_parse.parse(pattern))
    except Exception:
        return None
    try:
        return text if re.search(pattern, text) else None
    except re.error:
        return None


def _build(items: Any) -> str:  # noqa: C901 - one branch per regex construct
    from re import _constants as c  # type: ignore[attr-defined]

    out = []
    for op, av in items:
        if op is c.LITERAL:
            out.append(chr(av))
        elif op is c.NOT_LITERAL:
            out.append("a" if chr(av) != "a" else "b")
        elif op is c.ANY:
            out.append("a")
        elif op is c.IN:
            out.append(_in(av))
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
            lo, _hi, sub = av
            out.append(_build(sub) * lo)
        elif op is c.SUBPATTERN:
            out.append(_build(av[-1]))
        elif op is c.ATOMIC_GROUP:
            out.append(_build(av))
        elif op is c.BRANCH:
            out.append(min((_build(b) for b in av[1]), key=len))
        elif op in (c.AT, c.ASSERT_NOT):
            continue
        else:
            raise ValueError(f"unsupported regex construct {op}")
    return "".join(out)


def _in(av: Any) -> str:
    from re import _constants as c  # type: ignore[attr-defined]

    negate = any(op is c.NEGATE for op, _ in av)
    if negate:
        banned = set()
        for op, v in av:
            if op is c.LITERAL:
                banned.add(chr(v))
            elif op is c.RANGE:
                banned.update(chr(x) for x in range(v[0], min(v[1], 0x2FF) + 1))
        return next(ch for ch in "abcxyzABC019_" if ch not in banned)
    op, v = av[0]
    if op is c.LITERAL:
        return chr(v)
    if op is c.RANGE:
        return chr(v[0])
    if op is c.CATEGORY:
        return {c.CATEGORY_DIGIT: "0", c.CATEGORY_SPACE: " ", c.CATEGORY_WORD: "a"}.get(v, "a")
    raise ValueError("unsupported character class")
