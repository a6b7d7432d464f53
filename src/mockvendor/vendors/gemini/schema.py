"""Gemini's structured output: ``generationConfig.responseMimeType`` with ``responseSchema``
(Gemini's Schema object, an OpenAPI 3.0 subset: ``type`` in capitals, ``nullable``,
``propertyOrdering``, integers that may arrive as strings) or ``responseJsonSchema`` (JSON
Schema as is), as the neutral :class:`~mockvendor.types.ResponseFormat`."""

from __future__ import annotations

from typing import Any

from ...errors import InvalidRequest
from ...types import ResponseFormat

_INTS = ("minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties")
_NUMBERS = ("minimum", "maximum")
_KEPT = ("format", "pattern", "title", "description", "default")


def response_format(mime: str | None, schema: dict[str, Any] | None, json_schema: dict[str, Any] | None,
                    at: str) -> ResponseFormat | None:
    """The answer's format; ``at`` is where the generationConfig sits (for error params)."""
    where = f"{at}generationConfig."
    if schema is not None and json_schema is not None:
        raise InvalidRequest("'responseSchema' and 'responseJsonSchema' cannot both be set: send one of them.",
                             param=where + "responseJsonSchema")
    if (schema is not None or json_schema is not None) and mime != "application/json":
        field = "responseSchema" if schema is not None else "responseJsonSchema"
        raise InvalidRequest(f"'{field}' needs 'responseMimeType' to be 'application/json' (got "
                             f"{mime or 'text/plain'!r}).", param=where + "responseMimeType")
    if mime != "application/json":
        return None
    if json_schema is not None:
        return ResponseFormat("json_schema", json_schema)
    if schema is not None:
        return ResponseFormat("json_schema", to_json_schema(schema, where + "responseSchema"))
    return ResponseFormat("json_object")


def to_json_schema(s: Any, param: str) -> dict[str, Any]:
    """Gemini's Schema object as JSON Schema (snake_case keys, as the Python SDK sends some, too)."""
    if not isinstance(s, dict):
        raise InvalidRequest(f"Invalid value at '{param}': expected a Schema object.", param=param)
    s = {_camel(k): v for k, v in s.items()}
    out: dict[str, Any] = {}
    kind = s.get("type")
    if isinstance(kind, str) and kind.upper() not in ("", "TYPE_UNSPECIFIED"):
        lower = kind.lower()
        if lower not in ("string", "number", "integer", "boolean", "array", "object", "null"):
            raise InvalidRequest(f"Invalid value at '{param}.type': {kind!r} is not a Schema type.",
                                 param=f"{param}.type")
        out["type"] = lower
    for key in _KEPT:
        if key in s:
            out[key] = s[key]
    if "enum" in s:
        out["enum"] = list(s["enum"])
    for key in _INTS:
        if key in s:
            out[key] = _number(s[key], f"{param}.{key}", int)
    for key in _NUMBERS:
        if key in s:
            out[key] = _number(s[key], f"{param}.{key}", float)
    if isinstance(s.get("properties"), dict):
        props = s["properties"]
        order = [k for k in s.get("propertyOrdering") or [] if k in props]
        order += [k for k in props if k not in order]
        out["properties"] = {k: to_json_schema(props[k], f"{param}.properties.{k}") for k in order}
    if "required" in s:
        out["required"] = list(s["required"])
    if "items" in s:
        out["items"] = to_json_schema(s["items"], f"{param}.items")
    if isinstance(s.get("anyOf"), list):
        out["anyOf"] = [to_json_schema(x, f"{param}.anyOf[{i}]") for i, x in enumerate(s["anyOf"])]
    if s.get("nullable") is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


def _number(v: Any, param: str, kind: type) -> Any:
    try:
        return kind(v)
    except (TypeError, ValueError):
        raise InvalidRequest(f"Invalid value at '{param}': expected a number, got {v!r}.", param=param) from None
