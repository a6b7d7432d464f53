"""Regenerate openai_examples.json from OpenAI's published OpenAPI document (MIT licence).

Usage: python tests/conformance/extract_openai.py /path/to/openai-openapi.json

Keeps, for the operations the conformance test covers, every ``x-oaiMeta`` example's curl request
(method, path, JSON body exactly as published) and the response schemas with every component they
reference, so the test validates answers against OpenAI's own schemas without the 3 MB document.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

OPS = [("/chat/completions", "post"), ("/completions", "post"), ("/responses", "post"),
       ("/embeddings", "post"), ("/models", "get"), ("/models/{model}", "get")]


def _curl(cmd: str) -> tuple[str, str, dict | None]:
    url = re.search(r"curl\s+(?:-X\s+\w+\s+)?\"?(https://api\.openai\.com/v1\S*?)\"?\s", cmd + " ").group(1)
    method = (re.search(r"-X\s+(\w+)", cmd) or [None, "GET"])[1]
    m = re.search(r"-d\s+'(.*)'", cmd, re.S)
    body = json.loads(m.group(1)) if m else None
    if body is not None and method == "GET":
        method = "POST"
    return method, url.removeprefix("https://api.openai.com"), body


def _refs(node: object, out: set[str]) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                out.add(v.rsplit("/", 1)[1])
            else:
                _refs(v, out)
    elif isinstance(node, list):
        for v in node:
            _refs(v, out)


def main(src: str) -> None:
    doc = json.loads(Path(src).read_text())
    comps = doc["components"]["schemas"]
    examples, roots = [], set()
    for path, method in OPS:
        op = doc["paths"][path][method]
        exs = op["x-oaiMeta"]["examples"]
        for ex in exs if isinstance(exs, list) else [exs]:
            http_method, url, body = _curl(ex["request"]["curl"])
            examples.append({"operation": op["operationId"], "title": ex.get("title") or "Default",
                             "method": http_method, "path": url, "body": body})
        schemas = {}
        for ctype, c in op["responses"]["200"]["content"].items():
            ref = c["schema"]["$ref"].rsplit("/", 1)[1]
            schemas[ctype] = ref
            roots.add(ref)
        for e in examples:
            if e["operation"] == op["operationId"]:
                e["response_schemas"] = schemas
    keep: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in keep:
            continue
        keep.add(name)
        found: set[str] = set()
        _refs(comps[name], found)
        todo.extend(found - keep)
    out = {"source": "openai/openai-openapi (MIT), paths' x-oaiMeta examples and components.schemas",
           "examples": examples, "components": {"schemas": {k: comps[k] for k in sorted(keep)}}}
    Path(__file__).with_name("openai_examples.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
