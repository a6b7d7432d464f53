"""Wire-format declarations: each request and response body is declared once, as msgspec
``Struct`` types, and both of its uses come from that one declaration:

- :func:`decode` parses a JSON body into the declared type, and a body that does not fit
  becomes an :class:`~mockvendor.errors.InvalidRequest` naming the field (``param`` is its
  path, ``messages[2].content``) in the words of a :class:`Wording` (a vendor may bring
  its own);
- :func:`schema` gives the JSON Schema the OpenAPI document shows (the docs page, the
  chat page and the fuzzer all read it), with every ``$ref`` inlined.

Adding a parameter is one edit: a field on the Struct, with its constraints in
``Annotated[..., Meta(ge=..., description=...)]``. Rules that span several fields, or
that no JSON Schema keyword states, live in the Struct's ``__post_init__``: raise
``ValueError("...")`` there and the message becomes the 400 (msgspec adds the path).
"""

from __future__ import annotations

import copy
import functools
import re
from typing import Any, TypeVar

import msgspec
from msgspec import inspect as mi

from .errors import InvalidRequest

T = TypeVar("T")

__all__ = ["Wording", "PydanticWording", "decode", "schema", "problem_of", "Problem"]


class Problem(msgspec.Struct, frozen=True):
    """What did not fit, read off msgspec's error: ``kind`` is one of ``missing``,
    ``type``, ``bound``, ``length``, ``pattern``, ``enum``, ``unknown`` or ``custom``."""

    kind: str
    path: str  # "messages[0].role"; "" for the body itself
    text: str  # msgspec's own message, for kinds this module does not know
    expected: str = ""  # "int | null"
    got: str = ""  # "str"
    op: str = ""  # ">=", "<=", ">", "<"
    bound: str = ""  # the constraint's number
    what: str = ""  # the constrained thing: "int", "float", "str", "array", "object"
    value: Any = None  # the offending value, when the path reaches it
    allowed: tuple[Any, ...] = ()  # an enum's or a tagged union's values


class Wording:
    """A vendor's words for each kind of :class:`Problem`. The defaults are mockvendor's
    (``Field 'max_tokens' must be an integer, got a string.``); a vendor whose clients
    expect other words subclasses this and overrides what differs."""

    TYPES = {
        "int": "an integer", "float": "a number", "str": "a string", "bool": "a boolean", "null": "null",
        "object": "an object", "array": "an array", "bytes": "a string",
    }

    def name(self, t: str) -> str:
        return self.TYPES.get(t, t)

    def names(self, expected: str) -> str:
        parts = [self.name(t.strip()) for t in expected.split("|")]
        return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]

    def message(self, p: Problem) -> str:
        f = p.path
        if p.kind == "missing":
            return f"Missing required field '{f}'."
        if p.kind == "type":
            if not f:
                return f"Request body must be a JSON object, got {self.name(p.got)}."
            return f"Field '{f}' must be {self.names(p.expected)}, got {self.name(p.got)}."
        if p.kind == "bound":
            words = {">=": "at least", "<=": "at most", ">": "greater than", "<": "less than"}[p.op]
            got = "" if p.value is None else f", got {p.value!r}"
            return f"Field '{f}' must be {words} {p.bound}{got}."
        if p.kind == "length":
            n = int(p.bound)
            if p.what == "str":
                if p.op == ">=" and n == 1:
                    return f"Field '{f}' must not be empty."
                if p.op == "<=":
                    return f"Field '{f}' is longer than {n} characters."
                return f"Field '{f}' must be at least {n} characters long."
            if p.op == ">=" and n == 1:
                return f"Field '{f}' must be a non-empty {'array' if p.what == 'array' else 'object'}."
            if p.op == "<=":
                return f"Field '{f}' may hold at most {n} items."
            return f"Field '{f}' must hold at least {n} items."
        if p.kind == "pattern":
            return f"Field '{f}' must match the pattern '{p.bound}'."
        if p.kind == "enum":
            allowed = ", ".join(repr(a) for a in p.allowed)
            return f"Invalid value {p.value!r} for '{f}'" + (f": expected one of {allowed}." if allowed else ".")
        if p.kind == "unknown":
            return f"Unknown field '{f}'."
        return p.text

    def error(self, p: Problem) -> InvalidRequest:
        return InvalidRequest(self.message(p), param=p.path or None)

    def locate(self, p: Problem, kind: Any, data: Any) -> Problem:
        """The problem with its path as this vendor writes paths (mockvendor's:
        ``messages[0].content``, unchanged)."""
        return p


class PydanticWording(Wording):
    """The words of an API validated by pydantic (Anthropic's, Mistral's): ``messages.0.role:
    Input should be 'user' or 'assistant'``. Paths are dotted, list indices included, and a
    tagged union's member is named by its tag (``messages.1.content.0.tool_use.input``)."""

    TYPES = {
        "int": "a valid integer", "float": "a valid number", "str": "a valid string", "bool": "a valid boolean",
        "null": "null", "object": "a valid dictionary", "array": "a valid list", "bytes": "a valid string",
    }
    BOUNDS = {">=": "greater than or equal to", "<=": "less than or equal to", ">": "greater than", "<": "less than"}

    def text(self, p: Problem) -> str:
        """The words after ``path: ``."""
        if p.kind == "missing":
            return "Field required"
        if p.kind == "type" and not p.path:
            return "Input should be a valid dictionary or object to extract fields from"
        if p.kind == "type":
            return f"Input should be {self.names(p.expected)}"
        if p.kind == "bound":
            return f"Input should be {self.BOUNDS[p.op]} {p.bound}"
        if p.kind == "length":
            n = int(p.bound)
            what = "String" if p.what == "str" else ("List" if p.what == "array" else "Dictionary")
            unit = "character" if p.what == "str" else "item"
            return f"{what} should have {'at least' if p.op == '>=' else 'at most'} {n} {unit}{'' if n == 1 else 's'}"
        if p.kind == "pattern":
            return f"String should match pattern '{p.bound}'"
        if p.kind == "enum" and p.what == "tag":
            tags = ", ".join(f"'{a}'" for a in p.allowed)
            return f"Input tag {p.value!r} found using '{p.path.rpartition('.')[2]}' does not match any of the " \
                   f"expected tags: {tags}"
        if p.kind == "enum":
            allowed = [f"'{a}'" if isinstance(a, str) else repr(a) for a in p.allowed]
            if not allowed:
                return "Input should be one of the allowed values"
            return "Input should be " + (allowed[0] if len(allowed) == 1 else
                                         ", ".join(allowed[:-1]) + " or " + allowed[-1])
        if p.kind == "unknown":
            return "Extra inputs are not permitted"
        return p.text

    def message(self, p: Problem) -> str:
        where = p.path.rpartition(".")[0] if p.kind == "enum" and p.what == "tag" else p.path
        return f"{where}: {self.text(p)}" if where else self.text(p)

    def locate(self, p: Problem, kind: Any, data: Any) -> Problem:
        segs = _segments(p.path if p.path.startswith("[") else "." + p.path) if p.path else []
        out: list[str] = []
        what = p.what
        t: mi.Type | None = mi.type_info(kind)
        node = data
        for i, s in enumerate(segs):
            if t is not None:
                union = _tagged(t)
                if union is not None and s == union[0] and i == len(segs) - 1 and p.kind == "enum":
                    what = "tag"  # the tag itself does not fit: pydantic names the union
                t = _step(t, s)
            node = _value_at(node, [s])
            out.append(str(s))
            if t is not None and isinstance(node, dict) and i < len(segs) - 1:
                union = _tagged(t)
                if union is not None and node.get(union[0]) in union[1] and segs[i + 1] != union[0]:
                    out.append(str(node[union[0]]))
        return msgspec.structs.replace(p, path=".".join(out), what=what)


DEFAULT = Wording()

_AT = re.compile(r"^(?P<text>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)
_TYPE = re.compile(r"^Expected `(?P<expected>[^`]+)`, got `(?P<got>[^`]+)`$")
_BOUND = re.compile(r"^Expected `(?P<what>int|float)` (?P<op>>=|<=|>|<) (?P<bound>\S+)$")
_LENGTH = re.compile(r"^Expected `(?P<what>\w+)` of length (?P<op>>=|<=) (?P<bound>\d+)$")
_PATTERN = re.compile(r"^Expected `str` matching regex '(?P<bound>.*)'$", re.S)
_MISSING = re.compile(r"^Object missing required field `(?P<field>[^`]+)`$")
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<field>[^`]+)`$")
_ENUM = re.compile(r"^Invalid (?:enum )?value (?P<value>.+)$", re.S)
_SEGMENT = re.compile(r"\.([^.\[]+)|\[(\d+)\]")


def _segments(path: str) -> list[str | int]:
    return [int(i) if i else k for k, i in _SEGMENT.findall(path)]


def _join(segs: list[str | int]) -> str:
    out = ""
    for s in segs:
        out += f"[{s}]" if isinstance(s, int) else (f".{s}" if out else s)
    return out


def _value_at(data: Any, segs: list[str | int]) -> Any:
    for s in segs:
        try:
            data = data[s]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def problem_of(err: msgspec.ValidationError, kind: Any, data: Any) -> Problem:
    """Read msgspec's error message into a :class:`Problem` (its format is msgspec's
    documented ``<message> - at `$<path>```)."""
    m = _AT.match(str(err))
    assert m is not None
    text, segs = m["text"], _segments(m["path"] or "")
    path = _join(segs)
    if mm := _MISSING.match(text):
        return Problem("missing", _join([*segs, mm["field"]]), text)
    if mm := _UNKNOWN.match(text):
        return Problem("unknown", _join([*segs, mm["field"]]), text)
    if mm := _TYPE.match(text):
        return Problem("type", path, text, expected=mm["expected"], got=mm["got"])
    if mm := _BOUND.match(text):
        return Problem("bound", path, text, op=mm["op"], bound=mm["bound"], what=mm["what"],
                       value=_value_at(data, segs))
    if mm := _LENGTH.match(text):
        return Problem("length", path, text, op=mm["op"], bound=mm["bound"], what=mm["what"])
    if mm := _PATTERN.match(text):
        return Problem("pattern", path, text, bound=mm["bound"])
    if mm := _ENUM.match(text):
        return Problem("enum", path, text, value=_value_at(data, segs), allowed=_allowed(kind, segs))
    return Problem("custom", path, text)


def decode(kind: type[T], data: Any, wording: Wording = DEFAULT) -> T:
    """``data`` (parsed JSON) as the declared ``kind``, or a 400 naming what does not fit."""
    try:
        return msgspec.convert(data, kind, strict=True)
    except msgspec.ValidationError as e:
        raise wording.error(wording.locate(problem_of(e, kind, data), kind, data)) from None


# -- what a path may hold, for the enum message -----------------------------------------------
def _allowed(kind: Any, segs: list[str | int]) -> tuple[Any, ...]:
    try:
        t = mi.type_info(kind)
        for s in segs:
            t = _step(t, s)
            if t is None:
                return ()
        return _literals(t)
    except Exception:  # the message is still right without the list
        return ()


def _members(t: mi.Type) -> list[mi.Type]:
    while isinstance(t, mi.Metadata):  # Annotated[..., Meta(...)]
        t = t.type
    members = list(t.types) if isinstance(t, mi.UnionType) else [t]
    return [m.type if isinstance(m, mi.Metadata) else m for m in members]


def _step(t: mi.Type, seg: str | int) -> mi.Type | None:
    for m in _members(t):
        if isinstance(seg, int) and isinstance(m, mi.ListType | mi.SetType | mi.VarTupleType | mi.FrozenSetType):
            return m.item_type
        if isinstance(seg, str) and isinstance(m, mi.DictType):
            return m.value_type
        if isinstance(seg, str) and isinstance(m, mi.StructType):
            for f in m.fields:
                if f.encode_name == seg:
                    return f.type
            if m.tag_field == seg:
                return _tags(t, seg)
    return None


def _tagged(t: mi.Type) -> tuple[str, tuple[Any, ...]] | None:
    """A tagged union's tag field and tags (None for any other type)."""
    members = [m for m in _members(t) if isinstance(m, mi.StructType) and m.tag_field]
    if len(members) < 2:
        return None
    return members[0].tag_field, tuple(m.tag for m in members)


def _tags(t: mi.Type, field: str) -> mi.Type:
    """The values a tagged union's ``field`` may take, as a literal."""
    values = tuple(m.tag for m in _members(t) if isinstance(m, mi.StructType) and m.tag_field == field)
    return mi.LiteralType(values)


def _literals(t: mi.Type) -> tuple[Any, ...]:
    out: list[Any] = []
    for m in _members(t):
        if isinstance(m, mi.LiteralType):
            out.extend(m.values)
        elif isinstance(m, mi.EnumType):
            out.extend(e.value for e in m.cls)
    return tuple(out)


# -- the OpenAPI side --------------------------------------------------------------------------
def schema(kind: Any) -> dict[str, Any]:
    """The declared type's JSON Schema, every ``$ref`` inlined (the OpenAPI document is read by
    tools that resolve references against the document, not the schema). A recursive
    declaration keeps its inner occurrences as plain objects, described by name."""
    return copy.deepcopy(_schema(kind))


@functools.cache
def _schema(kind: Any) -> dict[str, Any]:
    raw = msgspec.json.schema(kind)
    defs = raw.pop("$defs", {})
    return _inline(raw, defs, ())


def _inline(node: Any, defs: dict[str, Any], seen: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_inline(n, defs, seen) for n in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        name = ref.removeprefix("#/$defs/")
        if name in seen:
            return {"type": "object", "description": f"A {name} (recursive)."}
        target = _inline(defs[name], defs, (*seen, name))
        rest = {k: v for k, v in node.items() if k != "$ref"}
        return {**target, **rest}
    out = {}
    for k, v in node.items():
        if k == "discriminator" and isinstance(v, dict):
            out[k] = {"propertyName": v["propertyName"]}  # its mapping names $defs that are gone
        elif k == "title" and isinstance(v, str) and v in defs:
            continue  # a Python class name says nothing to an API user
        else:
            out[k] = _inline(v, defs, seen)
    return _hoist(out)


def _hoist(node: dict[str, Any]) -> dict[str, Any]:
    """``Annotated[X, Meta(description=...)] | None`` puts the words inside the ``anyOf``;
    readers (the docs page, people) look for them on the field, so they move up."""
    members = node.get("anyOf")
    if isinstance(members, list) and "description" not in node:
        described = [m for m in members if isinstance(m, dict) and m.get("type") != "null"]
        if len(described) == 1 and "description" in described[0]:
            node = {"description": described[0]["description"], **node}
            node["anyOf"] = [{k: v for k, v in m.items() if k != "description"} if m is described[0] else m
                             for m in members]
    return node
