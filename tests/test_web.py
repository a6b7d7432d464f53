"""The pages and their assets, in-process: headers that keep them safe and fresh, and the
vendor list the pages build themselves from."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from typing import Any

import pytest

from .conftest import asgi_client

PAGES = ["/", "/request-viewer", "/requests"]
JS_DIR = resources.files("mockvendor") / "web" / "static" / "js"
SCRIPTS = sorted(f.name for f in JS_DIR.iterdir() if f.name.endswith(".js"))


@pytest.mark.parametrize("path", PAGES)
async def test_pages_are_served_with_a_strict_content_security_policy(
    app_factory: Callable[..., Any], path: str
) -> None:
    async with asgi_client(app_factory()) as c:
        resp = await c.get(path)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")
    csp = resp.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert resp.headers["cache-control"] == "no-cache"
    # Every script and stylesheet the page names is served by the server itself.
    assert "http://" not in resp.text and "https://" not in resp.text


async def test_scripts_are_served_as_javascript_and_revalidated(app_factory: Callable[..., Any]) -> None:
    assert len(SCRIPTS) >= 8
    async with asgi_client(app_factory()) as c:
        for name in SCRIPTS:
            resp = await c.get(f"/static/js/{name}")
            assert resp.status_code == 200, name
            assert "javascript" in resp.headers["content-type"], resp.headers
            assert resp.headers["cache-control"] == "no-cache"
            for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
                assert sink not in resp.text, (name, sink)  # user text is only ever set as text


async def test_vendor_list_names_each_vendors_documented_operations(app_factory: Callable[..., Any]) -> None:
    async with asgi_client(app_factory()) as c:
        vendors = (await c.get("/admin/vendors")).json()["vendors"]
        doc = (await c.get("/openapi.json")).json()
    documented = {(m.upper(), p) for p, item in doc["paths"].items() for m in item}
    listed = [(o["method"], o["path"]) for v in vendors for o in v["operations"]]
    assert sorted(listed) == sorted(documented)
    seed = {v["name"]: v["operations"] for v in vendors if v["name"] in {"a", "b", "e", "o"}}
    assert seed["a"] == [{"method": "POST", "path": "/vendor-a/messages"}]
