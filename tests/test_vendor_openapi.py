"""The vendor-compatible APIs' OpenAPI documents tell the truth: each documented example
is valid against its request schema and is answered with a body valid against the
documented 200 schema; a simulated error matches the documented error schema."""

from __future__ import annotations

from typing import Any

import httpx
import jsonschema
import pytest

VENDORS = ("openai", "anthropic", "gemini", "cohere", "mistral")


@pytest.fixture(scope="module")
async def document(model_app: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=model_app), base_url="http://test") as c:
        return (await c.get("/openapi.json")).json()


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if op.get("x-mockvendor-vendor") in VENDORS
    ]


def concrete(path: str, op: dict[str, Any]) -> str:
    for p in op.get("parameters", []):
        if p["in"] == "path":
            path = path.replace("{" + p["name"] + "}", p.get("example", "gpt-4o-mini"))
    return path


def schema(op: dict[str, Any], status: str) -> dict[str, Any]:
    return op["responses"][status]["content"]["application/json"]["schema"]


async def test_every_vendor_documents_its_routes(document: dict[str, Any]) -> None:
    documented = {(op["x-mockvendor-vendor"], path) for path, _, op in operations(document)}
    assert {v for v, _ in documented} == set(VENDORS)
    assert ("gemini", "/v1/models/{model}:streamGenerateContent") in documented
    for _, _, op in operations(document):
        jsonschema.Draft202012Validator.check_schema(schema(op, "200"))


async def test_examples_are_answered_as_documented(client: httpx.AsyncClient, document: dict[str, Any]) -> None:
    checked = 0
    # A stored response for the routes that read one (deleted last).
    stored = (await client.post("/v1/responses", json={"model": "gpt-4o-mini", "input": "Hi.",
                                                       "max_output_tokens": 16})).json()["id"]
    ops = sorted(operations(document), key=lambda o: o[1] == "delete")
    for path, method, op in ops:
        url = concrete(path, op).replace("resp_123", stored)
        if method == "get":
            r = await client.get(url)
        elif method == "delete":
            r = await client.delete(url)
        else:
            media = op["requestBody"]["content"]["application/json"]
            jsonschema.validate(media["example"], media["schema"])
            r = await client.post(url, json=media["example"])
        assert r.status_code == 200, (url, r.text)
        jsonschema.validate(r.json(), schema(op, "200"))
        checked += 1
    # openai 10 (chat, completions, responses, its input_tokens, a stored response's get, delete and input
    # items, embeddings, models, model), anthropic 2 (messages, count_tokens), gemini 5 methods x 2 versions
    # and 2 model routes (v1beta; under /v1 they are the shared models routes), cohere chat and embed x 2
    # prefixes, mistral chat and embeddings
    assert checked == 30


@pytest.mark.parametrize(
    ("vendor", "path"),
    [
        ("openai", "/v1/chat/completions"),
        ("anthropic", "/v1/messages"),
        ("gemini", "/v1beta/models/{model}:generateContent"),
        ("cohere", "/v2/chat"),
        ("mistral", "/mistral/v1/chat/completions"),
    ],
)
async def test_errors_match_the_documented_schema(
    client: httpx.AsyncClient, document: dict[str, Any], vendor: str, path: str
) -> None:
    op = document["paths"][path]["post"]
    example = op["requestBody"]["content"]["application/json"]["example"]
    r = await client.post(concrete(path, op), json=example, headers={"x-mockvendor-fault": "rate-limit"})
    assert r.status_code == 429
    jsonschema.validate(r.json(), schema(op, "429"))
