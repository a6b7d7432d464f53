"""Structured output on OpenAI's APIs: chat's ``response_format`` and Responses' ``text.format``
as the neutral :class:`~mockvendor.types.ResponseFormat`, with the rules OpenAI checks before
generating: ``json_object`` needs the word "json" in the conversation, and a ``strict`` schema
(response format or function tool) follows strict mode's rules: an object at the root, every
object with ``additionalProperties: false`` and all its properties ``required``, no ``allOf``,
``not``, ``if`` / ``then`` / ``else``, ``dependentRequired`` / ``dependentSchemas`` or
``patternProperties``, at most 10 levels of nesting and 5,000 properties. A schema breaking
one is refused in OpenAI's own words (``Invalid schema for response_format 'Order': In
context=('properties', 'items'), ...``), naming the place as OpenAI's ``context`` tuple.
"""

from __future__ import annotations

from typing import Any

from ...errors import InvalidRequest
from ...types import Message, ResponseFormat
from . import wire

MAX_DEPTH = 10
MAX_PROPERTIES = 5000
FORBIDDEN = ("allOf", "not", "if", "then", "else", "dependentRequired", "dependentSchemas", "patternProperties")


def chat_format(f: wire.ResponseFormat | None, messages: list[Message]) -> ResponseFormat | None:
    """Chat's ``response_format``: ``text`` (None here), ``json_object`` or ``json_schema``."""
    if f is None or isinstance(f, wire.FormatText):
        return None
    if isinstance(f, wire.FormatJSONObject):
        _needs_json_word(messages, "'messages' must contain the word 'json' in some form, to use 'response_format' "
                                   "of type 'json_object'.", "messages")
        return ResponseFormat("json_object")
    spec = f.json_schema
    if spec.strict:
        check_strict(spec.schema, f"response_format {spec.name!r}", "response_format")
    return ResponseFormat("json_schema", spec.schema, spec.name, bool(spec.strict))


def text_format(f: wire.TextFormat | None, messages: list[Message]) -> ResponseFormat | None:
    """Responses' ``text.format``: the same three kinds, ``json_schema`` flat."""
    if f is None or isinstance(f, wire.FormatText):
        return None
    if isinstance(f, wire.FormatJSONObject):
        _needs_json_word(messages, "Response input messages must contain the word 'json' in some form to use "
                                   "'text.format' of type 'json_object'.", "input")
        return ResponseFormat("json_object")
    if f.strict is not False:  # strict unless turned off, on this API
        check_strict(f.schema, f"text.format {f.name!r}", "text.format.schema")
    return ResponseFormat("json_schema", f.schema, f.name, f.strict is not False)


def _needs_json_word(messages: list[Message], message: str, param: str) -> None:
    if not any("json" in m.content.lower() for m in messages):
        raise InvalidRequest(message, param=param)


def check_strict(schema: Any, what: str, param: str) -> None:
    """Refuse (400) a schema strict mode does not accept; ``what`` names it as OpenAI does
    (``response_format 'Order'``, ``function 'get_weather'``)."""
    if schema is None:
        return
    root = _resolve(schema, schema)
    if not isinstance(root, dict) or root.get("type") != "object":
        got = root.get("type") if isinstance(root, dict) else type(root).__name__
        shown = f'type: "{got}"' if isinstance(got, str) else "anyOf" if isinstance(root, dict) and "anyOf" in root \
            else "no type"
        raise InvalidRequest(f"Invalid schema for {what}: schema must be a JSON Schema of 'type: \"object\"', "
                             f"got '{shown}'.", param=param)
    count = [0]
    _walk(schema, schema, (), what, param, count, set())


def _resolve(node: Any, root: Any) -> Any:
    seen = 0
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and seen < 32:
        ref, seen = node["$ref"], seen + 1
        if not ref.startswith("#"):
            return node
        target: Any = root
        for part in filter(None, ref[1:].split("/")):
            target = target.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(target, dict) else None
        node = target
    return node


def _fail(what: str, context: tuple[str, ...], problem: str, param: str) -> None:
    raise InvalidRequest(f"Invalid schema for {what}: In context={context!r}, {problem}", param=param)


def _walk(node: Any, root: Any, context: tuple[str, ...], what: str, param: str, count: list[int],
          refs: set[str]) -> None:
    if not isinstance(node, dict):
        return
    if isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        if ref not in refs:  # each definition is checked once (recursion allowed)
            refs.add(ref)
            _walk(_resolve(node, root), root, context, what, param, count, refs)
        return
    depth = sum(1 for c in context if c == "properties")
    if depth > MAX_DEPTH:
        _fail(what, context, f"the schema is nested more than {MAX_DEPTH} levels deep.", param)
    for key in FORBIDDEN:
        if key in node:
            _fail(what, context, f"'{key}' is not permitted.", param)
    types = node.get("type")
    is_object = types == "object" or (isinstance(types, list) and "object" in types) or "properties" in node
    if is_object:
        props = node.get("properties") or {}
        if node.get("additionalProperties") is not False:
            _fail(what, context, "'additionalProperties' is required to be supplied and to be false.", param)
        required = node.get("required") or []
        missing = [k for k in props if k not in required]
        if missing or not isinstance(required, list):
            _fail(what, context, "'required' is required to be supplied and to be an array including every key "
                                 f"in properties. Missing {missing[0]!r}." if missing else "'required' must be an "
                                 "array.", param)
        extra = [k for k in required if k not in props]
        if extra:
            _fail(what, context, f"'required' names {extra[0]!r}, which is not in properties.", param)
        count[0] += len(props)
        if count[0] > MAX_PROPERTIES:
            _fail(what, context, f"a schema may have at most {MAX_PROPERTIES} object properties in total.", param)
        for name, sub in props.items():
            _walk(sub, root, (*context, "properties", name), what, param, count, refs)
    if "items" in node:
        _walk(node["items"], root, (*context, "items"), what, param, count, refs)
    for key in ("anyOf", "oneOf"):
        for i, sub in enumerate(node.get(key) or []):
            _walk(sub, root, (*context, key, str(i)), what, param, count, refs)
    for key in ("$defs", "definitions"):
        for name, sub in (node.get(key) or {}).items():
            ref = f"#/{key}/{name}"
            if ref not in refs:
                refs.add(ref)
                _walk(sub, root, (key, name), what, param, count, refs)
