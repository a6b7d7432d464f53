"""The web pages in a real browser (Debian's chromium under Playwright) against a real
server process on the real model, with a loopback stand-in for OpenAI behind vendor O."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from .browser_helpers import CHROMIUM_ARGS, DESKTOP, PHONE, FakeOpenAI, chromium_path, screenshot
from .helpers import ServerProcess

OPENAI_KEY = "sk-browser-test-" + "x" * 24  # must never reach a page or the request log
XSS = "<img src=x onerror=alert(1)>"
ANSWER_TIMEOUT = 120_000  # ms: the real model on a shared CPU


@pytest.fixture(scope="module")
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture(scope="module")
def server(fake_openai: FakeOpenAI) -> Iterator[ServerProcess]:
    srv = ServerProcess(
        env={
            "MOCKVENDOR_FAULTS": "off",
            "MOCKVENDOR_SEED": "7",
            "OPENAI_BASE_URL": fake_openai.base_url,
            "OPENAI_API_KEY": OPENAI_KEY,
        }
    ).wait_ready()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    path = chromium_path()
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Watched:
    """A page plus what it did that it should not: dialogs opened, uncaught JS errors."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()


@pytest.fixture
def watched(browser: Browser) -> Iterator[Watched]:
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(30_000)
    w = Watched(context.new_page())
    yield w
    context.close()
    assert w.errors == [], f"uncaught errors in the page: {w.errors}"
    assert w.dialogs == [], f"the page opened dialogs (a script ran): {w.dialogs}"


# ---- chat helpers -------------------------------------------------------------------

def open_chat(page: Page, url: str) -> None:
    page.goto(url + "/")
    expect(page.locator("#vendor")).to_be_enabled()


def choose(page: Page, vendor_title: str, *, fault: str = "", max_tokens: int | None = 16) -> None:
    page.select_option("#vendor", label=vendor_title)
    if page.locator("#fault-field").is_visible():
        page.select_option("#fault", fault)
    if max_tokens is not None and page.locator("#max-tokens").is_visible():
        page.fill("#max-tokens", str(max_tokens))


def say(page: Page, text: str) -> None:
    """Type a message and press Enter (the keyboard path, not a click)."""
    page.fill("#prompt", text)
    page.press("#prompt", "Enter")


def last_turn(page: Page) -> Any:
    """The newest answer or failure card, once it is no longer pending."""
    turn = page.locator("#messages > .msg.assistant, #messages > .msg.error").last
    expect(turn).not_to_have_class(re.compile(r"\bpending\b"), timeout=ANSWER_TIMEOUT)
    return turn


def record(server: ServerProcess, request_id: str) -> dict[str, Any]:
    resp = httpx.get(f"{server.url}/admin/requests/{request_id}", timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.json()


# ---- chat ---------------------------------------------------------------------------

@pytest.mark.timeout(900)  # one real-model answer per vendor, seven vendors once all have landed
def test_chat_answers_from_every_vendor_with_token_counts(
    watched: Watched, server: ServerProcess, fake_openai: FakeOpenAI
) -> None:
    page = watched.page
    open_chat(page, server.url)
    vendors = httpx.get(server.url + "/admin/vendors").json()["vendors"]
    titles = page.locator("#vendor option").all_inner_texts()
    assert titles == [v["title"] for v in vendors], "the chat offers every vendor the server exposes"
    assert {"Vendor A", "Vendor B", "Vendor E", "Vendor O"} <= set(titles)

    for title in titles:
        page.click("#clear")  # each vendor answers a conversation of its own
        choose(page, title)
        say(page, f"Say hello to {title} in a few words.")
        turn = last_turn(page)
        expect(turn).to_have_class(re.compile(r"\bassistant\b"))
        expect(turn.locator(".meta .tokens")).to_contain_text("in")
        expect(turn.locator(".meta .latency")).to_contain_text("latency")
        rid = turn.get_attribute("data-request-id")
        assert rid and rid.startswith("req_"), title
        rec = record(server, rid)
        shown_in, shown_out = int(turn.get_attribute("data-tokens-in")), int(turn.get_attribute("data-tokens-out"))
        assert (shown_in, shown_out) == (rec["tokens_in"], rec["tokens_out"]), (title, rec)
        assert shown_in > 0 and shown_out > 0, (title, rec)
        expect(turn.locator(".meta .tokens")).to_have_text(f"tokens {shown_in} in · {shown_out} out")
        assert turn.locator(".text").inner_text().strip(), f"{title} answered with no text"
        if title == "Vendor E":
            expect(turn.locator(".text")).to_have_text(f"You entered Say hello to {title} in a few words.")
        if title == "Vendor O":
            expect(turn.locator(".text")).to_have_text(FakeOpenAI.TEXT)
            assert (shown_in, shown_out) == (FakeOpenAI.PROMPT_TOKENS, FakeOpenAI.COMPLETION_TOKENS)

    # Vendor O really went to the stand-in, with the key; the key never reached the page or the log.
    sent = fake_openai.requests[-1]
    assert sent["headers"].get("authorization") == f"Bearer {OPENAI_KEY}"
    assert OPENAI_KEY not in page.content()
    assert OPENAI_KEY not in httpx.get(server.url + "/admin/requests?limit=1000").text
    screenshot(page, "chat-every-vendor-desktop")


@pytest.mark.parametrize("vendor", ["Vendor A", "Ollama-compatible"])  # server-sent events; NDJSON lines
def test_chat_streams_token_by_token(watched: Watched, server: ServerProcess, vendor: str) -> None:
    page = watched.page
    open_chat(page, server.url)
    choose(page, vendor, max_tokens=32)
    expect(page.locator("#stream")).to_be_checked()
    # Remember every length the answer's text had while it was arriving.
    page.evaluate(
        """() => {
          window.__lengths = [];
          new MutationObserver(() => {
            const t = document.querySelector('#messages .msg.assistant.pending .text');
            if (t) window.__lengths.push(t.textContent.length);
          }).observe(document.querySelector('#messages'), {subtree: true, characterData: true, childList: true});
        }"""
    )
    say(page, "Write one sentence about the sea.")
    turn = last_turn(page)
    lengths = page.evaluate("window.__lengths")
    distinct = sorted({n for n in lengths if n > 0})
    assert len(distinct) >= 3, f"the answer should grow piece by piece, saw lengths {distinct}"
    assert int(turn.get_attribute("data-chunks")) >= 3
    rec = record(server, turn.get_attribute("data-request-id"))
    assert rec["stream"] is True and rec["status"] == 200
    expect(turn.locator(".meta")).to_contain_text("first token")


@pytest.mark.parametrize("vendor", ["OpenAI-compatible", "Anthropic-compatible", "Gemini-compatible",
                                    "Ollama-compatible"])
def test_chat_sends_a_json_schema_and_shows_the_parsed_object(
    watched: Watched, server: ServerProcess, vendor: str
) -> None:
    page = watched.page
    open_chat(page, server.url)
    choose(page, vendor, max_tokens=200)
    expect(page.locator("#schema-field")).to_be_visible()
    schema = {"type": "object", "properties": {"city": {"type": "string", "maxLength": 20},
                                                "days": {"type": "integer", "minimum": 1, "maximum": 9}},
              "required": ["city", "days"], "additionalProperties": False}
    page.fill("#schema", "{not json")
    say(page, "A trip to Rome.")
    expect(page.locator("#schema-error")).to_contain_text("does not parse")
    assert page.locator("#messages > .msg.assistant").count() == 0  # nothing sent
    page.fill("#schema", json.dumps(schema))
    say(page, "A trip to Rome for three days.")
    turn = last_turn(page)
    expect(turn.locator("details.parsed pre")).to_be_visible()
    value = json.loads(turn.locator("details.parsed pre").inner_text())
    jsonschema.validate(value, schema)
    assert json.loads(turn.locator(".text").inner_text()) == value
    rec = record(server, turn.get_attribute("data-request-id"))
    assert rec["status"] == 200
    screenshot(page, f"chat-structured-{vendor.split('-')[0].lower()}")


def test_simulated_server_error_offers_retry(watched: Watched, server: ServerProcess) -> None:
    page = watched.page
    open_chat(page, server.url)
    choose(page, "Vendor A", fault="error-500")
    say(page, "This one fails.")
    card = last_turn(page)
    expect(card).to_have_class(re.compile(r"\berror\b"))
    expect(card.locator(".title")).to_contain_text("Server error (HTTP 500)")
    expect(card.locator(".badge.fault")).to_have_text("error-500 (simulated)")
    expect(card.locator("button.retry")).to_be_enabled()
    assert card.get_attribute("data-status") == "500"
    screenshot(page, "chat-500-desktop")

    page.select_option("#fault", "")  # back to what the server decides (faults are off)
    card.locator("button.retry").click()
    answer = last_turn(page)
    expect(answer).to_have_class(re.compile(r"\bassistant\b"))
    assert int(answer.get_attribute("data-tokens-out")) > 0
    expect(page.locator("#messages .msg.error")).to_have_count(0)


def test_forced_rate_limit_counts_down_then_allows_retry(watched: Watched, server: ServerProcess) -> None:
    page = watched.page
    open_chat(page, server.url)
    choose(page, "Vendor B", fault="rate-limit")
    page.fill("#fault-ms", "2500")
    say(page, "Too fast.")
    card = last_turn(page)
    expect(card.locator(".title")).to_contain_text("Rate limited (HTTP 429)")
    expect(card.locator(".badge.fault")).to_have_text("rate-limit (simulated)")
    expect(card.locator("button.retry")).to_be_disabled()
    first = float(card.locator(".countdown").inner_text().removesuffix(" s"))
    assert 0 < first <= 2.5
    page.wait_for_function(
        "n => { const c = document.querySelector('.msg.rate-limited .countdown');"
        " return c && parseFloat(c.textContent) < n; }",
        arg=first,
    )
    expect(card.locator("button.retry")).to_be_enabled(timeout=10_000)
    expect(card.locator(".retry-hint")).to_contain_text("retry now")


def test_rate_limit_from_server_settings_shows_countdown(browser: Browser) -> None:
    """Vendor B configured to rate-limit every request: the retry hint comes from its body."""
    srv = ServerProcess(
        env={
            "MOCKVENDOR_SEED": "7",
            "MOCKVENDOR_B_RATE_LIMIT_RATE": "1",
            "MOCKVENDOR_B_RETRY_AFTER_MIN_MS": "6000",
            "MOCKVENDOR_B_RETRY_AFTER_MAX_MS": "6000",
            "OPENAI_API_KEY": "",
        }
    ).wait_ready()
    context = browser.new_context(viewport=PHONE)
    try:
        w = Watched(context.new_page())
        page = w.page
        open_chat(page, srv.url)
        page.click("#settings summary")  # folded at phone width
        choose(page, "Vendor B")
        say(page, "Hello?")
        card = last_turn(page)
        expect(card).to_have_class(re.compile(r"\brate-limited\b"))
        expect(card.locator(".badge.fault")).to_have_text("rate-limit (simulated)")
        first = float(card.locator(".countdown").inner_text().removesuffix(" s"))
        assert 4.0 < first <= 6.0, first
        page.wait_for_function(
            "n => parseFloat(document.querySelector('.msg.rate-limited .countdown').textContent) < n", arg=first
        )
        expect(card.locator("button.retry")).to_be_disabled()
        screenshot(page, "chat-429-phone")
        assert w.errors == [] and w.dialogs == []
    finally:
        context.close()
        srv.stop()


def test_slow_answer_shows_progress(watched: Watched, server: ServerProcess) -> None:
    page = watched.page
    open_chat(page, server.url)
    choose(page, "Vendor E", fault="slow")
    page.fill("#fault-ms", "2500")
    say(page, "Take your time.")
    pending = page.locator("#messages .msg.pending.slow")
    expect(pending.locator(".progress")).to_be_visible()
    expect(pending.locator(".waiting")).to_contain_text("Slow answer")
    answer = last_turn(page)
    expect(answer.locator(".badge.fault")).to_have_text("slow (simulated)")
    expect(answer.locator(".text")).to_have_text("You entered Take your time.")


def test_markup_in_a_prompt_stays_text(watched: Watched, server: ServerProcess) -> None:
    page = watched.page
    open_chat(page, server.url)
    choose(page, "Vendor E")
    say(page, XSS)
    answer = last_turn(page)
    expect(page.locator("#messages .msg.user .text").last).to_have_text(XSS)
    expect(answer.locator(".text")).to_have_text(f"You entered {XSS}")  # the model's output, echoed
    expect(page.locator("#messages img")).to_have_count(0)

    # The same text in the request log's detail view.
    rid = answer.get_attribute("data-request-id")
    page.goto(f"{server.url}/requests#{rid}")
    expect(page.locator("#detail pre").first).to_contain_text(XSS)
    expect(page.locator("#detail img, #rows img")).to_have_count(0)
    page.wait_for_timeout(300)  # give a stray onerror handler its chance to fire
    # (the fixture asserts no dialog opened)


# ---- API docs -----------------------------------------------------------------------

def test_docs_page_covers_the_openapi_document(watched: Watched, server: ServerProcess) -> None:
    page = watched.page
    doc = httpx.get(server.url + "/openapi.json").json()
    page.goto(server.url + "/request-viewer")
    expect(page.locator("section.op").first).to_be_visible()
    shown = page.locator("section.op .path").all_inner_texts()
    methods = {"get", "post", "delete"}
    assert sorted(shown) == sorted(p for p, item in doc["paths"].items() for m in item if m in methods)
    # Read every section once (hundreds of operations: one round trip, not one per check).
    sections = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll("section.op")].map((s) => [
        s.id, {summary: s.querySelector(".summary")?.textContent ?? null,
               params: s.querySelector("table.schema")?.textContent ?? "", text: s.textContent,
               tabs: [...s.querySelectorAll("[role=tab]")].filter((t) => t.offsetParent !== null)
                     .map((t) => t.textContent.trim())}]))""")
    for item in doc["paths"].values():
        for op in item.values():
            if not isinstance(op, dict):  # a path-level list (parameters), not an operation
                continue
            got = sections[re.sub(r"[^A-Za-z0-9_-]+", "-", op["operationId"])]
            assert got["summary"] == op["summary"], op["operationId"]
            for param in op.get("parameters", []):
                assert param["name"] in got["params"], (op["operationId"], param["name"])
            for status in op["responses"]:
                assert status in got["text"], (op["operationId"], status)
            assert {"curl", "Python", "JavaScript"} <= set(got["tabs"]), (op["operationId"], got["tabs"])
    screenshot(page, "docs-desktop", full_page=False)  # the first screen: the whole page is too tall to shoot


def test_docs_try_it_sends_live_requests(watched: Watched, server: ServerProcess) -> None:
    page = watched.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(server.url + "/request-viewer")
    section = page.locator("section#vendor_e_messages")
    body = section.locator("textarea[id$='-body']")
    body.fill(json.dumps({"prompt": "tried from the docs"}))
    expect(section.locator("pre.sample")).to_contain_text("tried from the docs")  # samples follow the form
    section.get_by_role("button", name="Send").click()
    result = section.locator(".result")
    expect(result.locator(".badge.status")).to_have_text("HTTP 200")
    expect(result.locator("pre.body")).to_contain_text('"response": "You entered tried from the docs"')
    expect(result.locator(".latency")).to_contain_text("latency")
    result.locator("details.headers summary").click()
    expect(result.locator("details.headers pre")).to_contain_text("x-request-id: req_")

    # Force a rate limit with the failure buttons: the vendor's own error JSON is shown.
    section.get_by_role("button", name="Rate limit 429").click()
    expect(section.locator("textarea[id$='-headers']")).to_have_value(re.compile("x-mockvendor-fault: rate-limit"))
    section.get_by_role("button", name="Send").click()
    expect(result.locator(".badge.status")).to_have_text("HTTP 429")
    expect(result.locator(".badge.fault")).to_have_text("rate-limit (simulated)")
    expect(result.locator("pre.body")).to_contain_text('"type": "rate_limit"')

    # Invalid JSON is caught before sending.
    before = httpx.get(server.url + "/admin/requests").json()["total"]
    body.fill("{not json")
    section.get_by_role("button", name="Send").click()
    expect(section.locator(".json-error")).to_contain_text("Not valid JSON")
    assert httpx.get(server.url + "/admin/requests").json()["total"] == before

    # Code samples in three languages, each copied by its button.
    body.fill(json.dumps({"prompt": "copy me"}))
    for tab, marker in (("curl", "curl -X POST"), ("Python", "requests.request("), ("JavaScript", "await fetch(")):
        section.get_by_role("tab", name=tab).click()
        expect(section.locator("pre.sample")).to_contain_text(marker)
        section.locator(".samples button.copy").click()
        copied = page.evaluate("navigator.clipboard.readText()")
        assert marker in copied and "copy me" in copied
    screenshot(section, "docs-try-it-desktop")


# ---- request log --------------------------------------------------------------------

def test_request_appears_live_in_the_log(watched: Watched, server: ServerProcess) -> None:
    page = watched.page
    page.goto(server.url + "/requests")
    expect(page.locator("#live")).to_have_text("live")
    page.evaluate("window.__sameDocument = true")
    test_id = "browser-" + uuid.uuid4().hex[:8]
    resp = httpx.post(
        server.url + "/vendor-e/messages",
        json={"prompt": "seen live"},
        headers={"x-mockvendor-test-id": test_id},
        timeout=30,
    )
    assert resp.status_code == 200
    row = page.locator(f"#rows tr[data-id='{resp.headers['x-request-id']}']")
    expect(row).to_be_visible()
    expect(row.locator("td.vendor")).to_have_text("Vendor E")
    expect(row.locator("td.status")).to_have_text("200")
    expect(row.locator("td.test")).to_have_text(test_id)
    rec = record(server, resp.headers["x-request-id"])
    expect(row.locator("td.tokens")).to_have_text(f"{rec['tokens_in']} / {rec['tokens_out']}")
    assert page.evaluate("window.__sameDocument") is True, "the row arrived without a reload"

    # Keyboard: focus the row, Enter opens the full record; Escape closes it.
    row.focus()
    page.keyboard.press("Enter")
    detail = page.locator("#detail")
    expect(detail).to_contain_text(test_id)
    expect(detail.locator("pre").first).to_contain_text('"prompt": "seen live"')
    expect(detail.locator("pre").nth(1)).to_contain_text("seen live")
    screenshot(page, "requests-desktop")
    page.keyboard.press("Escape")
    expect(detail).to_be_hidden()

    # A simulated failure shows its fault, and the filter keeps only faults.
    httpx.post(server.url + "/vendor-a/messages", json={"prompt": "x"}, headers={"x-mockvendor-fault": "503"})
    expect(page.locator("#rows tr").first.locator(".badge.fault")).to_have_text("error-503")
    page.check("#f-fault")
    for fault in page.locator("#rows td.fault").all_inner_texts():
        assert fault.strip(), "only requests with a simulated fault are listed"
    expect(page.locator("#chart-latency svg")).to_be_visible()
    expect(page.locator("#chart-latency .legend")).to_contain_text("Vendor")


def test_a_logged_request_becomes_a_rule_shown_with_its_uses(watched: Watched, server: ServerProcess) -> None:
    """'Answer this the same way next time' on a logged request adds a rule; the rules panel shows
    it (markup in it as text), how often it answered, and deletes it."""
    page = watched.page
    page.goto(server.url + "/requests")
    expect(page.locator("#live")).to_have_text("live")
    prompt = f"rule me {uuid.uuid4().hex[:8]} {XSS}"
    body = {"model": "echo", "messages": [{"role": "user", "content": prompt}]}
    first = httpx.post(server.url + "/v1/chat/completions", json=body, timeout=30)
    assert first.status_code == 200
    row = page.locator(f"#rows tr[data-id='{first.headers['x-request-id']}']")
    row.click()
    page.get_by_role("button", name="Answer this the same way next time").click()
    expect(page.locator("#detail")).to_contain_text("added")
    name = re.search(r"Rule (\S+) added", page.locator("#detail").inner_text()).group(1)  # type: ignore[union-attr]
    page.keyboard.press("Escape")
    page.locator("#rules-panel summary").click()
    rule_row = page.locator(f"#rules-table tr[data-rule='{name}']")
    expect(rule_row).to_contain_text(XSS)  # as text: no image element was made of it
    assert page.locator("#rules img").count() == 0
    expect(rule_row.locator("td.used")).to_have_text("0")

    again = httpx.post(server.url + "/v1/chat/completions", json=body, timeout=30)
    assert again.json()["choices"][0]["message"] == first.json()["choices"][0]["message"]
    assert record(server, again.headers["x-request-id"])["rule"] == name
    expect(page.locator(f"#rows tr[data-id='{again.headers['x-request-id']}'] td.rule")).to_have_text(name)
    expect(rule_row.locator("td.used")).to_have_text("1", timeout=10_000)  # refreshed with the stats
    screenshot(page, "requests-rules")
    rule_row.get_by_role("button", name=f"Delete rule {name}").click()
    expect(rule_row).to_have_count(0)
    assert all(r["name"] != name for r in httpx.get(server.url + "/admin/rules").json()["rules"])


# ---- screenshots at both widths -------------------------------------------------------

@pytest.mark.parametrize("name,viewport", [("desktop", DESKTOP), ("phone", PHONE)])
def test_pages_render_at_desktop_and_phone_width(
    browser: Browser, server: ServerProcess, name: str, viewport: dict[str, int]
) -> None:
    context = browser.new_context(viewport=viewport)
    try:
        w = Watched(context.new_page())
        page = w.page
        open_chat(page, server.url)
        if name == "phone":
            expect(page.locator("#settings")).not_to_have_attribute("open", "")
            page.click("#settings summary")
        choose(page, "Vendor E")
        say(page, "How does this look on a small screen?")
        last_turn(page)
        screenshot(page, f"chat-{name}")
        for path, shot in (("/request-viewer", "docs"), ("/requests", "requests")):
            page.goto(server.url + path)
            if path == "/requests":
                expect(page.locator("#live")).to_have_text("live")  # an open event stream: never "idle"
            else:
                expect(page.locator("section.op").first).to_be_visible()
            # Nothing wider than the screen, except inside boxes that scroll on purpose.
            overflow = page.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 1, f"{path} is {overflow}px wider than a {viewport['width']}px screen"
            # The API page is hundreds of thousands of pixels tall at desktop width: Chromium takes
            # about the screenshot timeout (30 s) to shoot it whole, for a picture nobody can look at.
            if path == "/requests":
                screenshot(page, f"{shot}-{name}")
            screenshot(page, f"{shot}-{name}-first-screen", full_page=False)
        assert w.errors == [] and w.dialogs == []
    finally:
        context.close()
