"""Faults that only exist on a real socket: a connection dropped mid-body and a stall until
the client gives up, against a real server process."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import orjson
import pytest

from .helpers import ServerProcess, running

A = "/vendor-a/messages"
BODY = {"prompt": "one two three four five six", "stream": True}


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    yield from running({"MOCKVENDOR_FAULTS": "off", "MOCKVENDOR_VENDOR_A_MODEL": "echo", "OPENAI_API_KEY": ""}, 180)


def deltas_until_cut(
    server: ServerProcess, headers: dict[str, str], timeout: httpx.Timeout
) -> tuple[list[str], Exception]:
    got: list[str] = []
    with httpx.Client(base_url=server.url, timeout=timeout) as c:
        try:
            with c.stream("POST", A, json=BODY, headers=headers) as r:
                assert r.status_code == 200 and r.headers["x-mockvendor-fault"] == headers["x-mockvendor-fault"]
                for line in r.iter_lines():
                    if line.startswith("data: "):
                        got.append(orjson.loads(line[6:])["delta"])
        except (httpx.RemoteProtocolError, httpx.ReadTimeout) as e:
            return got, e
    raise AssertionError(f"the stream ended normally: {got}")


def inflight(server: ServerProcess) -> int:
    return int(httpx.get(server.url + "/admin/faults").json()["status"]["inflight"])


def test_disconnect_mid_stream(server: ServerProcess) -> None:
    got, err = deltas_until_cut(server, {"x-mockvendor-fault": "disconnect", "x-mockvendor-fault-after-chunks": "2"},
                                httpx.Timeout(10))
    assert got == ["one ", "two "] and isinstance(err, httpx.RemoteProtocolError)
    rec = httpx.get(server.url + "/admin/requests", params={"fault": "disconnect"}).json()["data"][0]
    assert rec["status"] == 200 and rec["route"] == A


def test_disconnect_mid_body_without_streaming(server: ServerProcess) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(server.url + A, json={"prompt": "hi"}, headers={"x-mockvendor-fault": "disconnect"}, timeout=10)
    # The server is fine afterwards.
    assert httpx.post(server.url + A, json={"prompt": "hi"}, timeout=10).status_code == 200


def test_stall_until_the_client_times_out(server: ServerProcess) -> None:
    got, err = deltas_until_cut(server, {"x-mockvendor-fault": "stall", "x-mockvendor-fault-after-chunks": "3"},
                                httpx.Timeout(10, read=0.5))
    assert got == ["one ", "two ", "three "] and isinstance(err, httpx.ReadTimeout)
    # The stalled request ends when its client leaves: nothing stays in flight.
    deadline = time.monotonic() + 10
    while inflight(server):
        assert time.monotonic() < deadline, "a stalled request outlived its client"
        time.sleep(0.05)


def test_a_short_stall_ends_in_a_disconnect(server: ServerProcess) -> None:
    headers = {"x-mockvendor-fault": "stall", "x-mockvendor-stall-ms": "300", "x-mockvendor-fault-after-chunks": "1"}
    t0 = time.monotonic()
    got, err = deltas_until_cut(server, headers, httpx.Timeout(10))
    assert got == ["one "] and isinstance(err, httpx.RemoteProtocolError)
    assert time.monotonic() - t0 >= 0.3  # a lower bound: the stall lasted at least its length


def test_non_streaming_stall_then_disconnect_or_client_gives_up(server: ServerProcess) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(server.url + A, json={"prompt": "hi"}, timeout=10,
                   headers={"x-mockvendor-fault": "stall", "x-mockvendor-stall-ms": "200"})
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(server.url + A, json={"prompt": "hi"}, timeout=httpx.Timeout(10, read=0.3),
                   headers={"x-mockvendor-fault": "stall"})
    deadline = time.monotonic() + 10
    while inflight(server):
        assert time.monotonic() < deadline, "a stalled request outlived its client"
        time.sleep(0.05)
