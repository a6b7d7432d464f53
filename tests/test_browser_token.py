"""The pages on a server started with MOCKVENDOR_ADMIN_TOKEN, in a real browser: they ask
for the token, keep it for the tab only, and then work as without one (the live log
included, read with fetch() since EventSource cannot send the header)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from .browser_helpers import CHROMIUM_ARGS, DESKTOP, chromium_path, screenshot
from .helpers import ServerProcess

TOKEN = "tok-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    srv = ServerProcess(env={"MOCKVENDOR_ADMIN_TOKEN": TOKEN, "MOCKVENDOR_FAULTS": "off"}).wait_ready()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(30_000)
    errors: list[str] = []
    p = context.new_page()
    p.on("pageerror", lambda e: errors.append(str(e)))
    yield p
    context.close()
    assert errors == [], errors


def unlock(page: Page, token: str) -> None:
    page.fill("#admin-token-input", token)
    page.click("#admin-token button")
    page.wait_for_load_state()


def test_request_log_asks_for_the_token_then_goes_live(page: Page, server: ServerProcess) -> None:
    page.goto(server.url + "/requests")
    expect(page.locator("#live")).to_have_text("admin token needed")
    expect(page.locator("#admin-token")).to_contain_text("needs its admin token")
    screenshot(page, "requests-admin-token", full_page=False)

    unlock(page, "not-the-token")
    expect(page.locator("#admin-token")).to_contain_text("not accepted")

    unlock(page, TOKEN)
    expect(page.locator("#live")).to_have_text("live")
    expect(page.locator("#admin-token")).to_have_count(0)
    page.evaluate("window.__sameDocument = true")
    test_id = "tok-" + uuid.uuid4().hex[:8]
    resp = httpx.post(server.url + "/vendor-e/messages", json={"prompt": "with a token"},
                      headers={"x-mockvendor-test-id": test_id}, timeout=30)
    row = page.locator(f"#rows tr[data-id='{resp.headers['x-request-id']}']")
    expect(row.locator("td.test")).to_have_text(test_id)  # arrived through the live feed
    assert page.evaluate("window.__sameDocument") is True
    row.click()
    expect(page.locator("#detail")).to_contain_text("with a token")  # /admin/requests/{id} with the token
    # The token is in this tab's sessionStorage only: never in the URL, a cookie or the page.
    assert TOKEN not in page.url and TOKEN not in page.content()
    assert page.context.cookies() == []
    assert page.evaluate("sessionStorage.getItem('mockvendor-admin-token')") == TOKEN


def test_chat_and_docs_work_once_unlocked(page: Page, server: ServerProcess) -> None:
    page.goto(server.url + "/")
    expect(page.locator("#admin-token")).to_be_visible()
    unlock(page, TOKEN)
    expect(page.locator("#vendor")).to_be_enabled()  # the vendor list came from /admin/vendors
    page.goto(server.url + "/request-viewer")  # the same tab keeps the token
    expect(page.locator("#admin-token")).to_have_count(0)
    expect(page.locator("#ops")).to_contain_text("/vendor-e/messages")
