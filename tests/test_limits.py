"""Limits against load and slow clients, on real server processes: the cap on open
streams, deadlines on a request's head and body (slow loris), the idle keep-alive
timeout, and the connection limit.

The deadlines are set to one second here; each check waits for the server to act with a
generous bound (many times the deadline) and asserts *that* it acted, never how fast."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from mockvendor import create_app

from .conftest import FakeSleep, asgi_client, make_settings
from .helpers import ServerProcess, assert_vendor_error
from .standins import StandInOpenAI

PATIENCE_S = 20.0  # how long a check waits for the server to cut a slow client


@pytest.fixture(scope="module")
def upstream() -> Iterator[StandInOpenAI]:
    with StandInOpenAI() as s:
        yield s


@pytest.fixture(scope="module")
def server(upstream: StandInOpenAI) -> Iterator[ServerProcess]:
    srv = ServerProcess(
        env={
            "OPENAI_API_KEY": "sk-limits-test-0000",
            "OPENAI_BASE_URL": upstream.base_url,
            "MOCKVENDOR_FAULTS": "off",
            "MOCKVENDOR_MAX_STREAMS": "2",
            "MOCKVENDOR_HEADER_TIMEOUT_S": "1",
            "MOCKVENDOR_BODY_TIMEOUT_S": "1",
            "MOCKVENDOR_KEEP_ALIVE_S": "1",
            "MOCKVENDOR_MAX_CONNECTIONS": "20",
        }
    ).wait_ready()
    yield srv
    srv.stop()


HELD = {"prompt": "hi", "model": "standin-hold", "stream": True}


def test_open_streams_are_capped_and_slots_come_back(server: ServerProcess, upstream: StandInOpenAI) -> None:
    upstream.hold()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as c1, httpx.Client(base_url=server.url, timeout=30) as c2:
            with c1.stream("POST", "/vendor-o/messages", json=HELD) as s1:
                assert s1.status_code == 200
                lines1 = s1.iter_lines()  # kept: a discarded iterator closes the stream
                next(lines1)
                with c2.stream("POST", "/vendor-o/messages", json=HELD) as s2:
                    assert s2.status_code == 200
                    lines2 = s2.iter_lines()
                    next(lines2)
                    # Two streams open: a third, on any vendor, is refused in its own shape.
                    r = httpx.post(server.url + "/vendor-o/messages", json=HELD, timeout=30)
                    body = assert_vendor_error("o", r, 429, mentions="MOCKVENDOR_MAX_STREAMS")
                    assert r.headers["retry-after"] == "1" and body["error"]["type"] == "rate_limit"
                    chat = {"model": "echo", "messages": [{"role": "user", "content": "x"}], "stream": True}
                    assert_vendor_error("openai", httpx.post(server.url + "/v1/chat/completions", json=chat), 429)
                    # Answers that do not stream are not limited by it.
                    assert httpx.post(server.url + "/vendor-e/messages", json={"prompt": "x"}).status_code == 200
                # The second client left mid-stream (its upstream still held): its slot comes back.
                assert _eventually_streams(server)
        upstream.release()
        assert _eventually_streams(server)
    finally:
        upstream.release()
    scrape = httpx.get(server.url + "/readyz").json()
    assert scrape["status"] == "ready"


def _eventually_streams(server: ServerProcess) -> bool:
    """A new stream is accepted within PATIENCE_S (slots are given back asynchronously)."""
    deadline = time.monotonic() + PATIENCE_S
    while time.monotonic() < deadline:
        chat = {"model": "echo", "messages": [{"role": "user", "content": "x"}], "stream": True}
        if httpx.post(server.url + "/v1/chat/completions", json=chat, timeout=30).status_code == 200:
            return True
        time.sleep(0.1)
    return False


# ---- slow clients -------------------------------------------------------------------


def _connect(server: ServerProcess) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", server.port), timeout=PATIENCE_S)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def _read_until_closed(s: socket.socket, dribble: bytes = b"", every: float = 0.2) -> bytes:
    """Keep sending ``dribble`` one byte at a time while reading, until the server closes."""
    got = b""
    deadline = time.monotonic() + PATIENCE_S
    s.settimeout(every)
    i = 0
    while time.monotonic() < deadline:
        try:
            chunk = s.recv(65536)
            if not chunk:
                return got
            got += chunk
        except TimeoutError:
            pass
        except ConnectionResetError:
            return got
        if dribble:
            try:
                s.sendall(dribble[i % len(dribble):i % len(dribble) + 1])
            except (BrokenPipeError, ConnectionResetError):
                return got
            i += 1
    raise AssertionError(f"the server kept a slow client for {PATIENCE_S} s; got {got!r}")


def _response(raw: bytes) -> httpx.Response:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = [tuple(line.split(": ", 1)) for line in lines[1:]]
    return httpx.Response(status, headers=headers, content=body)


def test_answers_written_in_one_piece_keep_http_right(server: ServerProcess) -> None:
    """The server writes a whole answer's head and body at once (mockvendor.serving.send_whole):
    pipelined requests on one connection get their answers in order, each with its length,
    uvicorn's own headers and a request id; ``Connection: close`` is honoured; an error answer
    (another path through the server) follows on the same connection."""
    s = _connect(server)
    asks = [b'{"prompt": "first"}', b'{"prompt": "second \\u00e9"}', b'{"prompt": ""}', b'{"prompt": "last"}']
    for i, body in enumerate(asks):
        close = b"connection: close\r\n" if i == len(asks) - 1 else b""
        s.sendall(b"POST /vendor-e/messages HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n" + close
                  + b"content-length: %d\r\n\r\n" % len(body) + body)
    raw = _read_until_closed(s)  # the server closes after the last answer
    s.close()
    answers = []
    while raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        r = _response(head + b"\r\n\r\n")
        n = int(r.headers["content-length"])
        answers.append(httpx.Response(r.status_code, headers=r.headers, content=rest[:n]))
        raw = rest[n:]
    assert [r.status_code for r in answers] == [200, 200, 400, 200]
    assert [r.json().get("response") for r in answers] == [
        "You entered first", "You entered second \u00e9", None, "You entered last"]
    assert_vendor_error("e", answers[2], 400, mentions="empty")
    ids = {r.headers["x-request-id"] for r in answers}
    assert len(ids) == 4 and all(i.startswith("req_") for i in ids)
    assert all(r.headers["server"] == "uvicorn" and r.headers["date"] for r in answers)
    assert answers[-1].headers["connection"] == "close"
    assert all("connection" not in r.headers for r in answers[:-1])


def test_dribbled_headers_are_cut_and_others_are_served(server: ServerProcess) -> None:
    s = _connect(server)
    s.sendall(b"POST /vendor-e/messages HTTP/1.1\r\nhost: x\r\n")
    done: list[bytes] = []
    t = threading.Thread(target=lambda: done.append(_read_until_closed(s, b"x-dribble: a\r\n")))
    t.start()
    # Served while the slow client dribbles.
    assert httpx.post(server.url + "/vendor-e/messages", json={"prompt": "meanwhile"}, timeout=30).status_code == 200
    t.join(PATIENCE_S + 5)
    s.close()
    r = _response(done[0])
    assert r.status_code == 408 and r.json()["error"]["type"] == "timeout"


def test_a_silent_connection_is_cut(server: ServerProcess) -> None:
    s = _connect(server)
    raw = _read_until_closed(s)
    s.close()
    assert raw.startswith(b"HTTP/1.1 408")


def test_a_dribbled_body_gets_a_408_in_the_vendor_shape(server: ServerProcess) -> None:
    s = _connect(server)
    s.sendall(b"POST /vendor-e/messages HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
              b"content-length: 200\r\n\r\n{")
    raw = _read_until_closed(s, b' "prompt" ')
    s.close()
    assert_vendor_error("e", _response(raw), 408, mentions="did not arrive")
    # The request log shows the 408 as such, and nothing logged an exception.
    rows = httpx.get(server.url + "/admin/requests?vendor=e&status=408").json()["data"]
    assert rows and rows[0]["error"].startswith("The request body did not arrive")
    assert "Exception in ASGI application" not in server.log_text()


def test_idle_keep_alive_connections_are_closed(server: ServerProcess) -> None:
    s = _connect(server)
    s.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
    raw = _read_until_closed(s)  # the answer, then the close once the connection idles
    s.close()
    assert raw.startswith(b"HTTP/1.1 200") and raw.count(b"HTTP/1.1") == 1


def test_slow_clients_cannot_hold_every_connection(server: ServerProcess) -> None:
    """As many dribblers as the connection limit: new clients get a 503 while they hold
    their connections, and are served again once the deadline has cut them."""
    crowd = []
    for _ in range(20):
        s = _connect(server)
        s.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\n")
        crowd.append(s)
    try:
        r = httpx.get(server.url + "/healthz", timeout=30)
        assert r.status_code == 503, r.text  # uvicorn's connection limit (MOCKVENDOR_MAX_CONNECTIONS)
        results: list[bytes] = []
        threads = [threading.Thread(target=lambda s=s: results.append(_read_until_closed(s, b"x-a: b\r\n")))
                   for s in crowd]
        for t in threads:
            t.start()
        for t in threads:
            t.join(PATIENCE_S + 5)
        assert len(results) == 20 and all(raw.startswith(b"HTTP/1.1 408") for raw in results)
        assert httpx.get(server.url + "/healthz", timeout=30).status_code == 200
    finally:
        for s in crowd:
            s.close()


# ---- the engine's queue --------------------------------------------------------------


async def test_a_full_engine_queue_is_a_clear_overload() -> None:
    """One slot, one place in the queue, a burst of requests: the rest are refused at once
    in each vendor's own overload shape, and the engine ends at rest (no leaked slot)."""
    app = create_app(make_settings(seed=5, slots=1, queue_size=1), sleep=FakeSleep())
    await app.ctx.models.start()
    try:
        chat = {"model": "smollm2", "messages": [{"role": "user", "content": "Count to ten."}], "max_tokens": 24}
        msgs = {"model": "smollm2", "max_tokens": 24, "messages": [{"role": "user", "content": "Count to ten."}]}
        async with asgi_client(app) as c:
            c.timeout = 300
            answers = await asyncio.gather(*(
                c.post("/v1/chat/completions", json=chat) if i % 2 else c.post("/v1/messages", json=msgs)
                for i in range(12)
            ))
        ok = [r for r in answers if r.status_code == 200]
        refused = [(i, r) for i, r in enumerate(answers) if r.status_code != 200]
        assert ok and refused, [r.status_code for r in answers]
        for i, r in refused:
            if i % 2:
                assert_vendor_error("openai", r, 503, mentions="overloaded")
            else:
                assert_vendor_error("anthropic", r, 529, mentions="overloaded")
        for _ in range(100):  # the engine's bookkeeping ends just after the last answer
            stats = app.ctx.models.stats()["smollm2"]
            if stats["active"] == 0 and stats["queue_depth"] == 0:
                break
            await asyncio.sleep(0.05)
        assert stats["active"] == 0 and stats["queue_depth"] == 0, stats
    finally:
        await app.ctx.models.aclose()


@pytest.mark.parametrize("headers", [
    None, {}, {"x-mockvendor-fault": "slow"}, {"Retry-After": "1", "X-RateLimit-Limit-Requests": "60"},
    {"content-type": "application/problem+json"}, {"Content-Length": "3"},
])
@pytest.mark.parametrize("status", [200, 429, 204])
def test_json_answers_carry_starlettes_headers(headers: dict[str, str] | None, status: int) -> None:
    """mockvendor's JSONResponse makes its headers itself (on every answer): the same list,
    in the same order, as Starlette's for the same arguments."""
    from starlette.responses import JSONResponse as Theirs

    from mockvendor.http import JSONResponse as Ours

    content = {"error": {"message": "x", "type": "rate_limit_error"}}
    ours = Ours(content, status, dict(headers) if headers is not None else None)
    theirs = Theirs(content, status, dict(headers) if headers is not None else None)
    assert ours.raw_headers == theirs.raw_headers
    assert ours.status_code == theirs.status_code and ours.body == theirs.body
