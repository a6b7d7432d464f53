"""Rules files, and other mocks' fixture files read as rules, so a team moves over
without rewriting:

- our own: a list of rules, or ``{"rules": [...]}`` (a cassette is one too);
- CopilotKit aimock: ``{"fixtures": [{"match": {"userMessage": ..., "toolName": ...,
  "model": ..., "responseFormat": ..., "sequenceIndex": ..., "hasToolResult": ...,
  "toolResultContains": ...}, "response": {"content": ..., "toolCalls": [...],
  "blocks": [...], "error": {...}, "latency": ..., "chunkSize": ...}}]}``;
- stacklok mockllm: ``{"responses": {"<prompt>": "<answer>"}, "defaults":
  {"unknown_response": ...}}``: the last user message, lower-cased and stripped, equals
  the prompt; anything else gets ``unknown_response``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from ..errors import InvalidRequest


def read_document(path: str) -> Any:
    """A YAML (.yaml/.yml) or JSON file's content."""
    text = Path(path).read_text(encoding="utf-8")
    if Path(path).suffix in (".yaml", ".yml"):
        import yaml

        return yaml.safe_load(text)
    return orjson.loads(text)


def rule_docs(doc: Any, source: str = "rules") -> list[dict[str, Any]]:
    """The rule documents a file holds, whichever of the formats above it is in."""
    if doc is None:
        return []
    if isinstance(doc, list):
        return doc
    if not isinstance(doc, dict):
        raise InvalidRequest(f"{source}: a rules file holds a list of rules or an object with rules.")
    if "rules" in doc:
        rules = doc["rules"]
        if not isinstance(rules, list):
            raise InvalidRequest(f"{source}: rules must be a list.")
        return rules
    if "fixtures" in doc:
        return [from_aimock(f, f"{source}.fixtures[{i}]") for i, f in enumerate(doc["fixtures"] or [])]
    if "responses" in doc:
        return from_mockllm(doc)
    raise InvalidRequest(f"{source}: expected rules, aimock fixtures or mockllm responses.")


def from_aimock(f: Any, where: str) -> dict[str, Any]:
    if not isinstance(f, dict):
        raise InvalidRequest(f"{where} must be an object with match and response.")
    m = f.get("match") or {}
    match: dict[str, Any] = {}
    if "userMessage" in m:
        match["user"] = m["userMessage"]
    if "toolName" in m:
        match["tools"] = [m["toolName"]]
    if "model" in m:
        match["model"] = m["model"]
    if "responseFormat" in m:
        match["structured"] = True
    if "sequenceIndex" in m:
        match["seq"] = m["sequenceIndex"]
    if "hasToolResult" in m:
        match["tool_result"] = bool(m["hasToolResult"])
    if "toolResultContains" in m:
        match["tool_result"] = m["toolResultContains"]
    r = f.get("response") or {}
    answer: dict[str, Any] = {}
    blocks = r.get("blocks") or []
    text = r.get("content")
    calls = list(r.get("toolCalls") or [])
    for b in blocks:
        if b.get("type") == "text":
            text = (text or "") + b.get("text", "")
        elif b.get("type") == "toolCall":
            calls.append({"name": b.get("name"), "arguments": b.get("arguments", {})})
    if text is not None:
        answer["text"] = text
    if calls:
        answer["tool_calls"] = [{"name": c.get("name"), "arguments": c.get("arguments", {}),
                                 **({"id": c["id"]} if c.get("id") else {})} for c in calls]
    err = r.get("error")
    if isinstance(err, dict):
        answer["fault"] = str(r.get("status") or err.get("status") or 500)
    stream: dict[str, Any] = {}
    if r.get("chunkSize"):
        stream["chunk_size"] = int(r["chunkSize"])
    if r.get("latency"):
        stream["delay_ms"] = float(r["latency"])
    if stream:
        answer["stream"] = stream
    out = {"match": match, "answer": answer or {"passthrough": True}}
    if f.get("name"):
        out["name"] = f["name"]
    return out


def from_mockllm(doc: dict[str, Any]) -> list[dict[str, Any]]:
    responses = doc.get("responses") or {}
    if not isinstance(responses, dict):
        raise InvalidRequest("mockllm responses must map prompts to answers.")
    rules: list[dict[str, Any]] = [
        {"match": {"user": {"regex": r"\A\s*" + _escape(str(prompt).lower().strip()) + r"\s*\Z",
                            "ignore_case": True}},
         "answer": {"text": str(answer)}}
        for prompt, answer in responses.items()
    ]
    unknown = (doc.get("defaults") or {}).get("unknown_response")
    if unknown is not None:
        rules.append({"match": {}, "answer": {"text": str(unknown)}})
    return rules


def _escape(text: str) -> str:
    import re

    return re.escape(text)
