"""The durable request log: every request once, in SQLite, queried, exported, redacted,
bounded, pruned; surviving a restart of a real server process."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from mockvendor.tracking import Filters, Record, RequestLog, RequestStore
from mockvendor.tracking.redact import REDACTED, is_secret_key, redact, sanitize
from mockvendor.tracking.store import COLUMNS

from .conftest import asgi_client
from .helpers import ServerProcess

SECRET = "sk-proj-Abc123Def456Ghi789Jkl012"


async def _post(
    c: httpx.AsyncClient, vendor: str, body: dict[str, Any] | None = None, **headers: str
) -> httpx.Response:
    return await c.post(f"/vendor-{vendor}/messages", json=body or {"prompt": "Hello"}, headers=headers)


def _db_bytes(data_dir: Path) -> bytes:
    """Everything SQLite put on disk (main file and write-ahead log)."""
    return b"".join(p.read_bytes() for p in sorted(data_dir.glob("requests.sqlite3*")))


# -- what each request leaves in the log ----------------------------------------------
async def test_record_fields_and_lookup_by_id(app_factory: Any, tmp_path: Path) -> None:
    app = app_factory(data_dir=str(tmp_path), api_keys=["good-key-123456"])
    async with asgi_client(app) as c:
        r = await _post(
            c, "e", {"prompt": "Echo me"},
            authorization="Bearer good-key-123456", **{"x-mockvendor-test-id": "t-1", "x-stainless-retry-count": "2"},
        )
        assert r.status_code == 200
        rid = r.headers["x-request-id"]
        one = (await c.get(f"/admin/requests/{rid}")).json()
    assert one["id"] == rid and one["vendor"] == "e" and one["route"] == "/vendor-e/messages"
    assert one["method"] == "POST" and one["status"] == 200 and one["model"] == "echo"
    assert one["test_id"] == "t-1" and one["retry_count"] == 2 and one["fault"] is None
    assert one["tokens_in"] == 2 and one["tokens_out"] == 2 and one["latency_ms"] > 0
    assert one["key_fingerprint"].startswith("key_") and "good-key" not in json.dumps(one)
    assert one["request_body"] == {"prompt": "Echo me"}
    assert one["response_body"] == {"response": "You entered Echo me"}
    assert set(one) == set(COLUMNS)


async def test_lookup_falls_back_to_the_store_beyond_the_ring(app_factory: Any, tmp_path: Path) -> None:
    app = app_factory(data_dir=str(tmp_path), request_log_size=2)
    async with asgi_client(app) as c:
        first = (await _post(c, "e")).headers["x-request-id"]
        for _ in range(5):
            await _post(c, "e")
        assert app.ctx.requests.get(first) is not None  # not in the ring any more: from SQLite
        r = await c.get(f"/admin/requests/{first}")
        assert r.status_code == 200 and r.json()["id"] == first
        missing = await c.get("/admin/requests/req_0000")
    assert missing.status_code == 404 and "No such request" in missing.json()["error"]["message"]


async def test_errors_and_faults_are_recorded(app_factory: Any, tmp_path: Path) -> None:
    app = app_factory(data_dir=str(tmp_path))
    async with asgi_client(app) as c:
        await _post(c, "a", **{"x-mockvendor-fault": "503"})
        await _post(c, "b", **{"x-mockvendor-fault": "rate-limit"})
        await c.post("/vendor-e/messages", content=b"{not json", headers={"content-type": "application/json"})
        data = (await c.get("/admin/requests")).json()["data"]
    bad, limited, failed = data  # newest first
    assert (failed["vendor"], failed["status"], failed["fault"]) == ("a", 503, "error-503")
    assert (limited["vendor"], limited["status"], limited["fault"]) == ("b", 429, "rate-limit")
    assert bad["status"] == 400 and bad["fault"] is None and bad["error"]
    for rec in data:  # missing values come back as null, not as "" or -1
        assert rec["ttft_ms"] is None and rec["retry_count"] is None and rec["test_id"] is None
        assert rec["key_fingerprint"] is None and rec["stream"] is False
    assert bad["model"] is None and bad["response_body"] is None


# -- redaction and bounds ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "secret"),
    [("api_key", True), ("apiKey", True), ("x-api-key", True), ("Authorization", True), ("password", True),
     ("client_secret", True), ("access_token", True), ("token", True), ("privateKey", True),
     ("max_tokens", False), ("tokensIn", False), ("maxOutputTokens", False), ("prompt", False),
     ("author", False), ("keywords", False), ("my_cookie", True), ("credentials", True), ("passphrase", True),
     ("bearer", True), ("refresh_token", True), ("tokens_used", False)],
)
def test_secret_key_names(key: str, secret: bool) -> None:
    assert is_secret_key(key) is secret
    # The same verdict through sanitize(), whose fast path skips bodies that cannot hold a secret.
    value, data = sanitize({"outer": [{key: "some value"}]}, 16384)
    assert (value["outer"][0][key] == REDACTED) is secret
    assert orjson.loads(data) == value


@pytest.mark.parametrize("text", [SECRET, "sk-ant-api03-" + "A" * 40, "AIza" + "B" * 35, "Bearer abcdefgh.ijk"])
def test_key_like_strings_redacted_anywhere(text: str) -> None:
    value, _ = sanitize({"messages": [{"content": f"look: {text} here"}]}, 16384)
    assert value["messages"][0]["content"] == f"look: {REDACTED} here"


@pytest.mark.parametrize("raw", [
    b'{"messages": [{"content": "look: \\u0073k-proj-0123456789abcdef here"}]}',  # a key spelt with an escape
    b'{"api\\u005fkey": "some value", "note": "caf\\u00e9"}',  # a secret name, so spelt
])
def test_escaped_secrets_are_found(raw: bytes) -> None:
    """The body's JSON as sent is searched for what may be a secret: escapes must not hide one."""
    value, data = sanitize(orjson.loads(raw), 16384, raw)
    assert REDACTED in str(value) and orjson.loads(data) == value
    assert b"0123456789abcdef" not in data and b"some value" not in data


def test_redact_walks_json() -> None:
    body = {"messages": [{"role": "user", "content": f"my key is {SECRET}, ok?"}], "max_tokens": 5,
            "meta": {"password": {"nested": 1}, "note": "Bearer abcdefghijklmnop", "google": "AIza" + "x" * 35}}
    out = redact(body)
    assert out["messages"][0]["content"] == f"my key is {REDACTED}, ok?"
    assert out["max_tokens"] == 5 and out["meta"]["password"] == REDACTED
    assert out["meta"]["note"] == REDACTED and out["meta"]["google"] == REDACTED
    assert redact(out) == out  # idempotent


async def test_secrets_never_reach_the_log_the_file_or_the_feed(app_factory: Any, tmp_path: Path) -> None:
    app = app_factory(data_dir=str(tmp_path), api_keys=[SECRET])
    feed = app.ctx.requests.subscribe()
    body = {"prompt": f"use {SECRET} please", "api_key": SECRET, "options": {"Authorization": "Bearer " + SECRET}}
    async with asgi_client(app) as c:
        ok = await _post(c, "e", body, authorization=f"Bearer {SECRET}")
        denied = await _post(c, "e", body, authorization="Bearer sk-wrongwrongwrongwrong")
        assert ok.status_code == 200 and denied.status_code == 401
        listing = (await c.get("/admin/requests")).text
        export = (await c.get("/admin/requests.jsonl")).text + (await c.get("/admin/requests.csv")).text
    live = [feed.get_nowait().to_dict() for _ in range(2)]
    for text in (listing, export, json.dumps(live)):
        assert SECRET not in text and "sk-wrong" not in text
        assert REDACTED in text
    app.ctx.requests.close()  # everything on disk
    assert SECRET.encode() not in _db_bytes(tmp_path) and b"sk-wrong" not in _db_bytes(tmp_path)


async def test_bodies_bounded(app_factory: Any, tmp_path: Path) -> None:
    app = app_factory(data_dir=str(tmp_path), capture_body_bytes=300)
    async with asgi_client(app) as c:
        r = await _post(c, "e", {"prompt": "word " * 500})
        stored = (await c.get(f"/admin/requests/{r.headers['x-request-id']}")).json()
    for name in ("request_body", "response_body"):
        body = stored[name]
        assert body["truncated"] is True and body["bytes"] > 2500, body
        assert len(orjson.dumps(body)) <= 300 and body["head"].startswith('{"')


async def test_body_capture_off(app_factory: Any, tmp_path: Path) -> None:
    app = app_factory(data_dir=str(tmp_path), capture_bodies=False)
    async with asgi_client(app) as c:
        await _post(c, "e", {"prompt": "not kept"})
        (rec,) = (await c.get("/admin/requests")).json()["data"]
    assert rec["request_body"] is None and rec["response_body"] is None and rec["status"] == 200
    app.ctx.requests.close()
    assert b"not kept" not in _db_bytes(tmp_path)


# -- retention ------------------------------------------------------------------------
async def test_retention_by_count_keeps_the_newest(app_factory: Any, tmp_path: Path) -> None:
    app = app_factory(data_dir=str(tmp_path), request_log_max_rows=10)
    async with asgi_client(app) as c:
        ids = [(await _post(c, "e", {"prompt": f"n{i}"})).headers["x-request-id"] for i in range(25)]
        page = (await c.get("/admin/requests?limit=100")).json()
    assert page["total"] == 10
    assert [r["id"] for r in page["data"]] == ids[::-1][:10]


def _rec(t: float, **kw: Any) -> Record:
    return Record(time=t, method="POST", route="/vendor-e/messages", vendor="e", status=200, **kw)


def test_retention_by_age_on_write_and_on_open(tmp_path: Path) -> None:
    path = str(tmp_path / "requests.sqlite3")
    now = time.time()
    store = RequestStore(path, max_age_s=3600)
    store.write([_rec(now - 7200), _rec(now - 60), _rec(now)])
    assert store.count() == 2
    store.close()
    reopened = RequestStore(path, max_age_s=30)  # a shorter retention applies at startup
    assert reopened.count() == 1
    reopened.close()


def test_store_keeps_each_record_once(tmp_path: Path) -> None:
    store = RequestStore(str(tmp_path / "requests.sqlite3"))
    rec = _rec(time.time())
    store.write([rec])
    store.write([rec, rec])
    assert store.count() == 1
    assert sqlite3.connect(tmp_path / "requests.sqlite3").execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()


def test_every_column_round_trips_and_a_refused_body_loses_no_record(tmp_path: Path) -> None:
    """Rows reach SQLite as one JSON array per batch: each column comes back as it went in
    (missing values as NULL), and a body SQLite's JSON reader refuses sends its batch
    through the records themselves, so no record is lost."""
    log = RequestLog(10, RequestStore(str(tmp_path / "requests.sqlite3")))
    full = _rec(time.time(), model="m-\u00e9\n\"q\"", test_id="t", fault="error-500", error="boom",
                ttft_ms=12.5, retry_count=2, retry={"attempt": 2, "violations": ["too-early"]}, rule="r1",
                stream=True, request_body={"prompt": "hi", "n": [1, 2.5, None]}, response_body={"ok": True})
    bare = Record(time=time.time(), method="GET", route="/healthz")
    log.writer.put(full, (b'{"prompt": "hi", "n": [1, 2.5, null]}', None))
    log.writer.put(bare)
    refused = _rec(time.time(), request_body={"prompt": "kept"})
    log.writer.put(refused, (b'{"prompt": ', None))  # not JSON: the batch is written from the records
    log.writer.put(_rec(time.time()))
    by_id = {r.id: r for r in log.query(limit=10)}
    assert set(by_id) >= {full.id, bare.id, refused.id}
    got = by_id[full.id]
    for name in ("time", "method", "route", "vendor", "model", "test_id", "status", "fault", "stream", "tokens_in",
                 "tokens_out", "latency_ms", "ttft_ms", "retry_count", "retry", "error", "rule",
                 "request_body", "response_body"):
        assert getattr(got, name) == getattr(full, name), name
    assert by_id[bare.id].vendor is None and by_id[bare.id].ttft_ms is None and by_id[bare.id].request_body is None
    assert by_id[refused.id].request_body == {"prompt": "kept"}
    assert log.query(limit=10) and log.writer.dropped == 0 and len(by_id) == 4
    log.close()


# -- queries, filters, paging ---------------------------------------------------------
@pytest.fixture
async def mixed_log(app_factory: Any, tmp_path: Path) -> Any:
    """Seven requests with known vendors, statuses, faults and test ids, spread in time."""
    app = app_factory(data_dir=str(tmp_path))
    async with asgi_client(app) as c:
        await _post(c, "e", **{"x-mockvendor-test-id": "t1"})
        await _post(c, "a", **{"x-mockvendor-test-id": "t1", "x-mockvendor-fault": "503"})
        await _post(c, "b", **{"x-mockvendor-test-id": "t2", "x-mockvendor-fault": "rate-limit"})
        await asyncio.sleep(0.05)
        app.middle = time.time()
        await asyncio.sleep(0.05)
        await _post(c, "b", **{"x-mockvendor-test-id": "t2"})
        await _post(c, "e", **{"x-mockvendor-fault": "500"})
        await _post(c, "e", {"max_tokens": "many"})
        await _post(c, "a")
        app.client = c
        yield app


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", 7),
        ("vendor=e", 3),
        ("vendor=b&status=429", 1),
        ("status=5xx", 2),
        ("status=4xx", 2),
        ("status=200", 3),
        ("fault=error-503", 1),
        ("fault=any", 3),
        ("fault=none", 4),
        ("test_id=t1", 2),
        ("test_id=t2&vendor=b", 2),
        ("model=echo", 6),
        ("vendor=nobody", 0),
    ],
)
async def test_filters(mixed_log: Any, query: str, expected: int) -> None:
    c = mixed_log.client
    page = (await c.get(f"/admin/requests?{query}")).json()
    assert page["total"] == expected and len(page["data"]) == expected
    jsonl = (await c.get(f"/admin/requests.jsonl?{query}")).text.splitlines()
    assert len(jsonl) == expected
    stats = (await c.get(f"/admin/stats?{query}")).json()
    assert stats["total"] == expected


async def test_since_until_in_seconds_and_iso(mixed_log: Any) -> None:
    c, middle = mixed_log.client, mixed_log.middle
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(middle)) + f".{int(middle % 1 * 1e6):06d}Z"
    for value in (str(middle), iso):
        assert (await c.get("/admin/requests", params={"since": value})).json()["total"] == 4
        assert (await c.get("/admin/requests", params={"until": value})).json()["total"] == 3


async def test_paging_newest_first(mixed_log: Any) -> None:
    c = mixed_log.client
    everything = [r["id"] for r in (await c.get("/admin/requests")).json()["data"]]
    pages = []
    for offset in range(0, 7, 3):
        page = (await c.get(f"/admin/requests?limit=3&offset={offset}")).json()
        assert page["total"] == 7 and page["limit"] == 3 and page["offset"] == offset
        pages += [r["id"] for r in page["data"]]
    assert pages == everything
    times = [r["time"] for r in (await c.get("/admin/requests")).json()["data"]]
    assert times == sorted(times, reverse=True)


@pytest.mark.parametrize(
    ("query", "names"),
    [("status=abc", "status"), ("status=700", "status"), ("since=yesterday", "since"),
     ("until=2024-13-01", "until"), ("limit=x", "limit"), ("offset=-1", "offset"), ("format=xml", "format")],
)
async def test_bad_query_parameters_are_400s_naming_them(mixed_log: Any, query: str, names: str) -> None:
    r = await mixed_log.client.get(f"/admin/requests?{query}")
    assert r.status_code == 400, r.text
    assert f"`{names}`" in r.json()["error"]["message"]


# -- exports ------------------------------------------------------------------------
async def test_export_jsonl_and_csv(mixed_log: Any) -> None:
    c = mixed_log.client
    listing = (await c.get("/admin/requests")).json()["data"][::-1]  # oldest first, as exports are
    r = await c.get("/admin/requests.jsonl")
    assert r.headers["content-type"].startswith("application/x-ndjson")
    assert "requests.jsonl" in r.headers["content-disposition"]
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert lines == listing
    r = await c.get("/admin/requests.csv")
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert list(rows[0]) == COLUMNS
    assert [row["id"] for row in rows] == [rec["id"] for rec in listing]
    for row, rec in zip(rows, listing, strict=True):
        assert int(row["status"]) == rec["status"] and row["vendor"] == rec["vendor"]
        assert (json.loads(row["request_body"]) if row["request_body"] else None) == rec["request_body"]
        assert row["fault"] == (rec["fault"] or "")
    same = await c.get("/admin/requests?format=csv")
    assert same.text == r.text
    first_two = (await c.get("/admin/requests.jsonl?limit=2")).text.splitlines()
    assert [json.loads(x)["id"] for x in first_two] == [rec["id"] for rec in listing[:2]]
    as_json = (await c.get("/admin/requests.json")).json()
    assert [r["id"] for r in as_json["data"]] == [rec["id"] for rec in listing[::-1]]
    bad = await c.get("/admin/requests.xml")
    assert bad.status_code == 400 and "`format`" in bad.json()["error"]["message"]


async def test_export_pages_through_many_records(tmp_path: Path) -> None:
    log = RequestLog(10, RequestStore(str(tmp_path / "requests.sqlite3")))
    now = time.time()
    for i in range(2500):
        log.add(_rec(now, model=f"m{i % 3}"))
    from mockvendor.tracking.export import export

    chunks = [chunk async for chunk in export(log, Filters(), "jsonl", None)]
    assert len(chunks) == 3 and sum(c.count(b"\n") for c in chunks) == 2500
    only_m1 = b"".join([chunk async for chunk in export(log, Filters(model="m1"), "csv", None)])
    assert only_m1.count(b"\n") == 1 + 833
    log.close()


# -- statistics -----------------------------------------------------------------------
async def test_stats_per_vendor_and_model(mixed_log: Any) -> None:
    stats = (await mixed_log.client.get("/admin/stats")).json()
    groups = {(g["vendor"], g["model"]): g for g in stats["groups"]}
    assert stats["total"] == 7 and sum(g["requests"] for g in groups.values()) == 7
    e = groups[("e", "echo")]
    assert e["requests"] == 2 and e["by_status"] == {"200": 1, "500": 1} and e["by_fault"] == {"error-500": 1}
    assert e["tokens_in"] == 2 and e["tokens_out"] == 1  # the 500 was decided after counting the prompt
    assert groups[("e", "-")]["by_status"] == {"400": 1}  # rejected before a model was known
    b = groups[("b", "echo")]
    assert b["by_status"] == {"200": 1, "429": 1} and b["by_fault"] == {"rate-limit": 1}
    for g in groups.values():
        lat = g["latency_ms"]
        assert 0 < lat["p50"] <= lat["p95"] <= lat["p99"]


async def test_stats_cover_the_persisted_log_not_only_the_ring(app_factory: Any, tmp_path: Path) -> None:
    app = app_factory(data_dir=str(tmp_path), request_log_size=3)
    async with asgi_client(app) as c:
        for _ in range(12):
            await _post(c, "e")
        stats = (await c.get("/admin/stats")).json()
        listing = (await c.get("/admin/requests")).json()
    assert stats["total"] == 12 and stats["groups"][0]["requests"] == 12
    assert listing["total"] == 12 and len(listing["data"]) == 12


# -- a real server: restart ---------------------------------------------------------
def test_log_survives_restart_of_a_real_server(tmp_path: Path) -> None:
    env = {"MOCKVENDOR_DATA_DIR": str(tmp_path), "MOCKVENDOR_FAULTS": "off", "OPENAI_API_KEY": ""}
    server = ServerProcess(env=env).wait_ready()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as c:
            ids = [c.post("/vendor-e/messages", json={"prompt": f"before {i}"}).headers["x-request-id"]
                   for i in range(15)]
            assert c.get("/admin/requests").json()["total"] == 15
    finally:
        server.stop()  # SIGTERM: the lifespan shutdown writes the last batch
    assert (tmp_path / "requests.sqlite3").is_file()
    server = ServerProcess(env=env).wait_ready()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as c:
            page = c.get("/admin/requests?limit=1000").json()
            assert page["total"] == 15 and {r["id"] for r in page["data"]} == set(ids)
            assert c.get(f"/admin/requests/{ids[0]}").json()["request_body"] == {"prompt": "before 0"}
            c.post("/vendor-e/messages", json={"prompt": "after"})
            assert c.get("/admin/stats").json()["total"] == 16
    finally:
        server.stop()


# -- structured logs ----------------------------------------------------------------
def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_json_log_lines_one_per_request_without_the_key(tmp_path: Path) -> None:
    key = "sk-live-json-log-secret-0123456789"
    env = {"MOCKVENDOR_LOG_FORMAT": "json", "MOCKVENDOR_API_KEYS": key, "MOCKVENDOR_FAULTS": "off",
           "OPENAI_API_KEY": ""}
    server = ServerProcess(env=env).wait_ready()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as c:
            auth = {"authorization": f"Bearer {key}", "x-mockvendor-test-id": "json-log"}
            ids = [c.post("/vendor-e/messages", json={"prompt": f"p{i}"}, headers=auth).headers["x-request-id"]
                   for i in range(4)]
            ids.append(c.post("/vendor-b/messages", json={"prompt": "x"},
                              headers={**auth, "x-mockvendor-fault": "rate-limit"}).headers["x-request-id"])
            c.get("/admin/stats")  # runs after the pending batch, so its lines are out
        lines = _json_lines(server.log_text())
    finally:
        server.stop()
    assert [line["id"] for line in lines] == ids
    last = lines[-1]
    assert last["msg"] == "request" and last["vendor"] == "b" and last["status"] == 429
    assert last["fault"] == "rate-limit" and last["test_id"] == "json-log" and last["ts"].endswith("+00:00")
    assert lines[0]["key_fingerprint"].startswith("key_") and lines[0]["latency_ms"] > 0
    assert key not in server.log_text()


def test_text_log_format_writes_no_request_lines(tmp_path: Path) -> None:
    server = ServerProcess(env={"MOCKVENDOR_FAULTS": "off", "OPENAI_API_KEY": ""}).wait_ready()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as c:
            c.post("/vendor-e/messages", json={"prompt": "quiet"})
            assert c.get("/admin/stats").json()["total"] == 1
        assert _json_lines(server.log_text()) == []
    finally:
        server.stop()


# -- configuration --------------------------------------------------------------------
async def test_memory_store_writes_no_file(app_factory: Any, tmp_path: Path) -> None:
    app = app_factory(data_dir=str(tmp_path), request_log="memory")
    async with asgi_client(app) as c:
        for _ in range(3):
            await _post(c, "e")
        assert (await c.get("/admin/stats")).json()["total"] == 3
    assert list(tmp_path.iterdir()) == []


def test_bad_request_log_settings_fail_at_startup(app_factory: Any, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(RuntimeError, match="MOCKVENDOR_DATA_DIR"):
        app_factory(data_dir=str(blocker / "sub"))
    with pytest.raises(ValueError, match="memory"):
        app_factory(request_log="postgres")
    with pytest.raises(ValueError, match="json"):
        app_factory(log_format="xml")


async def test_a_streamed_tool_call_is_logged_with_its_call(app_factory: Any, tmp_path: Path) -> None:
    app = app_factory(data_dir=str(tmp_path))
    tool = {"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
    body = {"model": "echo", "stream": True, "tools": [tool],
            "messages": [{"role": "user", "content": "Weather in Oslo?"}]}
    async with asgi_client(app) as c:
        r = await c.post("/v1/chat/completions", json=body)
        assert r.status_code == 200 and '"tool_calls"' in r.text
        rec = (await c.get(f"/admin/requests/{r.headers['x-request-id']}")).json()
    (call,) = rec["response_body"]["tool_calls"]
    assert rec["response_body"]["finish_reason"] == "tool_calls"
    assert call["name"] == "get_weather" and call["arguments"] == {"city": "Oslo"} and rec["tokens_out"] > 0


def test_the_secret_prefilter_finds_every_word() -> None:
    """The search that lets most bodies skip the redaction walk (tracking.redact.maybe_secret)
    finds each word the walk acts on (in the lower-cased JSON), anywhere, and lets the usage
    objects' ``..._tokens`` counts through: checked against the words as a regular expression."""
    import random
    import re

    from mockvendor.tracking.redact import maybe_secret

    reference = re.compile(rb"key|secret|sk-|token(?!s[^a-z])|passw|passphrase|authoriz|aiza|cookie|credential|bearer")
    rnd = random.Random(7)
    letters = b'keysecrtokn-pawhizbcdl_" 0'
    for _ in range(20_000):
        text = bytes(rnd.choice(letters) for _ in range(rnd.randint(0, 40)))
        assert maybe_secret(text) is (reference.search(text) is not None), text
    for word in (b"api_key", b"client_secret", b"sk-abc", b"token", b"tokenizer", b"passwd", b"passphrase",
                 b"authorization", b"aizasy", b"cookie", b"credentials", b"bearer", b"tokensy"):
        assert maybe_secret(b'{"x":"' + word + b'"}'), word
    assert not maybe_secret(b'{"usage":{"prompt_tokens":2,"completion_tokens_details":{},"total_tokens":4}}')
