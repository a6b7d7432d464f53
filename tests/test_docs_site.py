"""The documentation site (mkdocs.yml, docs/): it builds with warnings as errors (a broken
link or a stale reference fails here), its two generated reference pages cover every setting
and every route, and the server serves it at /docs, offline, in a real browser."""

from __future__ import annotations

import copy
import dataclasses
import html
import importlib.util
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect, sync_playwright
from starlette.applications import Starlette

from mockvendor.app import create_app, openapi_document
from mockvendor.settings import FaultConfig, Settings
from mockvendor.web import PAGE_HEADERS, docs_routes, inline_script_hashes

from .browser_helpers import CHROMIUM_ARGS, DESKTOP, chromium_path
from .conftest import asgi_client, make_settings
from .helpers import ROOT, ServerProcess

PACKAGE_SITE = ROOT / "src" / "mockvendor" / "web" / "site"


def build_site(dest: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``mkdocs build --strict`` (into ``dest``, else where mkdocs.yml says: the package)."""
    cmd = [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml")]
    if dest is not None:
        cmd += ["-d", str(dest)]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("site")
    done = build_site(dest)
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stdout}\n{done.stderr}"
    return dest


def page_text(site: Path, page: str) -> str:
    return (site / page / "index.html").read_text(encoding="utf-8")


def load_hooks() -> Any:
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- the build ------------------------------------------------------------------------

def test_site_builds_strictly_with_every_topic(site: Path) -> None:
    for page in ("vendors", "tools", "fault-lab", "engines", "configuration", "deployment", "security",
                 "request-log", "benchmarks", "fuzzing", "architecture", "reference/configuration",
                 "reference/http-api"):
        assert (site / page / "index.html").is_file(), page
    home = re.sub(r"<[^>]+>", "", (site / "index.html").read_text(encoding="utf-8"))
    assert "make run" in home and "make test" in home
    # The architecture page is ARCHITECTURE.md itself, included, not a copy.
    first_heading = re.search(r"^## (.+)$", (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8"), re.M)
    if first_heading:
        assert html.escape(first_heading.group(1).strip(), quote=False) in page_text(site, "architecture")


def test_site_loads_nothing_from_elsewhere(site: Path) -> None:
    """Offline: no web fonts, no CDN; every script, style and image is the site's own."""
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        for attr in re.findall(r'<(?:script|link|img)\b[^>]*?\b(?:src|href)="([^"]+)"', text):
            assert not re.match(r"(https?:)?//", attr), f"{page}: {attr}"
    assert "fonts.googleapis" not in "".join(p.read_text(errors="replace") for p in site.rglob("*.css"))


# ---- the generated pages --------------------------------------------------------------

def test_configuration_reference_lists_every_setting(site: Path) -> None:
    text = page_text(site, "reference/configuration")
    for f in dataclasses.fields(Settings):
        assert f"<code>{f.name}</code>" in text, f.name
    for f in dataclasses.fields(FaultConfig):
        assert f"<code>{f.name}</code>" in text and f"<code>MOCKVENDOR_{f.name.upper()}</code>" in text, f.name
    # Names found by trying them on Settings, aliases included.
    for env in ("MOCKVENDOR_N_CTX", "MOCKVENDOR_FAULTS", "OPENAI_API_KEY", "PORT",
                "MOCKVENDOR_REQUEST_LOG_MAX_AGE_DAYS"):
        assert f"<code>{env}</code>" in text, env
    assert "<code>2048</code>" in text  # n_ctx's default


def test_http_api_reference_lists_every_path(site: Path) -> None:
    doc = openapi_document(create_app(make_settings()).ctx)
    text = page_text(site, "reference/http-api")
    for path, item in doc["paths"].items():
        for method in item:
            assert html.escape(f"{method.upper()} {path}", quote=False) in text, (method, path)
    assert "<code>messages[].role</code>" in text  # nested request fields, by dotted name
    assert "<code>x-mockvendor-fault</code>" in text


def _with_refs(doc: dict[str, Any]) -> dict[str, Any]:
    """The same document with every object schema moved to ``components`` behind a ``$ref``."""
    doc = copy.deepcopy(doc)
    components: dict[str, Any] = {}

    def lift(node: Any) -> Any:
        if isinstance(node, list):
            return [lift(n) for n in node]
        if not isinstance(node, dict):
            return node
        node = {k: lift(v) for k, v in node.items()}
        if node.get("type") == "object" and "properties" in node:
            name = f"S{len(components)}"
            components[name] = node
            return {"$ref": f"#/components/schemas/{name}"}
        return node

    doc["paths"] = lift(doc["paths"])
    doc["components"] = {"schemas": components}
    assert components
    return doc


def test_api_reference_reads_refs_as_it_reads_inline_schemas() -> None:
    hooks = load_hooks()
    doc = openapi_document(create_app(make_settings()).ctx)
    ref_doc = _with_refs(doc)
    inline, refs = hooks.Schemas(doc), hooks.Schemas(ref_doc)
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if "requestBody" not in op:
                continue
            schema = op["requestBody"]["content"]["application/json"]["schema"]
            ref_schema = ref_doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
            assert "$ref" in ref_schema or all("$ref" in one for one in ref_schema.get("anyOf", [None]))
            assert refs.rows(ref_schema) == inline.rows(schema), (method, path)
    # A schema that refers to itself ends (a bounded depth), it does not recurse for ever.
    loop = {"components": {"schemas": {"Node": {"type": "object", "properties": {
        "child": {"$ref": "#/components/schemas/Node"}}}}}}
    rows = hooks.Schemas(loop).rows({"$ref": "#/components/schemas/Node"})
    assert rows and rows[0][0] == "child" and len(rows) <= hooks.MAX_DEPTH


# ---- served under /docs ---------------------------------------------------------------

def _docs_app(site: Path) -> Starlette:
    return Starlette(routes=docs_routes(site))


async def test_docs_are_served_with_a_policy_that_allows_only_their_own_scripts(site: Path) -> None:
    async with asgi_client(_docs_app(site)) as c:
        r = await c.get("/docs")
        assert r.status_code == 307 and r.headers["location"] == "/docs/"
        r = await c.get("/docs/")
        assert r.status_code == 200 and "mockvendor" in r.text
        csp = r.headers["content-security-policy"]
        for digest in inline_script_hashes(site):
            assert f"'sha256-{digest}'" in csp
        assert "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        r = await c.get("/docs/fault-lab/")
        assert r.status_code == 200 and "Fault kinds" in r.text
        assert (await c.get("/docs/no-such-page/")).status_code == 404


async def test_an_unbuilt_site_says_how_to_build_it(tmp_path: Path) -> None:
    async with asgi_client(_docs_app(tmp_path)) as c:
        r = await c.get("/docs/")
        assert r.status_code == 404 and "make docs" in r.text
        assert r.headers["content-security-policy"] == PAGE_HEADERS["content-security-policy"]


async def test_the_app_serves_docs_without_shadowing_other_routes() -> None:
    async with asgi_client(create_app(make_settings())) as c:
        assert (await c.get("/docs")).status_code == 307
        assert (await c.get("/")).status_code == 200
        assert (await c.get("/openapi.json")).status_code == 200


# ---- in a real browser, from a real server ---------------------------------------------

@pytest.fixture(scope="module")
def docs_server() -> Iterator[ServerProcess]:
    # The server serves the package's site, which `make docs` builds; build it as make does.
    done = build_site()
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stdout}\n{done.stderr}"
    srv = ServerProcess(env={"MOCKVENDOR_FAULTS": "off"}).wait_ready(180)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.mark.timeout(600)
def test_docs_in_a_browser_show_their_content_with_no_error(docs_server: ServerProcess, browser: Browser) -> None:
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(30_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url} {r.failure}"))
    page.on("response", lambda r: problems.append(f"{r.status}: {r.url}") if r.status >= 400 else None)
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(docs_server.url) else None)
    try:
        page.goto(docs_server.url + "/docs")
        expect(page).to_have_url(docs_server.url + "/docs/")
        expect(page.locator("article h1")).to_have_text(re.compile("mockvendor"))
        expect(page.locator("article")).to_contain_text("make test")
        page.wait_for_load_state("networkidle")
        page.screenshot(path="/tmp/docs-home.png")

        # A topic page, reached through the navigation.
        page.locator("nav.md-nav--primary a", has_text="Fault lab").first.click()
        expect(page).to_have_url(re.compile(r"/docs/fault-lab/$"))
        expect(page.locator("article h1")).to_have_text(re.compile(r"^Fault lab"))
        expect(page.locator("article h2", has_text="Fault kinds")).to_be_visible()
        page.wait_for_load_state("networkidle")
        page.screenshot(path="/tmp/docs-topic.png")

        # Search runs in a web worker on the site's own index: the policy lets it.
        search = page.locator("input.md-search__input")
        search.click()
        search.press_sequentially("scenario", delay=30)  # Material listens for keys
        expect(page.locator(".md-search-result__item").first).to_be_visible()

        # The generated API reference renders.
        page.goto(docs_server.url + "/docs/reference/http-api/")
        expect(page.locator("article")).to_contain_text("POST /v1/chat/completions")
        page.wait_for_load_state("networkidle")
    finally:
        context.close()
    assert problems == [], problems
    assert outside == [], f"the site asked for something elsewhere: {outside}"
