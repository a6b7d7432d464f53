"""Model listing in each vendor's own shape: in-process on an app that loads no model, then
the official anthropic, google-genai and openai SDKs against a real server process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import jsonschema
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types

from mockvendor.app import openapi_document
from mockvendor.catalog import Catalog

from .conftest import asgi_client
from .helpers import ServerProcess, assert_vendor_error, serving

ANTHROPIC = {"anthropic-version": "2023-06-01"}
GOOGLE = {"x-goog-api-key": "AIza-test"}


@pytest.fixture
async def c(app_factory: Any) -> Any:
    app = app_factory()
    async with asgi_client(app) as client:
        client.app = app
        yield client


def names_of(c: Any, vendor: str) -> list[str]:
    """What a vendor lists: the configured names, then that vendor's published ones (mockvendor.catalog)."""
    return list(c.app.ctx.models.names(vendor))


# -- Anthropic ---------------------------------------------------------------------------
async def test_anthropic_list_shape_and_default_limit(c: Any) -> None:
    r = await c.get("/v1/models", headers=ANTHROPIC)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"data", "has_more", "first_id", "last_id"}
    names = names_of(c, "anthropic")
    assert [m["id"] for m in body["data"]] == names[:20] and body["has_more"] == (len(names) > 20)
    assert (body["first_id"], body["last_id"]) == (names[0], names[min(20, len(names)) - 1])
    first = body["data"][0]
    assert first["type"] == "model" and first["display_name"] == first["id"]
    assert first["created_at"].endswith("Z") and first["lifecycle"] == "active"
    assert r.headers["request-id"].startswith("req_")


async def test_anthropic_pages_forwards_and_backwards(c: Any) -> None:
    names, seen, after = names_of(c, "anthropic"), [], None
    while True:
        params = {"limit": 3, **({"after_id": after} if after else {})}
        page = (await c.get("/v1/models", params=params, headers=ANTHROPIC)).json()
        seen += [m["id"] for m in page["data"]]
        after = page["last_id"]
        if not page["has_more"]:
            break
    assert seen == names
    back = (await c.get("/v1/models", params={"limit": 2, "before_id": names[-1]}, headers=ANTHROPIC)).json()
    assert [m["id"] for m in back["data"]] == names[-3:-1] and back["has_more"]
    start = (await c.get("/v1/models", params={"limit": 5, "before_id": names[1]}, headers=ANTHROPIC)).json()
    assert [m["id"] for m in start["data"]] == names[:1] and not start["has_more"]
    empty = (await c.get("/v1/models", params={"after_id": names[-1]}, headers=ANTHROPIC)).json()
    assert empty == {"data": [], "has_more": False, "first_id": None, "last_id": None}


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": 0}, "limit"), ({"limit": 1001}, "limit"), ({"limit": "ten"}, "limit"), ({"limit": "1_0"}, "limit"),
     ({"after_id": "no-such-claude"}, "after_id"), ({"before_id": "no-such-claude"}, "before_id"),
     ({"after_id": "echo", "before_id": "echo"}, "after_id")],
)
async def test_anthropic_bad_paging_is_a_400_naming_it(c: Any, params: dict[str, Any], field: str) -> None:
    r = await c.get("/v1/models", params=params, headers=ANTHROPIC)
    body = assert_vendor_error("anthropic", r, 400, mentions=field)
    assert body["error"]["type"] == "invalid_request_error" and body["request_id"] == r.headers["request-id"]


async def test_anthropic_retrieve_and_unknown_model(c: Any) -> None:
    one = (await c.get("/v1/models/echo", headers=ANTHROPIC)).json()
    assert one["id"] == "echo" and one["type"] == "model" and one["max_input_tokens"] is None  # echo: unbounded
    local = (await c.get("/v1/models/smollm2", headers=ANTHROPIC)).json()
    assert local["max_input_tokens"] == c.app.ctx.settings.n_ctx
    # A published name advertises what Anthropic publishes, whatever model answers it.
    haiku = (await c.get("/v1/models/claude-3-5-haiku-latest", headers=ANTHROPIC)).json()
    assert (haiku["max_input_tokens"], haiku["max_tokens"]) == (200_000, 8_192)
    missing = await c.get("/v1/models/no-such-claude", headers=ANTHROPIC)
    err = assert_vendor_error("anthropic", missing, 404, mentions="no-such-claude")["error"]
    assert err["type"] == "not_found_error"


# -- Gemini ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "headers"),
    [("/v1beta/models", {}), ("/v1beta/models", GOOGLE), ("/v1/models", GOOGLE), ("/v1/models?key=AIza-q", {})],
)
async def test_gemini_list_pages_through_every_model(c: Any, path: str, headers: dict[str, str]) -> None:
    sep = "&" if "?" in path else "?"
    seen, token, pages = [], "", 0
    while True:
        r = await c.get(f"{path}{sep}pageSize=3" + (f"&pageToken={token}" if token else ""), headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        seen += [m["name"] for m in body["models"]]
        pages += 1
        token = body.get("nextPageToken", "")
        if not token:
            break
    names = names_of(c, "google")
    assert seen == [f"models/{n}" for n in names] and pages == -(-len(names) // 3)


@pytest.mark.parametrize(("size", "count"), [(None, 50), ("0", 50), ("2", 2), ("5000", 1000)])
async def test_gemini_page_size(c: Any, size: str | None, count: int) -> None:
    url = "/v1beta/models" + (f"?pageSize={size}" if size is not None else "")
    body = (await c.get(url)).json()
    names = names_of(c, "google")
    assert len(body["models"]) == min(count, len(names))
    assert ("nextPageToken" in body) == (count < len(names))


@pytest.mark.parametrize(
    ("query", "field"),
    [("pageSize=-1", "page_size"), ("pageSize=many", "page_size"), ("pageToken=bm8tc3VjaA", "page token"),
     ("pageToken=%25%25", "page token")],
)
async def test_gemini_bad_paging_is_invalid_argument(c: Any, query: str, field: str) -> None:
    r = await c.get(f"/v1beta/models?{query}")
    assert assert_vendor_error("gemini", r, 400, mentions=field)["error"]["status"] == "INVALID_ARGUMENT"


async def test_gemini_model_objects_and_unknown_model(c: Any) -> None:
    chat = (await c.get("/v1beta/models/gemini-2.0-flash")).json()
    assert chat["name"] == "models/gemini-2.0-flash" and chat["displayName"] == "gemini-2.0-flash"
    # What Google publishes for the name; the embedded model's own window for mockvendor's names.
    assert (chat["inputTokenLimit"], chat["outputTokenLimit"], chat["thinking"]) == (1_048_576, 8_192, False)
    assert (await c.get("/v1beta/models/gemini-2.5-flash")).json()["thinking"] is True
    local = (await c.get("/v1beta/models/smollm2")).json()
    assert local["inputTokenLimit"] == local["outputTokenLimit"] == c.app.ctx.settings.n_ctx
    assert {"generateContent", "countTokens"} <= set(chat["supportedGenerationMethods"])
    assert "embedContent" not in chat["supportedGenerationMethods"]
    assert {"temperature", "topP", "topK", "maxTemperature"} <= set(chat)
    embed = (await c.get("/v1/models/text-embedding-004", headers=GOOGLE)).json()
    assert "embedContent" in embed["supportedGenerationMethods"]
    assert "generateContent" not in embed["supportedGenerationMethods"] and "temperature" not in embed
    for r in (await c.get("/v1beta/models/no-such-gemini"), await c.get("/v1/models/no-such-gemini", headers=GOOGLE)):
        assert assert_vendor_error("gemini", r, 404, mentions="no-such-gemini")["error"]["status"] == "NOT_FOUND"


# -- every vendor ------------------------------------------------------------------------
async def test_without_vendor_headers_v1_models_stays_openai(c: Any) -> None:
    body = (await c.get("/v1/models", params={"limit": 1})).json()
    assert body["object"] == "list" and [m["id"] for m in body["data"]] == names_of(c, "openai")
    assert_vendor_error("openai", await c.get("/v1/models/no-such-model", headers={"x-api-key": "k"}), 404)


BAD_PAGING = "limit=0&pageSize=-1"  # refused by Anthropic and Gemini, ignored by OpenAI


@pytest.mark.parametrize(
    ("template", "url", "headers", "bad"),
    [
        ("/v1/models", "/v1/models", {}, None),
        ("/v1/models/{model_id}", "/v1/models/echo", {}, "404"),
        ("/v1/models", "/v1/models", ANTHROPIC, "400"),
        ("/v1/models/{model_id}", "/v1/models/echo", ANTHROPIC, "404"),
        ("/v1/models", "/v1/models", GOOGLE, "400"),
        ("/v1/models/{model_id}", "/v1/models/text-embedding-004", GOOGLE, "404"),
        ("/v1beta/models", "/v1beta/models", {}, "400"),
        ("/v1beta/models/{model}", "/v1beta/models/echo", {}, "404"),
    ],
)
async def test_answers_match_the_documented_schema(
    c: Any, template: str, url: str, headers: dict[str, str], bad: str | None
) -> None:
    responses = openapi_document(c.app.ctx)["paths"][template]["get"]["responses"]

    def schema(status: str) -> Any:
        return responses[status]["content"]["application/json"]["schema"]

    ok = await c.get(url, headers=headers)
    assert ok.status_code == 200, ok.text
    jsonschema.validate(ok.json(), schema("200"))
    if bad is not None:
        wrong = url.rsplit("/", 1)[0] + "/no-such-model" if bad == "404" else f"{url}?{BAD_PAGING}"
        r = await c.get(wrong, headers=headers)
        assert r.status_code == int(bad), r.text
        jsonschema.validate(r.json(), schema(bad))


REFUSED = {"anthropic": 401, "gemini": 400}  # a wrong key: Google answers 400 API_KEY_INVALID


@pytest.mark.parametrize(
    ("vendor", "url", "good", "wrong"),
    [
        ("anthropic", "/v1/models", {**ANTHROPIC, "x-api-key": "sk-good-0001"},
         {**ANTHROPIC, "x-api-key": "sk-wrong-9876"}),
        ("anthropic", "/v1/models/echo", {**ANTHROPIC, "authorization": "Bearer sk-good-0001"},
         {**ANTHROPIC, "authorization": "Bearer sk-wrong-9876"}),
        ("gemini", "/v1/models", {"x-goog-api-key": "sk-good-0001"}, {"x-goog-api-key": "sk-wrong-9876"}),
        ("gemini", "/v1beta/models/echo", {"x-goog-api-key": "sk-good-0001"}, {"x-goog-api-key": "sk-wrong-9876"}),
    ],
)
async def test_api_keys_and_request_log(
    app_factory: Any, vendor: str, url: str, good: dict[str, str], wrong: dict[str, str]
) -> None:
    async with asgi_client(app_factory(api_keys=["sk-good-0001"])) as client:
        refused = await client.get(url, headers={**wrong, "x-mockvendor-test-id": "models-auth"})
        assert_vendor_error(vendor, refused, REFUSED[vendor])
        assert "sk-wrong-9876" not in refused.text
        assert (await client.get(url, headers={**good, "x-mockvendor-test-id": "models-auth"})).status_code == 200
        if vendor == "gemini":  # the key as ?key= picks Gemini on /v1/ too
            by_query = await client.get(url + "?key=sk-good-0001")
            assert by_query.status_code == 200, by_query.text
        log = (await client.get("/admin/requests", params={"test_id": "models-auth"})).json()["data"]
    assert sorted(r["status"] for r in log) == sorted([200, REFUSED[vendor]])
    assert {r["vendor"] for r in log} == {vendor} and {r["route"] for r in log} == {url}
    assert {r["model"] for r in log} == {"echo" if url.endswith("/echo") else None}
    assert all(r["key_fingerprint"].startswith("key_") for r in log)
    assert "sk-good-0001" not in json.dumps(log) and "sk-wrong-9876" not in json.dumps(log)


# -- the official SDKs against a real server ---------------------------------------------
@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with serving() as s:
        yield s


def served_names(server: ServerProcess, vendor: str = "openai") -> list[str]:
    """What a vendor lists on the default configuration: the configured names, then its published ones."""
    return ["smollm2", "echo"] + Catalog().names(vendor)


def test_openai_sdk_models_unchanged(server: ServerProcess) -> None:
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)
    models = list(client.models.list())
    assert [m.id for m in models] == served_names(server)
    assert all(isinstance(m, openai.types.Model) and m.object == "model" for m in models)
    assert client.models.retrieve("gpt-4o-mini").owned_by == "system"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("no-such-gpt")


def test_anthropic_sdk_lists_pages_and_retrieves(server: ServerProcess) -> None:
    client = anthropic.Anthropic(base_url=server.url, api_key="sk-ant-test", max_retries=0)
    names = served_names(server, "anthropic")
    first = client.models.list(limit=2)
    assert [m.id for m in first.data] == names[:2] and first.has_more and first.last_id == names[1]
    assert all(isinstance(m, anthropic.types.ModelInfo) for m in first.data)
    assert first.data[0].created_at.year == 2024 and first.data[0].type == "model"
    second = first.get_next_page()
    assert [m.id for m in second.data] == names[2:4]
    assert [m.id for m in client.models.list(limit=3)] == names  # auto-pagination walks every page
    backwards = [m.id for m in client.models.list(limit=2, before_id=names[-1])]  # pages by first_id
    assert backwards[:2] == names[-3:-1] and sorted(backwards) == sorted(names[:-1])
    one = client.models.retrieve("claude-3-5-haiku-latest")
    assert one.id == "claude-3-5-haiku-latest" and one.display_name and one.max_input_tokens
    with pytest.raises(anthropic.NotFoundError) as e:
        client.models.retrieve("no-such-claude")
    assert isinstance(e.value.body, dict) and e.value.body["error"]["type"] == "not_found_error"
    with pytest.raises(anthropic.BadRequestError):
        client.models.list(limit=0)


@pytest.mark.parametrize("api_version", [None, "v1beta"])
def test_genai_sdk_lists_and_gets(server: ServerProcess, api_version: str | None) -> None:
    options = genai_types.HttpOptions(base_url=server.url, api_version=api_version)
    client = genai.Client(api_key="AIza-test", http_options=options)
    names = served_names(server, "google")
    pager = client.models.list(config={"page_size": 3})
    assert len(pager.page) == 3 and pager.page[0].name == f"models/{names[0]}"
    assert [m.name for m in pager] == [f"models/{n}" for n in names]  # every page, by pageToken
    model = client.models.get(model="gemini-2.0-flash")
    assert isinstance(model, genai_types.Model) and model.name == "models/gemini-2.0-flash"
    assert model.supported_actions and "generateContent" in model.supported_actions
    assert model.input_token_limit and model.output_token_limit
    embed = client.models.get(model="models/text-embedding-004")
    assert embed.supported_actions and "embedContent" in embed.supported_actions
    with pytest.raises(genai_errors.ClientError) as e:
        client.models.get(model="no-such-gemini")
    assert (e.value.code, e.value.status) == (404, "NOT_FOUND")
